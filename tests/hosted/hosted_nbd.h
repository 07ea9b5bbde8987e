/*
 * Hosted NBD tests: kernel/blk/nbd.c over a POSIX TCP socket on the loopback
 * (hosted_nbd_sock.c), used by the interop/fault program (hosted_nbd.c) and
 * the benchmark (hosted_nbd_bench.c).
 */
#ifndef TESTS_HOSTED_NBD_H
#define TESTS_HOSTED_NBD_H

#include <hv/log.h>
#include <hv/nbd.h>

struct sock_ctx {
	char host[64];
	int port;
	int fd;
	int state;  /* enum nbd_transport_status */
	int sndbuf; /* SO_SNDBUF if nonzero: keeps large WRITEs on the client's side */
};

/* A transport for t that connects to host:port (IPv4, TCP_NODELAY, non-blocking). */
void sock_transport_init(struct nbd_transport *t, struct sock_ctx *s, const char *host, int port);
/* Wait up to timeout_ms for the socket to become readable, or writable if want_send. */
void sock_wait(struct sock_ctx *s, bool want_send, int timeout_ms);
/* Whether c has bytes it could not send yet (so the caller should wait for POLLOUT too). */
bool nbd_has_unsent(const struct nbd_client *c);
/* Monotonic milliseconds. */
u64 now_ms(void);
/* Log lines of the client go to stderr with a time stamp; LOG_DEBUG and below shown up to level. */
void hosted_log_level(int level);

#endif

/* POSIX socket transport, clock and log for the hosted NBD tests (hosted_nbd.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <hv/log.h>
#include "hosted_nbd.h"

static int log_level = LOG_INFO;

void hosted_log_level(int level)
{
	log_level = level;
}

void log_vprintf(enum log_level level, const char *fmt, va_list ap)
{
	char line[512];

	if ((int)level > log_level)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	fprintf(stderr, "[%8.3f] %c %s%s", now_ms() / 1000.0, "EWID"[level & 3], line,
		line[0] && line[strlen(line) - 1] == '\n' ? "" : "\n");
}

void log_printf(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vprintf(level, fmt, ap);
	va_end(ap);
}

u64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000 + (u64)ts.tv_nsec / 1000000;
}

static void sock_close(void *ctx)
{
	struct sock_ctx *s = ctx;

	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->state = NBD_TRANSPORT_DOWN;
}

static int sock_connect(void *ctx, u64 now)
{
	struct sock_ctx *s = ctx;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((u16)s->port) };
	int one = 1;

	(void)now;
	sock_close(s);
	if (inet_pton(AF_INET, s->host, &sa.sin_addr) != 1)
		return -EINVAL;
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return -errno;
	setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (s->sndbuf)
		setsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &s->sndbuf, sizeof(s->sndbuf));
	if (connect(s->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		s->state = NBD_TRANSPORT_UP;
	else if (errno == EINPROGRESS)
		s->state = NBD_TRANSPORT_CONNECTING;
	else
		s->state = NBD_TRANSPORT_DOWN;
	return 0;
}

static int sock_status(void *ctx)
{
	struct sock_ctx *s = ctx;
	struct pollfd p = { .fd = s->fd, .events = POLLOUT };
	int err = 0;
	socklen_t len = sizeof(err);

	if (s->state != NBD_TRANSPORT_CONNECTING)
		return s->state;
	if (poll(&p, 1, 0) <= 0)
		return s->state;
	getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
	s->state = err ? NBD_TRANSPORT_DOWN : NBD_TRANSPORT_UP;
	return s->state;
}

static long sock_send(void *ctx, const void *buf, size_t len, u64 now)
{
	struct sock_ctx *s = ctx;
	ssize_t n;

	(void)now;
	if (s->state != NBD_TRANSPORT_UP)
		return s->state == NBD_TRANSPORT_CONNECTING ? 0 : -ENOTCONN;
	n = send(s->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n >= 0)
		return n;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return 0;
	return -errno;
}

static long sock_recv(void *ctx, void *buf, size_t len)
{
	struct sock_ctx *s = ctx;
	ssize_t n;

	if (s->state != NBD_TRANSPORT_UP)
		return s->state == NBD_TRANSPORT_CONNECTING ? 0 : -ENOTCONN;
	n = recv(s->fd, buf, len, MSG_DONTWAIT);
	if (n > 0)
		return n;
	if (n == 0)
		return -EPIPE; /* the server closed the connection */
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return 0;
	return -errno;
}

void sock_transport_init(struct nbd_transport *t, struct sock_ctx *s, const char *host, int port)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->host, sizeof(s->host), "%s", host);
	s->port = port;
	s->fd = -1;
	*t = (struct nbd_transport){
		.connect = sock_connect,
		.status = sock_status,
		.send = sock_send,
		.recv = sock_recv,
		.close = sock_close,
		.ctx = s,
	};
}

bool nbd_has_unsent(const struct nbd_client *c)
{
	return c->tx_payload || c->tx_off < c->tx_len;
}

void sock_wait(struct sock_ctx *s, bool want_send, int timeout_ms)
{
	struct pollfd p = { .fd = s->fd, .events = POLLIN | (want_send ? POLLOUT : 0) };

	if (s->fd < 0 || s->state != NBD_TRANSPORT_UP) {
		usleep((useconds_t)timeout_ms * 1000);
		return;
	}
	poll(&p, 1, timeout_ms);
}

/*
 * The hosted test of kernel/net: the stack as a Linux program on a TAP
 * device (tap.c), with tests that talk to real servers through it: an echo
 * server (hosted_net.c) and qemu-nbd (hosted_net_nbd.c).
 */
#ifndef TESTS_HOSTED_NET_H
#define TESTS_HOSTED_NET_H

#include <stdio.h>

#include <hv/net.h>

/* The TAP device as the stack's NIC, with optional loss and delay. */
struct tap {
	int fd;
	unsigned tx_loss, rx_loss; /* percent of frames dropped */
	unsigned delay_ms;	   /* received frames wait this long */
	unsigned seed;
	unsigned long tx_dropped, rx_dropped, tx_busy;
	struct tap_delayed *line; /* delay line, oldest at head */
	unsigned head, count;
	FILE *trace; /* TCP segments in and out, or NULL */
};

/* Attach to the existing TAP device name (IFF_TAP | IFF_NO_PI), non-blocking. */
int tap_open(struct tap *t, const char *name);
void tap_close(struct tap *t);
/* net_driver.transmit for a struct tap. */
int tap_transmit(void *ctx, const void *frame, size_t len);
/* Feed every frame that is due (read, dropped or delayed) into s. */
void tap_receive(struct tap *t, struct net_stack *s, u64 now);
/* Wait up to timeout_ms for the TAP to become readable (or a delayed frame to be due). */
void tap_wait(struct tap *t, int timeout_ms);

u64 hosted_now(void);

/* One application on top of a connection: called every loop turn until it returns <= 0. */
struct app {
	const char *name;
	/* 1: keep going, 0: finished well, < 0: failed */
	int (*step)(struct app *a, struct net_stack *s, u64 now);
	void *state;
};

/* The NBD handshake (fixed newstyle, NBD_OPT_GO) and one READ against qemu-nbd. */
struct nbd_probe;
struct nbd_probe *nbd_probe_new(u32 ip, u16 port, const char *export, const char *image);
int nbd_probe_step(struct app *a, struct net_stack *s, u64 now);

/* The real NBD client (kernel/blk/nbd.c) on this stack: pattern, image check, benchmark. */
struct nbdc;
struct nbdc *nbd_client_app_new(u32 ip, u16 port, const char *export, const char *image);
int nbd_client_app_step(struct app *a, struct net_stack *s, u64 now);

#endif

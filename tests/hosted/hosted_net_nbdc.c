/*
 * The hypervisor's NBD client (kernel/blk/nbd.c) on the hosted TCP/IP stack
 * over TAP, against qemu-nbd: a pattern written (FUA, FLUSH), read back and
 * compared with the server's image file byte for byte; then the benchmark
 * the storage issue asks for (sequential MB/s, 4 KiB random IOPS at QD 1 and
 * 32), printed as a table. The same glue as kernel/storage.c, on Linux.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hv/nbd.h>

#include "hosted_net.h"

#define PATTERN_BYTES (4u << 20)
#define PATTERN_CHUNK (64u << 10)
#define PATTERN_REQS  (PATTERN_BYTES / PATTERN_CHUNK)
#define SEQ_BYTES     (16u << 20)
#define SEQ_CHUNK     (128u << 10)
#define RAND_BLOCK    4096u
#define MAX_QD	      32

enum phase {
	P_CONNECT,
	P_WRITE,
	P_FLUSH,
	P_READ,
	P_BENCH,
	P_DONE
};
enum bench {
	B_SEQ_WRITE,
	B_SEQ_READ,
	B_RAND_QD1,
	B_RAND_QD32,
	B_END
};

struct nbdc {
	struct net_stack *s;
	struct tcp_conn *conn;
	struct nbd_client nbd;
	u32 ip;
	u16 port;
	const char *image;
	enum phase phase;
	u32 outstanding, failed;
	u8 *wbuf, *rbuf;
	struct nbd_request req[PATTERN_REQS];
	/* benchmark */
	enum bench b;
	u32 qd, total, issued, completed, chunk;
	u64 started, rng;
	u8 *bbuf;
	struct nbd_request breq[MAX_QD];
	bool busy[MAX_QD];
};

static int t_connect(void *ctx, u64 now)
{
	struct nbdc *c = ctx;

	if (c->conn)
		tcp_abort(c->conn);
	c->conn = tcp_connect(c->s, c->ip, c->port, now);
	return c->conn ? 0 : -ENOMEM;
}

static int t_status(void *ctx)
{
	struct nbdc *c = ctx;

	if (!c->conn)
		return NBD_TRANSPORT_DOWN;
	if (tcp_state(c->conn) == TCP_CONNECTING)
		return NBD_TRANSPORT_CONNECTING;
	return tcp_state(c->conn) == TCP_ESTABLISHED ? NBD_TRANSPORT_UP : NBD_TRANSPORT_DOWN;
}

static long t_send(void *ctx, const void *buf, size_t len, u64 now)
{
	struct nbdc *c = ctx;

	return c->conn ? tcp_send(c->conn, buf, len, now) : -ENOTCONN;
}

static long t_recv(void *ctx, void *buf, size_t len)
{
	struct nbdc *c = ctx;

	return c->conn ? tcp_recv(c->conn, buf, len) : -ENOTCONN;
}

static void t_close(void *ctx)
{
	struct nbdc *c = ctx;

	if (c->conn)
		tcp_abort(c->conn);
	c->conn = NULL;
}

struct nbdc *nbd_client_app_new(u32 ip, u16 port, const char *export, const char *image)
{
	struct nbdc *c = calloc(1, sizeof(*c));
	struct nbd_transport t = { t_connect, t_status, t_send, t_recv, t_close, NULL };
	struct nbd_params p = { 0 };

	if (!c)
		return NULL;
	c->ip = ip;
	c->port = port;
	c->image = image;
	c->wbuf = malloc(PATTERN_BYTES);
	c->rbuf = malloc(PATTERN_BYTES);
	c->bbuf = malloc((size_t)MAX_QD * SEQ_CHUNK);
	if (!c->wbuf || !c->rbuf || !c->bbuf)
		return NULL;
	for (u32 i = 0; i < PATTERN_BYTES; i++)
		c->wbuf[i] = (u8)(i * 13 + (i >> 9) + 0x5a);
	t.ctx = c;
	nbd_init(&c->nbd, &t, export, &p);
	return c;
}

static void pattern_done(struct nbd_request *r, int status)
{
	struct nbdc *c = r->arg;

	if (status) {
		fprintf(stderr, "nbd-client: request at %llu failed: %d\n",
			(unsigned long long)r->offset, status);
		c->failed++;
	}
	c->outstanding--;
}

static void submit(struct nbdc *c, struct nbd_request *r, u16 type, u16 flags, u64 off, u32 len,
		   void *buf, void (*done)(struct nbd_request *, int), u64 now)
{
	memset(r, 0, sizeof(*r));
	r->type = type;
	r->flags = flags;
	r->offset = off;
	r->length = len;
	r->buf = buf;
	r->done = done;
	r->arg = c;
	if (nbd_submit(&c->nbd, r, now)) {
		fprintf(stderr, "nbd-client: submit at %llu refused\n", (unsigned long long)off);
		c->failed++;
		c->outstanding--;
	}
}

/* The server's image must now hold the pattern: read the file itself. */
static int compare_image(struct nbdc *c)
{
	u8 *img = malloc(PATTERN_BYTES);
	int fd = open(c->image, O_RDONLY);
	int ok = img && fd >= 0 && pread(fd, img, PATTERN_BYTES, 0) == (ssize_t)PATTERN_BYTES &&
		 !memcmp(img, c->wbuf, PATTERN_BYTES);

	if (fd >= 0)
		close(fd);
	free(img);
	printf("nbd-client: server image %s the pattern byte for byte\n",
	       ok ? "holds" : "does NOT hold");
	return ok ? 0 : -1;
}

static void bench_done(struct nbd_request *r, int status)
{
	struct nbdc *c = r->arg;

	c->busy[r - c->breq] = false;
	c->completed++;
	if (status)
		c->failed++;
}

static void bench_phase(struct nbdc *c, enum bench b, u64 now)
{
	static const struct {
		u32 qd, total, chunk;
	} shape[] = { { 8, SEQ_BYTES / SEQ_CHUNK, SEQ_CHUNK },
		      { 8, SEQ_BYTES / SEQ_CHUNK, SEQ_CHUNK },
		      { 1, 2000, RAND_BLOCK },
		      { 32, 10000, RAND_BLOCK } };

	c->b = b;
	if (b == B_END)
		return;
	c->qd = shape[b].qd, c->total = shape[b].total, c->chunk = shape[b].chunk;
	c->issued = c->completed = 0;
	c->started = now;
}

static void bench_report(struct nbdc *c, u64 now)
{
	static const char *const names[] = { "sequential write 128 KiB, QD 8",
					     "sequential read 128 KiB, QD 8",
					     "random read 4 KiB, QD 1",
					     "random read 4 KiB, QD 32" };
	double s = (double)(now > c->started ? now - c->started : 1) / 1000.0;

	if (c->b <= B_SEQ_READ)
		printf("| %-32s | %9.1f MB/s |\n", names[c->b],
		       (double)c->total * c->chunk / s / 1e6);
	else
		printf("| %-32s | %9.0f IOPS |\n", names[c->b], c->total / s);
}

static int bench_step(struct nbdc *c, u64 now)
{
	for (u32 k = 0; k < c->qd && c->issued < c->total; k++) {
		if (c->busy[k])
			continue;
		c->rng ^= c->rng << 13, c->rng ^= c->rng >> 7, c->rng ^= c->rng << 17;
		u64 off = c->b <= B_SEQ_READ ? (u64)c->issued * c->chunk
					     : (c->rng % (SEQ_BYTES / RAND_BLOCK)) * RAND_BLOCK;
		c->busy[k] = true;
		c->issued++;
		c->outstanding++; /* submit() undoes it on refusal */
		submit(c, &c->breq[k], c->b == B_SEQ_WRITE ? NBD_CMD_WRITE : NBD_CMD_READ, 0, off,
		       c->chunk, c->bbuf + (size_t)k * SEQ_CHUNK, bench_done, now);
		c->outstanding--;
	}
	if (c->completed < c->total)
		return 1;
	bench_report(c, now);
	bench_phase(c, c->b + 1, now);
	return c->b == B_END ? 0 : 1;
}

int nbd_client_app_step(struct app *a, struct net_stack *s, u64 now)
{
	struct nbdc *c = a->state;

	c->s = s;
	nbd_poll(&c->nbd, now);
	if (c->failed)
		return -1;
	if (c->phase == P_CONNECT && !nbd_ready(&c->nbd))
		return 1;
	if (c->outstanding)
		return 1;
	switch (c->phase) {
	case P_CONNECT:
		printf("nbd-client: export %llu bytes, flags 0x%04x\n",
		       (unsigned long long)nbd_export_size(&c->nbd),
		       nbd_transmission_flags(&c->nbd));
		c->outstanding = PATTERN_REQS;
		for (u32 i = 0; i < PATTERN_REQS; i++) /* the last one with FUA, if offered */
			submit(c, &c->req[i], NBD_CMD_WRITE,
			       i == PATTERN_REQS - 1 &&
				       (nbd_transmission_flags(&c->nbd) & NBD_FLAG_SEND_FUA)
				   ? NBD_CMD_FLAG_FUA
				   : 0,
			       (u64)i * PATTERN_CHUNK, PATTERN_CHUNK,
			       c->wbuf + (size_t)i * PATTERN_CHUNK, pattern_done, now);
		c->phase = P_WRITE;
		return 1;
	case P_WRITE:
		c->outstanding = 1;
		submit(c, &c->req[0], NBD_CMD_FLUSH, 0, 0, 0, NULL, pattern_done, now);
		c->phase = P_FLUSH;
		return 1;
	case P_FLUSH:
		c->outstanding = PATTERN_REQS;
		for (u32 i = 0; i < PATTERN_REQS; i++)
			submit(c, &c->req[i], NBD_CMD_READ, 0, (u64)i * PATTERN_CHUNK,
			       PATTERN_CHUNK, c->rbuf + (size_t)i * PATTERN_CHUNK, pattern_done,
			       now);
		c->phase = P_READ;
		return 1;
	case P_READ:
		if (memcmp(c->rbuf, c->wbuf, PATTERN_BYTES)) {
			printf("nbd-client: read back differs from what was written\n");
			return -1;
		}
		printf("nbd-client: wrote 4 MiB (16 in flight), flushed, read it back: equal\n");
		if (compare_image(c))
			return -1;
		printf("| %-32s | %14s |\n|%s|%s|\n", "hosted client over TAP (qemu-nbd)", "result",
		       "----------------------------------", "----------------");
		c->rng = 0x2545f4914f6cdd1dULL;
		bench_phase(c, B_SEQ_WRITE, now);
		c->phase = P_BENCH;
		return 1;
	case P_BENCH:
		if (bench_step(c, now) > 0)
			return 1;
		c->phase = P_DONE;
		nbd_shutdown(&c->nbd, now);
		return 0;
	case P_DONE:
		return 0;
	}
	return -1;
}

/*
 * libFuzzer target: the NBD client (kernel/blk/nbd.c) against a server whose
 * every byte comes from the fuzzer, with requests in flight. The input is a
 * list of operations: raw server bytes, well-formed handshakes and replies
 * (so the fuzzer reaches the transmission phase quickly and can then corrupt
 * it), submissions, dropped connections, time passing, transport chunking.
 *
 * Besides the sanitizers it checks the client's promises: every accepted
 * request completes exactly once; a request's buffer is freed in its done()
 * callback, so any later write into it (a reply stored into a finished
 * request) is a use-after-free ASan reports; a READ is filled only within
 * its own buffer (each is allocated at its exact length).
 */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <hv/byteorder.h>
#include <hv/errno.h>
#include <hv/nbd.h>

#define MAX_RQ	256
#define OUT_MAX (1 << 20)
#define BLOCK	512
#define DISK	(1 * MiB)

#define CHECK(cond)                       \
	do {                              \
		if (!(cond))              \
			__builtin_trap(); \
	} while (0)

enum op {
	OP_RAW,	      /* server bytes as given */
	OP_EOF,	      /* the server closes the connection */
	OP_TIME,      /* time passes */
	OP_SUBMIT,    /* requests from 4-byte descriptors */
	OP_CHUNK,     /* bytes per recv / send call */
	OP_HANDSHAKE, /* a well-formed greeting and NBD_OPT_GO answer */
	OP_REPLY,     /* a well-formed reply to a request in flight */
	OP_POLL,      /* poll a few times */
	OP_REFUSE,    /* connections fail or succeed */
	NR_OPS
};

struct world {
	u8 out[OUT_MAX];
	u32 out_head, out_tail;
	bool up, eof, refuse;
	u32 max_recv, max_send;
	u64 now;
	struct nbd_client c;
	struct nbd_request rq[MAX_RQ];
	int calls[MAX_RQ];
	u32 nr_rq;
};

static struct world *w;

static void emit(const void *data, size_t len)
{
	if (len > OUT_MAX - w->out_tail)
		len = OUT_MAX - w->out_tail;
	if (!len)
		return;
	memcpy(w->out + w->out_tail, data, len);
	w->out_tail += len;
}

static int t_connect(void *ctx, u64 now)
{
	(void)ctx;
	(void)now;
	w->up = !w->refuse;
	w->eof = false;
	w->out_head = w->out_tail = 0;
	return 0;
}

static int t_status(void *ctx)
{
	(void)ctx;
	return w->up ? NBD_TRANSPORT_UP : NBD_TRANSPORT_DOWN;
}

static long t_send(void *ctx, const void *buf, size_t len, u64 now)
{
	(void)ctx;
	(void)buf;
	(void)now;
	if (!w->up || w->eof)
		return -EIO;
	if (w->max_send && len > w->max_send)
		len = w->max_send;
	return (long)len;
}

static long t_recv(void *ctx, void *buf, size_t len)
{
	u32 avail = w->out_tail - w->out_head;

	(void)ctx;
	if (!w->up)
		return -EIO;
	if (!avail)
		return w->eof ? -EIO : 0;
	if (len > avail)
		len = avail;
	if (w->max_recv && len > w->max_recv)
		len = w->max_recv;
	memcpy(buf, w->out + w->out_head, len);
	w->out_head += len;
	return (long)len;
}

static void t_close(void *ctx)
{
	(void)ctx;
	w->up = false;
}

static const struct nbd_transport transport = {
	.connect = t_connect,
	.status = t_status,
	.send = t_send,
	.recv = t_recv,
	.close = t_close,
};

static void on_done(struct nbd_request *r, int status)
{
	u32 i = (u32)(r - w->rq);

	CHECK(i < w->nr_rq);
	CHECK(w->calls[i] == 0);
	CHECK(status <= 0);
	w->calls[i]++;
	free(r->buf); /* any later access is a use-after-free */
	r->buf = NULL;
}

static void opt_reply(u32 type, const u8 *data, u32 len)
{
	u8 h[20];

	put_be64(h, NBD_OPT_REPLY_MAGIC);
	put_be32(h + 8, NBD_OPT_GO);
	put_be32(h + 12, type);
	put_be32(h + 16, len);
	emit(h, 20);
	emit(data, len);
}

/* Greeting, NBD_INFO_EXPORT (flags from the input), maybe NBD_INFO_BLOCK_SIZE, ACK. */
static void handshake(const u8 *d, u32 n)
{
	u8 g[18], info[14];
	u16 tflags = n > 1 ? (u16)(d[0] << 8 | d[1]) : 0xffff;
	u32 min = n > 2 ? 1U << (d[2] % 13) : 1;

	put_be64(g, NBD_MAGIC);
	put_be64(g + 8, NBD_IHAVEOPT);
	put_be16(g + 16, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
	emit(g, 18);
	put_be16(info, NBD_INFO_EXPORT);
	put_be64(info + 2, DISK);
	put_be16(info + 10, tflags | NBD_FLAG_HAS_FLAGS);
	opt_reply(NBD_REP_INFO, info, 12);
	if (n > 2) {
		put_be16(info, NBD_INFO_BLOCK_SIZE);
		put_be32(info + 2, min);
		put_be32(info + 6, 4096);
		put_be32(info + 10, n > 3 && d[3] ? min * d[3] : 0xffffffffU);
		opt_reply(NBD_REP_INFO, info, 14);
	}
	opt_reply(NBD_REP_ACK, NULL, 0);
}

/* Requests from 4-byte descriptors: type, flags, offset in blocks, length in blocks. */
static void submit(const u8 *d, u32 n)
{
	static const u16 types[] = { NBD_CMD_READ,	   NBD_CMD_WRITE,
				     NBD_CMD_FLUSH,	   NBD_CMD_TRIM,
				     NBD_CMD_WRITE_ZEROES, NBD_CMD_READ,
				     NBD_CMD_WRITE,	   9 };

	for (u32 i = 0; i + 4 <= n && w->nr_rq < MAX_RQ; i += 4) {
		struct nbd_request *r = &w->rq[w->nr_rq];
		u16 type = types[d[i] % 8];
		u32 len = (type == NBD_CMD_FLUSH) ? 0 : (d[i + 3] % 128 + 1) * BLOCK;

		memset(r, 0, sizeof(*r));
		r->type = type;
		r->flags = d[i + 1] & 3;
		r->offset = type == NBD_CMD_FLUSH ? 0 : (u64)d[i + 2] * 8 * BLOCK;
		r->length = len - (d[i] & 0x80 ? 1 : 0) * (len > 1);
		r->buf = malloc(r->length ? r->length : 1);
		CHECK(r->buf);
		memset(r->buf, 0x5a, r->length);
		r->done = on_done;
		if (nbd_submit(&w->c, r, w->now) == 0) {
			w->nr_rq++;
		} else {
			free(r->buf);
			r->buf = NULL;
		}
	}
}

/* A correct simple reply to the slot named by d[0], error d[1], payload from d[2..]. */
static void reply(const u8 *d, u32 n)
{
	const struct nbd_slot *s;
	u8 h[16];

	if (n < 2)
		return;
	s = &w->c.slots[d[0] % NBD_MAX_INFLIGHT];
	if (!s->busy)
		return;
	put_be32(h, NBD_SIMPLE_REPLY_MAGIC);
	put_be32(h + 4, d[1] < 200 ? 0 : d[1]);
	put_be64(h + 8, s->cookie);
	emit(h, 16);
	if (s->type == NBD_CMD_READ && d[1] < 200)
		for (u32 left = s->length; left;) {
			u32 k = MIN(left, n - 2 ? n - 2 : 1);

			if (n > 2)
				emit(d + 2, k);
			else
				emit("\0", 1);
			left -= k;
		}
}

static void poll_some(int n)
{
	while (n--)
		nbd_poll(&w->c, w->now);
}

static void run_op(u8 op, const u8 *d, u32 n)
{
	switch (op % NR_OPS) {
	case OP_RAW:
		emit(d, n);
		break;
	case OP_EOF:
		w->eof = true;
		break;
	case OP_TIME:
		w->now += n ? (u64)d[0] * (n > 1 ? d[1] + 1 : 1) : 1;
		break;
	case OP_SUBMIT:
		submit(d, n);
		break;
	case OP_CHUNK:
		w->max_recv = n ? d[0] : 0;
		w->max_send = n > 1 ? d[1] : 0;
		break;
	case OP_HANDSHAKE:
		handshake(d, n);
		break;
	case OP_REPLY:
		reply(d, n);
		break;
	case OP_POLL:
		break;
	case OP_REFUSE:
		w->refuse = n && (d[0] & 1);
		break;
	}
	poll_some(2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct nbd_params p = {
		.deadline_ms = 3000,
		.backoff_min_ms = 10,
		.backoff_max_ms = 80,
		.connect_ms = 500,
		.stall_ms = 1000,
	};

	if (!w)
		w = malloc(sizeof(*w));
	CHECK(w);
	w->out_head = w->out_tail = 0;
	w->up = w->eof = w->refuse = false;
	w->max_recv = w->max_send = 0;
	w->now = 0;
	w->nr_rq = 0;
	memset(w->calls, 0, sizeof(w->calls));
	nbd_init(&w->c, &transport, "fuzz", &p);
	nbd_poll(&w->c, 0);

	/* [op][len][len bytes] ... */
	for (size_t i = 0; i + 2 <= size;) {
		u8 op = data[i];
		u32 n = MIN((u32)data[i + 1], (u32)(size - i - 2));

		run_op(op, data + i + 2, n);
		i += 2 + n;
	}
	/* time runs out: every request must finish by its deadline, connected or not */
	for (int k = 0; k < 8; k++) {
		w->now += 1000;
		poll_some(2);
	}
	CHECK(nbd_pending(&w->c) == 0);
	nbd_shutdown(&w->c, w->now);
	for (u32 i = 0; i < w->nr_rq; i++)
		CHECK(w->calls[i] == 1);
	CHECK(!nbd_ready(&w->c));
	return 0;
}

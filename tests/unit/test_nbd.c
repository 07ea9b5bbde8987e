/*
 * The NBD client (kernel/blk/nbd.c) against a scripted server behind a fake
 * transport: handshakes good and bad, every request type and flag, many
 * requests in flight answered out of order, malformed replies (each must tear
 * the connection down, reconnect and replay, with nothing written into a
 * wrong buffer), transports that move one byte at a time, backoff timing,
 * deadlines, server errors and FLUSH ordering.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <hv/byteorder.h>
#include <hv/errno.h>
#include <hv/nbd.h>
#include "host_log.h"

#define DISK_SIZE (1 * MiB)
#define EXPORT	  "vsi0"
#define IN_MAX	  (256 * KiB)
#define OUT_MAX	  (4 * MiB)
#define LOG_MAX	  1024
#define HELD_MAX  256
#define ALL_FLAGS                                                                            \
	(NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH | NBD_FLAG_SEND_FUA | NBD_FLAG_SEND_TRIM | \
	 NBD_FLAG_SEND_WRITE_ZEROES)

enum phase {
	P_CFLAGS,
	P_OPTS,
	P_TRANS,
	P_DEAD
};

struct logged {
	u16 type, flags;
	u64 cookie, offset;
	u32 length, conn;
};

struct reply {
	u64 cookie;
	u32 err;
	u16 type;
	u64 offset;
	u32 length;
};

/* The scripted server and the transport that reaches it. */
struct fake {
	/* transport */
	bool up, refuse, eof;
	int connect_rc;
	u32 max_send, max_recv; /* bytes per call; 0: unlimited */
	bool send_full;
	u64 connect_times[64];
	u32 nr_connects, closes;

	/* server configuration */
	u16 hflags, tflags;
	u64 size;
	bool block_size, no_go, long_info, auto_reply, silent;
	bool mute;	  /* the server reads what the client sends and answers nothing */
	long send_budget; /* bytes send() accepts before it is full; <0: no limit */
	u8 greeting[64];  /* replaces the greeting if greeting_len */
	u32 greeting_len;
	u32 min, pref, max;
	u32 fail_err;
	u64 fail_offset;

	/* server state */
	enum phase phase;
	u8 in[IN_MAX];
	u32 in_len;
	u8 out[OUT_MAX];
	u32 out_head, out_tail;
	u32 cflags;
	bool got_abort, got_disc;
	struct logged log[LOG_MAX];
	u32 nr_log;
	struct reply held[HELD_MAX];
	u32 nr_held;
	u8 disk[DISK_SIZE];
};

static struct fake *f;
static struct nbd_client *c;
static const struct nbd_params params = {
	.deadline_ms = 30000,
	.backoff_min_ms = 100,
	.backoff_max_ms = 5000,
	.connect_ms = 10000,
	.stall_ms = 15000,
};

/* ---- wire helpers ---- */

static void emit(const void *data, u32 len)
{
	assert_true(f->out_tail + len <= OUT_MAX);
	memcpy(f->out + f->out_tail, data, len);
	f->out_tail += len;
}

static void emit_opt_reply(u32 opt, u32 type, const void *data, u32 len)
{
	u8 h[20];

	put_be64(h, NBD_OPT_REPLY_MAGIC);
	put_be32(h + 8, opt);
	put_be32(h + 12, type);
	put_be32(h + 16, len);
	emit(h, 20);
	emit(data, len);
}

static void emit_simple(u32 magic, u32 err, u64 cookie)
{
	u8 h[16];

	put_be32(h, magic);
	put_be32(h + 4, err);
	put_be64(h + 8, cookie);
	emit(h, 16);
}

/* ---- the server ---- */

static void server_go(u32 opt, const u8 *data, u32 len)
{
	u32 n = get_be32(data);
	u8 info[14];

	if (f->no_go) {
		emit_opt_reply(opt, NBD_REP_ERR_UNSUP, "", 0);
		return;
	}
	if (n != strlen(EXPORT) || memcmp(data + 4, EXPORT, n)) {
		emit_opt_reply(opt, NBD_REP_ERR_UNKNOWN, "no such export", 14);
		return;
	}
	assert_int_equal(len, 4 + n + 2 + 2);
	assert_int_equal(get_be16(data + 4 + n), 1);
	assert_int_equal(get_be16(data + 6 + n), NBD_INFO_BLOCK_SIZE);
	if (f->long_info) {
		u8 desc[300];

		memset(desc, 'd', sizeof(desc));
		put_be16(desc, NBD_INFO_DESCRIPTION);
		emit_opt_reply(opt, NBD_REP_INFO, desc, sizeof(desc));
	}
	put_be16(info, NBD_INFO_EXPORT);
	put_be64(info + 2, f->size);
	put_be16(info + 10, f->tflags);
	emit_opt_reply(opt, NBD_REP_INFO, info, 12);
	if (f->block_size) {
		put_be16(info, NBD_INFO_BLOCK_SIZE);
		put_be32(info + 2, f->min);
		put_be32(info + 6, f->pref);
		put_be32(info + 10, f->max);
		emit_opt_reply(opt, NBD_REP_INFO, info, 14);
	}
	emit_opt_reply(opt, NBD_REP_ACK, "", 0);
	f->phase = P_TRANS;
}

/* One option from the client: 1 consumed, 0 incomplete. */
static int server_option(void)
{
	u32 opt, len;
	u8 reply[134] = { 0 };

	if (f->in_len < 16)
		return 0;
	assert_true(get_be64(f->in) == NBD_IHAVEOPT);
	opt = get_be32(f->in + 8);
	len = get_be32(f->in + 12);
	if (f->in_len < 16 + len)
		return 0;
	if (opt == NBD_OPT_GO) {
		server_go(opt, f->in + 16, len);
	} else if (opt == NBD_OPT_ABORT) {
		f->got_abort = true;
		emit_opt_reply(opt, NBD_REP_ACK, "", 0);
		f->phase = P_DEAD;
	} else if (opt == NBD_OPT_EXPORT_NAME) {
		put_be64(reply, f->size);
		put_be16(reply + 8, f->tflags);
		emit(reply, (f->cflags & NBD_FLAG_C_NO_ZEROES) ? 10 : 134);
		f->phase = P_TRANS;
	} else {
		fail_msg("unexpected option %u", opt);
	}
	return 16 + len;
}

static void send_reply(const struct reply *r)
{
	emit_simple(NBD_SIMPLE_REPLY_MAGIC, r->err, r->cookie);
	if (r->type == NBD_CMD_READ && !r->err)
		emit(f->disk + r->offset, r->length);
}

/* One request from the client: bytes consumed, 0 incomplete. */
static int server_request(void)
{
	struct logged *l;
	struct reply r;
	u32 need = NBD_REQUEST_SIZE;

	if (f->in_len < need)
		return 0;
	assert_int_equal(get_be32(f->in), NBD_REQUEST_MAGIC);
	r = (struct reply){ .cookie = get_be64(f->in + 8),
			    .type = get_be16(f->in + 6),
			    .offset = get_be64(f->in + 16),
			    .length = get_be32(f->in + 24) };
	if (r.type == NBD_CMD_WRITE)
		need += r.length;
	if (f->in_len < need)
		return 0;
	assert_true(f->nr_log < LOG_MAX);
	l = &f->log[f->nr_log++];
	*l = (struct logged){ .type = r.type,
			      .flags = get_be16(f->in + 4),
			      .cookie = r.cookie,
			      .offset = r.offset,
			      .length = r.length,
			      .conn = f->nr_connects };
	if (r.type == NBD_CMD_DISC) {
		f->got_disc = true;
		f->phase = P_DEAD;
		return need;
	}
	if (r.type != NBD_CMD_FLUSH)
		assert_true(r.offset + r.length <= DISK_SIZE);
	if (f->fail_err && r.type != NBD_CMD_FLUSH && r.offset == f->fail_offset)
		r.err = f->fail_err;
	else if (r.type == NBD_CMD_WRITE)
		memcpy(f->disk + r.offset, f->in + NBD_REQUEST_SIZE, r.length);
	else if (r.type == NBD_CMD_TRIM || r.type == NBD_CMD_WRITE_ZEROES)
		memset(f->disk + r.offset, 0, r.length);
	if (f->auto_reply) {
		send_reply(&r);
	} else {
		assert_true(f->nr_held < HELD_MAX);
		f->held[f->nr_held++] = r;
	}
	return need;
}

/* Consume what the client sent so far. */
static void server_run(void)
{
	for (;;) {
		int n = 0;

		if (f->phase == P_CFLAGS && f->in_len >= 4) {
			f->cflags = get_be32(f->in);
			f->phase = P_OPTS;
			n = 4;
		} else if (f->phase == P_OPTS) {
			n = server_option();
		} else if (f->phase == P_TRANS) {
			n = server_request();
		} else if (f->phase == P_DEAD) {
			n = f->in_len;
		}
		if (n == 0)
			return;
		memmove(f->in, f->in + n, f->in_len - n);
		f->in_len -= n;
	}
}

/* Send held reply i (in any order the test likes). */
static void release(u32 i)
{
	assert_true(i < f->nr_held);
	send_reply(&f->held[i]);
	f->held[i] = f->held[--f->nr_held];
}

/* ---- the transport ---- */

static void greet(void)
{
	u8 g[18];

	put_be64(g, NBD_MAGIC);
	put_be64(g + 8, NBD_IHAVEOPT);
	put_be16(g + 16, f->hflags);
	emit(g, 18);
}

static int t_connect(void *ctx, u64 now)
{
	(void)ctx;
	assert_true(f->nr_connects < ARRAY_SIZE(f->connect_times));
	f->connect_times[f->nr_connects++] = now;
	if (f->connect_rc)
		return f->connect_rc;
	f->up = !f->refuse;
	f->eof = false;
	f->phase = P_CFLAGS;
	f->in_len = 0;
	f->out_head = f->out_tail = 0;
	f->nr_held = 0;
	if (f->up && f->greeting_len)
		emit(f->greeting, f->greeting_len);
	else if (f->up && !f->silent)
		greet();
	return 0;
}

static int t_status(void *ctx)
{
	(void)ctx;
	return f->up ? NBD_TRANSPORT_UP : NBD_TRANSPORT_DOWN;
}

static long t_send(void *ctx, const void *buf, size_t len, u64 now)
{
	(void)ctx;
	(void)now;
	if (!f->up || f->eof)
		return -EIO;
	if (f->send_full || f->send_budget == 0)
		return 0;
	if (f->send_budget > 0 && (long)len > f->send_budget)
		len = (size_t)f->send_budget;
	if (f->max_send && len > f->max_send)
		len = f->max_send;
	if (len > IN_MAX - f->in_len)
		len = IN_MAX - f->in_len;
	memcpy(f->in + f->in_len, buf, len);
	f->in_len += len;
	if (f->send_budget > 0)
		f->send_budget -= (long)len;
	if (f->mute)
		f->in_len = 0;
	else
		server_run();
	return (long)len;
}

static long t_recv(void *ctx, void *buf, size_t len)
{
	u32 avail = f->out_tail - f->out_head;

	(void)ctx;
	if (!f->up)
		return -EIO;
	if (!avail)
		return f->eof ? -EIO : 0;
	if (len > avail)
		len = avail;
	if (f->max_recv && len > f->max_recv)
		len = f->max_recv;
	memcpy(buf, f->out + f->out_head, len);
	f->out_head += len;
	return (long)len;
}

static void t_close(void *ctx)
{
	(void)ctx;
	f->up = false;
	f->closes++;
	f->nr_held = 0;
}

static const struct nbd_transport transport = {
	.connect = t_connect,
	.status = t_status,
	.send = t_send,
	.recv = t_recv,
	.close = t_close,
};

/* ---- requests ---- */

struct done_rec {
	int status;
	int calls;
	u32 order;
};

static u32 nr_done;

static void on_done(struct nbd_request *r, int status)
{
	struct done_rec *d = r->arg;

	d->status = status;
	d->calls++;
	d->order = nr_done++;
}

static void mk(struct nbd_request *r, struct done_rec *d, u16 type, u16 flags, u64 off, u32 len,
	       void *buf)
{
	memset(r, 0, sizeof(*r));
	memset(d, 0, sizeof(*d));
	d->status = 1;
	r->type = type;
	r->flags = flags;
	r->offset = off;
	r->length = len;
	r->buf = buf;
	r->done = on_done;
	r->arg = d;
}

static void poll_n(u64 now, int n)
{
	while (n--)
		nbd_poll(c, now);
}

static void fill_disk(void)
{
	for (u32 i = 0; i < DISK_SIZE; i++)
		f->disk[i] = (u8)(i * 7 + (i >> 9));
}

static int setup(void **state)
{
	(void)state;
	f = calloc(1, sizeof(*f));
	c = calloc(1, sizeof(*c));
	assert_non_null(f);
	assert_non_null(c);
	f->hflags = NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES;
	f->tflags = ALL_FLAGS;
	f->size = DISK_SIZE;
	f->block_size = true;
	f->min = 1;
	f->pref = 4096;
	f->max = 32 * MiB;
	f->auto_reply = true;
	f->send_budget = -1;
	fill_disk();
	nr_done = 0;
	host_log_clear();
	nbd_init(c, &transport, EXPORT, &params);
	return 0;
}

static int teardown_test(void **state)
{
	(void)state;
	free(f);
	free(c);
	return 0;
}

static void connect_now(u64 now)
{
	poll_n(now, 4);
	assert_true(nbd_ready(c));
}

/* ---- handshake ---- */

static void test_handshake_good(void **state)
{
	(void)state;
	f->long_info = true; /* an info the client must skip, longer than it keeps */
	f->min = 512;
	f->max = 1 * MiB;
	connect_now(0);
	assert_int_equal(nbd_export_size(c), DISK_SIZE);
	assert_int_equal(nbd_transmission_flags(c), ALL_FLAGS);
	assert_int_equal(nbd_min_block(c), 512);
	assert_int_equal(nbd_max_block(c), 1 * MiB);
	assert_int_equal(f->cflags, NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES);
	assert_int_equal(nbd_get_stats(c)->connects, 1);
	assert_true(host_log_contains("connected: 1048576 bytes"));
}

static void test_handshake_no_zeroes_not_offered(void **state)
{
	(void)state;
	f->hflags = NBD_FLAG_FIXED_NEWSTYLE;
	connect_now(0);
	assert_int_equal(f->cflags, NBD_FLAG_C_FIXED_NEWSTYLE);
}

static void test_handshake_unknown_export(void **state)
{
	(void)state;
	nbd_init(c, &transport, "nope", &params);
	poll_n(0, 4);
	assert_false(nbd_ready(c));
	assert_non_null(strstr(nbd_last_error(c), "export 'nope' not found on server"));
	assert_non_null(strstr(nbd_last_error(c), "no such export"));
	assert_true(host_log_contains("export 'nope' not found on server"));
	assert_true(f->got_abort); /* soft disconnect */
	assert_int_equal(f->closes, 1);
	assert_int_equal(nbd_get_stats(c)->connect_failures, 1);
	poll_n(99, 2);
	assert_int_equal(f->nr_connects, 1);
	poll_n(100, 2);
	assert_int_equal(f->nr_connects, 2);
}

static void test_handshake_not_fixed_newstyle(void **state)
{
	(void)state;
	f->hflags = 0;
	poll_n(0, 4);
	assert_false(nbd_ready(c));
	assert_non_null(strstr(nbd_last_error(c), "fixed newstyle"));
	assert_int_equal(f->closes, 1);
	assert_int_equal(f->in_len, 0); /* nothing sent to a server it cannot talk to */
}

static void test_handshake_bad_magic(void **state)
{
	(void)state;
	put_be64(f->greeting, NBD_MAGIC ^ 0x40);
	put_be64(f->greeting + 8, NBD_IHAVEOPT);
	put_be16(f->greeting + 16, NBD_FLAG_FIXED_NEWSTYLE);
	f->greeting_len = 18;
	poll_n(0, 2);
	assert_false(nbd_ready(c));
	assert_non_null(strstr(nbd_last_error(c), "bad greeting magic"));
	assert_int_equal(nbd_get_stats(c)->protocol_violations, 1);
	assert_true(host_log_contains("protocol violation"));
	assert_int_equal(f->in_len, 0);

	put_be64(f->greeting, NBD_MAGIC);
	put_be64(f->greeting + 8, NBD_IHAVEOPT + 1);
	poll_n(100, 2);
	assert_false(nbd_ready(c));
	assert_int_equal(nbd_get_stats(c)->protocol_violations, 2);
}

static void test_handshake_bad_option_reply(void **state)
{
	(void)state;
	put_be64(f->greeting, NBD_MAGIC);
	put_be64(f->greeting + 8, NBD_IHAVEOPT);
	put_be16(f->greeting + 16, NBD_FLAG_FIXED_NEWSTYLE);
	put_be64(f->greeting + 18, NBD_OPT_REPLY_MAGIC ^ 1);
	put_be32(f->greeting + 26, NBD_OPT_GO);
	put_be32(f->greeting + 30, NBD_REP_ACK);
	put_be32(f->greeting + 34, 0);
	f->greeting_len = 38;
	f->mute = true;
	poll_n(0, 2);
	assert_false(nbd_ready(c));
	assert_non_null(strstr(nbd_last_error(c), "bad option reply magic"));

	put_be64(f->greeting + 18, NBD_OPT_REPLY_MAGIC);
	put_be32(f->greeting + 26, NBD_OPT_ABORT); /* answers an option never sent */
	poll_n(100, 2);
	assert_non_null(strstr(nbd_last_error(c), "option reply for option 2, expected 7"));

	put_be32(f->greeting + 26, NBD_OPT_GO);
	put_be32(f->greeting + 30, NBD_REP_ACK); /* success without NBD_INFO_EXPORT */
	poll_n(300, 2);
	assert_non_null(strstr(nbd_last_error(c), "without NBD_INFO_EXPORT"));

	put_be32(f->greeting + 30, 77); /* a reply type that does not exist */
	poll_n(700, 2);
	assert_non_null(strstr(nbd_last_error(c), "unexpected option reply type 77"));

	put_be32(f->greeting + 30, NBD_REP_INFO);
	put_be32(f->greeting + 34, 100000); /* longer than any option reply may be */
	poll_n(1500, 2);
	assert_non_null(strstr(nbd_last_error(c), "option reply of 100000 bytes"));
	assert_int_equal(nbd_get_stats(c)->protocol_violations, 5);
}

static void test_handshake_oldstyle(void **state)
{
	(void)state;
	put_be64(f->greeting, NBD_MAGIC);
	put_be64(f->greeting + 8, 0x00420281861253ULL);
	put_be16(f->greeting + 16, 0);
	f->greeting_len = 18;
	poll_n(0, 2);
	assert_false(nbd_ready(c));
	assert_non_null(strstr(nbd_last_error(c), "oldstyle"));
}

static void test_handshake_export_name_fallback(void **state)
{
	(void)state;
	f->no_go = true;
	connect_now(0);
	assert_int_equal(nbd_export_size(c), DISK_SIZE);
	assert_int_equal(nbd_min_block(c), 1);
}

static void test_handshake_export_name_fallback_zeroes(void **state)
{
	(void)state;
	f->no_go = true;
	f->hflags = NBD_FLAG_FIXED_NEWSTYLE; /* 124 zero bytes follow size and flags */
	connect_now(0);
	assert_int_equal(nbd_transmission_flags(c), ALL_FLAGS);
}

static void test_handshake_bad_block_sizes(void **state)
{
	(void)state;
	f->min = 3;
	poll_n(0, 4);
	assert_false(nbd_ready(c));
	assert_non_null(strstr(nbd_last_error(c), "invalid block sizes"));
	f->min = 512;
	f->max = 1000; /* not a multiple of the minimum */
	poll_n(100, 4);
	assert_false(nbd_ready(c));
	f->max = 4096;
	poll_n(300, 4);
	assert_true(nbd_ready(c));
}

static void test_handshake_timeout(void **state)
{
	(void)state;
	f->silent = true; /* connected, but the greeting never comes */
	nbd_poll(c, 0);
	nbd_poll(c, 9999);
	assert_int_equal(f->closes, 0);
	nbd_poll(c, 10000);
	assert_int_equal(f->closes, 1);
	assert_non_null(strstr(nbd_last_error(c), "no handshake within 10000 ms"));
}

static void test_submit_before_ready(void **state)
{
	struct nbd_request r;
	struct done_rec d;
	u8 buf[512];

	(void)state;
	mk(&r, &d, NBD_CMD_READ, 0, 0, 512, buf);
	assert_int_equal(nbd_submit(c, &r, 0), -ENODEV);
}

/* ---- requests ---- */

static void run_until_done(struct done_rec *d, u64 now)
{
	for (int i = 0; i < 100000 && d->calls == 0; i++)
		nbd_poll(c, now);
	assert_int_equal(d->calls, 1);
}

static void test_request_types(void **state)
{
	struct nbd_request r;
	struct done_rec d;
	u8 wbuf[4096], rbuf[4096];

	(void)state;
	connect_now(0);
	for (u32 i = 0; i < sizeof(wbuf); i++)
		wbuf[i] = (u8)(i ^ 0x5a);

	mk(&r, &d, NBD_CMD_WRITE, NBD_CMD_FLAG_FUA, 8192, 4096, wbuf);
	assert_int_equal(nbd_submit(c, &r, 0), 0);
	run_until_done(&d, 0);
	assert_int_equal(d.status, 0);
	assert_memory_equal(f->disk + 8192, wbuf, 4096);
	assert_int_equal(f->log[0].type, NBD_CMD_WRITE);
	assert_int_equal(f->log[0].flags, NBD_CMD_FLAG_FUA);
	assert_int_equal(f->log[0].offset, 8192);

	mk(&r, &d, NBD_CMD_READ, 0, 8192, 4096, rbuf);
	assert_int_equal(nbd_submit(c, &r, 0), 0);
	run_until_done(&d, 0);
	assert_int_equal(d.status, 0);
	assert_memory_equal(rbuf, wbuf, 4096);

	mk(&r, &d, NBD_CMD_FLUSH, 0, 0, 0, NULL);
	assert_int_equal(nbd_submit(c, &r, 0), 0);
	run_until_done(&d, 0);
	assert_int_equal(d.status, 0);
	assert_int_equal(f->log[2].type, NBD_CMD_FLUSH);

	mk(&r, &d, NBD_CMD_TRIM, 0, 8192, 512, NULL);
	assert_int_equal(nbd_submit(c, &r, 0), 0);
	run_until_done(&d, 0);
	assert_int_equal(d.status, 0);
	assert_int_equal(f->log[3].type, NBD_CMD_TRIM);

	mk(&r, &d, NBD_CMD_WRITE_ZEROES, NBD_CMD_FLAG_NO_HOLE | NBD_CMD_FLAG_FUA, 9000, 100, NULL);
	assert_int_equal(nbd_submit(c, &r, 0), 0);
	run_until_done(&d, 0);
	assert_int_equal(d.status, 0);
	assert_int_equal(f->log[4].type, NBD_CMD_WRITE_ZEROES);
	assert_int_equal(f->log[4].flags, NBD_CMD_FLAG_NO_HOLE | NBD_CMD_FLAG_FUA);
	assert_int_equal(f->disk[9000], 0);
	assert_int_equal(f->disk[9099], 0);

	assert_int_equal(nbd_get_stats(c)->requests, 5);
	assert_int_equal(nbd_get_stats(c)->bytes_written, 4096);
	assert_int_equal(nbd_get_stats(c)->bytes_read, 4096);
	assert_int_equal(nbd_pending(c), 0);
}

static void test_submit_validation(void **state)
{
	struct nbd_request r;
	struct done_rec d;
	u8 buf[8192];

	(void)state;
	f->tflags = NBD_FLAG_HAS_FLAGS; /* nothing optional advertised */
	f->min = 512;
	f->max = 4096;
	connect_now(0);
#define SUBMIT(type, flags, off, len, b) \
	(mk(&r, &d, type, flags, off, len, b), nbd_submit(c, &r, 0))
	assert_int_equal(SUBMIT(NBD_CMD_FLUSH, 0, 0, 0, NULL), -ENOTSUP);
	assert_int_equal(SUBMIT(NBD_CMD_TRIM, 0, 0, 512, NULL), -ENOTSUP);
	assert_int_equal(SUBMIT(NBD_CMD_WRITE_ZEROES, 0, 0, 512, NULL), -ENOTSUP);
	assert_int_equal(SUBMIT(NBD_CMD_WRITE, NBD_CMD_FLAG_FUA, 0, 512, buf), -ENOTSUP);
	assert_int_equal(SUBMIT(NBD_CMD_READ, NBD_CMD_FLAG_FUA, 0, 512, buf), -EINVAL);
	assert_int_equal(SUBMIT(NBD_CMD_WRITE, NBD_CMD_FLAG_NO_HOLE, 0, 512, buf), -EINVAL);
	assert_int_equal(SUBMIT(NBD_CMD_DISC, 0, 0, 0, NULL), -EINVAL);
	assert_int_equal(SUBMIT(99, 0, 0, 512, buf), -EINVAL);
	assert_int_equal(SUBMIT(NBD_CMD_READ, 0, 0, 0, buf), -EINVAL);
	assert_int_equal(SUBMIT(NBD_CMD_READ, 0, DISK_SIZE - 512, 1024, buf), -EINVAL);
	assert_int_equal(SUBMIT(NBD_CMD_READ, 0, DISK_SIZE, 512, buf), -EINVAL);
	assert_int_equal(SUBMIT(NBD_CMD_READ, 0, ~0ULL - 511, 512, buf), -EINVAL); /* wraps */
	assert_int_equal(SUBMIT(NBD_CMD_READ, 0, 100, 512, buf), -EINVAL);	   /* unaligned */
	assert_int_equal(SUBMIT(NBD_CMD_READ, 0, 0, 500, buf), -EINVAL);
	assert_int_equal(SUBMIT(NBD_CMD_READ, 0, 0, 8192, buf), -EINVAL); /* > maximum */
	assert_int_equal(SUBMIT(NBD_CMD_READ, 0, 0, 512, NULL), -EINVAL);
	assert_int_equal(SUBMIT(NBD_CMD_READ, 0, DISK_SIZE - 4096, 4096, buf), 0);
	r.done = NULL;
	assert_int_equal(
	    nbd_submit(c, &(struct nbd_request){ .type = NBD_CMD_READ, .length = 512, .buf = buf },
		       0),
	    -EINVAL);
	assert_int_equal(nbd_pending(c), 1);
#undef SUBMIT
}

static void test_submit_read_only(void **state)
{
	struct nbd_request r;
	struct done_rec d;
	u8 buf[512];

	(void)state;
	f->tflags = ALL_FLAGS | NBD_FLAG_READ_ONLY;
	connect_now(0);
	mk(&r, &d, NBD_CMD_WRITE, 0, 0, 512, buf);
	assert_int_equal(nbd_submit(c, &r, 0), -EPERM);
	mk(&r, &d, NBD_CMD_TRIM, 0, 0, 512, NULL);
	assert_int_equal(nbd_submit(c, &r, 0), -EPERM);
	mk(&r, &d, NBD_CMD_READ, 0, 0, 512, buf);
	assert_int_equal(nbd_submit(c, &r, 0), 0);
}

#define NR_MANY 48

static void test_many_in_flight_out_of_order(void **state)
{
	static struct nbd_request r[NR_MANY];
	static struct done_rec d[NR_MANY];
	static u8 bufs[NR_MANY][2048];

	(void)state;
	f->auto_reply = false;
	connect_now(0);
	for (u32 i = 0; i < NR_MANY; i++) {
		u16 type = (i % 3 == 0) ? NBD_CMD_WRITE : NBD_CMD_READ;

		if (type == NBD_CMD_WRITE)
			memset(bufs[i], (int)(0x80 + i), sizeof(bufs[i]));
		else
			memset(bufs[i], 0xee, sizeof(bufs[i]));
		mk(&r[i], &d[i], type, 0, (u64)i * 4096, 2048, bufs[i]);
		assert_int_equal(nbd_submit(c, &r[i], 0), 0);
	}
	poll_n(0, 3);
	assert_int_equal(f->nr_held, NR_MANY); /* every one on the wire at once */
	for (u32 i = 0; i < NR_MANY; i++)
		for (u32 j = 0; j < i; j++)
			assert_true(f->log[i].cookie != f->log[j].cookie);
	/* answer in a scrambled order, a few at a time */
	while (f->nr_held) {
		release((f->nr_held * 7) % f->nr_held);
		if (f->nr_held % 5 == 0)
			nbd_poll(c, 0);
	}
	poll_n(0, 3);
	for (u32 i = 0; i < NR_MANY; i++) {
		assert_int_equal(d[i].calls, 1);
		assert_int_equal(d[i].status, 0);
		if (r[i].type == NBD_CMD_READ)
			assert_memory_equal(bufs[i], f->disk + (u64)i * 4096, 2048);
		else
			assert_memory_equal(f->disk + (u64)i * 4096, bufs[i], 2048);
	}
}

static void test_more_than_table_queued(void **state)
{
	static struct nbd_request r[NBD_MAX_INFLIGHT + 20];
	static struct done_rec d[NBD_MAX_INFLIGHT + 20];
	static u8 buf[512];

	(void)state;
	f->auto_reply = false;
	connect_now(0);
	for (u32 i = 0; i < ARRAY_SIZE(r); i++) {
		mk(&r[i], &d[i], NBD_CMD_READ, 0, 0, 512, buf);
		assert_int_equal(nbd_submit(c, &r[i], 0), 0);
	}
	poll_n(0, 3);
	assert_int_equal(f->nr_held, NBD_MAX_INFLIGHT);
	release(0);
	poll_n(0, 3);
	assert_int_equal(f->nr_held, NBD_MAX_INFLIGHT);
	f->auto_reply = true;
	while (f->nr_held)
		release(0);
	for (int i = 0; i < 10; i++)
		poll_n(0, 3);
	for (u32 i = 0; i < ARRAY_SIZE(r); i++)
		assert_int_equal(d[i].status, 0);
}

/* ---- malformed replies ---- */

enum bad_kind {
	BAD_MAGIC,
	BAD_HANDLE,
	BAD_NOT_IN_FLIGHT,
	BAD_STRUCTURED,
	BAD_SHORT
};

/*
 * Two READs on the wire; the server sends a broken reply. The client must
 * tear down without touching either buffer, reconnect after the backoff and
 * replay both, which then complete with the right data.
 */
static void malformed(enum bad_kind kind)
{
	struct nbd_request r[3];
	struct done_rec d[3];
	u8 a[1024], b[1024], w[512];

	f->auto_reply = false;
	connect_now(0);
	memset(a, 0xee, sizeof(a));
	memset(b, 0xee, sizeof(b));
	memset(w, 0x11, sizeof(w));
	mk(&r[0], &d[0], NBD_CMD_READ, 0, 4096, 1024, a);
	mk(&r[1], &d[1], NBD_CMD_READ, 0, 65536, 1024, b);
	mk(&r[2], &d[2], NBD_CMD_WRITE, 0, 0, 512, w);
	for (int i = 0; i < 3; i++)
		assert_int_equal(nbd_submit(c, &r[i], 0), 0);
	poll_n(0, 2);
	assert_int_equal(f->nr_held, 3);
	switch (kind) {
	case BAD_MAGIC:
		emit_simple(0x67446699, 0, f->held[0].cookie);
		emit(f->disk, 1024);
		break;
	case BAD_HANDLE:
		emit_simple(NBD_SIMPLE_REPLY_MAGIC, 0, f->held[0].cookie ^ 0x100);
		emit(f->disk, 1024);
		break;
	case BAD_NOT_IN_FLIGHT:
		release(2); /* the WRITE completes ... */
		nbd_poll(c, 0);
		assert_int_equal(d[2].status, 0);
		emit_simple(NBD_SIMPLE_REPLY_MAGIC, 0, f->log[2].cookie); /* ... and again */
		emit(f->disk, 1024);
		break;
	case BAD_STRUCTURED: {
		u8 h[20];

		put_be32(h, NBD_STRUCTURED_REPLY_MAGIC);
		put_be16(h + 4, 1);
		put_be16(h + 6, 1);
		put_be64(h + 8, f->held[0].cookie);
		put_be32(h + 16, 8 + 1024);
		emit(h, 20);
		emit(f->disk, 1024);
		break;
	}
	case BAD_SHORT:
		emit_simple(NBD_SIMPLE_REPLY_MAGIC, 0, f->held[0].cookie);
		emit(f->disk + 4096, 500); /* then the server goes away */
		f->eof = true;
		break;
	}
	nbd_poll(c, 0);
	assert_false(nbd_ready(c));
	assert_int_equal(f->closes, 1);
	assert_int_equal(d[0].calls + d[1].calls, 0);
	if (kind != BAD_SHORT) {
		assert_int_equal(nbd_get_stats(c)->protocol_violations, 1);
		for (u32 i = 0; i < sizeof(a); i++)
			assert_int_equal(a[i], 0xee);
	}
	for (u32 i = 0; i < sizeof(b); i++)
		assert_int_equal(b[i], 0xee);

	f->auto_reply = true;
	nbd_poll(c, 99);
	assert_int_equal(f->nr_connects, 1);
	poll_n(100, 4);
	assert_int_equal(f->nr_connects, 2);
	assert_true(nbd_ready(c));
	assert_int_equal(d[0].status, 0);
	assert_int_equal(d[1].status, 0);
	assert_memory_equal(a, f->disk + 4096, 1024);
	assert_memory_equal(b, f->disk + 65536, 1024);
	assert_int_equal(nbd_get_stats(c)->reconnects, 1);
	assert_int_equal(nbd_get_stats(c)->replays, kind == BAD_NOT_IN_FLIGHT ? 2 : 3);
	/* replayed in submit order on the second connection */
	assert_int_equal(f->log[3].conn, 2);
	assert_int_equal(f->log[3].offset, 4096);
	assert_int_equal(f->log[4].offset, 65536);
}

static void test_bad_reply_magic(void **state)
{
	(void)state;
	malformed(BAD_MAGIC);
	assert_true(host_log_contains("bad reply magic 0x67446699"));
}

static void test_reply_unknown_handle(void **state)
{
	(void)state;
	malformed(BAD_HANDLE);
	assert_true(host_log_contains("not in flight"));
}

static void test_reply_not_in_flight(void **state)
{
	(void)state;
	malformed(BAD_NOT_IN_FLIGHT);
	assert_true(host_log_contains("not in flight"));
}

static void test_reply_structured_not_negotiated(void **state)
{
	(void)state;
	malformed(BAD_STRUCTURED);
	assert_true(host_log_contains("structured replies were not negotiated"));
}

static void test_reply_short_read(void **state)
{
	(void)state;
	malformed(BAD_SHORT);
	assert_true(host_log_contains("in the middle of a reply"));
}

/* ---- partial transfers ---- */

/* Handshake and a mixed workload through a transport that moves at most chunk bytes per call. */
static void partial_io(u32 chunk)
{
	static struct nbd_request r[8];
	static struct done_rec d[8];
	static u8 bufs[8][3000];

	f->max_send = f->max_recv = chunk;
	for (u64 t = 0; t < 100000 && !nbd_ready(c); t++)
		nbd_poll(c, 0);
	assert_true(nbd_ready(c));
	for (u32 i = 0; i < 8; i++) {
		u16 type = (i & 1) ? NBD_CMD_READ : NBD_CMD_WRITE;

		memset(bufs[i], type == NBD_CMD_WRITE ? (int)(i + chunk) : 0xee, sizeof(bufs[i]));
		mk(&r[i], &d[i], type, 0, (u64)(i / 2) * 8192, 3000, bufs[i]);
		assert_int_equal(nbd_submit(c, &r[i], 0), 0);
	}
	for (int t = 0; t < 200000 && nbd_pending(c); t++)
		nbd_poll(c, 0);
	assert_int_equal(nbd_pending(c), 0);
	for (u32 i = 0; i < 8; i++) {
		assert_int_equal(d[i].status, 0);
		if (i & 1) /* the read after each write sees that write */
			assert_memory_equal(bufs[i], bufs[i - 1], 3000);
	}
	assert_int_equal(nbd_get_stats(c)->connects, 1);
}

static void test_partial_io_every_size(void **state)
{
	static const u32 sizes[] = { 1, 2, 3, 5, 7, 13, 16, 17, 27, 28, 29, 100, 4095, 4096, 0 };

	for (u32 i = 0; i < ARRAY_SIZE(sizes); i++) {
		teardown_test(state);
		setup(state);
		partial_io(sizes[i]);
	}
	for (u32 chunk = 1; chunk <= 64; chunk++) {
		teardown_test(state);
		setup(state);
		f->long_info = true;
		partial_io(chunk);
	}
}

static void test_send_full_then_drains(void **state)
{
	struct nbd_request r;
	struct done_rec d;
	u8 buf[8192];

	(void)state;
	connect_now(0);
	memset(buf, 0x42, sizeof(buf));
	mk(&r, &d, NBD_CMD_WRITE, 0, 0, sizeof(buf), buf);
	assert_int_equal(nbd_submit(c, &r, 0), 0);
	f->send_full = true;
	poll_n(0, 5);
	assert_int_equal(d.calls, 0);
	f->send_full = false;
	poll_n(1, 2);
	assert_int_equal(d.status, 0);
	assert_memory_equal(f->disk, buf, sizeof(buf));
}

/* ---- faults ---- */

static void test_backoff_timing(void **state)
{
	static const u64 expect[] = { 0, 100, 300, 700, 1500, 3100, 6300, 11300, 16300 };

	(void)state;
	f->refuse = true;
	for (u64 t = 0; t <= 16300; t++)
		nbd_poll(c, t);
	assert_int_equal(f->nr_connects, ARRAY_SIZE(expect));
	for (u32 i = 0; i < ARRAY_SIZE(expect); i++)
		assert_int_equal(f->connect_times[i], expect[i]);
	assert_non_null(strstr(nbd_last_error(c), "could not connect"));

	/* success resets the backoff: the next loss retries after the minimum again */
	f->refuse = false;
	for (u64 t = 16301; t <= 21300 && !nbd_ready(c); t++)
		nbd_poll(c, t);
	assert_true(nbd_ready(c));
	assert_int_equal(f->connect_times[f->nr_connects - 1], 21300);
	f->eof = true;
	nbd_poll(c, 30000);
	assert_false(nbd_ready(c));
	nbd_poll(c, 30099);
	assert_int_equal(f->connect_times[f->nr_connects - 1], 21300);
	nbd_poll(c, 30100);
	assert_int_equal(f->connect_times[f->nr_connects - 1], 30100);
	assert_true(nbd_ready(c));
}

static void test_connect_error(void **state)
{
	(void)state;
	f->connect_rc = -EIO;
	nbd_poll(c, 0);
	assert_int_equal(f->nr_connects, 1);
	assert_non_null(strstr(nbd_last_error(c), "transport connect failed"));
	nbd_poll(c, 100);
	assert_int_equal(f->nr_connects, 2);
}

static void test_deadline(void **state)
{
	struct nbd_request r;
	struct done_rec d;
	u8 buf[1024];

	(void)state;
	f->auto_reply = false;
	connect_now(0);
	memset(buf, 0xee, sizeof(buf));
	mk(&r, &d, NBD_CMD_READ, 0, 0, 1024, buf);
	assert_int_equal(nbd_submit(c, &r, 1000), 0);
	for (u64 t = 1000; t < 31000; t += 1000) /* replies keep the stall clock quiet */
		nbd_poll(c, t), c->last_io_ms = t;
	nbd_poll(c, 30999);
	assert_int_equal(d.calls, 0); /* never earlier */
	nbd_poll(c, 31000);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.status, -ETIMEDOUT);
	assert_int_equal(nbd_get_stats(c)->timeouts, 1);
	/* the late reply is drained, not written into the finished request's buffer */
	release(0);
	nbd_poll(c, 31001);
	assert_true(nbd_ready(c));
	assert_int_equal(nbd_get_stats(c)->protocol_violations, 0);
	for (u32 i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0xee);
}

static void test_deadline_while_disconnected(void **state)
{
	struct nbd_request r;
	struct done_rec d;
	u8 buf[512];

	(void)state;
	connect_now(0);
	f->eof = true;
	f->refuse = true;
	mk(&r, &d, NBD_CMD_WRITE, 0, 0, 512, buf);
	assert_int_equal(nbd_submit(c, &r, 10), 0);
	for (u64 t = 10; t < 30010; t += 10)
		nbd_poll(c, t);
	assert_int_equal(d.calls, 0);
	nbd_poll(c, 30010);
	assert_int_equal(d.status, -ETIMEDOUT);
}

static void test_deadline_during_write_payload(void **state)
{
	struct nbd_request r;
	struct done_rec d;
	u8 buf[8192];

	(void)state;
	connect_now(0);
	f->send_budget = NBD_REQUEST_SIZE + 100; /* the header and part of the data */
	mk(&r, &d, NBD_CMD_WRITE, 0, 0, sizeof(buf), buf);
	assert_int_equal(nbd_submit(c, &r, 0), 0);
	nbd_poll(c, 0);
	c->last_io_ms = 29999;
	nbd_poll(c, 29999);
	assert_int_equal(d.calls, 0);
	nbd_poll(c, 30000);
	assert_int_equal(d.status, -ETIMEDOUT);
	assert_int_equal(f->closes, 1); /* the half-sent request cannot be finished */
	assert_non_null(strstr(nbd_last_error(c), "timed out while its data was being sent"));
}

static void test_stall_reconnects(void **state)
{
	struct nbd_request r;
	struct done_rec d;
	u8 buf[512];

	(void)state;
	f->auto_reply = false;
	connect_now(0);
	mk(&r, &d, NBD_CMD_READ, 0, 512, 512, buf);
	assert_int_equal(nbd_submit(c, &r, 0), 0);
	nbd_poll(c, 0);
	nbd_poll(c, 14999);
	assert_true(nbd_ready(c));
	nbd_poll(c, 15000);
	assert_false(nbd_ready(c));
	assert_non_null(strstr(nbd_last_error(c), "no reply for 15000 ms"));
	f->auto_reply = true;
	poll_n(15100, 4);
	assert_int_equal(d.status, 0);
	assert_int_equal(nbd_get_stats(c)->replays, 1);
}

/* The cookie the client gave r (what a server that replies early would echo). */
static u64 cookie_of(const struct nbd_request *r)
{
	return c->slots[r->slot].cookie;
}

/* done() that frees the request's buffer, as a device model may: a later read of it is a UAF. */
static void on_done_free(struct nbd_request *r, int status)
{
	on_done(r, status);
	free(r->buf);
}

/*
 * A reply to a WRITE before its data was sent: acknowledging it would tell
 * the guest a write is done that the server never had, and free the buffer
 * the data is still sent from (ASan reports it). It must tear down and
 * replay instead.
 */
static void test_reply_before_write_data_sent(void **state)
{
	struct nbd_request r;
	struct done_rec d;
	u8 *buf = malloc(8192);

	(void)state;
	connect_now(0);
	memset(buf, 0x5a, 8192);
	f->send_budget = NBD_REQUEST_SIZE + 100; /* the header and part of the data */
	mk(&r, &d, NBD_CMD_WRITE, 0, 0, 8192, buf);
	r.done = on_done_free;
	assert_int_equal(nbd_submit(c, &r, 0), 0);
	nbd_poll(c, 0);
	emit_simple(NBD_SIMPLE_REPLY_MAGIC, 0, cookie_of(&r));
	f->send_budget = -1; /* room again: the old client went on sending from the freed buffer */
	nbd_poll(c, 1);
	assert_int_equal(d.calls, 0);
	assert_int_equal(nbd_get_stats(c)->protocol_violations, 1);
	assert_true(host_log_contains("before its request was sent in full"));
	assert_int_equal(f->closes, 1);
	poll_n(200, 6);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.status, 0);
	assert_int_equal(nbd_get_stats(c)->replays, 1);
	for (u32 i = 0; i < 8192; i++)
		assert_int_equal(f->disk[i], 0x5a);
}

/* The same for a request whose header is only partly on the wire. */
static void test_reply_before_header_sent(void **state)
{
	struct nbd_request r;
	struct done_rec d;
	u8 buf[512];

	(void)state;
	connect_now(0);
	memset(buf, 0xee, sizeof(buf));
	f->send_budget = 10;
	mk(&r, &d, NBD_CMD_READ, 0, 0, 512, buf);
	assert_int_equal(nbd_submit(c, &r, 0), 0);
	nbd_poll(c, 0);
	emit_simple(NBD_SIMPLE_REPLY_MAGIC, 0, cookie_of(&r));
	emit(f->disk, 512);
	nbd_poll(c, 1);
	assert_int_equal(d.calls, 0);
	assert_int_equal(nbd_get_stats(c)->protocol_violations, 1);
	for (u32 i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0xee);
}

/* With a long deadline, a server silent for longer than 15 s is slow, not dead. */
static void test_stall_follows_deadline(void **state)
{
	const struct nbd_params slow = { .deadline_ms = 60000 }; /* stall_ms from the deadline */
	struct nbd_request r[2];
	struct done_rec d[2];
	u8 buf[512];

	(void)state;
	nbd_init(c, &transport, EXPORT, &slow);
	f->auto_reply = false;
	connect_now(0);
	mk(&r[0], &d[0], NBD_CMD_READ, 0, 0, 512, buf);
	assert_int_equal(nbd_submit(c, &r[0], 0), 0);
	nbd_poll(c, 0);
	nbd_poll(c, 15000);
	nbd_poll(c, 20000);
	assert_true(nbd_ready(c));
	release(0);
	nbd_poll(c, 20000);
	assert_int_equal(d[0].status, 0);
	assert_int_equal(nbd_get_stats(c)->replays, 0);
	assert_int_equal(f->nr_connects, 1);
	/* a server silent for half the deadline is taken for dead: the replay has the rest */
	mk(&r[1], &d[1], NBD_CMD_READ, 0, 0, 512, buf);
	assert_int_equal(nbd_submit(c, &r[1], 20000), 0);
	nbd_poll(c, 20000);
	nbd_poll(c, 49999);
	assert_true(nbd_ready(c));
	nbd_poll(c, 50000);
	assert_false(nbd_ready(c));
	assert_non_null(strstr(nbd_last_error(c), "no reply for 30000 ms"));
}

/* Odd sizes are the server's to advertise: the client reports them and refuses what cannot fit. */
static void test_odd_export_sizes(void **state)
{
	struct nbd_request r;
	struct done_rec d;
	u8 buf[512];

	(void)state;
	f->size = 100;
	connect_now(0);
	assert_true(nbd_negotiated(c));
	assert_int_equal(nbd_export_size(c), 100);
	mk(&r, &d, NBD_CMD_READ, 0, 0, 512, buf);
	assert_int_equal(nbd_submit(c, &r, 0), -EINVAL);
	mk(&r, &d, NBD_CMD_READ, 0, 0, 100, buf);
	assert_int_equal(nbd_submit(c, &r, 0), 0);
	poll_n(0, 2);
	assert_int_equal(d.status, 0);

	f->size = 0;
	nbd_init(c, &transport, EXPORT, &params);
	connect_now(0);
	assert_true(nbd_negotiated(c));
	assert_int_equal(nbd_export_size(c), 0);
	mk(&r, &d, NBD_CMD_READ, 0, 0, 512, buf);
	assert_int_equal(nbd_submit(c, &r, 0), -EINVAL);
}

static void test_server_error_is_eio(void **state)
{
	struct nbd_request r[3];
	struct done_rec d[3];
	u8 a[512], b[512], w[512];

	(void)state;
	connect_now(0);
	memset(a, 0xee, sizeof(a));
	f->fail_err = NBD_EIO;
	f->fail_offset = 4096;
	mk(&r[0], &d[0], NBD_CMD_READ, 0, 4096, 512, a);
	mk(&r[1], &d[1], NBD_CMD_READ, 0, 8192, 512, b);
	mk(&r[2], &d[2], NBD_CMD_WRITE, 0, 4096, 512, w);
	for (int i = 0; i < 3; i++)
		assert_int_equal(nbd_submit(c, &r[i], 0), 0);
	poll_n(0, 3);
	assert_int_equal(d[0].status, -EIO);
	assert_int_equal(d[1].status, 0);
	assert_int_equal(d[2].status, -EIO);
	for (u32 i = 0; i < sizeof(a); i++)
		assert_int_equal(a[i], 0xee);
	assert_true(nbd_ready(c));
	assert_int_equal(f->nr_connects, 1);
	assert_int_equal(nbd_get_stats(c)->server_errors, 2);

	f->fail_err = NBD_ENOSPC;
	mk(&r[2], &d[2], NBD_CMD_WRITE, 0, 4096, 512, w);
	assert_int_equal(nbd_submit(c, &r[2], 0), 0);
	poll_n(0, 2);
	assert_int_equal(d[2].status, -ENOSPC);
	f->fail_err = 12345; /* not a protocol value */
	mk(&r[2], &d[2], NBD_CMD_WRITE, 0, 4096, 512, w);
	assert_int_equal(nbd_submit(c, &r[2], 0), 0);
	poll_n(0, 2);
	assert_int_equal(d[2].status, -EIO);
}

static void test_server_shutting_down(void **state)
{
	struct nbd_request r;
	struct done_rec d;
	u8 buf[512];

	(void)state;
	f->auto_reply = false;
	connect_now(0);
	mk(&r, &d, NBD_CMD_READ, 0, 0, 512, buf);
	assert_int_equal(nbd_submit(c, &r, 0), 0);
	nbd_poll(c, 0);
	f->held[0].err = NBD_ESHUTDOWN;
	release(0);
	nbd_poll(c, 0);
	assert_true(f->got_disc); /* soft disconnect */
	assert_int_equal(d.calls, 0);
	f->auto_reply = true;
	poll_n(100, 4);
	assert_int_equal(d.status, 0);
}

static void test_flush_waits_for_writes(void **state)
{
	struct nbd_request r[3];
	struct done_rec d[3];
	u8 a[512], b[512];

	(void)state;
	f->auto_reply = false;
	connect_now(0);
	mk(&r[0], &d[0], NBD_CMD_WRITE, 0, 0, 512, a);
	mk(&r[1], &d[1], NBD_CMD_WRITE, 0, 512, 512, b);
	mk(&r[2], &d[2], NBD_CMD_FLUSH, 0, 0, 0, NULL);
	for (int i = 0; i < 3; i++)
		assert_int_equal(nbd_submit(c, &r[i], 0), 0);
	poll_n(0, 3);
	assert_int_equal(f->nr_log, 2); /* the FLUSH waits for both writes */
	release(1);
	poll_n(0, 2);
	assert_int_equal(f->nr_log, 2);
	release(0);
	poll_n(0, 2);
	assert_int_equal(f->nr_log, 3);
	assert_int_equal(f->log[2].type, NBD_CMD_FLUSH);
	assert_int_equal(d[2].calls, 0); /* not before the server's reply */
	release(0);
	poll_n(0, 2);
	assert_int_equal(d[2].status, 0);
	assert_true(d[2].order > d[0].order && d[2].order > d[1].order);
}

static void test_flush_after_lost_writes_fails(void **state)
{
	struct nbd_request r[2];
	struct done_rec d[2];
	u8 a[512];

	(void)state;
	connect_now(0);
	mk(&r[0], &d[0], NBD_CMD_WRITE, 0, 0, 512, a);
	assert_int_equal(nbd_submit(c, &r[0], 0), 0);
	poll_n(0, 2);
	assert_int_equal(d[0].status, 0); /* acknowledged, but only in the server's cache */
	f->eof = true;			  /* the server dies */
	nbd_poll(c, 1);
	poll_n(101, 4);
	assert_true(nbd_ready(c));
	mk(&r[1], &d[1], NBD_CMD_FLUSH, 0, 0, 0, NULL);
	assert_int_equal(nbd_submit(c, &r[1], 101), 0);
	poll_n(101, 2);
	assert_int_equal(d[1].status, -EIO);
	assert_true(host_log_contains("may not have reached stable storage"));
	mk(&r[1], &d[1], NBD_CMD_FLUSH, 0, 0, 0, NULL);
	assert_int_equal(nbd_submit(c, &r[1], 101), 0);
	poll_n(101, 2);
	assert_int_equal(d[1].status, 0);

	/* a FUA write, or one a FLUSH covered, is not at risk */
	mk(&r[0], &d[0], NBD_CMD_WRITE, NBD_CMD_FLAG_FUA, 0, 512, a);
	assert_int_equal(nbd_submit(c, &r[0], 101), 0);
	poll_n(101, 2);
	f->eof = true;
	nbd_poll(c, 102);
	poll_n(400, 4);
	assert_true(nbd_ready(c));
	mk(&r[1], &d[1], NBD_CMD_FLUSH, 0, 0, 0, NULL);
	assert_int_equal(nbd_submit(c, &r[1], 400), 0);
	poll_n(400, 2);
	assert_int_equal(d[1].status, 0);
}

static void test_replay_after_loss(void **state)
{
	static struct nbd_request r[10];
	static struct done_rec d[10];
	static u8 bufs[10][512];

	(void)state;
	f->auto_reply = false;
	connect_now(0);
	for (u32 i = 0; i < 10; i++) {
		memset(bufs[i], (int)i + 1, 512);
		mk(&r[i], &d[i], NBD_CMD_WRITE, 0, (u64)i * 512, 512, bufs[i]);
		assert_int_equal(nbd_submit(c, &r[i], 0), 0);
	}
	poll_n(0, 2);
	release(3);
	release(0);
	poll_n(0, 2);
	f->eof = true;
	nbd_poll(c, 1);
	f->auto_reply = true;
	memset(f->disk, 0, 5120); /* the server lost its cache */
	poll_n(101, 4);
	assert_int_equal(nbd_pending(c), 0);
	assert_int_equal(nbd_get_stats(c)->replays, 8);
	/* the 8 unacknowledged writes went out again, in submit order */
	for (u32 i = 0, n = 0; i < 10; i++) {
		assert_int_equal(d[i].status, 0);
		if (i == 0 || i == 3)
			continue;
		assert_int_equal(f->log[10 + n].offset, i * 512);
		assert_int_equal(f->log[10 + n].conn, 2);
		assert_int_equal(f->disk[i * 512], i + 1);
		n++;
	}
}

static void test_export_shrinks_across_reconnect(void **state)
{
	struct nbd_request r[2];
	struct done_rec d[2];
	u8 a[512], b[512];

	(void)state;
	f->auto_reply = false;
	connect_now(0);
	mk(&r[0], &d[0], NBD_CMD_READ, 0, 0, 512, a);
	mk(&r[1], &d[1], NBD_CMD_READ, 0, DISK_SIZE - 512, 512, b);
	assert_int_equal(nbd_submit(c, &r[0], 0), 0);
	assert_int_equal(nbd_submit(c, &r[1], 0), 0);
	poll_n(0, 2);
	f->eof = true;
	nbd_poll(c, 1);
	f->size = DISK_SIZE / 2;
	f->auto_reply = true;
	poll_n(101, 4);
	assert_int_equal(d[0].status, 0);
	assert_int_equal(d[1].status, -EIO);
	assert_int_equal(nbd_export_size(c), DISK_SIZE / 2);
}

static void test_shutdown(void **state)
{
	struct nbd_request r;
	struct done_rec d;
	u8 buf[512];

	(void)state;
	f->auto_reply = false;
	connect_now(0);
	mk(&r, &d, NBD_CMD_READ, 0, 0, 512, buf);
	assert_int_equal(nbd_submit(c, &r, 0), 0);
	nbd_poll(c, 0);
	nbd_shutdown(c, 0);
	assert_true(f->got_disc);
	assert_int_equal(f->closes, 1);
	assert_int_equal(d.status, -EIO);
	assert_false(nbd_ready(c));
	assert_int_equal(nbd_submit(c, &r, 0), -ENODEV);
	nbd_poll(c, 100000);
	assert_int_equal(f->nr_connects, 1);
}

static struct nbd_client *resubmit_client;
static int resubmit_left;

static void resubmit_done(struct nbd_request *r, int status)
{
	assert_int_equal(status, 0);
	if (resubmit_left-- > 0)
		assert_int_equal(nbd_submit(resubmit_client, r, 0), 0);
}

static void test_done_may_resubmit(void **state)
{
	struct nbd_request r = { 0 };
	u8 buf[512];

	(void)state;
	connect_now(0);
	resubmit_client = c;
	resubmit_left = 5;
	r.type = NBD_CMD_READ;
	r.length = 512;
	r.buf = buf;
	r.done = resubmit_done;
	assert_int_equal(nbd_submit(c, &r, 0), 0);
	poll_n(0, 20);
	assert_int_equal(resubmit_left, -1);
	assert_int_equal(nbd_get_stats(c)->requests, 6);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown_test)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_handshake_good),
		T(test_handshake_no_zeroes_not_offered),
		T(test_handshake_unknown_export),
		T(test_handshake_not_fixed_newstyle),
		T(test_handshake_bad_magic),
		T(test_handshake_bad_option_reply),
		T(test_handshake_oldstyle),
		T(test_handshake_export_name_fallback),
		T(test_handshake_export_name_fallback_zeroes),
		T(test_handshake_bad_block_sizes),
		T(test_handshake_timeout),
		T(test_submit_before_ready),
		T(test_request_types),
		T(test_submit_validation),
		T(test_submit_read_only),
		T(test_many_in_flight_out_of_order),
		T(test_more_than_table_queued),
		T(test_bad_reply_magic),
		T(test_reply_unknown_handle),
		T(test_reply_not_in_flight),
		T(test_reply_structured_not_negotiated),
		T(test_reply_short_read),
		T(test_partial_io_every_size),
		T(test_send_full_then_drains),
		T(test_backoff_timing),
		T(test_connect_error),
		T(test_deadline),
		T(test_deadline_while_disconnected),
		T(test_deadline_during_write_payload),
		T(test_stall_reconnects),
		T(test_reply_before_write_data_sent),
		T(test_reply_before_header_sent),
		T(test_stall_follows_deadline),
		T(test_odd_export_sizes),
		T(test_server_error_is_eio),
		T(test_server_shutting_down),
		T(test_flush_waits_for_writes),
		T(test_flush_after_lost_writes_fails),
		T(test_replay_after_loss),
		T(test_export_shrinks_across_reconnect),
		T(test_shutdown),
		T(test_done_may_resubmit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Hosted interop and fault test of the NBD client (kernel/blk/nbd.c) against a
 * real server on 127.0.0.1 (started by tests/hosted/nbd_run.sh).
 *
 *   hosted_nbd probe    --port P --export NAME [--wait MS]
 *   hosted_nbd selftest --port P --export NAME [--ops N] [--qd N] [--expect FILE]
 *   hosted_nbd fault    --port P --export NAME --seconds S [--qd N] [--expect FILE]
 *                       [--ack-log FILE]
 * and for any of them --lost-flush-ok (a connection will be lost: the first
 * FLUSH after it may fail by design, docs/nbd.md "What acknowledged means";
 * nothing else may), --deadline MS, --stall MS (the client's nbd_params;
 * --stall 0 derives it from the deadline) and --sndbuf BYTES (a small socket
 * send buffer, so that a large WRITE is still being sent when the server
 * answers: tests/hosted/nbd_script_server.py).
 *
 * The export starts all zeroes. Every 512-byte sector the program writes
 * carries its sector number and a version, the rest derived from both, so a
 * read can be checked against what was acknowledged. Requests in flight never
 * overlap. selftest tolerates no error at all; fault accepts -EIO/-ETIMEDOUT
 * (injected errors, a killed server), after which a sector may hold the old
 * or the attempted content until it is written again. Both end by rewriting
 * every uncertain sector, a FLUSH, a full read-back check, and (--expect) the
 * image the server's backing file must now equal byte for byte. --ack-log
 * records every acknowledged write. Exit status 0 only if nothing was wrong.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hv/virtio_blk.h>
#include "hosted_nbd.h"

#define SECTOR	    512
#define MAX_QD	    64
#define MAX_SECTORS 256		/* per request: 128 KiB */
#define V_ZERO	    0		/* the sector reads as zeroes */
#define V_UNKNOWN   0xffffffffU /* trimmed: anything may be read */

enum mode {
	M_PROBE,
	M_SELFTEST,
	M_FAULT
};

struct sector {
	u32 ver;	 /* what an acknowledged write left here */
	u32 failed;	 /* highest version of a failed write since, 0 if none */
	bool maybe_zero; /* a failed WRITE_ZEROES since */
	bool busy;	 /* a request in flight covers it */
};

struct op {
	struct nbd_request r;
	u8 buf[MAX_SECTORS * SECTOR];
	u32 ver;
	bool used;
};

static struct {
	enum mode mode;
	int port;
	const char *export_name, *expect, *ack_log;
	u32 ops, qd, seconds, wait_ms;
	bool lost_flush_ok;
	u64 seed;

	struct nbd_client c;
	struct nbd_transport t;
	struct sock_ctx s;
	u64 sectors;
	struct sector *sec;
	struct op *opv;
	u32 inflight, next_ver;
	FILE *acklog;

	/* results */
	u64 n_ok, n_eio, n_timeout, n_other, n_wrong, n_flush_eio, n_acked_writes;
	u64 by_type[8];
} g = { .qd = 48, .ops = 20000, .seconds = 20, .wait_ms = 10000, .seed = 1 };

static u64 rnd(void)
{
	g.seed ^= g.seed << 13;
	g.seed ^= g.seed >> 7;
	g.seed ^= g.seed << 17;
	return g.seed;
}

/* The content of sector s at version v. */
static void pattern(u8 *p, u64 s, u32 v)
{
	u64 x = (s + 1) * 0x9e3779b97f4a7c15ULL ^ ((u64)v << 32 | v);

	if (v == V_ZERO) {
		memset(p, 0, SECTOR);
		return;
	}
	memcpy(p, &s, 8);
	memcpy(p + 8, &v, 4);
	for (u32 i = 12; i < SECTOR; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (u8)x;
	}
}

/* Whether data read from sector s is what the acknowledged history allows. */
static bool sector_ok(const u8 *p, u64 s)
{
	struct sector *st = &g.sec[s];
	u8 want[SECTOR];
	u32 v;
	u64 id;

	if (st->ver == V_UNKNOWN)
		return true;
	pattern(want, s, st->ver);
	if (!memcmp(p, want, SECTOR))
		return true;
	if (st->maybe_zero) {
		pattern(want, s, V_ZERO);
		if (!memcmp(p, want, SECTOR))
			return true;
	}
	memcpy(&id, p, 8);
	memcpy(&v, p + 8, 4);
	if (!st->failed || id != s || v <= st->ver || v > st->failed)
		return false;
	pattern(want, s, v); /* the content of a failed write of this very sector */
	return !memcmp(p, want, SECTOR);
}

static const char *type_name(u16 t)
{
	static const char *const names[] = { "READ", "WRITE", "DISC",	     "FLUSH",
					     "TRIM", "CACHE", "WRITE_ZEROES" };

	return t < 7 ? names[t] : "?";
}

static bool is_write(u16 t)
{
	return t == NBD_CMD_WRITE || t == NBD_CMD_TRIM || t == NBD_CMD_WRITE_ZEROES;
}

static void on_done(struct nbd_request *r, int status)
{
	struct op *o = r->arg;
	u64 first = r->offset / SECTOR, n = r->length / SECTOR;

	o->used = false;
	g.inflight--;
	for (u64 i = 0; i < n; i++)
		g.sec[first + i].busy = false;
	if (status == 0) {
		g.n_ok++;
	} else if (status == -EIO) {
		g.n_eio++;
		if (r->type == NBD_CMD_FLUSH)
			g.n_flush_eio++;
	} else if (status == -ETIMEDOUT) {
		g.n_timeout++;
	} else {
		g.n_other++;
	}
	if (status && (g.mode == M_SELFTEST || (status != -EIO && status != -ETIMEDOUT)))
		fprintf(stderr, "hosted_nbd: %s %llu+%u failed: %d\n", type_name(r->type),
			(unsigned long long)r->offset, r->length, status);
	for (u64 i = 0; i < n; i++) {
		struct sector *st = &g.sec[first + i];

		switch (r->type) {
		case NBD_CMD_READ:
			if (status == 0 && !sector_ok(o->buf + i * SECTOR, first + i)) {
				g.n_wrong++;
				fprintf(stderr,
					"hosted_nbd: WRONG DATA in sector %llu (version %u)\n",
					(unsigned long long)(first + i), st->ver);
			}
			break;
		case NBD_CMD_WRITE:
			if (status == 0)
				*st = (struct sector){ .ver = o->ver + (u32)i };
			else
				st->failed = MAX(st->failed, o->ver + (u32)i);
			break;
		case NBD_CMD_WRITE_ZEROES:
			if (status == 0)
				*st = (struct sector){ .ver = V_ZERO };
			else
				st->maybe_zero = true;
			break;
		case NBD_CMD_TRIM:
			/* "a client MUST NOT make any assumptions about the contents" after a TRIM */
			*st = (struct sector){ .ver = V_UNKNOWN };
			break;
		}
	}
	if (status == 0 && is_write(r->type) && g.acklog)
		fprintf(g.acklog, "%s %llu %u ver %u%s\n", type_name(r->type),
			(unsigned long long)r->offset, r->length, o->ver,
			(r->flags & NBD_CMD_FLAG_FUA) ? " fua" : "");
	if (status == 0 && is_write(r->type))
		g.n_acked_writes++;
}

static struct op *free_op(void)
{
	for (u32 i = 0; i < g.qd; i++)
		if (!g.opv[i].used)
			return &g.opv[i];
	return NULL;
}

/* Submit one request of type over sectors [first, first+n); false if they are busy. */
static bool issue(u16 type, u16 flags, u64 first, u64 n)
{
	struct op *o = free_op();
	int rc;

	if (!o)
		return false;
	for (u64 i = 0; i < n; i++)
		if (g.sec[first + i].busy)
			return false;
	memset(&o->r, 0, sizeof(o->r));
	o->r.type = type;
	o->r.flags = flags;
	o->r.offset = type == NBD_CMD_FLUSH ? 0 : first * SECTOR;
	o->r.length = type == NBD_CMD_FLUSH ? 0 : (u32)(n * SECTOR);
	o->r.buf = o->buf;
	o->r.done = on_done;
	o->r.arg = o;
	if (type == NBD_CMD_WRITE) {
		o->ver = g.next_ver;
		g.next_ver += (u32)n;
		for (u64 i = 0; i < n; i++)
			pattern(o->buf + i * SECTOR, first + i, o->ver + (u32)i);
	}
	rc = nbd_submit(&g.c, &o->r, now_ms());
	if (rc) {
		fprintf(stderr, "hosted_nbd: submit %s %llu+%llu: %d\n", type_name(type),
			(unsigned long long)first, (unsigned long long)n, rc);
		g.n_other++;
		return true;
	}
	o->used = true;
	g.inflight++;
	g.by_type[type & 7]++;
	for (u64 i = 0; i < n && type != NBD_CMD_FLUSH; i++)
		g.sec[first + i].busy = true;
	return true;
}

static void poll_once(void)
{
	nbd_poll(&g.c, now_ms());
	sock_wait(&g.s, nbd_has_unsent(&g.c), 1);
}

/* Poll until every request has completed. */
static void drain(void)
{
	while (g.inflight)
		poll_once();
}

/* One random request: mostly reads and writes of 1..256 sectors, some FUA, FLUSH, TRIM, zeroes. */
static void random_request(void)
{
	u16 tf = nbd_transmission_flags(&g.c);
	u32 pick = rnd() % 100;
	u64 n = 1 + rnd() % (rnd() % 4 ? 16 : MAX_SECTORS);
	u64 first = rnd() % (g.sectors - n + 1);
	u16 flags = 0;

	if (pick < 45) {
		if ((tf & NBD_FLAG_SEND_FUA) && rnd() % 4 == 0)
			flags = NBD_CMD_FLAG_FUA;
		issue(NBD_CMD_WRITE, flags, first, n);
	} else if (pick < 88) {
		issue(NBD_CMD_READ, 0, first, n);
	} else if (pick < 93 && (tf & NBD_FLAG_SEND_FLUSH)) {
		issue(NBD_CMD_FLUSH, 0, 0, 0);
	} else if (pick < 96 && (tf & NBD_FLAG_SEND_TRIM)) {
		issue(NBD_CMD_TRIM, 0, first, n);
	} else if (tf & NBD_FLAG_SEND_WRITE_ZEROES) {
		issue(NBD_CMD_WRITE_ZEROES, rnd() % 2 ? NBD_CMD_FLAG_NO_HOLE : 0, first, n);
	}
}

static bool sector_settled(const struct sector *st)
{
	return st->ver != V_UNKNOWN && !st->failed && !st->maybe_zero;
}

/*
 * Make the expected image exact: rewrite every sector whose content is
 * uncertain until the write is acknowledged, then FLUSH until it succeeds.
 */
static void settle(void)
{
	for (int round = 0; round < 1000; round++) {
		bool all = true;

		for (u64 s = 0; s < g.sectors; s++) {
			u64 n = 0;

			if (sector_settled(&g.sec[s]))
				continue;
			all = false;
			while (n < MAX_SECTORS && s + n < g.sectors &&
			       !sector_settled(&g.sec[s + n]))
				n++;
			while (!issue(NBD_CMD_WRITE, 0, s, n))
				poll_once();
			s += n - 1;
		}
		drain();
		if (all)
			break;
	}
	if (!(nbd_transmission_flags(&g.c) & NBD_FLAG_SEND_FLUSH))
		return;
	for (int tries = 0; tries < 100; tries++) {
		u64 before = g.n_ok;

		issue(NBD_CMD_FLUSH, 0, 0, 0);
		drain();
		if (g.n_ok > before)
			break;
	}
}

/* Read the whole export back (retrying failed reads) and check every sector. */
static void verify_all(void)
{
	for (u64 s = 0; s < g.sectors; s += MAX_SECTORS) {
		u64 n = MIN((u64)MAX_SECTORS, g.sectors - s);

		for (int tries = 0; tries < 100; tries++) {
			u64 before = g.n_ok;

			while (!issue(NBD_CMD_READ, 0, s, n))
				poll_once();
			drain();
			if (g.n_ok > before)
				break;
		}
	}
}

static int write_expect(void)
{
	FILE *fp = fopen(g.expect, "wb");
	u8 p[SECTOR];

	if (!fp) {
		perror(g.expect);
		return -1;
	}
	for (u64 s = 0; s < g.sectors; s++) {
		pattern(p, s, g.sec[s].ver);
		if (fwrite(p, SECTOR, 1, fp) != 1) {
			perror(g.expect);
			fclose(fp);
			return -1;
		}
	}
	return fclose(fp);
}

static bool wait_ready(u32 ms)
{
	u64 until = now_ms() + ms;

	while (!nbd_ready(&g.c) && now_ms() < until)
		poll_once();
	return nbd_ready(&g.c);
}

static void report(u64 t0)
{
	const struct nbd_stats *st = nbd_get_stats(&g.c);

	printf("hosted_nbd: %s %.1f s: %llu ok, %llu EIO (%llu FLUSH), %llu timed out, %llu other, "
	       "%llu WRONG\n",
	       g.mode == M_FAULT ? "fault" : "selftest", (now_ms() - t0) / 1000.0,
	       (unsigned long long)g.n_ok, (unsigned long long)g.n_eio,
	       (unsigned long long)g.n_flush_eio, (unsigned long long)g.n_timeout,
	       (unsigned long long)g.n_other, (unsigned long long)g.n_wrong);
	printf("hosted_nbd: issued READ %llu WRITE %llu FLUSH %llu TRIM %llu WRITE_ZEROES %llu; "
	       "%llu writes acknowledged\n",
	       (unsigned long long)g.by_type[NBD_CMD_READ],
	       (unsigned long long)g.by_type[NBD_CMD_WRITE],
	       (unsigned long long)g.by_type[NBD_CMD_FLUSH],
	       (unsigned long long)g.by_type[NBD_CMD_TRIM],
	       (unsigned long long)g.by_type[NBD_CMD_WRITE_ZEROES],
	       (unsigned long long)g.n_acked_writes);
	printf(
	    "hosted_nbd: client: %llu requests, %llu errors (%llu from the server, %llu timeouts), "
	    "%llu connects, %llu reconnects, %llu replays, %llu protocol violations\n",
	    (unsigned long long)st->requests, (unsigned long long)st->errors,
	    (unsigned long long)st->server_errors, (unsigned long long)st->timeouts,
	    (unsigned long long)st->connects, (unsigned long long)st->reconnects,
	    (unsigned long long)st->replays, (unsigned long long)st->protocol_violations);
}

static int run(void)
{
	u64 t0 = now_ms(), stop = t0 + (u64)g.seconds * 1000;
	u32 issued = 0;

	g.sectors = nbd_export_size(&g.c) / SECTOR;
	g.sec = calloc(g.sectors, sizeof(*g.sec));
	g.opv = calloc(MAX_QD, sizeof(*g.opv));
	if (!g.sec || !g.opv || g.sectors < MAX_SECTORS)
		return 2;
	g.next_ver = 1;
	while (g.mode == M_FAULT ? now_ms() < stop : issued < g.ops) {
		while (g.inflight < g.qd && (g.mode == M_FAULT || issued < g.ops)) {
			random_request();
			issued++;
		}
		poll_once();
	}
	drain();
	settle();
	verify_all();
	report(t0);
	if (g.expect && write_expect())
		return 2;
	nbd_shutdown(&g.c, now_ms());
	if (g.n_wrong || g.n_other)
		return 1;
	if (g.mode == M_SELFTEST &&
	    (g.n_eio - (g.lost_flush_ok ? g.n_flush_eio : 0) || g.n_timeout))
		return 1;
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: hosted_nbd probe|selftest|fault --port P --export NAME [--ops N] "
			"[--qd N] [--seconds S] [--seed N] [--expect FILE] [--ack-log FILE] "
			"[--wait MS] [--deadline MS] [--stall MS] [--sndbuf BYTES] "
			"[--lost-flush-ok] [--verbose]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", 1, 0, 'p' },	  { "export", 1, 0, 'e' },	  { "ops", 1, 0, 'n' },
		{ "qd", 1, 0, 'q' },	  { "seconds", 1, 0, 's' },	  { "seed", 1, 0, 'S' },
		{ "expect", 1, 0, 'x' },  { "ack-log", 1, 0, 'a' },	  { "wait", 1, 0, 'w' },
		{ "verbose", 0, 0, 'v' }, { "deadline", 1, 0, 'D' },	  { "stall", 1, 0, 'T' },
		{ "sndbuf", 1, 0, 'B' },  { "lost-flush-ok", 0, 0, 'L' }, { 0, 0, 0, 0 },
	};
	struct nbd_params p = { .deadline_ms = 30000,
				.backoff_min_ms = 100,
				.backoff_max_ms = 1000 };
	int ch, rc, sndbuf = 0;

	if (argc < 2)
		usage();
	if (!strcmp(argv[1], "probe"))
		g.mode = M_PROBE;
	else if (!strcmp(argv[1], "selftest"))
		g.mode = M_SELFTEST;
	else if (!strcmp(argv[1], "fault"))
		g.mode = M_FAULT;
	else
		usage();
	optind = 2;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			g.port = atoi(optarg);
			break;
		case 'e':
			g.export_name = optarg;
			break;
		case 'n':
			g.ops = (u32)atoi(optarg);
			break;
		case 'q':
			g.qd = (u32)MIN(atoi(optarg), MAX_QD);
			break;
		case 's':
			g.seconds = (u32)atoi(optarg);
			break;
		case 'S':
			g.seed = strtoull(optarg, NULL, 0) | 1;
			break;
		case 'x':
			g.expect = optarg;
			break;
		case 'a':
			g.ack_log = optarg;
			break;
		case 'w':
			g.wait_ms = (u32)atoi(optarg);
			break;
		case 'v':
			hosted_log_level(LOG_DEBUG);
			break;
		case 'D':
			p.deadline_ms = (u32)atoi(optarg);
			break;
		case 'T':
			p.stall_ms = (u32)atoi(optarg);
			break;
		case 'B':
			sndbuf = atoi(optarg);
			break;
		case 'L':
			g.lost_flush_ok = true;
			break;
		default:
			usage();
		}
	}
	if (!g.port || !g.export_name || !g.qd)
		usage();
	if (g.ack_log && !(g.acklog = fopen(g.ack_log, "w"))) {
		perror(g.ack_log);
		return 2;
	}
	sock_transport_init(&g.t, &g.s, "127.0.0.1", g.port);
	g.s.sndbuf = sndbuf;
	nbd_init(&g.c, &g.t, g.export_name, &p);
	if (!wait_ready(g.wait_ms)) {
		printf("hosted_nbd: not connected: %s\n", nbd_last_error(&g.c));
		return 1;
	}
	printf("hosted_nbd: connected to '%s': %llu bytes, flags 0x%04x, block sizes %u..%u\n",
	       g.export_name, (unsigned long long)nbd_export_size(&g.c),
	       nbd_transmission_flags(&g.c), nbd_min_block(&g.c), nbd_max_block(&g.c));
	if (g.mode == M_PROBE) {
		const char *why = virtio_blk_backend_unusable(
		    nbd_export_size(&g.c), nbd_min_block(&g.c), nbd_max_block(&g.c));

		printf("hosted_nbd: as a VSI disk: %s%s\n", why ? "refused: " : "usable",
		       why ? why : "");
		nbd_shutdown(&g.c, now_ms());
		return 0;
	}
	rc = run();
	if (g.acklog)
		fclose(g.acklog);
	printf("hosted_nbd: %s\n", rc ? "FAILED" : "passed");
	return rc;
}

/*
 * Benchmark of the NBD client (kernel/blk/nbd.c) over a loopback socket:
 * sequential write and read MB/s (1 MiB requests, 8 in flight) and 4 KiB
 * random-read IOPS at queue depth 1 and 32. Prints a table; asserts nothing.
 *   hosted_nbd_bench --port P [--export NAME] [--seconds S]
 * (tests/hosted/nbd_bench.sh runs it against nbdkit's memory plugin.)
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hosted_nbd.h"

#define MAX_QD 64

struct slot {
	struct nbd_request r;
	bool busy;
};

static struct nbd_client c;
static struct nbd_transport t;
static struct sock_ctx s;
static struct slot slots[MAX_QD];
static u8 *bufs[MAX_QD];
static u64 done_ok, done_err;

static void on_done(struct nbd_request *r, int status)
{
	((struct slot *)r->arg)->busy = false;
	if (status)
		done_err++;
	else
		done_ok++;
}

static u64 rnd(void)
{
	static u64 x = 88172645463325252ULL;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return x;
}

/*
 * Keep qd requests of len bytes in flight for up to ms milliseconds or total
 * bytes (0: no limit), sequential or random; returns completed requests.
 */
static u64 run(u16 type, u32 qd, u32 len, bool random, u64 total, u32 ms, double *secs)
{
	u64 size = nbd_export_size(&c), next = 0, issued = 0, t0 = now_ms(), start_ok = done_ok;
	u64 limit = total ? total / len : ~0ULL;

	for (;;) {
		bool timeup = ms && now_ms() - t0 >= ms;

		for (u32 i = 0; i < qd && !timeup && issued < limit; i++) {
			struct slot *sl = &slots[i];

			if (sl->busy)
				continue;
			memset(&sl->r, 0, sizeof(sl->r));
			sl->r.type = type;
			sl->r.length = len;
			sl->r.offset = random ? (rnd() % (size / len)) * len : next;
			next = (next + len) % size;
			sl->r.buf = bufs[i];
			sl->r.done = on_done;
			sl->r.arg = sl;
			if (nbd_submit(&c, &sl->r, now_ms()) == 0) {
				sl->busy = true;
				issued++;
			}
		}
		bool more = !timeup && issued < limit;
		bool slot_free = false;

		if (nbd_pending(&c) == 0 && !more)
			break;
		nbd_poll(&c, now_ms());
		for (u32 i = 0; i < qd; i++)
			slot_free |= !slots[i].busy;
		if (!(more && slot_free) && nbd_pending(&c))
			sock_wait(&s, nbd_has_unsent(&c), 1);
	}
	*secs = (now_ms() - t0) / 1000.0;
	return done_ok - start_ok;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "port", 1, 0, 'p' },
					      { "export", 1, 0, 'e' },
					      { "seconds", 1, 0, 's' },
					      { 0, 0, 0, 0 } };
	const char *export_name = "bench";
	int port = 0, ch;
	u32 seconds = 3;
	u64 seq_bytes = 256 * MiB, n;
	double secs;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'p')
			port = atoi(optarg);
		else if (ch == 'e')
			export_name = optarg;
		else if (ch == 's')
			seconds = (u32)atoi(optarg);
		else
			return 2;
	}
	if (!port)
		return 2;
	hosted_log_level(LOG_WARN);
	sock_transport_init(&t, &s, "127.0.0.1", port);
	nbd_init(&c, &t, export_name, NULL);
	for (u64 until = now_ms() + 5000; !nbd_ready(&c) && now_ms() < until;) {
		nbd_poll(&c, now_ms());
		sock_wait(&s, false, 1);
	}
	if (!nbd_ready(&c)) {
		printf("not connected: %s\n", nbd_last_error(&c));
		return 1;
	}
	for (u32 i = 0; i < MAX_QD; i++) {
		bufs[i] = malloc(1 * MiB);
		if (!bufs[i])
			return 1;
		memset(bufs[i], (int)i, 1 * MiB);
	}
	seq_bytes = MIN(seq_bytes, nbd_export_size(&c) * 2);
	printf("NBD client over loopback TCP, export %llu MiB\n",
	       (unsigned long long)(nbd_export_size(&c) / MiB));
	printf("| %-30s | %12s |\n", "test", "result");
	printf("|%s|%s|\n", "--------------------------------", "--------------");
	n = run(NBD_CMD_WRITE, 8, 1 * MiB, false, seq_bytes, 0, &secs);
	printf("| %-30s | %8.0f MB/s |\n", "sequential write 1 MiB, QD 8",
	       n * 1.0 * MiB / 1e6 / secs);
	n = run(NBD_CMD_READ, 8, 1 * MiB, false, seq_bytes, 0, &secs);
	printf("| %-30s | %8.0f MB/s |\n", "sequential read 1 MiB, QD 8",
	       n * 1.0 * MiB / 1e6 / secs);
	n = run(NBD_CMD_READ, 1, 4096, true, 0, seconds * 1000, &secs);
	printf("| %-30s | %8.0f IOPS |\n", "random read 4 KiB, QD 1", n / secs);
	n = run(NBD_CMD_READ, 32, 4096, true, 0, seconds * 1000, &secs);
	printf("| %-30s | %8.0f IOPS |\n", "random read 4 KiB, QD 32", n / secs);
	printf("errors: %llu\n", (unsigned long long)done_err);
	nbd_shutdown(&c, now_ms());
	return 0;
}

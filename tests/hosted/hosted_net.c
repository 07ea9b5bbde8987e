/*
 * The kernel/net stack as a Linux program on a TAP device, statically
 * configured, talking to real servers in the test's network namespace:
 *
 *   hosted_net [options] echo IP PORT BYTES
 *	send BYTES of a pattern to an echo server, read them back, compare
 *   hosted_net [options] nbd IP PORT EXPORT IMAGE
 *	NBD handshake with NBD_OPT_GO, then READ the first 4 KiB and compare
 *	with IMAGE (the file the server exports)
 *
 * options: --tap NAME --ip A.B.C.D --mask A.B.C.D --gw A.B.C.D
 *	    --tx-loss PCT --rx-loss PCT --delay MS --seed N --timeout S
 *	    --trace FILE (one line per TCP segment) --verbose LEVEL (0-3)
 * Exit status 0 on success; the stack's counters are printed either way.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hv/log.h>
#include "hosted_net.h"

static struct net_stack stack; /* megabytes: not on the stack */
static int log_level = LOG_INFO;

void log_vprintf(enum log_level level, const char *fmt, va_list ap)
{
	if ((int)level > log_level)
		return;
	fprintf(stderr, "[%8.3f] ", (double)hosted_now() / 1000.0);
	vfprintf(stderr, fmt, ap);
}

void log_printf(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vprintf(level, fmt, ap);
	va_end(ap);
}

struct echo {
	u32 ip;
	u16 port;
	size_t total, sent, received;
	u8 *pattern;
	struct tcp_conn *c;
	u64 start, closed_at;
};

/* Send the pattern as the window allows, read the echo and compare it. */
static int echo_step(struct app *a, struct net_stack *s, u64 now)
{
	static u8 buf[65536];
	struct echo *e = a->state;
	long n;

	if (!e->c) {
		e->c = tcp_connect(s, e->ip, e->port, now);
		e->start = now;
		return e->c ? 1 : -1;
	}
	if (e->closed_at)
		return now - e->closed_at < 200 ? 1 : 0; /* let the FIN go out */
	switch (tcp_state(e->c)) {
	case TCP_CONNECTING:
		return 1;
	case TCP_ESTABLISHED:
		break;
	default:
		fprintf(stderr, "echo: connection closed early (reason %d) after %zu bytes\n",
			tcp_close_reason(e->c), e->received);
		return -1;
	}
	while (e->sent < e->total &&
	       (n = tcp_send(e->c, e->pattern + e->sent, e->total - e->sent, now)) > 0)
		e->sent += (size_t)n;
	while ((n = tcp_recv(e->c, buf, sizeof(buf))) > 0) {
		if ((size_t)n > e->total - e->received ||
		    memcmp(buf, e->pattern + e->received, (size_t)n)) {
			fprintf(stderr, "echo: data differs at byte %zu\n", e->received);
			return -1;
		}
		e->received += (size_t)n;
	}
	if (n < 0) {
		fprintf(stderr, "echo: tcp_recv: %ld\n", n);
		return -1;
	}
	if (e->received < e->total)
		return 1;
	printf("echo: %zu bytes sent and read back equal in %.3f s: %.2f MiB/s\n", e->total,
	       (double)(now - e->start) / 1000.0,
	       (double)e->total / (1024.0 * 1024.0) / ((double)(now - e->start + 1) / 1000.0));
	tcp_close(e->c, now);
	e->closed_at = now;
	return 1;
}

static void print_stats(const struct net_stack *s, const struct tap *t)
{
	const struct net_stats *st = net_stats(s);

	printf("stats: rx %lu tx %lu busy %lu | tcp in %lu out %lu retransmits %lu (fast %lu, "
	       "timeouts %lu) probes %lu ooo held %lu dropped %lu out-of-window %lu | "
	       "emulated loss rx %lu tx %lu\n",
	       (unsigned long)st->rx_frames, (unsigned long)st->tx_frames,
	       (unsigned long)st->tx_busy, (unsigned long)st->tcp_segs_in,
	       (unsigned long)st->tcp_segs_out, (unsigned long)st->tcp_retransmits,
	       (unsigned long)st->tcp_fast_retransmits, (unsigned long)st->tcp_rto_expired,
	       (unsigned long)st->tcp_window_probes, (unsigned long)st->tcp_ooo_queued,
	       (unsigned long)st->tcp_ooo_dropped, (unsigned long)st->tcp_out_of_window,
	       t->rx_dropped, t->tx_dropped);
}

/* The state of every connection, for a failure's context. */
static void dump_conns(const struct net_stack *s)
{
	for (u32 i = 0; i < NET_TCP_MAX_CONNS; i++) {
		const struct tcp_conn *c = &s->tcp[i];

		if (c->fsm == TCPS_FREE)
			continue;
		fprintf(stderr,
			"conn %u: fsm %u snd una+%u nxt+%u max+%u len %u wnd %u cwnd %u "
			"rto %u rto_at %llu persist_at %llu | rcv len %u adv %u ooo %u\n",
			i, c->fsm, c->snd_una - c->iss, c->snd_nxt - c->iss, c->snd_max - c->iss,
			c->snd_len, c->snd_wnd, c->cwnd, c->rto, (unsigned long long)c->rto_at,
			(unsigned long long)c->persist_at, c->rcv_len, c->rcv_adv - c->rcv_nxt,
			c->nr_ooo);
	}
}

static u32 parse_ip(const char *text)
{
	struct in_addr a;

	if (inet_pton(AF_INET, text, &a) != 1) {
		fprintf(stderr, "bad address %s\n", text);
		exit(2);
	}
	return ntohl(a.s_addr);
}

static void usage(void)
{
	fprintf(stderr, "usage: hosted_net [options] echo IP PORT BYTES | nbd IP PORT EXPORT "
			"IMAGE | nbd-client IP PORT EXPORT IMAGE\n");
	exit(2);
}

/* Run app until it finishes, fails or timeout_s passes. */
static int run(struct tap *t, struct app *a, unsigned timeout_s)
{
	u64 deadline = hosted_now() + (u64)timeout_s * 1000;
	int rc = 1;

	while (rc > 0) {
		u64 now = hosted_now();

		if (now >= deadline) {
			fprintf(stderr, "%s: timed out after %u s\n", a->name, timeout_s);
			dump_conns(&stack);
			return -1;
		}
		tap_receive(t, &stack, now);
		rc = a->step(a, &stack, now);
		net_poll(&stack, now);
		if (rc > 0)
			tap_wait(t, 1);
	}
	return rc;
}

int main(int argc, char **argv)
{
	const char *tap_name = "tap0";
	u32 ip = IPV4(10, 99, 0, 2), mask = IPV4(255, 255, 255, 0), gw = IPV4(10, 99, 0, 1);
	struct tap tap = { .seed = 1 };
	struct net_driver drv = { .mac = { 0x02, 0x68, 0x76, 0x00, 0x00, 0x02 },
				  .transmit = tap_transmit,
				  .ctx = &tap };
	unsigned timeout_s = 300;
	struct echo echo = { 0 };
	struct app app;
	int i, rc;

	for (i = 1; i + 1 < argc && !strncmp(argv[i], "--", 2); i += 2) {
		const char *o = argv[i] + 2, *v = argv[i + 1];

		if (!strcmp(o, "tap"))
			tap_name = v;
		else if (!strcmp(o, "ip"))
			ip = parse_ip(v);
		else if (!strcmp(o, "mask"))
			mask = parse_ip(v);
		else if (!strcmp(o, "gw"))
			gw = parse_ip(v);
		else if (!strcmp(o, "tx-loss"))
			tap.tx_loss = (unsigned)atoi(v);
		else if (!strcmp(o, "rx-loss"))
			tap.rx_loss = (unsigned)atoi(v);
		else if (!strcmp(o, "delay"))
			tap.delay_ms = (unsigned)atoi(v);
		else if (!strcmp(o, "seed"))
			tap.seed = (unsigned)atoi(v);
		else if (!strcmp(o, "timeout"))
			timeout_s = (unsigned)atoi(v);
		else if (!strcmp(o, "trace"))
			tap.trace = fopen(v, "w");
		else if (!strcmp(o, "verbose"))
			log_level = atoi(v);
		else
			usage();
	}
	if (argc - i < 4)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0); /* in order with the log on stderr */
	if (tap_open(&tap, tap_name))
		return 1;
	net_init(&stack, &drv);
	net_seed(&stack, hosted_now() ^ (u64)tap.seed << 32);
	net_config_static(&stack, ip, mask, gw);
	if (!strcmp(argv[i], "echo")) {
		echo.ip = parse_ip(argv[i + 1]);
		echo.port = (u16)atoi(argv[i + 2]);
		echo.total = strtoull(argv[i + 3], NULL, 0);
		echo.pattern = malloc(echo.total);
		if (!echo.pattern)
			return 1;
		for (size_t k = 0; k < echo.total; k++)
			echo.pattern[k] = (u8)(k * 7 + (k >> 10) + (k >> 20));
		app = (struct app){ .name = "echo", .step = echo_step, .state = &echo };
	} else if (!strcmp(argv[i], "nbd-client") && argc - i >= 5) {
		app = (struct app){ .name = "nbd-client", .step = nbd_client_app_step };
		app.state = nbd_client_app_new(parse_ip(argv[i + 1]), (u16)atoi(argv[i + 2]),
					       argv[i + 3], argv[i + 4]);
		if (!app.state)
			return 1;
	} else if (!strcmp(argv[i], "nbd") && argc - i >= 5) {
		app = (struct app){ .name = "nbd", .step = nbd_probe_step };
		app.state = nbd_probe_new(parse_ip(argv[i + 1]), (u16)atoi(argv[i + 2]),
					  argv[i + 3], argv[i + 4]);
		if (!app.state)
			return 1;
	} else {
		usage();
	}
	rc = run(&tap, &app, timeout_s);
	print_stats(&stack, &tap);
	tap_close(&tap);
	free(echo.pattern);
	if (app.step == nbd_probe_step)
		free(app.state);
	return rc == 0 ? 0 : 1;
}

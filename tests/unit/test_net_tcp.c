/*
 * TCP (kernel/net/tcp*.c) against a scripted peer: the handshake, data both
 * ways, the peer's window and zero-window probes, retransmission timing and
 * backoff, the RTO estimator, FIN both ways, RST, out-of-window and
 * out-of-order segments, connect timeout, dead peer, malformed segments.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <hv/errno.h>
#include "host_log.h"
#include "test_net_fixture.h"
#include "../../kernel/net/net_internal.h" /* tcp_rtt_sample() */

static u8 buf[ETH_FRAME_MAX];
static u8 pattern[TCP_SND_BUF + 4096];
static u8 got[TCP_RCV_BUF + 4096];
static u8 stream[400000];

static int setup(void **state)
{
	(void)state;
	net_test_setup(true);
	host_log_clear();
	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (u8)(i * 31 + i / 251);
	return 0;
}

/* The n-th TCP segment sent since the last nic_clear(), parsed. */
static void seg_at(u32 n, struct parsed *p)
{
	int i = find_tcp(0, n);

	assert_true(i >= 0);
	parse_frame((u32)i, p);
}

static u32 ntohl_seq(const struct parsed *p)
{
	return be32_to_cpu(p->tcp->seq);
}

static u32 be32(const u8 *v)
{
	return (u32)v[0] << 24 | (u32)v[1] << 16 | (u32)v[2] << 8 | v[3];
}

/* Recompute the checksum of the TCP segment of seg_len bytes in buf. */
static void tcp_recsum(size_t seg_len)
{
	struct tcp_hdr *th = (struct tcp_hdr *)(buf + ETH_HLEN + IP_HLEN);
	u32 sum = inet_pseudo_sum(PEER_IP, OUR_IP, IP_PROTO_TCP, (u16)seg_len);

	th->csum = 0;
	th->csum = cpu_to_be16(inet_fold(inet_sum(sum, th, seg_len)));
}

/* The peer acknowledges everything up to ack with window wnd. */
static void peer_ack(struct peer *p, u32 ack, u16 wnd, u64 now)
{
	p->ack = ack;
	p->wnd = wnd;
	peer_send(p, TCP_ACK, NULL, 0, now);
}

/* Sum of data bytes sent since the last nic_clear(), checking they follow on from seq. */
static u32 data_sent(u32 *seq)
{
	u32 total = 0;

	for (u32 n = 0; n < count_tcp(0); n++) {
		struct parsed p;

		seg_at(n, &p);
		if (!p.data_len)
			continue;
		assert_int_equal(be32_to_cpu(p.tcp->seq), *seq);
		*seq += (u32)p.data_len;
		total += (u32)p.data_len;
	}
	return total;
}

static void test_handshake(void **state)
{
	const u8 want_opts[] = { TCPOPT_MSS, 4, 0x05, 0xb4, 1, TCPOPT_WSCALE, 3, 0, 1, 1, 4, 2 };
	struct tcp_conn *c;
	struct parsed p;
	struct peer peer;
	u32 iss;

	(void)state;
	learn(PEER_IP, peer_mac, 0);
	nic_clear();
	c = tcp_connect(&stack, PEER_IP, PEER_PORT, 0);
	assert_non_null(c);
	assert_int_equal(tcp_state(c), TCP_CONNECTING);
	assert_int_equal(nic.nr, 1);
	seg_at(0, &p);
	assert_memory_equal(p.eth->dst, peer_mac, ETH_ALEN);
	assert_int_equal(p.tcp->flags, TCP_SYN);
	assert_int_equal(be16_to_cpu(p.tcp->dport), PEER_PORT);
	assert_true(be16_to_cpu(p.tcp->sport) >= 49152);
	assert_int_equal(be32_to_cpu(p.tcp->ack), 0);
	assert_int_equal(be16_to_cpu(p.tcp->wnd), 65535);
	assert_int_equal(p.opts_len, sizeof(want_opts));
	assert_memory_equal(p.opts, want_opts, sizeof(want_opts));
	assert_int_equal(p.data_len, 0);
	iss = be32_to_cpu(p.tcp->seq);
	assert_int_equal(tcp_recv(c, got, 10), 0);
	assert_int_equal(tcp_send(c, pattern, 10, 0), -ENOTCONN);
	tcp_abort(c);
	/* No RST for a connection still in SYN-SENT (RFC 9293 3.10.5). */
	assert_int_equal(nic.nr, 1);

	c = establish(&peer, 65535, 100);
	assert_int_equal(c->mss, 1460);
	assert_int_not_equal(c->iss, iss);
	assert_int_equal(tcp_state(c), TCP_ESTABLISHED);
	assert_true(host_log_contains("established"));
}

static void test_handshake_ack_and_options(void **state)
{
	const u8 opts[] = { TCPOPT_MSS, 4,	    0x02,
			    0x00,	TCPOPT_NOP, TCPOPT_WSCALE,
			    3,		7,	    TCPOPT_SACK_PERMITTED,
			    2,		TCPOPT_EOL, 0 };
	struct tcp_conn *c;
	struct parsed p;
	struct tcp_spec t;
	u32 iss;

	(void)state;
	learn(PEER_IP, peer_mac, 0);
	nic_clear();
	c = tcp_connect(&stack, PEER_IP, PEER_PORT, 0);
	seg_at(0, &p);
	iss = be32_to_cpu(p.tcp->seq);
	t = (struct tcp_spec){ .src = PEER_IP,
			       .dst = OUR_IP,
			       .sport = PEER_PORT,
			       .dport = be16_to_cpu(p.tcp->sport),
			       .seq = 5000,
			       .ack = iss + 1,
			       .flags = TCP_SYN | TCP_ACK,
			       .wnd = 1000,
			       .opts = opts,
			       .opts_len = sizeof(opts) };
	inject(buf, build_tcp(buf, &t), 30);
	assert_int_equal(tcp_state(c), TCP_ESTABLISHED);
	assert_int_equal(c->mss, 512);
	assert_int_equal(c->snd_wscale, 7);
	assert_true(c->sack_ok);
	assert_int_equal(c->snd_wnd, 1000); /* a SYN's window is not scaled */
	/* RTT 30 ms: RTO = 30 + 4 * 15 = 90, raised to the 200 ms floor. */
	assert_int_equal(c->srtt8 >> 3, 30);
	assert_int_equal(c->rto, TCP_RTO_MIN_MS);
	assert_int_equal(nic.nr, 2);
	seg_at(1, &p);
	assert_int_equal(p.tcp->flags, TCP_ACK);
	assert_int_equal(be32_to_cpu(p.tcp->seq), iss + 1);
	assert_int_equal(be32_to_cpu(p.tcp->ack), 5001);
	/* Later windows are scaled: 100 << 7. */
	t.flags = TCP_ACK;
	t.seq = 5001;
	t.wnd = 100;
	t.opts_len = 0;
	inject(buf, build_tcp(buf, &t), 40);
	assert_int_equal(c->snd_wnd, 100 << 7);
}

static void test_connect_resolves_first(void **state)
{
	struct tcp_conn *c;
	struct parsed p;

	(void)state;
	c = tcp_connect(&stack, PEER_IP, PEER_PORT, 0);
	assert_non_null(c);
	assert_int_equal(nic.nr, 1);
	parse_frame(0, &p);
	assert_non_null(p.arp);
	learn(PEER_IP, peer_mac, 5);
	assert_int_equal(nic.nr, 2);
	seg_at(0, &p);
	assert_int_equal(p.tcp->flags, TCP_SYN);
}

static void test_data_out(void **state)
{
	struct tcp_conn *c;
	struct parsed p;
	struct peer peer;
	u32 seq;

	(void)state;
	c = establish(&peer, 65535, 0);
	seq = peer.ack;
	assert_int_equal(tcp_send(c, pattern, 3000, 20), 3000);
	assert_int_equal(count_tcp(0), 3);
	for (u32 n = 0, off = 0; n < 3; n++) {
		seg_at(n, &p);
		assert_int_equal(p.data_len, n < 2 ? 1460 : 80);
		assert_int_equal(be32_to_cpu(p.tcp->seq), seq + off);
		assert_int_equal(be32_to_cpu(p.tcp->ack), peer.seq);
		assert_true(p.tcp->flags & TCP_ACK);
		assert_int_equal(!!(p.tcp->flags & TCP_PSH), n == 2);
		assert_memory_equal(p.data, pattern + off, p.data_len);
		off += (u32)p.data_len;
	}
	assert_int_not_equal(c->rto_at, 0);
	peer_ack(&peer, seq + 3000, 65535, 40);
	assert_int_equal(c->snd_len, 0);
	assert_int_equal(c->rto_at, 0);
	/* The send buffer takes at most TCP_SND_BUF bytes. */
	assert_int_equal(tcp_send_space(c), TCP_SND_BUF);
	assert_int_equal(tcp_send(c, pattern, sizeof(pattern), 50), TCP_SND_BUF);
	assert_int_equal(tcp_send(c, pattern, 10, 50), 0);
}

static void test_data_in(void **state)
{
	struct tcp_conn *c;
	struct parsed p;
	struct peer peer;
	u32 seq0;

	(void)state;
	c = establish(&peer, 65535, 0);
	seq0 = peer.seq;
	peer_send(&peer, TCP_ACK | TCP_PSH, pattern, 1000, 20);
	/* One segment: the ACK waits for the next poll (RFC 9293 3.8.6.3). */
	assert_int_equal(nic.nr, 0);
	net_poll(&stack, 21);
	assert_int_equal(nic.nr, 1);
	seg_at(0, &p);
	assert_int_equal(be32_to_cpu(p.tcp->ack), seq0 + 1000);
	/* The right edge moved by 1 byte only: held back (receiver SWS avoidance). */
	assert_int_equal(be16_to_cpu(p.tcp->wnd), 65535 - 1000);
	/* Every second segment is acknowledged at once. */
	nic_clear();
	peer_send(&peer, TCP_ACK, pattern + 1000, 1460, 30);
	assert_int_equal(nic.nr, 0);
	peer_send(&peer, TCP_ACK, pattern + 2460, 1460, 31);
	assert_int_equal(nic.nr, 1);
	seg_at(0, &p);
	assert_int_equal(be32_to_cpu(p.tcp->ack), seq0 + 3920);
	assert_int_equal(tcp_recv(c, got, 100), 100);
	assert_int_equal(tcp_recv(c, got + 100, sizeof(got)), 3820);
	assert_memory_equal(got, pattern, 3920);
	assert_int_equal(tcp_recv(c, got, sizeof(got)), 0);
}

static void test_receive_window_and_update(void **state)
{
	struct tcp_conn *c;
	struct parsed p;
	struct peer peer;
	u32 sent = 0;

	(void)state;
	c = establish(&peer, 65535, 0);
	/* Fill the whole buffer: the window closes. */
	while (sent < TCP_RCV_BUF) {
		u32 n = MIN(1460u, TCP_RCV_BUF - sent);

		peer_send(&peer, TCP_ACK, pattern + sent, n, 10);
		sent += n;
	}
	net_poll(&stack, 11);
	seg_at(count_tcp(0) - 1, &p);
	assert_int_equal(be32_to_cpu(p.tcp->ack), peer.seq);
	assert_int_equal(be16_to_cpu(p.tcp->wnd), 0);
	/* More data does not fit: dropped, and the zero window repeated. */
	nic_clear();
	peer_send(&peer, TCP_ACK, pattern, 100, 12);
	peer.seq -= 100;
	assert_int_equal(c->rcv_len, TCP_RCV_BUF);
	assert_int_equal(nic.nr, 1);
	seg_at(0, &p);
	assert_int_equal(be16_to_cpu(p.tcp->wnd), 0);
	/* Reading a little opens no window (receiver SWS avoidance)... */
	nic_clear();
	assert_int_equal(tcp_recv(c, got, 1000), 1000);
	assert_int_equal(nic.nr, 0);
	/* ...reading a segment's worth sends a window update at once. */
	assert_int_equal(tcp_recv(c, got + 1000, 1000), 1000);
	assert_int_equal(nic.nr, 1);
	seg_at(0, &p);
	assert_int_equal(be16_to_cpu(p.tcp->wnd), 2000);
	assert_int_equal(tcp_recv(c, got + 2000, sizeof(got)), TCP_RCV_BUF - 2000);
	assert_memory_equal(got, pattern, TCP_RCV_BUF);
}

static void test_peer_window_respected(void **state)
{
	struct tcp_conn *c;
	struct parsed p;
	struct peer peer;
	u32 seq;

	(void)state;
	c = establish(&peer, 2920, 0);
	seq = peer.ack;
	assert_int_equal(tcp_send(c, pattern, 10000, 10), 10000);
	assert_int_equal(data_sent(&seq), 2920);
	/* All acknowledged, window 0: nothing more goes out. */
	nic_clear();
	peer_ack(&peer, seq, 0, 20);
	assert_int_equal(nic.nr, 0);
	assert_int_not_equal(c->persist_at, 0);
	/* Zero-window probes at the RTO, backing off: 200, 400, 800 ms. */
	net_poll(&stack, 20 + 199);
	assert_int_equal(nic.nr, 0);
	net_poll(&stack, 20 + 200);
	assert_int_equal(nic.nr, 1);
	seg_at(0, &p);
	assert_int_equal(be32_to_cpu(p.tcp->seq), seq - 1);
	assert_int_equal(p.data_len, 0);
	net_poll(&stack, 20 + 200 + 399);
	assert_int_equal(nic.nr, 1);
	net_poll(&stack, 20 + 200 + 400);
	assert_int_equal(nic.nr, 2);
	net_poll(&stack, 20 + 600 + 800);
	assert_int_equal(nic.nr, 3);
	assert_int_equal(stack.stats.tcp_window_probes, 3);
	/* The peer answers a probe still with 0: the connection is alive, not dead. */
	peer_ack(&peer, seq, 0, 1500);
	net_poll(&stack, 1500 + TCP_DEAD_PEER_MS - 1);
	assert_int_equal(tcp_state(c), TCP_ESTABLISHED);
	/* The window opens: four segments go at once. */
	nic_clear();
	peer_ack(&peer, seq, 4 * 1460, 32000);
	assert_int_equal(data_sent(&seq), 4 * 1460);
	assert_int_equal(c->persist_at, 0);
}

static void test_retransmission_backoff(void **state)
{
	const u64 t0 = 1000;
	struct tcp_conn *c;
	struct parsed p;
	struct peer peer;
	u64 when[5];
	u32 n = 0;

	(void)state;
	c = establish(&peer, 65535, 0);
	assert_int_equal(c->rto, 200); /* RTT 10 ms, RTO floor */
	assert_int_equal(tcp_send(c, pattern, 100, t0), 100);
	assert_int_equal(count_tcp(0), 1);
	for (u64 t = t0; t < t0 + 7000 && n < ARRAY_SIZE(when); t++) {
		net_poll(&stack, t);
		if (count_tcp(0) > n + 1)
			when[n++] = t;
	}
	/* RFC 6298 5.5: 200, 400, 800, 1600, 3200 ms apart; the same segment each time. */
	assert_int_equal(n, 5);
	assert_int_equal(when[0], t0 + 200);
	for (u32 i = 1; i < n; i++)
		assert_int_equal(when[i] - when[i - 1], 200u << i);
	for (u32 i = 0; i <= n; i++) {
		seg_at(i, &p);
		assert_int_equal(be32_to_cpu(p.tcp->seq), peer.ack);
		assert_int_equal(p.data_len, 100);
	}
	assert_int_equal(stack.stats.tcp_rto_expired, 5);
	assert_int_equal(c->rto, 6400);
	/*
	 * The ACK of a retransmitted segment gives no sample (Karn): SRTT stays,
	 * but progress drops the backoff.
	 */
	peer_ack(&peer, peer.ack + 100, 65535, when[4] + 5);
	assert_int_equal(c->srtt8 >> 3, 10);
	assert_int_equal(c->rto, 200);
	assert_int_equal(c->rto_at, 0);
	/* A new segment, acknowledged in 50 ms: a sample, RTO recomputed. */
	tcp_send(c, pattern, 100, 20000);
	peer_ack(&peer, peer.ack + 100, 65535, 20050);
	assert_int_equal(c->srtt8 >> 3, 10 + (50 - 10) / 8);
	assert_int_equal(c->rto, TCP_RTO_MIN_MS);
}

static void test_rto_estimator(void **state)
{
	struct tcp_conn *c;
	struct peer peer;

	(void)state;
	c = establish(&peer, 65535, 0);
	c->srtt8 = c->rttvar4 = 0;
	/* RFC 6298 2.2: SRTT = R, RTTVAR = R/2, RTO = SRTT + 4 RTTVAR. */
	tcp_rtt_sample(c, 100);
	assert_int_equal(c->srtt8, 800);
	assert_int_equal(c->rttvar4, 200);
	assert_int_equal(c->rto, 300);
	/* 2.3: RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R|, SRTT = 7/8 SRTT + 1/8 R. */
	tcp_rtt_sample(c, 200);
	assert_int_equal(c->srtt8, 900);   /* 112.5 ms */
	assert_int_equal(c->rttvar4, 250); /* 62.5 ms */
	assert_int_equal(c->rto, 112 + 250);
	tcp_rtt_sample(c, 40);
	assert_int_equal(c->srtt8, 900 - 72);
	assert_int_equal(c->rttvar4, 250 - 62 + 72);
	/* Bounds: 200 ms and 60 s. */
	c->srtt8 = 0;
	tcp_rtt_sample(c, 1);
	assert_int_equal(c->rto, TCP_RTO_MIN_MS);
	c->srtt8 = 0;
	tcp_rtt_sample(c, 100000);
	assert_int_equal(c->rto, TCP_RTO_MAX_MS);
}

static void test_close_active(void **state)
{
	struct tcp_conn *c;
	struct parsed p;
	struct peer peer;
	u32 seq;

	(void)state;
	c = establish(&peer, 65535, 0);
	seq = peer.ack;
	tcp_send(c, pattern, 500, 10);
	nic_clear();
	peer_ack(&peer, seq, 65535, 11); /* nothing acknowledged yet, a pure window update */
	tcp_close(c, 12);
	/* The FIN follows the queued data; the 500 bytes are still in flight. */
	assert_int_equal(nic.nr, 1);
	seg_at(0, &p);
	assert_int_equal(p.tcp->flags, TCP_ACK | TCP_FIN);
	assert_int_equal(be32_to_cpu(p.tcp->seq), seq + 500);
	assert_int_equal(c->fsm, TCPS_FIN_WAIT_1);
	peer_ack(&peer, seq + 501, 65535, 20);
	assert_int_equal(c->fsm, TCPS_FIN_WAIT_2);
	/* Data after our FIN is still acknowledged (and dropped: no user). */
	nic_clear();
	peer_send(&peer, TCP_ACK | TCP_FIN, pattern, 10, 30);
	assert_int_equal(c->fsm, TCPS_TIME_WAIT);
	assert_int_equal(nic.nr, 1);
	seg_at(0, &p);
	assert_int_equal(p.tcp->flags, TCP_ACK);
	assert_int_equal(be32_to_cpu(p.tcp->ack), peer.seq);
	/* A retransmitted FIN in TIME-WAIT is acknowledged again. */
	peer.seq--;
	peer_send(&peer, TCP_ACK | TCP_FIN, NULL, 0, 40);
	assert_int_equal(nic.nr, 2);
	net_poll(&stack, 30 + TCP_TIME_WAIT_MS - 1);
	assert_int_equal(c->fsm, TCPS_TIME_WAIT);
	net_poll(&stack, 30 + TCP_TIME_WAIT_MS);
	assert_int_equal(c->fsm, TCPS_FREE);
}

static void test_close_fin_retransmitted(void **state)
{
	struct tcp_conn *c;
	struct parsed p;
	struct peer peer;

	(void)state;
	c = establish(&peer, 65535, 0);
	tcp_close(c, 10);
	assert_int_equal(nic.nr, 1);
	net_poll(&stack, 10 + 200);
	assert_int_equal(nic.nr, 2);
	seg_at(1, &p);
	assert_int_equal(p.tcp->flags, TCP_ACK | TCP_FIN);
	assert_int_equal(be32_to_cpu(p.tcp->seq), peer.ack);
	/* A peer that never answers: the slot is freed as a dead peer. */
	for (u64 t = 300; t < 100000 && c->fsm != TCPS_FREE; t += 100)
		net_poll(&stack, t);
	assert_int_equal(c->fsm, TCPS_FREE);
}

static void test_close_passive(void **state)
{
	struct tcp_conn *c;
	struct parsed p;
	struct peer peer;
	u32 seq;

	(void)state;
	c = establish(&peer, 65535, 0);
	seq = peer.ack;
	peer_send(&peer, TCP_ACK | TCP_FIN, pattern, 300, 10);
	assert_int_equal(tcp_state(c), TCP_CLOSING);
	assert_int_equal(c->fsm, TCPS_CLOSE_WAIT);
	assert_int_equal(nic.nr, 1);
	seg_at(0, &p);
	assert_int_equal(be32_to_cpu(p.tcp->ack), peer.seq);
	assert_true(host_log_contains("peer closed"));
	assert_int_equal(tcp_recv(c, got, sizeof(got)), 300);
	assert_int_equal(tcp_recv(c, got, sizeof(got)), -ESHUTDOWN);
	/* Half-closed: we may still send (RFC 9293 3.6.1). */
	nic_clear();
	assert_int_equal(tcp_send(c, pattern, 100, 20), 100);
	tcp_close(c, 21);
	assert_int_equal(count_tcp(0), 2);
	seg_at(0, &p);
	assert_int_equal(p.tcp->flags, TCP_ACK | TCP_PSH);
	assert_int_equal(p.data_len, 100);
	seg_at(1, &p);
	assert_int_equal(p.tcp->flags, TCP_ACK | TCP_FIN);
	assert_int_equal(be32_to_cpu(p.tcp->seq), seq + 100);
	assert_int_equal(c->fsm, TCPS_LAST_ACK);
	peer_ack(&peer, seq + 101, 65535, 30);
	assert_int_equal(c->fsm, TCPS_FREE);
}

static void test_rst(void **state)
{
	struct tcp_conn *c;
	struct parsed p;
	struct peer peer;

	(void)state;
	c = establish(&peer, 65535, 0);
	peer_send(&peer, TCP_ACK, pattern, 50, 5);
	/* RFC 5961 3.2: in the window but not exact: a challenge ACK, nothing else. */
	peer.seq += 10;
	peer_send(&peer, TCP_RST, NULL, 0, 10);
	assert_int_equal(tcp_state(c), TCP_ESTABLISHED);
	assert_int_equal(stack.stats.tcp_challenge_acks, 1);
	seg_at(0, &p);
	assert_int_equal(p.tcp->flags, TCP_ACK);
	assert_int_equal(be32_to_cpu(p.tcp->ack), peer.seq - 10);
	/* Outside the window: dropped silently. */
	nic_clear();
	peer.seq += 100000;
	peer_send(&peer, TCP_RST, NULL, 0, 11);
	assert_int_equal(nic.nr, 0);
	assert_int_equal(tcp_state(c), TCP_ESTABLISHED);
	/* Exactly at rcv_nxt: reset. Buffered data can still be read, then the error. */
	peer.seq -= 100010;
	peer_send(&peer, TCP_RST, NULL, 0, 12);
	assert_int_equal(tcp_state(c), TCP_CLOSED);
	assert_int_equal(tcp_close_reason(c), TCP_CLOSED_RESET);
	assert_int_equal(tcp_send(c, pattern, 10, 13), -ECONNRESET);
	assert_int_equal(tcp_recv(c, got, sizeof(got)), 50);
	assert_int_equal(tcp_recv(c, got, sizeof(got)), -ECONNRESET);
	/* Segments for the closed connection get RSTs. */
	nic_clear();
	peer_send(&peer, TCP_ACK, pattern, 10, 14);
	seg_at(0, &p);
	assert_true(p.tcp->flags & TCP_RST);
	tcp_close(c, 15);
	assert_int_equal(c->fsm, TCPS_FREE);
}

static void test_refused(void **state)
{
	struct tcp_conn *c;
	struct parsed p;
	struct peer peer = { .ip = PEER_IP, .port = PEER_PORT, .seq = 0 };
	u32 iss;

	(void)state;
	learn(PEER_IP, peer_mac, 0);
	nic_clear();
	c = tcp_connect(&stack, PEER_IP, PEER_PORT, 0);
	seg_at(0, &p);
	iss = be32_to_cpu(p.tcp->seq);
	peer.lport = be16_to_cpu(p.tcp->sport);
	/* A RST without ACK, or acknowledging something else, does not count. */
	peer_send(&peer, TCP_RST, NULL, 0, 1);
	peer.ack = iss + 5;
	peer_send(&peer, TCP_RST | TCP_ACK, NULL, 0, 2);
	assert_int_equal(tcp_state(c), TCP_CONNECTING);
	/* A SYN-ACK acknowledging the wrong thing gets a RST with its ACK as sequence. */
	nic_clear();
	peer_send(&peer, TCP_SYN | TCP_ACK, NULL, 0, 3);
	seg_at(0, &p);
	assert_int_equal(p.tcp->flags, TCP_RST);
	assert_int_equal(be32_to_cpu(p.tcp->seq), iss + 5);
	assert_int_equal(tcp_state(c), TCP_CONNECTING);
	peer.ack = iss + 1;
	peer_send(&peer, TCP_RST | TCP_ACK, NULL, 0, 4);
	assert_int_equal(tcp_state(c), TCP_CLOSED);
	assert_int_equal(tcp_close_reason(c), TCP_CLOSED_REFUSED);
	assert_int_equal(tcp_recv(c, got, 1), -ECONNREFUSED);
	assert_true(host_log_contains("refused"));
	tcp_abort(c);
}

static void test_out_of_window(void **state)
{
	struct tcp_conn *c;
	struct parsed p;
	struct peer peer;
	u32 seq0;

	(void)state;
	c = establish(&peer, 65535, 0);
	seq0 = peer.seq;
	/* Beyond the window. */
	peer.seq += TCP_RCV_BUF + 10;
	peer_send(&peer, TCP_ACK, pattern, 100, 10);
	assert_int_equal(stack.stats.tcp_out_of_window, 1);
	assert_int_equal(nic.nr, 1);
	seg_at(0, &p);
	assert_int_equal(be32_to_cpu(p.tcp->ack), seq0);
	/* Entirely old: acknowledged again, not delivered twice. */
	peer.seq = seq0;
	peer_send(&peer, TCP_ACK, pattern, 100, 11);
	peer.seq = seq0;
	peer_send(&peer, TCP_ACK, pattern, 100, 12);
	assert_int_equal(stack.stats.tcp_out_of_window, 2);
	/* Overlapping: only the new part is taken. */
	peer.seq = seq0 + 50;
	peer_send(&peer, TCP_ACK, pattern + 50, 100, 13);
	assert_int_equal(tcp_recv(c, got, sizeof(got)), 150);
	assert_memory_equal(got, pattern, 150);
	/* An ACK for data never sent: dropped, answered with an ACK. */
	nic_clear();
	peer.ack += 1000;
	peer_send(&peer, TCP_ACK, pattern + 150, 10, 14);
	assert_int_equal(stack.stats.tcp_bad_ack, 1);
	assert_int_equal(c->rcv_len, 0);
	assert_int_equal(nic.nr, 1);
	/* A segment without ACK is dropped; a SYN gets a challenge ACK (RFC 5961 4.2). */
	peer.ack -= 1000;
	peer_send(&peer, 0, pattern, 10, 15);
	assert_int_equal(stack.stats.tcp_bad_state, 1);
	peer.seq -= 10;
	nic_clear();
	peer_send(&peer, TCP_SYN, NULL, 0, 16);
	assert_int_equal(stack.stats.tcp_challenge_acks, 1);
	assert_int_equal(nic.nr, 1);
	assert_int_equal(tcp_state(c), TCP_ESTABLISHED);
}

/*
 * The peer filled our whole window and its first segment was lost: its
 * pure ACKs now carry seq = our right edge. Their ACK field still counts
 * (as Linux accepts seq <= rcv_nxt + window): ignoring it stalled our
 * sending until the peer's own retransmission came through.
 */
static void test_ack_at_right_edge(void **state)
{
	struct tcp_conn *c;
	struct peer peer;
	u32 seq;

	(void)state;
	c = establish(&peer, 65535, 0);
	seq = peer.ack;
	assert_int_equal(tcp_send(c, pattern, 3000, 10), 3000);
	peer.seq += TCP_RCV_BUF; /* a window's worth sent, none of it arrived */
	peer_ack(&peer, seq + 3000, 65535, 20);
	assert_int_equal(stack.stats.tcp_out_of_window, 0);
	assert_int_equal(c->snd_len, 0);
	assert_int_equal(c->rto_at, 0);
	/* One past the edge is still outside. */
	peer.seq += 1;
	peer_ack(&peer, seq + 3000, 65535, 30);
	assert_int_equal(stack.stats.tcp_out_of_window, 1);
}

static void test_out_of_order_and_sack(void **state)
{
	struct tcp_conn *c;
	struct parsed p;
	struct peer peer;
	u32 seq0;

	(void)state;
	c = establish(&peer, 65535, 0);
	c->sack_ok = true;
	seq0 = peer.seq;
	/* Segments 2 and 4 of 4 arrive first: held, duplicate ACKs with SACK blocks. */
	peer.seq = seq0 + 1000;
	peer_send(&peer, TCP_ACK, pattern + 1000, 1000, 10);
	peer.seq = seq0 + 3000;
	peer_send(&peer, TCP_ACK, pattern + 3000, 1000, 11);
	assert_int_equal(nic.nr, 2);
	seg_at(1, &p);
	assert_int_equal(be32_to_cpu(p.tcp->ack), seq0);
	assert_int_equal(p.opts_len, 20);
	assert_int_equal(p.opts[2], TCPOPT_SACK);
	assert_int_equal(p.opts[3], 18);
	/* The latest block first (RFC 2018 4). */
	assert_int_equal(be32(p.opts + 4), seq0 + 3000);
	assert_int_equal(be32(p.opts + 8), seq0 + 4000);
	assert_int_equal(be32(p.opts + 12), seq0 + 1000);
	assert_int_equal(be32(p.opts + 16), seq0 + 2000);
	assert_int_equal(tcp_recv(c, got, sizeof(got)), 0);
	assert_int_equal(stack.stats.tcp_ooo_queued, 2);
	/* Data sent meanwhile carries the SACK blocks: less data per segment (RFC 6691). */
	nic_clear();
	assert_int_equal(tcp_send(c, pattern, 3000, 11), 3000);
	assert_int_equal(count_tcp(0), 3);
	seg_at(0, &p);
	assert_int_equal(p.opts_len, 20);
	assert_int_equal(p.data_len, 1460 - 20);
	assert_true(nic.frames[0].len <= ETH_FRAME_MAX);
	peer_ack(&peer, peer.ack + 3000, 65535, 11);
	nic_clear();
	/* Segment 1 fills the first gap: the ACK jumps over segment 2. */
	peer.seq = seq0;
	peer_send(&peer, TCP_ACK, pattern, 1000, 12);
	seg_at(0, &p);
	assert_int_equal(be32_to_cpu(p.tcp->ack), seq0 + 2000);
	peer.seq = seq0 + 2000;
	peer_send(&peer, TCP_ACK, pattern + 2000, 1000, 13);
	seg_at(1, &p);
	assert_int_equal(be32_to_cpu(p.tcp->ack), seq0 + 4000);
	assert_int_equal(p.opts_len, 0);
	assert_int_equal(tcp_recv(c, got, sizeof(got)), 4000);
	assert_memory_equal(got, pattern, 4000);
}

static void test_out_of_order_ranges_bounded(void **state)
{
	struct tcp_conn *c;
	struct peer peer;
	u32 seq0;

	(void)state;
	c = establish(&peer, 65535, 0);
	seq0 = peer.seq;
	/* Five separate holes: the fifth range is dropped. */
	for (u32 i = 0; i < TCP_OOO_RANGES + 1; i++) {
		peer.seq = seq0 + 200 * (i + 1);
		peer_send(&peer, TCP_ACK, pattern + 200 * (i + 1), 100, 10);
	}
	assert_int_equal(c->nr_ooo, TCP_OOO_RANGES);
	assert_int_equal(stack.stats.tcp_ooo_dropped, 1);
	/* Retransmission fills the holes and brings the dropped piece again. */
	for (u32 i = 0; i <= TCP_OOO_RANGES + 1; i++) {
		peer.seq = seq0 + 200 * i;
		peer_send(&peer, TCP_ACK, pattern + 200 * i, 200, 20);
	}
	assert_int_equal(c->nr_ooo, 0);
	assert_int_equal(tcp_recv(c, got, sizeof(got)), 200 * (TCP_OOO_RANGES + 2));
	assert_memory_equal(got, pattern, 200 * (TCP_OOO_RANGES + 2));
}

static void test_fast_retransmit(void **state)
{
	struct tcp_conn *c;
	struct parsed p;
	struct peer peer;
	u32 seq0;

	(void)state;
	c = establish(&peer, 65535, 0);
	seq0 = peer.ack;
	tcp_send(c, pattern, 10 * 1460, 10);
	assert_int_equal(count_tcp(0), 10);
	/* The first arrives, the second is lost: duplicate ACKs for seq0 + 1460. */
	peer_ack(&peer, seq0 + 1460, 65535, 20);
	nic_clear();
	peer_ack(&peer, seq0 + 1460, 65535, 21);
	peer_ack(&peer, seq0 + 1460, 65535, 22);
	assert_int_equal(count_tcp(0), 0);
	peer_ack(&peer, seq0 + 1460, 65535, 23);
	assert_int_equal(stack.stats.tcp_fast_retransmits, 1);
	seg_at(0, &p);
	assert_int_equal(be32_to_cpu(p.tcp->seq), seq0 + 1460);
	assert_int_equal(p.data_len, 1460);
	assert_true(c->in_recovery);
	/* A partial ACK (RFC 6582): the next hole is resent at once. */
	nic_clear();
	peer_ack(&peer, seq0 + 3 * 1460, 65535, 30);
	seg_at(0, &p);
	assert_int_equal(be32_to_cpu(p.tcp->seq), seq0 + 3 * 1460);
	assert_true(c->in_recovery);
	/* The full ACK ends recovery: cwnd = min(ssthresh, max(flight, MSS) + MSS). */
	peer_ack(&peer, seq0 + 10 * 1460, 65535, 40);
	assert_false(c->in_recovery);
	assert_int_equal(c->ssthresh, 9 * 1460 / 2);
	assert_int_equal(c->cwnd, 2 * 1460);
	assert_int_equal(stack.stats.tcp_rto_expired, 0);
}

/* The peer sends data with ack and SACK blocks [l0, r0), [l1, r1) (n of them, relative to base). */
static void peer_send_sack(struct peer *p, u32 base, const u32 *edges, u32 n, const void *data,
			   size_t len, u64 now)
{
	u8 opts[4 + 8 * 4] = { TCPOPT_NOP, TCPOPT_NOP, TCPOPT_SACK, (u8)(2 + 8 * n) };
	struct tcp_spec t = { .src = p->ip,
			      .dst = OUR_IP,
			      .sport = p->port,
			      .dport = p->lport,
			      .seq = p->seq,
			      .ack = p->ack,
			      .flags = TCP_ACK,
			      .wnd = p->wnd,
			      .opts = opts,
			      .opts_len = 4 + 8 * n,
			      .data = data,
			      .len = len };

	for (u32 i = 0; i < 2 * n; i++) {
		u32 v = base + edges[i];

		opts[4 + 4 * i] = (u8)(v >> 24);
		opts[5 + 4 * i] = (u8)(v >> 16);
		opts[6 + 4 * i] = (u8)(v >> 8);
		opts[7 + 4 * i] = (u8)v;
	}
	inject(buf, build_tcp(buf, &t), now);
	p->seq += (u32)len;
}

static void test_sack_recovery(void **state)
{
	const u32 m = 1460;
	const u32 e1[] = { 2 * m, 4 * m }, e2[] = { 2 * m, 4 * m, 5 * m, 6 * m },
		  e3[] = { 2 * m, 4 * m, 5 * m, 8 * m }, e4[] = { 5 * m, 8 * m };
	struct tcp_conn *c;
	struct parsed p;
	struct peer peer;
	u32 seq0;

	(void)state;
	c = establish(&peer, 65535, 0);
	seq0 = peer.ack;
	tcp_send(c, pattern, 10 * m, 10);
	assert_int_equal(count_tcp(0), 10);
	/*
	 * Segments 2 and 5 (1 and 4 from 0) are lost. The peer's answers carry
	 * data and a growing window, so only the SACK blocks make them duplicates.
	 */
	peer.ack = seq0 + m;
	peer_send(&peer, TCP_ACK, pattern, 100, 20);
	nic_clear();
	peer.wnd = 65000;
	peer_send_sack(&peer, seq0, e1, 1, pattern, 100, 21);
	peer.wnd = 64000;
	peer_send_sack(&peer, seq0, e2, 2, pattern, 100, 22);
	assert_int_equal(stack.stats.tcp_fast_retransmits, 0);
	/* The same blocks again say nothing new: not a duplicate. */
	peer_send_sack(&peer, seq0, e2, 2, pattern, 100, 23);
	assert_int_equal(c->dupacks, 2);
	peer.wnd = 63000;
	peer_send_sack(&peer, seq0, e3, 2, pattern, 100, 24);
	assert_int_equal(stack.stats.tcp_fast_retransmits, 1);
	assert_true(c->in_recovery);
	seg_at(count_tcp(0) - 1, &p);
	assert_int_equal(ntohl_seq(&p), seq0 + m);
	assert_int_equal(p.data_len, m);
	/* The partial ACK up to the second hole resends it at once. */
	nic_clear();
	peer.ack = seq0 + 4 * m;
	peer_send_sack(&peer, seq0, e4, 1, NULL, 0, 30);
	seg_at(0, &p);
	assert_int_equal(ntohl_seq(&p), seq0 + 4 * m);
	assert_int_equal(stack.stats.tcp_rto_expired, 0);
	/* Bogus blocks (beyond what was sent, inverted) are ignored. */
	{
		const u32 bad[] = { 20 * m, 30 * m, 9 * m, 8 * m };

		peer_send_sack(&peer, seq0, bad, 2, NULL, 0, 31);
		for (u32 i = 0; i < c->nr_sacked; i++)
			assert_true(c->sacked[i].end - seq0 <= 10 * m);
	}
	peer_ack(&peer, seq0 + 10 * m, 65535, 40);
	assert_false(c->in_recovery);
	assert_int_equal(c->nr_sacked, 0);
}

static void test_limited_transmit(void **state)
{
	struct tcp_conn *c;
	struct parsed p;
	struct peer peer;
	u32 seq0;

	(void)state;
	c = establish(&peer, 65535, 0);
	seq0 = peer.ack;
	c->cwnd = 2 * 1460;
	tcp_send(c, pattern, 10 * 1460, 10);
	assert_int_equal(count_tcp(0), 2);
	/* Segment 1 lost: each of the first two dupacks lets one new segment out (RFC 3042). */
	for (u32 i = 0; i < 2; i++) {
		nic_clear();
		peer_ack(&peer, seq0, 65535, 20 + i);
		assert_int_equal(count_tcp(0), 1);
		seg_at(0, &p);
		assert_int_equal(ntohl_seq(&p), seq0 + (2 + i) * 1460);
	}
	assert_int_equal(stack.stats.tcp_fast_retransmits, 0);
	nic_clear();
	peer_ack(&peer, seq0, 65535, 22);
	assert_int_equal(stack.stats.tcp_fast_retransmits, 1);
	seg_at(0, &p);
	assert_int_equal(ntohl_seq(&p), seq0);
}

static void test_early_retransmit(void **state)
{
	struct tcp_conn *c;
	struct parsed p;
	struct peer peer;
	u32 seq0;

	(void)state;
	c = establish(&peer, 65535, 0);
	seq0 = peer.ack;
	/* Three segments and nothing more to send: two dupacks mean a loss (RFC 5827). */
	tcp_send(c, pattern, 3 * 1460, 10);
	nic_clear();
	peer_ack(&peer, seq0, 65535, 20);
	assert_int_equal(nic.nr, 0);
	peer_ack(&peer, seq0, 65535, 21);
	assert_int_equal(stack.stats.tcp_fast_retransmits, 1);
	seg_at(0, &p);
	assert_int_equal(ntohl_seq(&p), seq0);
	/* One segment out: the threshold is back to three. */
	peer_ack(&peer, seq0 + 3 * 1460, 65535, 30);
	tcp_send(c, pattern, 100, 31);
	for (u32 i = 0; i < 2; i++)
		peer_ack(&peer, seq0 + 3 * 1460, 65535, 32 + i);
	assert_int_equal(stack.stats.tcp_fast_retransmits, 1);
}

static void test_connect_timeout(void **state)
{
	struct tcp_conn *c;
	u64 when[8];
	u32 n = 0;

	(void)state;
	learn(PEER_IP, peer_mac, 0);
	nic_clear();
	c = tcp_connect(&stack, PEER_IP, PEER_PORT, 0);
	for (u64 t = 0; t <= TCP_CONNECT_TIMEOUT_MS && tcp_state(c) == TCP_CONNECTING; t += 10) {
		net_poll(&stack, t);
		if (count_tcp(0) > n + 1)
			when[n++] = t;
	}
	/* SYNs at 0, 1, 3, 7 s (initial RTO 1 s, doubling), then give up at 15 s. */
	assert_int_equal(n, 3);
	assert_int_equal(when[0], 1000);
	assert_int_equal(when[1], 3000);
	assert_int_equal(when[2], 7000);
	assert_int_equal(tcp_state(c), TCP_CLOSED);
	assert_int_equal(tcp_close_reason(c), TCP_CLOSED_TIMEOUT);
	assert_int_equal(tcp_recv(c, got, 1), -ETIMEDOUT);
	assert_int_equal(tcp_send(c, got, 1, TCP_CONNECT_TIMEOUT_MS), -ETIMEDOUT);
	tcp_abort(c);
	assert_int_equal(c->fsm, TCPS_FREE);
}

static void test_dead_peer(void **state)
{
	struct tcp_conn *c;
	struct peer peer;
	u64 t;

	(void)state;
	c = establish(&peer, 65535, 0);
	tcp_send(c, pattern, 1000, 100);
	for (t = 100; t < 200000 && tcp_state(c) == TCP_ESTABLISHED; t += 10)
		net_poll(&stack, t);
	assert_int_equal(tcp_close_reason(c), TCP_CLOSED_DEAD_PEER);
	assert_true(t - 100 <= TCP_DEAD_PEER_MS + 10);
	assert_int_equal(tcp_recv(c, got, 1), -ETIMEDOUT);
	assert_true(host_log_contains("dead peer"));
	tcp_abort(c);
}

static void test_unknown_connection_rst(void **state)
{
	struct peer peer = { .ip = PEER_IP, .port = 4000, .lport = 5000, .seq = 777, .ack = 999 };
	struct parsed p;

	(void)state;
	learn(PEER_IP, peer_mac, 0);
	nic_clear();
	/* RFC 9293 3.10.7.1: with ACK, RST with that sequence number... */
	peer_send(&peer, TCP_ACK, pattern, 10, 1);
	seg_at(0, &p);
	assert_int_equal(p.tcp->flags, TCP_RST);
	assert_int_equal(be32_to_cpu(p.tcp->seq), 999);
	assert_int_equal(be16_to_cpu(p.tcp->sport), 5000);
	assert_int_equal(be16_to_cpu(p.tcp->dport), 4000);
	/* ...without, RST|ACK acknowledging the segment, SYN included. */
	peer.seq = 777;
	peer_send(&peer, TCP_SYN, NULL, 0, 2);
	seg_at(1, &p);
	assert_int_equal(p.tcp->flags, TCP_RST | TCP_ACK);
	assert_int_equal(be32_to_cpu(p.tcp->seq), 0);
	assert_int_equal(be32_to_cpu(p.tcp->ack), 778);
	/* Never a RST for a RST. */
	peer_send(&peer, TCP_RST, NULL, 0, 3);
	assert_int_equal(nic.nr, 2);
	/* At most TCP_RST_PER_SEC a second. */
	for (u32 i = 0; i < 20; i++)
		peer_send(&peer, TCP_ACK, NULL, 0, 10 + i);
	assert_int_equal(nic.nr, TCP_RST_PER_SEC);
	assert_int_equal(stack.stats.tcp_rst_ratelimited, 20 - (TCP_RST_PER_SEC - 2));
	peer_send(&peer, TCP_ACK, NULL, 0, 1100);
	assert_int_equal(nic.nr, TCP_RST_PER_SEC + 1);
	assert_int_equal(stack.stats.tcp_no_conn, 24);
}

static void test_malformed_segments(void **state)
{
	const u8 mss_cut[] = { TCPOPT_NOP, TCPOPT_NOP, TCPOPT_NOP, TCPOPT_MSS };
	const u8 mss_len3[] = { TCPOPT_MSS, 3, 0x05, TCPOPT_EOL };
	const u8 zero_len[] = { 30, 0, TCPOPT_EOL, TCPOPT_EOL };
	const u8 sack_len9[] = { TCPOPT_SACK, 9, 0, 0, 0, 1, 0, 0, 0, 2, TCPOPT_EOL, 0 };
	struct tcp_conn *c;
	struct peer peer;
	struct tcp_spec t;
	struct tcp_hdr *th = (struct tcp_hdr *)(buf + ETH_HLEN + IP_HLEN);
	size_t n;

	(void)state;
	c = establish(&peer, 65535, 0);
	t = (struct tcp_spec){ .src = PEER_IP,
			       .dst = OUR_IP,
			       .sport = PEER_PORT,
			       .dport = peer.lport,
			       .seq = peer.seq,
			       .ack = peer.ack,
			       .flags = TCP_ACK,
			       .wnd = 100,
			       .data = pattern,
			       .len = 40 };
	n = build_tcp(buf, &t);
	buf[n - 1] ^= 0xff;
	inject(buf, n, 1);
	assert_int_equal(stack.stats.tcp_bad_checksum, 1);
	/* Shorter than a header; data offset below 5 and beyond the segment. */
	inject(buf, build_ip(buf, PEER_IP, OUR_IP, IP_PROTO_TCP, pattern, 19), 1);
	assert_int_equal(stack.stats.tcp_short, 1);
	n = build_tcp(buf, &t);
	th->doff = 4 << 4;
	tcp_recsum(TCP_HLEN + 40);
	inject(buf, n, 1);
	t.len = 0;
	n = build_tcp(buf, &t);
	th->doff = 6 << 4; /* 24 header bytes in a 20-byte segment */
	tcp_recsum(TCP_HLEN);
	inject(buf, n, 1);
	assert_int_equal(stack.stats.tcp_bad_offset, 2);
	/* Options overrunning the header, with a bad length, with length 0. */
	t.opts = mss_cut;
	t.opts_len = sizeof(mss_cut);
	inject(buf, build_tcp(buf, &t), 1);
	t.opts = mss_len3;
	inject(buf, build_tcp(buf, &t), 1);
	t.opts = zero_len;
	inject(buf, build_tcp(buf, &t), 1);
	t.opts = sack_len9;
	t.opts_len = sizeof(sack_len9);
	inject(buf, build_tcp(buf, &t), 1);
	assert_int_equal(stack.stats.tcp_bad_options, 4);
	/* To a broadcast address. */
	t.opts_len = 0;
	t.dst = IPV4(10, 0, 0, 255);
	inject(buf, build_tcp(buf, &t), 1);
	assert_int_equal(stack.stats.tcp_bad_dst, 1);
	/* Nothing reached the connection. */
	assert_int_equal(c->snd_wnd, 65535);
	assert_int_equal(c->rcv_len, 0);
	assert_int_equal(nic.nr, 0);
}

static void test_slots_and_ports(void **state)
{
	struct tcp_conn *c[NET_TCP_MAX_CONNS];

	(void)state;
	learn(PEER_IP, peer_mac, 0);
	for (u32 i = 0; i < NET_TCP_MAX_CONNS; i++) {
		c[i] = tcp_connect(&stack, PEER_IP, PEER_PORT, i);
		assert_non_null(c[i]);
		for (u32 j = 0; j < i; j++)
			assert_int_not_equal(c[i]->local_port, c[j]->local_port);
	}
	assert_null(tcp_connect(&stack, PEER_IP, PEER_PORT, 100));
	tcp_abort(c[3]);
	assert_non_null(tcp_connect(&stack, PEER_IP, PEER_PORT, 101));
	/* Not to ourselves, a multicast group, or while unconfigured. */
	tcp_abort(c[4]);
	assert_null(tcp_connect(&stack, OUR_IP, 80, 102));
	assert_null(tcp_connect(&stack, IPV4(224, 0, 0, 1), 80, 102));
	net_test_setup(false);
	assert_null(tcp_connect(&stack, PEER_IP, PEER_PORT, 103));
}

static void test_abort_sends_rst(void **state)
{
	struct tcp_conn *c;
	struct parsed p;
	struct peer peer;

	(void)state;
	c = establish(&peer, 65535, 0);
	tcp_abort(c);
	assert_int_equal(c->fsm, TCPS_FREE);
	assert_int_equal(nic.nr, 1);
	seg_at(0, &p);
	assert_int_equal(p.tcp->flags, TCP_RST);
	assert_int_equal(be32_to_cpu(p.tcp->seq), peer.ack);
}

static void test_busy_driver_retried(void **state)
{
	struct tcp_conn *c;
	struct peer peer;
	u32 seq;

	(void)state;
	c = establish(&peer, 65535, 0);
	seq = peer.ack;
	nic.busy = 1;
	assert_int_equal(tcp_send(c, pattern, 3000, 10), 3000);
	assert_int_equal(nic.nr, 0);
	assert_int_equal(c->snd_nxt, seq);
	net_poll(&stack, 11);
	assert_int_equal(data_sent(&seq), 3000);
}

/* Many segments through a lossy path: everything arrives, in order, once. */
static void test_bulk_transfer_with_loss(void **state)
{
	const u32 total = sizeof(stream);
	struct tcp_conn *c;
	struct peer peer;
	u32 queued = 0, delivered = 0, rcv_nxt;
	u64 t = 0;
	u32 drop = 0;

	(void)state;
	c = establish(&peer, 65535, 0);
	rcv_nxt = peer.ack;
	for (u32 i = 0; i < total; i++)
		stream[i] = (u8)(i ^ i >> 8 ^ i >> 16);
	while (delivered < total && t < 600000) {
		long n = tcp_send(c, stream + queued, total - queued, t);

		assert_true(n >= 0);
		queued += (u32)n;
		/* The peer takes in-order segments, drops every 7th frame, acks the rest. */
		for (int i; (i = find_tcp(0, 0)) >= 0;) {
			struct parsed p;

			parse_frame((u32)i, &p);
			if (++drop % 7 && be32_to_cpu(p.tcp->seq) == rcv_nxt && p.data_len) {
				assert_memory_equal(p.data, stream + delivered, p.data_len);
				rcv_nxt += (u32)p.data_len;
				delivered += (u32)p.data_len;
			}
			memmove(&nic.frames[i], &nic.frames[i + 1],
				(nic.nr - i - 1) * sizeof(nic.frames[0]));
			nic.nr--;
			peer_ack(&peer, rcv_nxt, 65535, t);
		}
		nic_clear();
		t += 5;
		net_poll(&stack, t);
	}
	assert_int_equal(delivered, total);
	assert_true(stack.stats.tcp_retransmits > 0);
	assert_int_equal(tcp_state(c), TCP_ESTABLISHED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_handshake, setup),
		cmocka_unit_test_setup(test_handshake_ack_and_options, setup),
		cmocka_unit_test_setup(test_connect_resolves_first, setup),
		cmocka_unit_test_setup(test_data_out, setup),
		cmocka_unit_test_setup(test_data_in, setup),
		cmocka_unit_test_setup(test_receive_window_and_update, setup),
		cmocka_unit_test_setup(test_peer_window_respected, setup),
		cmocka_unit_test_setup(test_retransmission_backoff, setup),
		cmocka_unit_test_setup(test_rto_estimator, setup),
		cmocka_unit_test_setup(test_close_active, setup),
		cmocka_unit_test_setup(test_close_fin_retransmitted, setup),
		cmocka_unit_test_setup(test_close_passive, setup),
		cmocka_unit_test_setup(test_rst, setup),
		cmocka_unit_test_setup(test_refused, setup),
		cmocka_unit_test_setup(test_out_of_window, setup),
		cmocka_unit_test_setup(test_ack_at_right_edge, setup),
		cmocka_unit_test_setup(test_out_of_order_and_sack, setup),
		cmocka_unit_test_setup(test_out_of_order_ranges_bounded, setup),
		cmocka_unit_test_setup(test_fast_retransmit, setup),
		cmocka_unit_test_setup(test_sack_recovery, setup),
		cmocka_unit_test_setup(test_limited_transmit, setup),
		cmocka_unit_test_setup(test_early_retransmit, setup),
		cmocka_unit_test_setup(test_connect_timeout, setup),
		cmocka_unit_test_setup(test_dead_peer, setup),
		cmocka_unit_test_setup(test_unknown_connection_rst, setup),
		cmocka_unit_test_setup(test_malformed_segments, setup),
		cmocka_unit_test_setup(test_slots_and_ports, setup),
		cmocka_unit_test_setup(test_abort_sends_rst, setup),
		cmocka_unit_test_setup(test_busy_driver_retried, setup),
		cmocka_unit_test_setup(test_bulk_transfer_with_loss, setup),
	};

	return cmocka_run_group_tests_name("net_tcp", tests, NULL, NULL);
}

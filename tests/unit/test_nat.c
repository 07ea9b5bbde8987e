/*
 * The NAT table (kernel/switch/nat.c): UDP, TCP and ICMP echo both ways with
 * every checksum recomputed from scratch, endpoint-independent mapping and
 * address-dependent filtering, TCP state and per-protocol timeouts, port
 * reuse only after a timeout, exhaustion of ports and of rows, static
 * forwards, and malformed datagrams.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <hv/errno.h>
#include <hv/nat.h>

#include "switch_frames.h"

#define OUT_IP	IPV4(192, 168, 1, 2)
#define VSI_IP	IPV4(10, 0, 2, 15)
#define VSI2_IP IPV4(10, 0, 2, 16)
#define REM_IP	IPV4(93, 184, 216, 34)
#define REM2_IP IPV4(1, 1, 1, 1)
#define PORT_LO 40000
#define PORT_HI 40999
#define T0	1000000

static struct nat_table nat;
static u8 pkt[ETH_MTU];

static int setup(void **state)
{
	(void)state;
	nat_init(&nat, OUT_IP, PORT_LO, PORT_HI);
	return 0;
}

static u16 get16(const u8 *p)
{
	return (u16)(p[0] << 8 | p[1]);
}

static u32 get32(const u8 *p)
{
	return (u32)get16(p) << 16 | get16(p + 2);
}

/* An outbound datagram through NAT; returns the outside port it got (or the error). */
static int out(u8 proto, u32 src, u16 sport, u32 dst, u16 dport, u8 flags, u64 now)
{
	size_t n = fr_ipv4(pkt, proto, src, sport, dst, dport, flags, 17);
	int rc = nat_outbound(&nat, pkt, n, now);

	if (rc)
		return rc;
	assert_true(fr_ipv4_csums_ok(pkt, n));
	assert_int_equal(get32(pkt + 12), OUT_IP);
	assert_int_equal(get32(pkt + 16), dst);
	assert_int_equal(pkt[8], 63);
	return get16(pkt + 20 + (proto == IP_PROTO_ICMP ? 4 : 0));
}

/* An inbound datagram; on success checks the rewrite and returns the inside port. */
static int in(u8 proto, u32 src, u16 sport, u16 dport, u8 flags, u32 want_ip, u64 now)
{
	size_t n = fr_ipv4(pkt, proto, src, sport, OUT_IP, dport, flags, 17);
	int rc;

	fr_ipv4(pkt, proto, src, sport, OUT_IP, dport, flags, 17);
	rc = nat_inbound(&nat, pkt, n, now);
	if (rc)
		return rc;
	assert_true(fr_ipv4_csums_ok(pkt, n));
	assert_int_equal(get32(pkt + 16), want_ip);
	return get16(pkt + 20 + (proto == IP_PROTO_ICMP ? 4 : 2));
}

static void test_udp_both_ways(void **state)
{
	int p;

	(void)state;
	p = out(IP_PROTO_UDP, VSI_IP, 5353, REM_IP, 53, 0, T0);
	assert_in_range(p, PORT_LO, PORT_HI);
	assert_int_equal(in(IP_PROTO_UDP, REM_IP, 53, (u16)p, 0, VSI_IP, T0 + 1), 5353);
	/* filtering: only the row's remote gets in (RFC 4787 REQ-8, address and port) */
	assert_int_equal(in(IP_PROTO_UDP, REM2_IP, 53, (u16)p, 0, VSI_IP, T0), -ENOENT);
	assert_int_equal(in(IP_PROTO_UDP, REM_IP, 54, (u16)p, 0, VSI_IP, T0), -ENOENT);
	/* mapping: the same outside port for every remote (RFC 4787 REQ-1) */
	assert_int_equal(out(IP_PROTO_UDP, VSI_IP, 5353, REM2_IP, 53, 0, T0), p);
	assert_int_not_equal(out(IP_PROTO_UDP, VSI2_IP, 5353, REM_IP, 53, 0, T0), p);
	assert_int_equal(nat.stats.out_ok, 3);
	assert_int_equal(nat.stats.in_ok, 1);
	assert_int_equal(nat.stats.no_mapping, 2);
}

static void test_icmp_echo(void **state)
{
	size_t n;
	int p;

	(void)state;
	p = out(IP_PROTO_ICMP, VSI_IP, 0x1234, REM_IP, 0, 0, T0);
	assert_in_range(p, PORT_LO, PORT_HI);
	n = fr_ipv4(pkt, IP_PROTO_ICMP, REM_IP, (u16)p, OUT_IP, 0, 0, 17);
	pkt[20] = ICMP_ECHO_REPLY;
	inet_csum_update16(pkt + 22, ICMP_ECHO << 8, ICMP_ECHO_REPLY << 8);
	assert_true(fr_ipv4_csums_ok(pkt, n));
	assert_int_equal(nat_inbound(&nat, pkt, n, T0), 0);
	assert_true(fr_ipv4_csums_ok(pkt, n));
	assert_int_equal(get16(pkt + 24), 0x1234);
	assert_int_equal(get32(pkt + 16), VSI_IP);
	/* an echo request from outside, or other types: not translated */
	n = fr_ipv4(pkt, IP_PROTO_ICMP, REM_IP, (u16)p, OUT_IP, 0, 0, 17);
	assert_int_equal(nat_inbound(&nat, pkt, n, T0), -ENOTSUP);
	n = fr_ipv4(pkt, IP_PROTO_ICMP, VSI_IP, 7, REM_IP, 0, 0, 17);
	pkt[20] = 3; /* destination unreachable */
	assert_int_equal(nat_outbound(&nat, pkt, n, T0), -ENOTSUP);
	/* ICMP rows time out after a minute (RFC 5508 REQ-1) */
	assert_int_equal(nat_expire(&nat, T0 + NAT_TIMEOUT_ICMP_MS - 1), 0);
	assert_int_equal(nat_expire(&nat, T0 + NAT_TIMEOUT_ICMP_MS), 1);
}

static void test_tcp_states_and_timeouts(void **state)
{
	int p;

	(void)state;
	/* only a SYN opens a mapping */
	assert_int_equal(out(IP_PROTO_TCP, VSI_IP, 3333, REM_IP, 80, TCP_ACK, T0), -ENOENT);
	p = out(IP_PROTO_TCP, VSI_IP, 3333, REM_IP, 80, TCP_SYN, T0);
	assert_in_range(p, PORT_LO, PORT_HI);
	assert_int_equal(in(IP_PROTO_TCP, REM_IP, 80, (u16)p, TCP_SYN | TCP_ACK, VSI_IP, T0), 3333);
	assert_int_equal(nat.rows[0].state, NAT_TCP_ESTABLISHED);
	/* established: alive well past the transitory timeout */
	assert_int_equal(
	    out(IP_PROTO_TCP, VSI_IP, 3333, REM_IP, 80, TCP_ACK, T0 + NAT_TIMEOUT_TCP_EST_MS - 1),
	    p);
	assert_int_equal(nat_expire(&nat, 2 * NAT_TIMEOUT_TCP_EST_MS - 2), 0);
	/* a reset frees the port quickly */
	assert_int_equal(
	    in(IP_PROTO_TCP, REM_IP, 80, (u16)p, TCP_RST, VSI_IP, T0 + NAT_TIMEOUT_TCP_EST_MS),
	    3333);
	assert_int_equal(nat_expire(&nat, T0 + NAT_TIMEOUT_TCP_EST_MS + NAT_TIMEOUT_TCP_RST_MS), 1);
	/* a half-open connection lasts the transitory timeout only */
	p = out(IP_PROTO_TCP, VSI_IP, 4444, REM_IP, 80, TCP_SYN, T0);
	assert_int_equal(nat_expire(&nat, T0 + NAT_TIMEOUT_TCP_TRANS_MS - 1), 0);
	assert_int_equal(nat_expire(&nat, T0 + NAT_TIMEOUT_TCP_TRANS_MS), 1);
	assert_int_equal(nat.stats.expired, 2);
}

/* One port in the range: reused only once its row has timed out. */
static void test_port_reuse_after_timeout(void **state)
{
	int p;

	(void)state;
	nat_init(&nat, OUT_IP, 50000, 50000);
	p = out(IP_PROTO_UDP, VSI_IP, 1000, REM_IP, 53, 0, T0);
	assert_int_equal(p, 50000);
	assert_int_equal(
	    out(IP_PROTO_UDP, VSI2_IP, 1000, REM2_IP, 53, 0, T0 + NAT_TIMEOUT_UDP_MS - 1), -ENOSPC);
	assert_int_equal(nat.stats.no_port, 1);
	/* another protocol has its own ports */
	assert_int_equal(out(IP_PROTO_TCP, VSI2_IP, 1000, REM2_IP, 53, TCP_SYN, T0), 50000);
	/* traffic keeps a row alive */
	assert_int_equal(
	    in(IP_PROTO_UDP, REM_IP, 53, 50000, 0, VSI_IP, T0 + NAT_TIMEOUT_UDP_MS - 1), 1000);
	assert_int_equal(
	    out(IP_PROTO_UDP, VSI2_IP, 1000, REM2_IP, 53, 0, T0 + 2 * NAT_TIMEOUT_UDP_MS - 2),
	    -ENOSPC);
	p = out(IP_PROTO_UDP, VSI2_IP, 1000, REM2_IP, 53, 0, T0 + 2 * NAT_TIMEOUT_UDP_MS - 1);
	assert_int_equal(p, 50000);
	/* the old remote no longer reaches anyone */
	assert_int_equal(
	    in(IP_PROTO_UDP, REM_IP, 53, 50000, 0, VSI_IP, T0 + 2 * NAT_TIMEOUT_UDP_MS), -ENOENT);
}

static void test_ports_exhausted(void **state)
{
	(void)state;
	nat_init(&nat, OUT_IP, 50000, 50003);
	for (u16 i = 0; i < 4; i++)
		assert_int_equal(out(IP_PROTO_UDP, VSI_IP, (u16)(1000 + i), REM_IP, 53, 0, T0),
				 50000 + i);
	assert_int_equal(out(IP_PROTO_UDP, VSI_IP, 2000, REM_IP, 53, 0, T0), -ENOSPC);
	assert_int_equal(nat.stats.no_port, 1);
	assert_int_equal(nat.stats.table_full, 0);
}

static void test_table_full(void **state)
{
	(void)state;
	nat_init(&nat, OUT_IP, 1024, 65535);
	for (u32 i = 0; i < NAT_ROWS; i++)
		assert_true(out(IP_PROTO_UDP, VSI_IP, (u16)(1000 + i), REM_IP, 53, 0, T0) > 0);
	assert_int_equal(out(IP_PROTO_UDP, VSI_IP, 9999, REM_IP, 53, 0, T0), -ENOSPC);
	assert_int_equal(nat.stats.table_full, 1);
	/* existing rows still work */
	assert_true(out(IP_PROTO_UDP, VSI_IP, 1000, REM_IP, 53, 0, T0) > 0);
	/* after the timeout there is room again */
	assert_true(out(IP_PROTO_UDP, VSI_IP, 9999, REM_IP, 53, 0, T0 + NAT_TIMEOUT_UDP_MS) > 0);
}

static void test_forward(void **state)
{
	(void)state;
	nat_init(&nat, OUT_IP, 8080, 8081);
	assert_int_equal(nat_add_forward(&nat, 8080, VSI_IP, 22), 0);
	/* the forwarded port is never handed out, even before it is used */
	assert_int_equal(out(IP_PROTO_TCP, VSI2_IP, 1, REM_IP, 80, TCP_SYN, T0), 8081);
	assert_int_equal(nat_add_forward(&nat, 8080, VSI2_IP, 22), -EEXIST);
	/* only a SYN opens the forward; UDP to the port is not forwarded */
	assert_int_equal(in(IP_PROTO_TCP, REM_IP, 5555, 8080, TCP_ACK, VSI_IP, T0), -ENOENT);
	assert_int_equal(in(IP_PROTO_UDP, REM_IP, 5555, 8080, 0, VSI_IP, T0), -ENOENT);
	assert_int_equal(in(IP_PROTO_TCP, REM_IP, 5555, 8080, TCP_SYN, VSI_IP, T0), 22);
	/* the server's answer leaves from the forwarded port */
	assert_int_equal(out(IP_PROTO_TCP, VSI_IP, 22, REM_IP, 5555, TCP_SYN | TCP_ACK, T0), 8080);
	assert_int_equal(in(IP_PROTO_TCP, REM_IP, 5555, 8080, TCP_ACK, VSI_IP, T0), 22);
	/* a second client gets its own row */
	assert_int_equal(in(IP_PROTO_TCP, REM2_IP, 6666, 8080, TCP_SYN, VSI_IP, T0), 22);
	assert_int_equal(out(IP_PROTO_TCP, VSI2_IP, 2, REM_IP, 80, TCP_SYN, T0), -ENOSPC);
}

/* A forward follows its VSI's lease: closed without one, then to the new address. */
static void test_forward_retarget(void **state)
{
	(void)state;
	nat_init(&nat, OUT_IP, 20000, 20010);
	assert_int_equal(nat_add_forward(&nat, 8080, 0, 80), 0);
	assert_int_equal(in(IP_PROTO_TCP, REM_IP, 5555, 8080, TCP_SYN, 0, T0), -ENOENT);
	assert_int_equal(nat_retarget_forward(&nat, 8081, VSI_IP), -ENOENT);
	assert_int_equal(nat_retarget_forward(&nat, 8080, VSI_IP), 0);
	assert_int_equal(in(IP_PROTO_TCP, REM_IP, 5555, 8080, TCP_SYN, VSI_IP, T0), 80);
	assert_int_equal(nat_retarget_forward(&nat, 8080, VSI2_IP), 0);
	assert_int_equal(in(IP_PROTO_TCP, REM2_IP, 6666, 8080, TCP_SYN, VSI2_IP, T0), 80);
	/* the connection opened before the move keeps going to the old address */
	assert_int_equal(in(IP_PROTO_TCP, REM_IP, 5555, 8080, TCP_ACK, VSI_IP, T0), 80);
	/* the answers of forwarded connections are known as such, nothing else */
	assert_true(nat_forward_reply(&nat, VSI_IP, 80, REM_IP, 5555, T0));
	assert_true(nat_forward_reply(&nat, VSI2_IP, 80, REM2_IP, 6666, T0));
	assert_false(nat_forward_reply(&nat, VSI_IP, 80, REM_IP, 5556, T0));
	assert_false(nat_forward_reply(&nat, VSI_IP, 81, REM_IP, 5555, T0));
	assert_false(nat_forward_reply(&nat, VSI2_IP, 80, REM_IP, 5555, T0));
	assert_false(
	    nat_forward_reply(&nat, VSI_IP, 80, REM_IP, 5555, T0 + NAT_TIMEOUT_TCP_TRANS_MS));
	/* an outbound connection is no forward's answer */
	assert_int_equal(out(IP_PROTO_TCP, VSI_IP, 3000, REM_IP, 443, TCP_SYN, T0), 20000);
	assert_false(nat_forward_reply(&nat, VSI_IP, 3000, REM_IP, 443, T0));
}

static void test_malformed(void **state)
{
	size_t n = fr_ipv4(pkt, IP_PROTO_UDP, VSI_IP, 1, REM_IP, 2, 0, 0);

	(void)state;
	assert_int_equal(nat_outbound(&nat, pkt, 19, T0), -EBADMSG);
	assert_int_equal(nat_outbound(&nat, pkt, n - 1, T0), -EBADMSG); /* tot_len past the end */
	pkt[10] ^= 1;
	assert_int_equal(nat_outbound(&nat, pkt, n, T0), -EBADMSG); /* header checksum */
	n = fr_ipv4(pkt, IP_PROTO_TCP, VSI_IP, 1, REM_IP, 2, TCP_SYN, 0);
	pkt[3] = 39;
	inet_csum_update16(pkt + 10, 40, 39);
	assert_int_equal(nat_outbound(&nat, pkt, n, T0), -EBADMSG); /* TCP header cut */
	n = fr_ipv4(pkt, IP_PROTO_UDP, VSI_IP, 1, REM_IP, 2, 0, 0);
	pkt[0] = 0x65;
	assert_int_equal(nat_outbound(&nat, pkt, n, T0), -EBADMSG);
	assert_int_equal(nat.stats.malformed, 5);
	n = fr_ipv4(pkt, IP_PROTO_UDP, VSI_IP, 1, REM_IP, 2, 0, 0);
	inet_csum_update16(pkt + 10, get16(pkt + 6), IP_FLAG_MF);
	pkt[6] = IP_FLAG_MF >> 8;
	assert_int_equal(nat_outbound(&nat, pkt, n, T0), -ENOTSUP);
	n = fr_ipv4(pkt, 47, VSI_IP, 1, REM_IP, 2, 0, 0); /* GRE */
	assert_int_equal(nat_outbound(&nat, pkt, n, T0), -ENOTSUP);
	assert_int_equal(nat.stats.unsupported, 2);
	n = fr_ipv4(pkt, IP_PROTO_UDP, VSI_IP, 1, REM_IP, 2, 0, 0);
	inet_csum_update16(pkt + 10, 64 << 8 | IP_PROTO_UDP, 1 << 8 | IP_PROTO_UDP);
	pkt[8] = 1;
	assert_int_equal(nat_outbound(&nat, pkt, n, T0), -ETIMEDOUT);
	assert_int_equal(nat.stats.ttl_expired, 1);
}

/* Random addresses, ports, lengths: every rewrite verified from scratch, UDP "none" kept. */
static void test_checksums_random(void **state)
{
	(void)state;
	srand(7);
	nat_init(&nat, OUT_IP, 1024, 65535);
	for (int i = 0; i < 2000; i++) {
		u8 proto = (u8[]){ IP_PROTO_TCP, IP_PROTO_UDP, IP_PROTO_ICMP }[i % 3];
		u32 src = (u32)rand() ^ (u32)rand() << 16, dst = (u32)rand() ^ (u32)rand() << 16;
		size_t n = fr_ipv4(pkt, proto, src, (u16)rand(), dst, (u16)rand(), TCP_SYN,
				   (size_t)rand() % 200);
		bool none = proto == IP_PROTO_UDP && (i & 8);

		if (none)
			pkt[26] = pkt[27] = 0;
		assert_int_equal(nat_outbound(&nat, pkt, n, T0 + (u64)i * NAT_TIMEOUT_UDP_MS), 0);
		assert_true(fr_ipv4_csums_ok(pkt, n));
		if (none)
			assert_int_equal(get16(pkt + 26), 0);
	}
}

/* RFC 768: a UDP checksum that comes out 0 is sent as 0xffff, never as "none". */
static void test_udp_zero_sum(void **state)
{
	u32 ones = 0;

	(void)state;
	for (u32 dport = 0; dport <= 0xffff; dport++) {
		size_t n = fr_ipv4(pkt, IP_PROTO_UDP, VSI_IP, 1000, REM_IP, (u16)dport, 0, 3);

		nat_init(&nat, OUT_IP, 40000, 40000);
		assert_int_equal(nat_outbound(&nat, pkt, n, T0), 0);
		assert_int_not_equal(get16(pkt + 26), 0);
		ones += get16(pkt + 26) == 0xffff;
	}
	assert_int_not_equal(ones, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_udp_both_ways, setup),
		cmocka_unit_test_setup(test_icmp_echo, setup),
		cmocka_unit_test_setup(test_tcp_states_and_timeouts, setup),
		cmocka_unit_test_setup(test_port_reuse_after_timeout, setup),
		cmocka_unit_test_setup(test_ports_exhausted, setup),
		cmocka_unit_test_setup(test_table_full, setup),
		cmocka_unit_test_setup(test_forward, setup),
		cmocka_unit_test_setup(test_forward_retarget, setup),
		cmocka_unit_test_setup(test_malformed, setup),
		cmocka_unit_test_setup(test_checksums_random, setup),
		cmocka_unit_test_setup(test_udp_zero_sum, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

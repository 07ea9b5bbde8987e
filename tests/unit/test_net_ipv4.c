/*
 * IPv4 input and output (kernel/net/ipv4.c) and ICMP echo: the checksum,
 * header and length checks, fragments, destinations and sources that are
 * not ours, and the content of an echo reply.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "host_log.h"
#include "test_net_fixture.h"

static u8 buf[2048];
static u8 icmp[128];

static int setup(void **state)
{
	(void)state;
	net_test_setup(true);
	learn(PEER_IP, peer_mac, 0);
	nic_clear();
	host_log_clear();
	return 0;
}

/* An echo request with len bytes of data into icmp[]; returns the ICMP length. */
static size_t make_echo(size_t len)
{
	u16 csum;

	memset(icmp, 0, sizeof(icmp));
	icmp[0] = ICMP_ECHO;
	icmp[4] = 0xbe; /* identifier */
	icmp[5] = 0xef;
	icmp[7] = 0x07; /* sequence number */
	for (size_t i = 0; i < len; i++)
		icmp[ICMP_HLEN + i] = (u8)(i * 7 + 3);
	csum = inet_fold(inet_sum(0, icmp, ICMP_HLEN + len));
	icmp[2] = (u8)(csum >> 8);
	icmp[3] = (u8)csum;
	return ICMP_HLEN + len;
}

/* A valid echo request frame from PEER_IP to dst in buf; returns its length. */
static size_t echo_frame(u32 dst)
{
	return build_ip(buf, PEER_IP, dst, IP_PROTO_ICMP, icmp, make_echo(40));
}

static struct ip_hdr *ip_of(void)
{
	return (struct ip_hdr *)(buf + ETH_HLEN);
}

static void fix_ip_checksum(void)
{
	struct ip_hdr *ih = ip_of();
	size_t hlen = (ih->ver_ihl & 0xf) * 4;

	ih->csum = 0;
	ih->csum = cpu_to_be16(inet_fold(inet_sum(0, ih, hlen)));
}

static void test_checksum_rfc1071(void **state)
{
	/* RFC 1071 4.1's example: the sum of these bytes is 0xddf2. */
	const u8 bytes[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	const u8 odd[] = { 0x12, 0x34, 0x56 };

	(void)state;
	assert_int_equal(inet_fold(inet_sum(0, bytes, sizeof(bytes))), (u16)~0xddf2);
	/* An odd byte is padded with zero on the right. */
	assert_int_equal(inet_fold(inet_sum(0, odd, sizeof(odd))), (u16) ~(0x1234 + 0x5600));
	/* Carries wrap around. */
	assert_int_equal(inet_fold(0x0001ffff), (u16)~0x0001);
	assert_int_equal(inet_fold(inet_sum(0xffffffff, odd, 2)),
			 (u16) ~(0xffff + 0x1234 - 0xffff));
	assert_int_equal(inet_pseudo_sum(0x0a000002, 0x0a000005, 6, 20),
			 0x0a00 + 0x0002 + 0x0a00 + 0x0005 + 6 + 20);
}

static void test_echo_reply(void **state)
{
	struct parsed p;
	size_t n = echo_frame(OUR_IP);

	(void)state;
	inject(buf, n, 1);
	assert_int_equal(nic.nr, 1);
	parse_frame(0, &p);
	assert_memory_equal(p.eth->dst, peer_mac, ETH_ALEN);
	assert_int_equal(be32_to_cpu(p.ip->src), OUR_IP);
	assert_int_equal(be32_to_cpu(p.ip->dst), PEER_IP);
	assert_int_equal(p.ip->proto, IP_PROTO_ICMP);
	assert_non_null(p.icmp);
	assert_int_equal(p.data_len, ICMP_HLEN + 40);
	assert_int_equal(p.icmp->type, ICMP_ECHO_REPLY);
	assert_int_equal(p.icmp->code, 0);
	/* Identifier, sequence number and data come back unchanged (RFC 792). */
	assert_memory_equal(p.data + 4, icmp + 4, ICMP_HLEN - 4 + 40);
	assert_int_equal(stack.stats.icmp_echo_replied, 1);
}

static void test_padded_frame_and_options(void **state)
{
	size_t n = echo_frame(OUR_IP);
	struct ip_hdr *ih = ip_of();
	u8 opts[4] = { 1, 1, 1, 0 }; /* NOP NOP NOP EOL */

	(void)state;
	/* Ethernet padding after the datagram is ignored. */
	memset(buf + n, 0xee, 20);
	inject(buf, n + 20, 1);
	assert_int_equal(stack.stats.icmp_echo_replied, 1);
	/* A header with options (IHL 6) is accepted, the options skipped. */
	memmove(buf + ETH_HLEN + IP_HLEN + 4, buf + ETH_HLEN + IP_HLEN, n - ETH_HLEN - IP_HLEN);
	memcpy(buf + ETH_HLEN + IP_HLEN, opts, 4);
	ih->ver_ihl = 0x46;
	ih->tot_len = cpu_to_be16((u16)(be16_to_cpu(ih->tot_len) + 4));
	fix_ip_checksum();
	inject(buf, n + 4, 2);
	assert_int_equal(stack.stats.icmp_echo_replied, 2);
}

static void test_bad_headers(void **state)
{
	size_t n = echo_frame(OUR_IP);
	struct ip_hdr *ih = ip_of();

	(void)state;
	inject(buf, ETH_HLEN + 19, 1);
	assert_int_equal(stack.stats.ip_short, 1);
	ih->ver_ihl = 0x65;
	fix_ip_checksum();
	inject(buf, n, 1);
	assert_int_equal(stack.stats.ip_bad_version, 1);
	ih->ver_ihl = 0x44; /* IHL below 5 */
	fix_ip_checksum();
	inject(buf, n, 1);
	ih->ver_ihl = 0x4f; /* 60 bytes of header in a 20-byte datagram */
	inject(buf, ETH_HLEN + 40, 1);
	assert_int_equal(stack.stats.ip_bad_hlen, 2);
	ih->ver_ihl = 0x45;
	fix_ip_checksum();
	ih->csum ^= cpu_to_be16(0x0100);
	inject(buf, n, 1);
	assert_int_equal(stack.stats.ip_bad_checksum, 1);
	assert_int_equal(nic.nr, 0);
}

static void test_bad_lengths(void **state)
{
	size_t n = echo_frame(OUR_IP);
	struct ip_hdr *ih = ip_of();
	u16 tot = be16_to_cpu(ih->tot_len);

	(void)state;
	/* Longer than the frame: the datagram was cut. */
	ih->tot_len = cpu_to_be16(tot + 1);
	fix_ip_checksum();
	inject(buf, n, 1);
	/* Shorter than its own header. */
	ih->tot_len = cpu_to_be16(19);
	fix_ip_checksum();
	inject(buf, n, 1);
	/* Larger than the MTU even with a frame to match. */
	ih->tot_len = cpu_to_be16(ETH_MTU + 1);
	fix_ip_checksum();
	inject(buf, ETH_HLEN + ETH_MTU + 1, 1);
	assert_int_equal(stack.stats.ip_bad_len, 3);
	/* Shorter than the frame is fine but cuts the ICMP message: its checksum fails. */
	ih->tot_len = cpu_to_be16(tot - 2);
	fix_ip_checksum();
	inject(buf, n, 1);
	assert_int_equal(stack.stats.icmp_bad_checksum, 1);
	ih->tot_len = cpu_to_be16(IP_HLEN + 4);
	fix_ip_checksum();
	inject(buf, n, 1);
	assert_int_equal(stack.stats.icmp_short, 1);
	assert_int_equal(nic.nr, 0);
}

static void test_fragments_dropped(void **state)
{
	size_t n = echo_frame(OUR_IP);
	struct ip_hdr *ih = ip_of();

	(void)state;
	ih->frag_off = cpu_to_be16(IP_FLAG_MF);
	fix_ip_checksum();
	inject(buf, n, 1);
	ih->frag_off = cpu_to_be16(185); /* a later fragment */
	fix_ip_checksum();
	inject(buf, n, 1);
	ih->frag_off = cpu_to_be16(IP_FLAG_DF); /* DF alone is a whole datagram */
	fix_ip_checksum();
	inject(buf, n, 1);
	assert_int_equal(stack.stats.ip_fragments, 2);
	assert_int_equal(stack.stats.icmp_echo_replied, 1);
}

static void test_wrong_destination(void **state)
{
	(void)state;
	inject(buf, echo_frame(IPV4(10, 0, 0, 9)), 1);
	inject(buf, echo_frame(IPV4(224, 0, 0, 1)), 1);
	assert_int_equal(stack.stats.ip_not_for_us, 2);
	/* Broadcast is ours, but echo to broadcast is ignored (RFC 1122 3.2.2.6). */
	inject(buf, echo_frame(IPV4(10, 0, 0, 255)), 1);
	inject(buf, echo_frame(IPV4_BROADCAST), 1);
	assert_int_equal(stack.stats.icmp_ignored, 2);
	assert_int_equal(nic.nr, 0);
}

static void test_bad_sources(void **state)
{
	const u32 bad[] = {
		0,     IPV4_BROADCAST, IPV4(10, 0, 0, 255), IPV4(224, 1, 2, 3), IPV4(127, 0, 0, 1),
		OUR_IP
	};

	(void)state;
	for (u32 i = 0; i < ARRAY_SIZE(bad); i++)
		inject(buf, build_ip(buf, bad[i], OUR_IP, IP_PROTO_ICMP, icmp, make_echo(8)), 1);
	assert_int_equal(stack.stats.ip_bad_src, ARRAY_SIZE(bad));
	assert_int_equal(nic.nr, 0);
}

static void test_other_protocols(void **state)
{
	(void)state;
	make_echo(8);
	inject(buf, build_ip(buf, PEER_IP, OUR_IP, 47 /* GRE */, icmp, 16), 1);
	assert_int_equal(stack.stats.ip_unknown_proto, 1);
	icmp[0] = 13; /* timestamp request */
	icmp[2] = icmp[3] = 0;
	{
		u16 csum = inet_fold(inet_sum(0, icmp, 16));

		icmp[2] = (u8)(csum >> 8);
		icmp[3] = (u8)csum;
	}
	inject(buf, build_ip(buf, PEER_IP, OUR_IP, IP_PROTO_ICMP, icmp, 16), 1);
	assert_int_equal(stack.stats.icmp_ignored, 1);
	assert_int_equal(nic.nr, 0);
}

static void test_unconfigured_only_udp(void **state)
{
	(void)state;
	net_test_setup(false);
	inject(buf, echo_frame(OUR_IP), 1);
	assert_int_equal(stack.stats.ip_not_for_us, 1);
	assert_int_equal(nic.nr, 0);
}

static void test_ip_ids_differ(void **state)
{
	struct parsed a, b;

	(void)state;
	inject(buf, echo_frame(OUR_IP), 1);
	inject(buf, echo_frame(OUR_IP), 2);
	assert_int_equal(nic.nr, 2);
	parse_frame(0, &a);
	parse_frame(1, &b);
	assert_int_not_equal(a.ip->id, b.ip->id);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_checksum_rfc1071, setup),
		cmocka_unit_test_setup(test_echo_reply, setup),
		cmocka_unit_test_setup(test_padded_frame_and_options, setup),
		cmocka_unit_test_setup(test_bad_headers, setup),
		cmocka_unit_test_setup(test_bad_lengths, setup),
		cmocka_unit_test_setup(test_fragments_dropped, setup),
		cmocka_unit_test_setup(test_wrong_destination, setup),
		cmocka_unit_test_setup(test_bad_sources, setup),
		cmocka_unit_test_setup(test_other_protocols, setup),
		cmocka_unit_test_setup(test_unconfigured_only_udp, setup),
		cmocka_unit_test_setup(test_ip_ids_differ, setup),
	};

	return cmocka_run_group_tests_name("net_ipv4", tests, NULL, NULL);
}

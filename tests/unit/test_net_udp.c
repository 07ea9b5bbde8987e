/* UDP (kernel/net/udp.c): lengths, the checksum and its optional zero, ports. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "host_log.h"
#include "test_net_fixture.h"

static u8 buf[ETH_FRAME_MAX];
static u8 payload[300];

static int setup(void **state)
{
	(void)state;
	net_test_setup(true);
	host_log_clear();
	memset(payload, 0x5a, sizeof(payload));
	return 0;
}

static struct udp_hdr *udp_of(void)
{
	return (struct udp_hdr *)(buf + ETH_HLEN + IP_HLEN);
}

static void test_good_checksum_reaches_port(void **state)
{
	(void)state;
	/* Port 68 reaches DHCP, which is off: counted there, not as a UDP error. */
	inject(buf, build_udp(buf, PEER_IP, OUR_IP, 67, 68, payload, sizeof(payload)), 1);
	assert_int_equal(stack.stats.dhcp_ignored, 1);
	assert_int_equal(stack.stats.udp_bad_checksum, 0);
}

static void test_bad_checksum(void **state)
{
	size_t n = build_udp(buf, PEER_IP, OUR_IP, 67, 68, payload, sizeof(payload));

	(void)state;
	buf[n - 1] ^= 1;
	inject(buf, n, 1);
	assert_int_equal(stack.stats.udp_bad_checksum, 1);
	assert_int_equal(stack.stats.dhcp_ignored, 0);
}

static void test_zero_checksum_means_none(void **state)
{
	size_t n = build_udp(buf, PEER_IP, OUR_IP, 67, 68, payload, sizeof(payload));

	(void)state;
	udp_of()->csum = 0;
	buf[n - 1] ^= 1; /* unchecked */
	inject(buf, n, 1);
	assert_int_equal(stack.stats.udp_bad_checksum, 0);
	assert_int_equal(stack.stats.dhcp_ignored, 1);
}

static void test_pseudo_header_covered(void **state)
{
	/* Built for another source: the pseudo-header makes the checksum wrong. */
	size_t n = build_udp(buf, IPV4(10, 0, 0, 6), OUR_IP, 67, 68, payload, 20);
	struct ip_hdr *ih = (struct ip_hdr *)(buf + ETH_HLEN);

	(void)state;
	ih->src = cpu_to_be32(PEER_IP);
	ih->csum = 0;
	ih->csum = cpu_to_be16(inet_fold(inet_sum(0, ih, IP_HLEN)));
	inject(buf, n, 1);
	assert_int_equal(stack.stats.udp_bad_checksum, 1);
}

static void test_bad_lengths(void **state)
{
	size_t n;

	(void)state;
	n = build_ip(buf, PEER_IP, OUR_IP, IP_PROTO_UDP, payload, 7);
	inject(buf, n, 1);
	assert_int_equal(stack.stats.udp_short, 1);
	n = build_udp(buf, PEER_IP, OUR_IP, 67, 68, payload, 20);
	udp_of()->len = cpu_to_be16(29); /* beyond the datagram */
	inject(buf, n, 1);
	udp_of()->len = cpu_to_be16(7); /* shorter than the header */
	inject(buf, n, 1);
	assert_int_equal(stack.stats.udp_bad_len, 2);
}

static void test_unknown_port(void **state)
{
	(void)state;
	inject(buf, build_udp(buf, PEER_IP, OUR_IP, 5000, 53, payload, 10), 1);
	/* Port 68 from anything but 67 is not DHCP. */
	inject(buf, build_udp(buf, PEER_IP, OUR_IP, 1067, 68, payload, 10), 1);
	assert_int_equal(stack.stats.udp_no_port, 2);
	assert_int_equal(nic.nr, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_good_checksum_reaches_port, setup),
		cmocka_unit_test_setup(test_bad_checksum, setup),
		cmocka_unit_test_setup(test_zero_checksum_means_none, setup),
		cmocka_unit_test_setup(test_pseudo_header_covered, setup),
		cmocka_unit_test_setup(test_bad_lengths, setup),
		cmocka_unit_test_setup(test_unknown_port, setup),
	};

	return cmocka_run_group_tests_name("net_udp", tests, NULL, NULL);
}

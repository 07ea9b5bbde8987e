/*
 * ARP (kernel/net/arp.c) and Ethernet input: replies to requests for our
 * address, learning, resolution with retries and a bounded wait queue,
 * expiry and refresh of cache entries, malformed packets.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "host_log.h"
#include "test_net_fixture.h"

static u8 buf[ETH_FRAME_MAX];

static int setup(void **state)
{
	(void)state;
	net_test_setup(true);
	host_log_clear();
	return 0;
}

/* An echo request from src, so the stack has something to send back to it. */
static void ping_from(u32 src, u64 now)
{
	u8 icmp[ICMP_HLEN + 4] = { ICMP_ECHO, 0, 0, 0, 0, 1, 0, 1, 'p', 'i', 'n', 'g' };
	u16 csum = inet_fold(inet_sum(0, icmp, sizeof(icmp)));

	icmp[2] = (u8)(csum >> 8);
	icmp[3] = (u8)csum;
	inject(buf, build_ip(buf, src, OUR_IP, IP_PROTO_ICMP, icmp, sizeof(icmp)), now);
}

static void expect_arp_request(u32 i, u32 target, const u8 *dst)
{
	struct parsed p;

	parse_frame(i, &p);
	assert_non_null(p.arp);
	assert_memory_equal(p.eth->dst, dst, ETH_ALEN);
	assert_int_equal(be16_to_cpu(p.arp->op), ARP_OP_REQUEST);
	assert_int_equal(be16_to_cpu(p.arp->hrd), ARP_HRD_ETHER);
	assert_int_equal(be16_to_cpu(p.arp->pro), ETH_P_IP);
	assert_memory_equal(p.arp->sha, our_mac, ETH_ALEN);
	assert_int_equal(be32_to_cpu(p.arp->spa), OUR_IP);
	assert_int_equal(be32_to_cpu(p.arp->tpa), target);
}

static void test_reply_to_request(void **state)
{
	const u8 zero[ETH_ALEN] = { 0 };
	struct parsed p;

	(void)state;
	inject(buf, build_arp(buf, bcast_mac, ARP_OP_REQUEST, peer_mac, PEER_IP, zero, OUR_IP), 0);
	assert_int_equal(nic.nr, 1);
	assert_int_equal(nic.frames[0].len, ETH_ZLEN);
	parse_frame(0, &p);
	assert_non_null(p.arp);
	assert_memory_equal(p.eth->dst, peer_mac, ETH_ALEN);
	assert_int_equal(be16_to_cpu(p.arp->op), ARP_OP_REPLY);
	assert_memory_equal(p.arp->sha, our_mac, ETH_ALEN);
	assert_int_equal(be32_to_cpu(p.arp->spa), OUR_IP);
	assert_memory_equal(p.arp->tha, peer_mac, ETH_ALEN);
	assert_int_equal(be32_to_cpu(p.arp->tpa), PEER_IP);
	assert_int_equal(stack.stats.arp_replies_sent, 1);

	/* The requester was learnt: an echo reply goes straight to it. */
	nic_clear();
	ping_from(PEER_IP, 10);
	assert_int_equal(nic.nr, 1);
	parse_frame(0, &p);
	assert_non_null(p.icmp);
	assert_memory_equal(p.eth->dst, peer_mac, ETH_ALEN);
}

static void test_request_for_other_ignored(void **state)
{
	const u8 zero[ETH_ALEN] = { 0 };

	(void)state;
	inject(
	    buf,
	    build_arp(buf, bcast_mac, ARP_OP_REQUEST, peer_mac, PEER_IP, zero, IPV4(10, 0, 0, 77)),
	    0);
	assert_int_equal(nic.nr, 0);
	assert_int_equal(stack.stats.arp_not_for_us, 1);
	/* Nor was the sender added to the cache (RFC 826: only if we are the target). */
	ping_from(PEER_IP, 10);
	expect_arp_request(0, PEER_IP, bcast_mac);
}

static void test_resolve_queue_and_flush(void **state)
{
	struct parsed p;

	(void)state;
	ping_from(PEER_IP, 0);
	ping_from(PEER_IP, 1);
	/* One request; both replies wait. */
	assert_int_equal(nic.nr, 1);
	expect_arp_request(0, PEER_IP, bcast_mac);
	assert_int_equal(stack.stats.arp_queued, 2);
	learn(PEER_IP, peer_mac, 5);
	assert_int_equal(nic.nr, 3);
	for (u32 i = 1; i < 3; i++) {
		parse_frame(i, &p);
		assert_non_null(p.icmp);
		assert_memory_equal(p.eth->dst, peer_mac, ETH_ALEN);
		assert_int_equal(p.icmp->type, ICMP_ECHO_REPLY);
	}
	assert_int_equal(stack.nr_arpq, 0);
	assert_int_equal(stack.stats.arp_replies_received, 1);
}

static void test_retry_then_give_up(void **state)
{
	(void)state;
	ping_from(PEER_IP, 0);
	assert_int_equal(nic.nr, 1);
	net_poll(&stack, 999);
	assert_int_equal(nic.nr, 1);
	net_poll(&stack, 1000);
	assert_int_equal(nic.nr, 2);
	expect_arp_request(1, PEER_IP, bcast_mac);
	net_poll(&stack, 1500);
	assert_int_equal(nic.nr, 2);
	net_poll(&stack, 2000);
	assert_int_equal(nic.nr, 3);
	assert_int_equal(stack.stats.arp_unresolved, 0);
	/* Three tries, one second apart: then the queued reply is dropped. */
	net_poll(&stack, 3000);
	assert_int_equal(nic.nr, 3);
	assert_int_equal(stack.stats.arp_unresolved, 1);
	assert_int_equal(stack.nr_arpq, 0);
	/* A late reply finds nothing to send. */
	learn(PEER_IP, peer_mac, 3100);
	assert_int_equal(nic.nr, 3);
}

static void test_queue_bounded(void **state)
{
	(void)state;
	for (u32 i = 0; i < NET_ARP_QUEUE + 3; i++)
		ping_from(PEER_IP, i);
	assert_int_equal(stack.nr_arpq, NET_ARP_QUEUE);
	assert_int_equal(stack.stats.arp_queue_full, 3);
	assert_int_equal(stack.stats.arp_requests_sent, 1);
	learn(PEER_IP, peer_mac, 20);
	assert_int_equal(nic.nr, 1 + NET_ARP_QUEUE);
}

static void test_busy_driver_keeps_queue(void **state)
{
	(void)state;
	ping_from(PEER_IP, 0);
	nic.busy = 1;
	learn(PEER_IP, peer_mac, 5);
	assert_int_equal(nic.nr, 1);
	assert_int_equal(stack.nr_arpq, 1);
	assert_int_equal(stack.stats.tx_busy, 1);
	net_poll(&stack, 6);
	assert_int_equal(nic.nr, 2);
	assert_int_equal(stack.nr_arpq, 0);
}

static void test_expiry_and_refresh(void **state)
{
	(void)state;
	learn(PEER_IP, peer_mac, 0);
	/* Used shortly before expiry: sent at once, and a unicast refresh goes out. */
	ping_from(PEER_IP, ARP_TTL_MS - ARP_REFRESH_MS - 1);
	assert_int_equal(nic.nr, 1);
	ping_from(PEER_IP, ARP_TTL_MS - ARP_REFRESH_MS);
	assert_int_equal(nic.nr, 3);
	expect_arp_request(1, PEER_IP, peer_mac);
	learn(PEER_IP, peer_mac, ARP_TTL_MS - ARP_REFRESH_MS + 10);
	/* The refresh extended the entry past the first deadline. */
	nic_clear();
	net_poll(&stack, ARP_TTL_MS + 1);
	ping_from(PEER_IP, ARP_TTL_MS + 2);
	assert_int_equal(nic.nr, 1);
	assert_int_equal(((const struct eth_hdr *)nic.frames[0].data)->type, cpu_to_be16(ETH_P_IP));

	/* Unused, it expires: the next use asks again. */
	nic_clear();
	net_poll(&stack, 2 * ARP_TTL_MS);
	ping_from(PEER_IP, 2 * ARP_TTL_MS + 1);
	assert_int_equal(nic.nr, 1);
	expect_arp_request(0, PEER_IP, bcast_mac);
}

static void test_off_subnet_uses_gateway(void **state)
{
	struct parsed p;

	(void)state;
	ping_from(FAR_IP, 0);
	expect_arp_request(0, GW_IP, bcast_mac);
	learn(GW_IP, gw_mac, 1);
	assert_int_equal(nic.nr, 2);
	parse_frame(1, &p);
	assert_memory_equal(p.eth->dst, gw_mac, ETH_ALEN);
	assert_int_equal(be32_to_cpu(p.ip->dst), FAR_IP);

	/* Without a gateway there is no route. */
	net_config_static(&stack, OUR_IP, NETMASK, 0);
	nic_clear();
	ping_from(FAR_IP, 2);
	assert_int_equal(nic.nr, 0);
	assert_int_equal(stack.stats.ip_no_route, 1);
}

static void test_malformed(void **state)
{
	const u8 zero[ETH_ALEN] = { 0 };
	const u8 mcast[ETH_ALEN] = { 0x01, 0, 0x5e, 0, 0, 1 };
	size_t len;

	(void)state;
	len = build_arp(buf, bcast_mac, ARP_OP_REQUEST, peer_mac, PEER_IP, zero, OUR_IP);
	inject(buf, ETH_HLEN + 27, 0);
	assert_int_equal(stack.stats.arp_short, 1);
	buf[ETH_HLEN + 4] = 8; /* hln */
	inject(buf, len, 0);
	buf[ETH_HLEN + 4] = 6;
	buf[ETH_HLEN + 7] = 9; /* op */
	inject(buf, len, 0);
	buf[ETH_HLEN + 7] = ARP_OP_REQUEST;
	buf[ETH_HLEN + 2] = 0x86; /* protocol: IPv6 */
	inject(buf, len, 0);
	assert_int_equal(stack.stats.arp_bad_format, 3);
	/* Senders that must never be learnt. */
	inject(buf, build_arp(buf, bcast_mac, ARP_OP_REPLY, mcast, PEER_IP, our_mac, OUR_IP), 0);
	inject(buf, build_arp(buf, bcast_mac, ARP_OP_REPLY, peer_mac, OUR_IP, our_mac, OUR_IP), 0);
	assert_int_equal(stack.stats.arp_bad_sender, 2);
	assert_int_equal(nic.nr, 0);
	/* Ethernet: runt, someone else's unicast, unknown type. */
	inject(buf, 13, 0);
	memcpy(buf, peer_mac, ETH_ALEN);
	inject(buf, len, 0);
	memcpy(buf, our_mac, ETH_ALEN);
	buf[12] = 0x81; /* 802.1Q */
	buf[13] = 0x00;
	inject(buf, len, 0);
	assert_int_equal(stack.stats.eth_short, 1);
	assert_int_equal(stack.stats.eth_not_for_us, 1);
	assert_int_equal(stack.stats.eth_unknown_type, 1);
	assert_int_equal(nic.nr, 0);
}

static void test_probe_answered_not_learnt(void **state)
{
	const u8 zero[ETH_ALEN] = { 0 };

	(void)state;
	/* RFC 5227 probe: sender 0.0.0.0. */
	inject(buf, build_arp(buf, bcast_mac, ARP_OP_REQUEST, peer_mac, 0, zero, OUR_IP), 0);
	assert_int_equal(nic.nr, 1);
	for (u32 i = 0; i < NET_ARP_ENTRIES; i++)
		assert_int_equal(stack.arp[i].state, ARP_FREE);
}

static void test_unconfigured_ignores_arp(void **state)
{
	const u8 zero[ETH_ALEN] = { 0 };

	(void)state;
	net_test_setup(false);
	inject(buf, build_arp(buf, bcast_mac, ARP_OP_REQUEST, peer_mac, PEER_IP, zero, 0), 0);
	assert_int_equal(nic.nr, 0);
	assert_int_equal(stack.stats.arp_not_for_us, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_reply_to_request, setup),
		cmocka_unit_test_setup(test_request_for_other_ignored, setup),
		cmocka_unit_test_setup(test_resolve_queue_and_flush, setup),
		cmocka_unit_test_setup(test_retry_then_give_up, setup),
		cmocka_unit_test_setup(test_queue_bounded, setup),
		cmocka_unit_test_setup(test_busy_driver_keeps_queue, setup),
		cmocka_unit_test_setup(test_expiry_and_refresh, setup),
		cmocka_unit_test_setup(test_off_subnet_uses_gateway, setup),
		cmocka_unit_test_setup(test_malformed, setup),
		cmocka_unit_test_setup(test_probe_answered_not_learnt, setup),
		cmocka_unit_test_setup(test_unconfigured_ignores_arp, setup),
	};

	return cmocka_run_group_tests_name("net_arp", tests, NULL, NULL);
}

/*
 * The switch (kernel/switch/switch.c, classify.c): each port policy (forged
 * MAC, forged IPv4, ARP for others, tags, EtherTypes), broadcast containment
 * between networks, storage-bound drops, unknown unicast never reaching a
 * VSI, the bounded MAC table, the classifier's length checks and counters.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <hv/errno.h>
#include <hv/switch.h>

#include "switch_frames.h"

#define HOST_IP	   IPV4(192, 168, 1, 2)
#define STORAGE_IP IPV4(192, 168, 1, 10)
#define LAN_IP	   IPV4(192, 168, 1, 50)
#define A_IP	   IPV4(192, 168, 1, 77)
#define GW_IP	   IPV4(10, 0, 2, 2)
#define B_IP	   IPV4(10, 0, 2, 15)
#define C_IP	   IPV4(10, 0, 2, 16)
#define D_IP	   IPV4(10, 9, 0, 2)
#define FWD_PORT   8080

enum {
	P_UPLINK,
	P_HOST,
	P_A,
	P_GW,
	P_B,
	P_C,
	P_D,
	P_E,
	P_COUNT
};

static const u8 bcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const u8 mac_lan[ETH_ALEN] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55 };
static const u8 mac_host[ETH_ALEN] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x01 };
static const u8 mac_gw[ETH_ALEN] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x02 };
static const u8 mac_vsi[P_COUNT][ETH_ALEN] = {
	[P_A] = { 0x52, 0x54, 0x00, 0xaa, 0, 0x0a }, [P_B] = { 0x52, 0x54, 0x00, 0xaa, 0, 0x0b },
	[P_C] = { 0x52, 0x54, 0x00, 0xaa, 0, 0x0c }, [P_D] = { 0x52, 0x54, 0x00, 0xaa, 0, 0x0d },
	[P_E] = { 0x52, 0x54, 0x00, 0xaa, 0, 0x0e },
};

static struct sw_switch sw;
static struct sw_decision d;
static u8 fr[ETH_FRAME_MAX + 4];

static void add(enum sw_port_kind kind, enum sw_mode mode, u16 net, int vsi, u32 ip)
{
	struct sw_policy p = { .kind = kind, .mode = mode, .network = net, .ip = ip, .up = true };
	u32 n = sw.nports;

	if (vsi >= 0)
		memcpy(p.mac, mac_vsi[vsi], ETH_ALEN);
	assert_int_equal(sw_add_port(&sw, &p), (int)n);
}

/* uplink, host (net 0); A bridged (net 0); gateway, B, C nat (net 1); D, E internal (net 2). */
static int setup(void **state)
{
	(void)state;
	sw_init(&sw, HOST_IP);
	add(SW_PORT_UPLINK, SW_MODE_BRIDGED, 0, -1, 0);
	add(SW_PORT_HOST, SW_MODE_BRIDGED, 0, -1, 0);
	add(SW_PORT_VSI, SW_MODE_BRIDGED, 0, P_A, 0);
	add(SW_PORT_HOST, SW_MODE_NAT, 1, -1, 0);
	add(SW_PORT_VSI, SW_MODE_NAT, 1, P_B, B_IP);
	add(SW_PORT_VSI, SW_MODE_NAT, 1, P_C, C_IP);
	add(SW_PORT_VSI, SW_MODE_INTERNAL, 2, P_D, D_IP);
	add(SW_PORT_VSI, SW_MODE_INTERNAL, 2, P_E, IPV4(10, 9, 0, 3));
	assert_int_equal(sw_add_storage(&sw, STORAGE_IP), 0);
	assert_int_equal(sw_add_host_fwd(&sw, FWD_PORT), 0);
	return 0;
}

static u32 in(u32 port, size_t len)
{
	return sw_ingress(&sw, port, fr, len, 1000, &d);
}

static u32 udp(u32 port, const u8 *dst, const u8 *src, u32 sip, u32 dip)
{
	return in(port, fr_eth_ipv4(fr, dst, src, IP_PROTO_UDP, sip, 1234, dip, 53, 10));
}

static void test_forged_mac(void **state)
{
	(void)state;
	assert_int_equal(udp(P_B, mac_gw, mac_vsi[P_C], B_IP, LAN_IP), 0);
	assert_int_equal(d.reason, SW_DROP_SPOOFED);
	assert_int_equal(udp(P_A, mac_lan, mac_host, A_IP, LAN_IP), 0);
	assert_int_equal(d.reason, SW_DROP_SPOOFED);
	assert_int_equal(sw.ports[P_B].in[SW_DROP_SPOOFED], 1);
	assert_int_equal(sw.ports[P_A].in[SW_DROP_SPOOFED], 1);
	/* the LAN cannot claim a VSI's MAC either */
	assert_int_equal(udp(P_UPLINK, bcast, mac_vsi[P_A], LAN_IP, A_IP), 0);
	assert_int_equal(d.reason, SW_DROP_SPOOFED);
}

static void test_forged_ip(void **state)
{
	(void)state;
	assert_int_equal(udp(P_B, mac_gw, mac_vsi[P_B], C_IP, LAN_IP), 0);
	assert_int_equal(d.reason, SW_DROP_SPOOFED);
	/* its own address goes to the gateway only (unknown unicast: never to a VSI) */
	assert_int_equal(udp(P_B, mac_gw, mac_vsi[P_B], B_IP, LAN_IP), 1);
	assert_int_equal(d.out_mask, 1u << P_GW);
	/* bridged: any address but a storage server's or the hypervisor's */
	assert_int_equal(udp(P_A, mac_lan, mac_vsi[P_A], IPV4(1, 2, 3, 4), LAN_IP), 2);
	assert_int_equal(udp(P_A, mac_lan, mac_vsi[P_A], HOST_IP, LAN_IP), 0);
	assert_int_equal(d.reason, SW_DROP_SPOOFED);
	assert_int_equal(udp(P_A, mac_lan, mac_vsi[P_A], STORAGE_IP, LAN_IP), 0);
	assert_int_equal(d.reason, SW_DROP_SPOOFED);
}

static void test_no_lease_only_dhcp(void **state)
{
	struct sw_policy p = sw.ports[P_B].pol;
	size_t n;

	(void)state;
	p.ip = 0;
	assert_int_equal(sw_set_policy(&sw, P_B, &p), 0);
	n = fr_eth(fr, bcast, mac_vsi[P_B], ETH_P_IP, -1);
	n += fr_ipv4(fr + n, IP_PROTO_UDP, 0, DHCP_CLIENT_PORT, IPV4_BROADCAST, DHCP_SERVER_PORT, 0,
		     300);
	assert_int_equal(in(P_B, n), 2); /* gateway and C */
	assert_int_equal(d.out_mask, 1u << P_GW | 1u << P_C);
	assert_int_equal(udp(P_B, mac_gw, mac_vsi[P_B], 0, LAN_IP), 0);
	assert_int_equal(d.reason, SW_DROP_SPOOFED);
	assert_int_equal(in(P_B, fr_arp(fr, mac_vsi[P_B], ARP_OP_REQUEST, mac_vsi[P_B], 0, GW_IP)),
			 0);
	assert_int_equal(d.reason, SW_DROP_SPOOFED);
}

static void test_arp_for_others(void **state)
{
	(void)state;
	/* ARP claiming C's address, or with another sender MAC inside */
	assert_int_equal(in(P_B, fr_arp(fr, mac_vsi[P_B], ARP_OP_REPLY, mac_vsi[P_B], C_IP, GW_IP)),
			 0);
	assert_int_equal(d.reason, SW_DROP_SPOOFED);
	assert_int_equal(in(P_B, fr_arp(fr, mac_vsi[P_B], ARP_OP_REPLY, mac_gw, B_IP, GW_IP)), 0);
	assert_int_equal(d.reason, SW_DROP_SPOOFED);
	/* bridged: never as the hypervisor or a storage server */
	assert_int_equal(
	    in(P_A, fr_arp(fr, mac_vsi[P_A], ARP_OP_REPLY, mac_vsi[P_A], HOST_IP, LAN_IP)), 0);
	assert_int_equal(d.reason, SW_DROP_SPOOFED);
	/* about itself: broadcast within its network */
	assert_int_equal(
	    in(P_B, fr_arp(fr, mac_vsi[P_B], ARP_OP_REQUEST, mac_vsi[P_B], B_IP, GW_IP)), 2);
	assert_int_equal(d.out_mask, 1u << P_GW | 1u << P_C);
	/* an RFC 5227 probe from 0.0.0.0 */
	assert_int_equal(in(P_B, fr_arp(fr, mac_vsi[P_B], ARP_OP_REQUEST, mac_vsi[P_B], 0, B_IP)),
			 2);
}

static void test_broadcast_contained(void **state)
{
	(void)state;
	assert_int_equal(udp(P_D, bcast, mac_vsi[P_D], D_IP, IPV4_BROADCAST), 1);
	assert_int_equal(d.out_mask, 1u << P_E);
	assert_int_equal(udp(P_A, bcast, mac_vsi[P_A], A_IP, IPV4_BROADCAST), 2);
	assert_int_equal(d.out_mask, 1u << P_UPLINK | 1u << P_HOST);
	/* the LAN's broadcast reaches the bridged VSI, not the others */
	assert_int_equal(udp(P_UPLINK, bcast, mac_lan, LAN_IP, IPV4_BROADCAST), 2);
	assert_int_equal(d.out_mask, 1u << P_HOST | 1u << P_A);
	assert_int_equal(sw.ports[P_E].out[SW_FORWARDED], 1);
	assert_int_equal(sw.ports[P_B].out[SW_FORWARDED], 0);
}

static void test_storage_bound(void **state)
{
	size_t n;

	(void)state;
	assert_int_equal(udp(P_A, mac_lan, mac_vsi[P_A], A_IP, STORAGE_IP), 0);
	assert_int_equal(d.reason, SW_DROP_STORAGE);
	assert_int_equal(udp(P_B, mac_gw, mac_vsi[P_B], B_IP, STORAGE_IP), 0);
	assert_int_equal(d.reason, SW_DROP_STORAGE);
	assert_int_equal(udp(P_D, mac_vsi[P_E], mac_vsi[P_D], D_IP, HOST_IP), 0);
	assert_int_equal(d.reason, SW_DROP_STORAGE);
	n = fr_eth_ipv4(fr, mac_host, mac_vsi[P_A], IP_PROTO_TCP, A_IP, 4000, HOST_IP, 10809, 0);
	assert_int_equal(in(P_A, n), 0);
	assert_int_equal(d.reason, SW_DROP_STORAGE);
	/* a forwarded TCP port of the hypervisor's address is reachable */
	n = fr_eth_ipv4(fr, mac_host, mac_vsi[P_A], IP_PROTO_TCP, A_IP, 4000, HOST_IP, FWD_PORT, 0);
	assert_int_equal(in(P_A, n), 2); /* the host's MAC not learnt yet: uplink and host */
	assert_int_equal(d.out_mask, 1u << P_UPLINK | 1u << P_HOST);
	n = fr_eth_ipv4(fr, mac_host, mac_vsi[P_A], IP_PROTO_UDP, A_IP, 4000, HOST_IP, FWD_PORT, 0);
	assert_int_equal(in(P_A, n), 0);
	assert_int_equal(sw.ports[P_A].in[SW_DROP_STORAGE], 3);
	assert_int_equal(sw.ports[P_B].in[SW_DROP_STORAGE], 1);
	assert_int_equal(sw.ports[P_D].in[SW_DROP_STORAGE], 1);
}

static u32 fwd_reply_calls;

/* Stands in for nat_forward_reply(): only B's port 80 answering STORAGE_IP:5555. */
static bool fake_fwd_reply(void *ctx, const struct sw_frame *f)
{
	(void)ctx;
	fwd_reply_calls++;
	return f->ip_src == B_IP && f->sport == 80 && f->ip_dst == STORAGE_IP && f->dport == 5555;
}

/* A nat VSI may answer a forwarded client that sits on a storage server's address. */
static void test_storage_bound_forward_reply(void **state)
{
	size_t n;

	(void)state;
	sw.fwd_reply = fake_fwd_reply;
	n = fr_eth_ipv4(fr, mac_gw, mac_vsi[P_B], IP_PROTO_TCP, B_IP, 80, STORAGE_IP, 5555, 0);
	assert_int_equal(in(P_B, n), 1);
	assert_int_equal(d.out_mask, 1u << P_GW);
	/* any other port of the server stays out of reach, and so does UDP */
	n = fr_eth_ipv4(fr, mac_gw, mac_vsi[P_B], IP_PROTO_TCP, B_IP, 80, STORAGE_IP, 10809, 0);
	assert_int_equal(in(P_B, n), 0);
	assert_int_equal(d.reason, SW_DROP_STORAGE);
	assert_int_equal(udp(P_B, mac_gw, mac_vsi[P_B], B_IP, STORAGE_IP), 0);
	assert_int_equal(d.reason, SW_DROP_STORAGE);
	/* only nat VSIs have forwards: a bridged or internal one is never asked */
	fwd_reply_calls = 0;
	n = fr_eth_ipv4(fr, mac_lan, mac_vsi[P_A], IP_PROTO_TCP, A_IP, 80, STORAGE_IP, 5555, 0);
	assert_int_equal(in(P_A, n), 0);
	n = fr_eth_ipv4(fr, mac_vsi[P_E], mac_vsi[P_D], IP_PROTO_TCP, D_IP, 80, STORAGE_IP, 5555,
			0);
	assert_int_equal(in(P_D, n), 0);
	assert_int_equal(fwd_reply_calls, 0);
	/* nor is the hypervisor's own address ever an answer's destination */
	n = fr_eth_ipv4(fr, mac_gw, mac_vsi[P_B], IP_PROTO_TCP, B_IP, 80, HOST_IP, 5555, 0);
	assert_int_equal(in(P_B, n), 0);
	assert_int_equal(d.reason, SW_DROP_STORAGE);
}

/* The hypervisor's storage traffic: to the uplink, never flooded to a VSI. */
static void test_host_unicast_not_flooded(void **state)
{
	(void)state;
	assert_int_equal(udp(P_HOST, mac_lan, mac_host, HOST_IP, STORAGE_IP), 1);
	assert_int_equal(d.out_mask, 1u << P_UPLINK);
	/* learnt: the reply goes to the host port only */
	assert_int_equal(udp(P_UPLINK, mac_host, mac_lan, STORAGE_IP, HOST_IP), 1);
	assert_int_equal(d.out_mask, 1u << P_HOST);
	/* unicast to A's MAC reaches A only */
	assert_int_equal(udp(P_UPLINK, mac_vsi[P_A], mac_lan, LAN_IP, A_IP), 1);
	assert_int_equal(d.out_mask, 1u << P_A);
}

static void test_policy_tags_types_down(void **state)
{
	struct sw_policy p = sw.ports[P_C].pol;
	size_t n;

	(void)state;
	n = fr_eth(fr, mac_gw, mac_vsi[P_B], ETH_P_IP, 5);
	n += fr_ipv4(fr + n, IP_PROTO_UDP, B_IP, 1, LAN_IP, 2, 0, 0);
	assert_int_equal(in(P_B, n), 0);
	assert_int_equal(d.reason, SW_DROP_POLICY);
	n = fr_eth(fr, bcast, mac_vsi[P_B], 0x86dd, -1) + 40;
	assert_int_equal(in(P_B, n), 0);
	assert_int_equal(d.reason, SW_DROP_POLICY);
	n = fr_eth(fr, bcast, mac_vsi[P_A], 0x86dd, -1) + 40;
	assert_int_equal(in(P_A, n), 2); /* bridged: its own MAC is the only rule */
	p.up = false;
	sw_set_policy(&sw, P_C, &p);
	assert_int_equal(udp(P_C, mac_gw, mac_vsi[P_C], C_IP, LAN_IP), 0);
	assert_int_equal(d.reason, SW_DROP_POLICY);
	assert_int_equal(udp(P_B, bcast, mac_vsi[P_B], B_IP, IPV4_BROADCAST), 1);
	assert_int_equal(sw.ports[P_B].in[SW_DROP_POLICY], 2);
}

/* fr with its EtherType replaced by a tag of type tpid (VID 5) before it: the new length. */
static size_t retag(size_t n, u16 tpid)
{
	memmove(fr + 16, fr + 12, n - 12);
	fr[12] = (u8)(tpid >> 8);
	fr[13] = (u8)tpid;
	fr[14] = 0;
	fr[15] = 5;
	return n + 4;
}

/* No tagged frame from or to a guest: 802.1Q, 802.1ad and QinQ, in every mode and from the LAN. */
static void test_tagged_never_to_or_from_guest(void **state)
{
	static const u16 tpids[] = { ETH_P_8021Q, ETH_P_8021AD, ETH_P_QINQ };
	struct sw_frame f;
	size_t n;

	(void)state;
	for (u32 i = 0; i < 3; i++) {
		n = fr_eth_ipv4(fr, bcast, mac_vsi[P_A], IP_PROTO_UDP, A_IP, 1, LAN_IP, 2, 10);
		assert_int_equal(in(P_A, retag(n, tpids[i])), 0); /* bridged may send any type */
		assert_int_equal(d.reason, SW_DROP_POLICY);
		n = fr_eth_ipv4(fr, bcast, mac_vsi[P_D], IP_PROTO_UDP, D_IP, 1, LAN_IP, 2, 10);
		assert_int_equal(in(P_D, retag(n, tpids[i])), 0);
		assert_int_equal(d.reason, SW_DROP_POLICY);
		/* from the LAN: neither broadcast nor unicast to a VSI's MAC gets through */
		n = fr_eth_ipv4(fr, bcast, mac_lan, IP_PROTO_UDP, LAN_IP, 1, A_IP, 2, 10);
		assert_int_equal(in(P_UPLINK, retag(n, tpids[i])), 0);
		assert_int_equal(d.reason, SW_DROP_POLICY);
		n = fr_eth_ipv4(fr, mac_vsi[P_A], mac_lan, IP_PROTO_UDP, LAN_IP, 1, A_IP, 2, 10);
		n = retag(n, tpids[i]);
		assert_int_equal(in(P_UPLINK, n), 0);
		assert_int_equal(sw_classify(fr, n, &f), 0);
		assert_true(f.tagged);
		assert_false(sw_egress_ok(&sw.ports[P_UPLINK].pol, &sw.ports[P_A].pol, &f));
	}
	assert_int_equal(sw.ports[P_A].in[SW_DROP_POLICY], 3);
	assert_int_equal(sw.ports[P_D].in[SW_DROP_POLICY], 3);
	assert_int_equal(sw.ports[P_UPLINK].in[SW_DROP_POLICY], 6);
	assert_int_equal(sw.ports[P_A].out[SW_FORWARDED], 0);
	/* the same frame untagged reaches the bridged VSI */
	n = fr_eth_ipv4(fr, mac_vsi[P_A], mac_lan, IP_PROTO_UDP, LAN_IP, 1, A_IP, 2, 10);
	assert_int_equal(in(P_UPLINK, n), 1);
	assert_int_equal(d.out_mask, 1u << P_A);
}

static void test_mac_table_full(void **state)
{
	u8 src[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0 };

	(void)state;
	for (u32 i = 0; i < SW_MAC_TABLE_SIZE + 10; i++) {
		src[4] = (u8)(i >> 8);
		src[5] = (u8)i;
		assert_int_equal(udp(P_UPLINK, mac_host, src, LAN_IP, HOST_IP), 1);
	}
	assert_int_equal(sw.ports[P_UPLINK].in[SW_DROP_TABLE_FULL], 10);
	assert_int_equal(sw.ports[P_UPLINK].in[SW_FORWARDED], SW_MAC_TABLE_SIZE + 10);
	/* the host is not learnt: its frames flood to the uplink alone, still no VSI */
	assert_int_equal(udp(P_HOST, src, mac_host, HOST_IP, LAN_IP), 1);
	assert_int_equal(d.out_mask, 1u << P_UPLINK);
	assert_int_equal(sw.ports[P_HOST].in[SW_DROP_TABLE_FULL], 1);
	/* rows age out: learning works again */
	assert_int_equal(sw_ingress(&sw, P_HOST, fr, 60, 1000 + SW_MAC_AGE_MS, &d), 1);
	assert_int_equal(sw.ports[P_HOST].in[SW_DROP_TABLE_FULL], 1);
}

static void test_classify_lengths(void **state)
{
	struct sw_frame f;
	size_t n;

	(void)state;
	assert_int_equal(sw_classify(fr, 13, &f), -EBADMSG);
	n = fr_arp(fr, mac_lan, ARP_OP_REQUEST, mac_lan, LAN_IP, HOST_IP);
	assert_int_equal(sw_classify(fr, n, &f), 0);
	assert_int_equal(f.cls, SW_CLASS_ARP);
	assert_int_equal(f.arp_tpa, HOST_IP);
	assert_int_equal(sw_classify(fr, n - 1, &f), -EBADMSG);
	n = fr_eth(fr, mac_lan, mac_host, ETH_P_IP, 7);
	n += fr_ipv4(fr + n, IP_PROTO_TCP, HOST_IP, 5, LAN_IP, 6, 0, 0);
	assert_int_equal(sw_classify(fr, n, &f), 0);
	assert_true(f.tagged);
	assert_int_equal(f.vid, 7);
	assert_int_equal(f.l3_off, 18);
	assert_int_equal(f.dport, 6);
	assert_int_equal(sw_classify(fr, n - 1, &f), -EBADMSG); /* tot_len past the end */
	fr[18] = 0x44;						/* IHL 4 */
	assert_int_equal(sw_classify(fr, n, &f), -EBADMSG);
	fr[18] = 0x4f; /* IHL 15: 60 > tot_len 40 */
	assert_int_equal(sw_classify(fr, n, &f), -EBADMSG);
	fr[18] = 0x45;
	fr[18 + 3] = 39; /* TCP header cut short */
	assert_int_equal(sw_classify(fr, n, &f), -EBADMSG);
	n = fr_eth(fr, mac_lan, mac_host, 0x05dc, -1) + 40; /* 802.3 length */
	assert_int_equal(sw_classify(fr, n, &f), -EBADMSG);
	assert_int_equal(in(P_A, 20), 0);
	assert_int_equal(d.reason, SW_DROP_MALFORMED);
}

static void test_count_out_no_buffer(void **state)
{
	(void)state;
	assert_int_equal(udp(P_D, bcast, mac_vsi[P_D], D_IP, IPV4_BROADCAST), 1);
	sw_count_out(&sw, P_E, SW_DROP_NO_BUFFER);
	assert_int_equal(sw.ports[P_E].out[SW_FORWARDED], 0);
	assert_int_equal(sw.ports[P_E].out[SW_DROP_NO_BUFFER], 1);
	sw_count_out(&sw, 99, SW_DROP_NO_BUFFER); /* ignored */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_forged_mac, setup),
		cmocka_unit_test_setup(test_forged_ip, setup),
		cmocka_unit_test_setup(test_no_lease_only_dhcp, setup),
		cmocka_unit_test_setup(test_arp_for_others, setup),
		cmocka_unit_test_setup(test_broadcast_contained, setup),
		cmocka_unit_test_setup(test_storage_bound, setup),
		cmocka_unit_test_setup(test_storage_bound_forward_reply, setup),
		cmocka_unit_test_setup(test_host_unicast_not_flooded, setup),
		cmocka_unit_test_setup(test_policy_tags_types_down, setup),
		cmocka_unit_test_setup(test_tagged_never_to_or_from_guest, setup),
		cmocka_unit_test_setup(test_mac_table_full, setup),
		cmocka_unit_test_setup(test_classify_lengths, setup),
		cmocka_unit_test_setup(test_count_out_no_buffer, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * The DHCP server (kernel/switch/dhcp_server.c): the full exchange, renewal,
 * leases bound to the port's MAC, pool exhaustion and expiry, NAK, a REQUEST
 * for another server, RELEASE and DECLINE, the reply's headers, checksums
 * and options, and malformed or foreign requests.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <hv/dhcp_server.h>
#include <hv/errno.h>

#include "switch_frames.h"

#define GW    IPV4(10, 0, 2, 2)
#define MASK  IPV4(255, 255, 255, 0)
#define POOL  IPV4(10, 0, 2, 15)
#define LEASE 3600
#define XID   0x11223344u

static const u8 mac_gw[ETH_ALEN] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x02 };
static const u8 mac1[ETH_ALEN] = { 0x52, 0x54, 0x00, 0xaa, 0x00, 0x01 };
static const u8 mac2[ETH_ALEN] = { 0x52, 0x54, 0x00, 0xaa, 0x00, 0x02 };
static const u8 mac3[ETH_ALEN] = { 0x52, 0x54, 0x00, 0xaa, 0x00, 0x03 };

static struct dhcp_server d;
static u8 fr[1600], reply[DHCPS_REPLY_MAX];
static size_t fr_len;

static struct dhcps_config config(u32 pool_size)
{
	struct dhcps_config c = { .server_ip = GW,
				  .mask = MASK,
				  .pool_start = POOL,
				  .pool_size = pool_size,
				  .lease_s = LEASE,
				  .dns = true };

	memcpy(c.server_mac, mac_gw, ETH_ALEN);
	return c;
}

static int setup(void **state)
{
	struct dhcps_config c = config(4);

	(void)state;
	assert_int_equal(dhcps_init(&d, &c), 0);
	return 0;
}

/* A request from mac (as chaddr too) with the options opt (no END added). */
static void request(const u8 *mac, u32 ciaddr, const u8 *opt, size_t olen)
{
	fr_len = fr_dhcp(fr, mac, ciaddr, opt, olen);
}

static size_t send_from(const u8 *port_mac, u64 now)
{
	return dhcps_input(&d, port_mac, fr, fr_len, now, reply);
}

#define OPT_TYPE(t)	 DHCPOPT_MSG_TYPE, 1, (t)
#define OPT_IP(code, ip) (code), 4, (u8)((ip) >> 24), (u8)((ip) >> 16), (u8)((ip) >> 8), (u8)(ip)

static size_t discover(const u8 *mac, u64 now)
{
	const u8 o[] = { OPT_TYPE(DHCPDISCOVER), DHCPOPT_END };

	request(mac, 0, o, sizeof(o));
	return send_from(mac, now);
}

static size_t select_req(const u8 *mac, u32 ip, u32 server, u64 now)
{
	const u8 o[] = { OPT_TYPE(DHCPREQUEST), OPT_IP(DHCPOPT_REQUESTED, ip),
			 OPT_IP(DHCPOPT_SERVER_ID, server), DHCPOPT_END };

	request(mac, 0, o, sizeof(o));
	return send_from(mac, now);
}

/* Option code of the reply: its value's first 4 bytes (or the type), -1 if absent. */
static s64 reply_opt(u8 code)
{
	const u8 *o = reply + ETH_HLEN + IP_HLEN + UDP_HLEN + sizeof(struct dhcp_msg);
	const u8 *end = reply + sizeof(reply);

	while (o + 2 <= end && *o != DHCPOPT_END) {
		if (o[0] == code)
			return o[1] == 1 ? o[2]
					 : (s64)((u32)o[2] << 24 | o[3] << 16 | o[4] << 8 | o[5]);
		o += 2 + o[1];
	}
	return -1;
}

static u32 get32(const u8 *p)
{
	return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3];
}

/* The reply's headers: to the port's MAC from the gateway, UDP 67 -> 68, checksums right. */
static u32 check_reply(size_t n, const u8 *mac, u8 type, u32 ip_dst)
{
	const struct dhcp_msg *m = (const void *)(reply + ETH_HLEN + IP_HLEN + UDP_HLEN);
	const u8 *ip = reply + ETH_HLEN;

	assert_int_equal(n, DHCPS_REPLY_MAX);
	assert_memory_equal(reply, mac, ETH_ALEN);
	assert_memory_equal(reply + ETH_ALEN, mac_gw, ETH_ALEN);
	assert_true(fr_ipv4_csums_ok(ip, n - ETH_HLEN));
	assert_int_not_equal(ip[IP_HLEN + 6] | ip[IP_HLEN + 7], 0);
	assert_int_equal(get32(ip + 12), GW);
	assert_int_equal(get32(ip + 16), ip_dst);
	assert_int_equal(ip[IP_HLEN + 1], DHCP_SERVER_PORT);
	assert_int_equal(ip[IP_HLEN + 3], DHCP_CLIENT_PORT);
	assert_int_equal(m->op, BOOTP_REPLY);
	assert_int_equal(be32_to_cpu(m->xid), XID);
	assert_memory_equal(m->chaddr, mac, ETH_ALEN);
	assert_int_equal(reply_opt(DHCPOPT_MSG_TYPE), type);
	assert_int_equal(reply_opt(DHCPOPT_SERVER_ID), GW);
	return be32_to_cpu(m->yiaddr);
}

static void test_full_exchange(void **state)
{
	u32 ip;

	(void)state;
	ip = check_reply(discover(mac1, 0), mac1, DHCPOFFER, POOL);
	assert_int_equal(ip, POOL);
	assert_int_equal(reply_opt(DHCPOPT_LEASE_TIME), LEASE);
	assert_int_equal(reply_opt(DHCPOPT_SUBNET_MASK), MASK);
	assert_int_equal(reply_opt(DHCPOPT_ROUTER), GW);
	assert_int_equal(reply_opt(6), GW);
	assert_int_equal(reply_opt(DHCPOPT_T1), LEASE / 2);
	assert_int_equal(dhcps_lease_ip(&d, mac1, 0), 0); /* offered, not bound */
	assert_int_equal(check_reply(select_req(mac1, ip, GW, 10), mac1, DHCPACK, POOL), POOL);
	assert_int_equal(dhcps_lease_ip(&d, mac1, 10), POOL);
	/* renewal: unicast REQUEST with ciaddr, no server id (RFC 2131 4.3.2) */
	{
		const u8 o[] = { OPT_TYPE(DHCPREQUEST), DHCPOPT_END };

		request(mac1, POOL, o, sizeof(o));
		check_reply(send_from(mac1, LEASE * 1000ull - 1), mac1, DHCPACK, POOL);
	}
	assert_int_equal(dhcps_lease_ip(&d, mac1, 2 * LEASE * 1000ull - 2), POOL);
	assert_int_equal(dhcps_lease_ip(&d, mac1, 2 * LEASE * 1000ull), 0);
	/* a second client gets another address; a repeated DISCOVER the same one */
	assert_int_equal(check_reply(discover(mac2, 20), mac2, DHCPOFFER, POOL + 1), POOL + 1);
	assert_int_equal(check_reply(discover(mac2, 30), mac2, DHCPOFFER, POOL + 1), POOL + 1);
	assert_int_equal(check_reply(discover(mac1, 30), mac1, DHCPOFFER, POOL), POOL);
	assert_int_equal(d.stats.ack, 2);
	assert_int_equal(d.stats.offer, 4);
}

static void test_broadcast_flag_and_no_dns(void **state)
{
	struct dhcps_config c = config(4);
	struct dhcp_msg *m = (struct dhcp_msg *)(fr + ETH_HLEN + IP_HLEN + UDP_HLEN);
	const u8 o[] = { OPT_TYPE(DHCPDISCOVER), DHCPOPT_END };

	(void)state;
	c.dns = false;
	assert_int_equal(dhcps_init(&d, &c), 0);
	request(mac1, 0, o, sizeof(o));
	m->flags = cpu_to_be16(BOOTP_FLAG_BCAST);
	/* the UDP checksum covers flags: send it without one */
	fr[ETH_HLEN + IP_HLEN + 6] = fr[ETH_HLEN + IP_HLEN + 7] = 0;
	check_reply(send_from(mac1, 0), mac1, DHCPOFFER, IPV4_BROADCAST);
	assert_int_equal(reply_opt(6), -1);
}

static void test_pool_exhaustion(void **state)
{
	struct dhcps_config c = config(2);

	(void)state;
	assert_int_equal(dhcps_init(&d, &c), 0);
	check_reply(discover(mac1, 0), mac1, DHCPOFFER, POOL);
	check_reply(select_req(mac1, POOL, GW, 0), mac1, DHCPACK, POOL);
	check_reply(discover(mac2, 0), mac2, DHCPOFFER, POOL + 1);
	assert_int_equal(discover(mac3, 0), 0);
	assert_int_equal(d.stats.pool_full, 1);
	/* an offer not taken up is free again after its hold time */
	assert_int_equal(discover(mac3, DHCPS_OFFER_HOLD_MS - 1), 0);
	assert_int_equal(
	    check_reply(discover(mac3, DHCPS_OFFER_HOLD_MS), mac3, DHCPOFFER, POOL + 1), POOL + 1);
	/* mac2 lost its offer: its REQUEST is NAKed */
	check_reply(select_req(mac2, POOL + 1, GW, DHCPS_OFFER_HOLD_MS), mac2, DHCPNAK,
		    IPV4_BROADCAST);
	/* a bound lease is free after the lease time */
	assert_int_equal(discover(mac2, DHCPS_OFFER_HOLD_MS), 0);
	assert_int_equal(check_reply(discover(mac2, LEASE * 1000ull), mac2, DHCPOFFER, POOL), POOL);
	assert_int_equal(c.pool_size, 2);
}

static void test_nak_and_other_server(void **state)
{
	const u8 o[] = { OPT_TYPE(DHCPREQUEST), OPT_IP(DHCPOPT_REQUESTED, POOL + 2), DHCPOPT_END };

	(void)state;
	/* INIT-REBOOT for an address that is not its lease */
	request(mac1, 0, o, sizeof(o));
	check_reply(send_from(mac1, 0), mac1, DHCPNAK, IPV4_BROADCAST);
	assert_int_equal(reply_opt(DHCPOPT_LEASE_TIME), -1);
	assert_int_equal(d.stats.nak, 1);
	/* another client's address, or another than offered */
	check_reply(discover(mac1, 0), mac1, DHCPOFFER, POOL);
	check_reply(select_req(mac1, POOL + 1, GW, 0), mac1, DHCPNAK, IPV4_BROADCAST);
	check_reply(select_req(mac2, POOL, GW, 0), mac2, DHCPNAK, IPV4_BROADCAST);
	/* the client chose another server: the offer is withdrawn, no answer */
	assert_int_equal(select_req(mac1, POOL, IPV4(10, 0, 2, 3), 0), 0);
	assert_int_equal(d.stats.ignored, 1);
	assert_int_equal(check_reply(discover(mac2, 0), mac2, DHCPOFFER, POOL), POOL);
}

static void test_release_decline(void **state)
{
	const u8 rel[] = { OPT_TYPE(DHCPRELEASE), OPT_IP(DHCPOPT_SERVER_ID, GW), DHCPOPT_END };
	const u8 dec[] = { OPT_TYPE(DHCPDECLINE), OPT_IP(DHCPOPT_REQUESTED, POOL),
			   OPT_IP(DHCPOPT_SERVER_ID, GW), DHCPOPT_END };

	(void)state;
	check_reply(discover(mac1, 0), mac1, DHCPOFFER, POOL);
	check_reply(select_req(mac1, POOL, GW, 0), mac1, DHCPACK, POOL);
	/* another port cannot release it */
	request(mac2, POOL, rel, sizeof(rel));
	assert_int_equal(send_from(mac2, 0), 0);
	assert_int_equal(dhcps_lease_ip(&d, mac1, 0), POOL);
	request(mac1, POOL, rel, sizeof(rel));
	assert_int_equal(send_from(mac1, 0), 0);
	assert_int_equal(dhcps_lease_ip(&d, mac1, 0), 0);
	assert_int_equal(d.stats.release, 2);
	/* declined: the address stays out of the pool for a lease time */
	check_reply(discover(mac1, 0), mac1, DHCPOFFER, POOL);
	check_reply(select_req(mac1, POOL, GW, 0), mac1, DHCPACK, POOL);
	request(mac1, 0, dec, sizeof(dec));
	assert_int_equal(send_from(mac1, 0), 0);
	assert_int_equal(check_reply(discover(mac1, 1), mac1, DHCPOFFER, POOL + 1), POOL + 1);
	assert_int_equal(d.stats.decline, 1);
}

/* Each malformed or foreign request: no reply, counted, nothing leased. */
static void test_malformed(void **state)
{
	static const u8 past_end[] = { OPT_TYPE(DHCPDISCOVER), DHCPOPT_ROUTER, 200 };
	static const u8 type_len[] = { DHCPOPT_MSG_TYPE, 2, DHCPDISCOVER, 0, DHCPOPT_END };
	static const u8 req_len[] = {
		OPT_TYPE(DHCPREQUEST), DHCPOPT_REQUESTED, 3, 10, 0, 2, DHCPOPT_END
	};
	static const u8 no_type[] = { DHCPOPT_PAD, DHCPOPT_END };
	const u8 ok[] = { OPT_TYPE(DHCPDISCOVER), DHCPOPT_END };
	struct dhcp_msg *m = (struct dhcp_msg *)(fr + ETH_HLEN + IP_HLEN + UDP_HLEN);
	u8 *udp = fr + ETH_HLEN + IP_HLEN;

	(void)state;
	request(mac1, 0, past_end, sizeof(past_end)); /* 200 bytes past a 60-byte field */
	assert_int_equal(send_from(mac1, 0), 0);
	request(mac1, 0, type_len, sizeof(type_len));
	assert_int_equal(send_from(mac1, 0), 0);
	request(mac1, 0, req_len, sizeof(req_len));
	assert_int_equal(send_from(mac1, 0), 0);
	request(mac1, 0, no_type, sizeof(no_type));
	assert_int_equal(send_from(mac1, 0), 0);
	request(mac1, 0, ok, sizeof(ok));
	udp[8 + 100] ^= 1; /* UDP checksum now wrong */
	assert_int_equal(send_from(mac1, 0), 0);
	request(mac1, 0, ok, sizeof(ok));
	m->magic = 0;
	udp[6] = udp[7] = 0;
	assert_int_equal(send_from(mac1, 0), 0);
	request(mac1, 0, ok, sizeof(ok));
	udp[4] = 0x02; /* UDP length past the datagram */
	udp[6] = udp[7] = 0;
	assert_int_equal(send_from(mac1, 0), 0);
	request(mac1, 0, ok, sizeof(ok));
	fr[ETH_HLEN + 8]--; /* TTL: IPv4 header checksum now wrong */
	assert_int_equal(send_from(mac1, 0), 0);
	assert_int_equal(d.stats.malformed, 8);
	/* chaddr or source MAC not the port's */
	request(mac2, 0, ok, sizeof(ok));
	assert_int_equal(send_from(mac1, 0), 0);
	request(mac1, 0, ok, sizeof(ok));
	memcpy(m->chaddr, mac2, ETH_ALEN);
	udp[6] = udp[7] = 0;
	assert_int_equal(send_from(mac1, 0), 0);
	assert_int_equal(d.stats.foreign, 2);
	/* not DHCP to us: ignored without a count */
	request(mac1, 0, ok, sizeof(ok));
	assert_int_equal(dhcps_input(&d, mac1, fr, 40, 0, reply), 0);
	assert_int_equal(d.stats.offer + d.stats.discover, 0);
	assert_int_equal(dhcps_lease_ip(&d, mac1, 0), 0);
}

/* A home address goes to its MAC first, and to nobody else while another is free. */
static void test_home_addresses(void **state)
{
	(void)state;
	assert_int_equal(dhcps_set_home(&d, mac2, POOL), 0);
	assert_int_equal(dhcps_set_home(&d, mac3, POOL + 1), 0);
	assert_int_equal(dhcps_set_home(&d, mac1, POOL + 1), -EINVAL); /* taken */
	assert_int_equal(dhcps_set_home(&d, mac1, POOL + 4), -EINVAL); /* outside the pool */
	assert_int_equal(dhcps_set_home(&d, mac1, GW), -EINVAL);
	/* mac1 has no home: the first address nobody calls home */
	assert_int_equal(check_reply(discover(mac1, 0), mac1, DHCPOFFER, POOL + 2), POOL + 2);
	/* in any order, each home MAC gets its own address */
	assert_int_equal(check_reply(discover(mac3, 0), mac3, DHCPOFFER, POOL + 1), POOL + 1);
	assert_int_equal(check_reply(discover(mac2, 0), mac2, DHCPOFFER, POOL), POOL);
	check_reply(select_req(mac2, POOL, GW, 0), mac2, DHCPACK, POOL);
	assert_int_equal(dhcps_lease_ip(&d, mac2, 1), POOL);
	/* asking for another VSI's home address gets a free one instead */
	{
		const u8 o[] = { OPT_TYPE(DHCPDISCOVER), OPT_IP(DHCPOPT_REQUESTED, POOL + 1),
				 DHCPOPT_END };
		static const u8 mac4[ETH_ALEN] = { 0x52, 0x54, 0x00, 0xaa, 0x00, 0x04 };

		request(mac4, 0, o, sizeof(o));
		assert_int_equal(check_reply(send_from(mac4, 0), mac4, DHCPOFFER, POOL + 3),
				 POOL + 3);
	}
}

static void test_config_checked(void **state)
{
	struct dhcps_config c = config(4);

	(void)state;
	c.pool_start = GW - 1;
	assert_int_equal(dhcps_init(&d, &c), -EINVAL); /* holds the gateway */
	c = config(DHCPS_POOL_MAX + 1);
	assert_int_equal(dhcps_init(&d, &c), -EINVAL);
	c = config(4);
	c.pool_start = IPV4(10, 0, 2, 253);
	assert_int_equal(dhcps_init(&d, &c), -EINVAL); /* runs onto the broadcast address */
	c = config(0);
	assert_int_equal(dhcps_init(&d, &c), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_full_exchange, setup),
		cmocka_unit_test_setup(test_broadcast_flag_and_no_dns, setup),
		cmocka_unit_test_setup(test_pool_exhaustion, setup),
		cmocka_unit_test_setup(test_nak_and_other_server, setup),
		cmocka_unit_test_setup(test_release_decline, setup),
		cmocka_unit_test_setup(test_malformed, setup),
		cmocka_unit_test_setup(test_home_addresses, setup),
		cmocka_unit_test_setup(test_config_checked, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

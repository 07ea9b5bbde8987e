/*
 * The DHCP client (kernel/net/dhcp.c) against a scripted server: the full
 * DISCOVER/OFFER/REQUEST/ACK exchange, retransmission backoff, NAK,
 * renewal, rebinding and expiry, and malformed or foreign replies.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "host_log.h"
#include "test_net_fixture.h"

#define SERVER_IP  GW_IP
#define OFFERED_IP OUR_IP /* establish() works on the leased address */

static u8 buf[ETH_FRAME_MAX];
static u8 msg[600];

static int setup(void **state)
{
	(void)state;
	net_test_setup(false);
	host_log_clear();
	return 0;
}

/* The DHCP message of captured frame i, with its checks: UDP 68 -> 67, ours. */
static const struct dhcp_msg *sent_msg(u32 i, struct parsed *p)
{
	const struct dhcp_msg *m;

	parse_frame(i, p);
	assert_non_null(p->udp);
	assert_int_equal(be16_to_cpu(p->udp->sport), 68);
	assert_int_equal(be16_to_cpu(p->udp->dport), 67);
	assert_true(p->data_len >= BOOTP_MIN_LEN);
	m = (const struct dhcp_msg *)p->data;
	assert_int_equal(m->op, BOOTP_REQUEST);
	assert_int_equal(m->htype, 1);
	assert_int_equal(m->hlen, 6);
	assert_memory_equal(m->chaddr, our_mac, ETH_ALEN);
	assert_int_equal(be32_to_cpu(m->magic), DHCP_MAGIC);
	return m;
}

/* The value of option code in a sent message, or NULL; *len gets its length. */
static const u8 *sent_option(const struct parsed *p, u8 code, u8 *len)
{
	const u8 *o = p->data + sizeof(struct dhcp_msg), *end = p->data + p->data_len;

	while (o < end && *o != DHCPOPT_END) {
		if (*o == DHCPOPT_PAD) {
			o++;
			continue;
		}
		if (o[0] == code) {
			*len = o[1];
			return o + 2;
		}
		o += 2 + o[1];
	}
	return NULL;
}

static u8 sent_type(const struct parsed *p)
{
	u8 len;
	const u8 *v = sent_option(p, DHCPOPT_MSG_TYPE, &len);

	assert_non_null(v);
	assert_int_equal(len, 1);
	return v[0];
}

static u32 be32(const u8 *v)
{
	return (u32)v[0] << 24 | (u32)v[1] << 16 | (u32)v[2] << 8 | v[3];
}

static u8 *put_opt32(u8 *o, u8 code, u32 v)
{
	*o++ = code;
	*o++ = 4;
	*o++ = (u8)(v >> 24);
	*o++ = (u8)(v >> 16);
	*o++ = (u8)(v >> 8);
	*o++ = (u8)v;
	return o;
}

/* A server reply: type, then the standard options (lease seconds, if not 0), then extra. */
static size_t reply(u8 type, u32 xid, u32 lease, const u8 *extra, size_t extra_len)
{
	struct dhcp_msg *m = (struct dhcp_msg *)msg;
	u8 *o = msg + sizeof(*m);

	memset(msg, 0, sizeof(msg));
	m->op = BOOTP_REPLY;
	m->htype = 1;
	m->hlen = 6;
	m->xid = cpu_to_be32(xid);
	m->yiaddr = cpu_to_be32(type == DHCPNAK ? 0 : OFFERED_IP);
	memcpy(m->chaddr, our_mac, ETH_ALEN);
	m->magic = cpu_to_be32(DHCP_MAGIC);
	*o++ = DHCPOPT_MSG_TYPE;
	*o++ = 1;
	*o++ = type;
	o = put_opt32(o, DHCPOPT_SERVER_ID, SERVER_IP);
	if (type != DHCPNAK) {
		if (lease)
			o = put_opt32(o, DHCPOPT_LEASE_TIME, lease);
		o = put_opt32(o, DHCPOPT_SUBNET_MASK, NETMASK);
		o = put_opt32(o, DHCPOPT_ROUTER, GW_IP);
	}
	if (extra_len)
		memcpy(o, extra, extra_len);
	o += extra_len;
	*o++ = DHCPOPT_END;
	return build_udp(buf, SERVER_IP, type == DHCPNAK ? IPV4_BROADCAST : OFFERED_IP, 67, 68, msg,
			 BOOTP_MIN_LEN);
}

static u32 xid_of(u32 i)
{
	struct parsed p;

	return be32_to_cpu(sent_msg(i, &p)->xid);
}

/* DISCOVER at 0, OFFER, REQUEST, ACK with lease seconds: bound to OFFERED_IP. */
static void bind_lease(u32 lease, u64 now)
{
	u32 xid;

	net_config_dhcp(&stack, now);
	xid = xid_of(0);
	inject(buf, reply(DHCPOFFER, xid, lease, NULL, 0), now + 1);
	inject(buf, reply(DHCPACK, xid, lease, NULL, 0), now + 2);
	assert_true(net_configured(&stack));
	nic_clear();
}

static void test_full_exchange(void **state)
{
	const struct dhcp_msg *m;
	struct parsed p;
	const u8 *v;
	u32 xid;
	u8 len;

	(void)state;
	net_config_dhcp(&stack, 0);
	assert_false(net_configured(&stack));
	assert_int_equal(nic.nr, 1);
	m = sent_msg(0, &p);
	assert_memory_equal(p.eth->dst, bcast_mac, ETH_ALEN);
	assert_int_equal(be32_to_cpu(p.ip->src), 0);
	assert_int_equal(be32_to_cpu(p.ip->dst), IPV4_BROADCAST);
	assert_int_equal(sent_type(&p), DHCPDISCOVER);
	assert_int_equal(m->ciaddr, 0);
	v = sent_option(&p, DHCPOPT_PARAM_LIST, &len);
	assert_non_null(v);
	assert_non_null(memchr(v, DHCPOPT_SUBNET_MASK, len));
	assert_non_null(memchr(v, DHCPOPT_ROUTER, len));
	assert_non_null(memchr(v, DHCPOPT_LEASE_TIME, len));
	xid = be32_to_cpu(m->xid);

	/* The offer is unicast to the offered address, before we have it. */
	inject(buf, reply(DHCPOFFER, xid, 3600, NULL, 0), 100);
	assert_int_equal(nic.nr, 2);
	m = sent_msg(1, &p);
	assert_int_equal(sent_type(&p), DHCPREQUEST);
	assert_int_equal(be32_to_cpu(m->xid), xid);
	assert_int_equal(be32_to_cpu(p.ip->dst), IPV4_BROADCAST);
	v = sent_option(&p, DHCPOPT_REQUESTED, &len);
	assert_non_null(v);
	assert_int_equal(be32(v), OFFERED_IP);
	v = sent_option(&p, DHCPOPT_SERVER_ID, &len);
	assert_non_null(v);
	assert_int_equal(be32(v), SERVER_IP);
	assert_false(net_configured(&stack));

	inject(buf, reply(DHCPACK, xid, 3600, NULL, 0), 200);
	assert_true(net_configured(&stack));
	assert_int_equal(stack.ip, OFFERED_IP);
	assert_int_equal(stack.netmask, NETMASK);
	assert_int_equal(stack.gateway, GW_IP);
	assert_int_equal(stack.dhcp.state, DHCP_BOUND);
	assert_int_equal(stack.dhcp.t1_at, 200 + 1800 * 1000);
	assert_int_equal(stack.dhcp.t2_at, 200 + 3150 * 1000);
	assert_int_equal(stack.dhcp.expire_at, 200 + 3600 * 1000);
	assert_true(host_log_contains("dhcp: bound 10.0.0.2 mask 255.255.255.0"));
	/* A second ACK while bound is ignored. */
	inject(buf, reply(DHCPACK, xid, 3600, NULL, 0), 300);
	assert_int_equal(stack.stats.dhcp_ignored, 1);
}

static void test_discover_backoff(void **state)
{
	u64 sent_at[8];
	u32 n = 0;

	(void)state;
	net_config_dhcp(&stack, 0);
	sent_at[n++] = 0;
	for (u64 t = 0; t <= 130000 && n < ARRAY_SIZE(sent_at); t += 10) {
		net_poll(&stack, t);
		if (nic.nr > n)
			sent_at[n++] = t;
	}
	assert_int_equal(n, 6);
	/* RFC 2131 4.1: 4, 8, 16, 32, 64 s, each +-1 s; the same xid throughout. */
	for (u32 i = 1; i < n; i++) {
		u64 want = MIN(4000ull << (i - 1), 64000ull), got = sent_at[i] - sent_at[i - 1];

		assert_true(got + 1000 >= want && got <= want + 1000 + 10);
		assert_int_equal(xid_of(i), xid_of(0));
	}
}

static void test_request_retries_then_restart(void **state)
{
	struct parsed p;
	u32 xid;

	(void)state;
	net_config_dhcp(&stack, 0);
	xid = xid_of(0);
	inject(buf, reply(DHCPOFFER, xid, 3600, NULL, 0), 10);
	for (u64 t = 10; t <= 100000 && nic.nr < 6; t += 10)
		net_poll(&stack, t);
	assert_int_equal(nic.nr, 6);
	for (u32 i = 1; i <= 4; i++) {
		sent_msg(i, &p);
		assert_int_equal(sent_type(&p), DHCPREQUEST);
	}
	/* After DHCP_REQUEST_TRIES requests: a new DISCOVER, a new transaction. */
	sent_msg(5, &p);
	assert_int_equal(sent_type(&p), DHCPDISCOVER);
	assert_int_not_equal(xid_of(5), xid);
	assert_int_equal(stack.dhcp.state, DHCP_SELECTING);
}

static void test_nak_starts_over(void **state)
{
	struct parsed p;
	u32 xid;

	(void)state;
	net_config_dhcp(&stack, 0);
	xid = xid_of(0);
	inject(buf, reply(DHCPOFFER, xid, 3600, NULL, 0), 10);
	inject(buf, reply(DHCPNAK, xid, 0, NULL, 0), 20);
	assert_int_equal(nic.nr, 3);
	sent_msg(2, &p);
	assert_int_equal(sent_type(&p), DHCPDISCOVER);
	assert_int_not_equal(xid_of(2), xid);
	assert_false(net_configured(&stack));
	assert_true(host_log_contains("NAK"));
}

static void test_malformed_replies(void **state)
{
	const u8 overrun[] = { DHCPOPT_ROUTER, 200, 10, 0, 0, 1 };
	const u8 bad_mask[] = { DHCPOPT_SUBNET_MASK, 3, 255, 255, 0 };
	const u8 bad_router[] = { DHCPOPT_ROUTER, 6, 10, 0, 0, 1, 0, 0 };
	struct dhcp_msg *m = (struct dhcp_msg *)msg;
	u32 xid;
	size_t n;

	(void)state;
	net_config_dhcp(&stack, 0);
	xid = xid_of(0);
	/* The option walk stops at the end of the datagram, not at a length byte. */
	n = reply(DHCPOFFER, xid, 3600, overrun, sizeof(overrun));
	inject(buf, n, 1);
	inject(buf, reply(DHCPOFFER, xid, 3600, bad_mask, sizeof(bad_mask)), 1);
	inject(buf, reply(DHCPOFFER, xid, 3600, bad_router, sizeof(bad_router)), 1);
	/* A length byte right at the end. */
	reply(DHCPOFFER, xid, 3600, NULL, 0);
	memset(msg + sizeof(*m), DHCPOPT_PAD, BOOTP_MIN_LEN - sizeof(*m));
	msg[BOOTP_MIN_LEN - 1] = DHCPOPT_ROUTER;
	inject(buf, build_udp(buf, SERVER_IP, OFFERED_IP, 67, 68, msg, BOOTP_MIN_LEN), 1);
	/* No message type at all (only pads, no END either). */
	msg[BOOTP_MIN_LEN - 1] = DHCPOPT_PAD;
	inject(buf, build_udp(buf, SERVER_IP, OFFERED_IP, 67, 68, msg, BOOTP_MIN_LEN), 1);
	/* Shorter than the fixed part; wrong magic; a request, not a reply. */
	inject(buf, build_udp(buf, SERVER_IP, OFFERED_IP, 67, 68, msg, 239), 1);
	reply(DHCPOFFER, xid, 3600, NULL, 0);
	m->magic = 0;
	inject(buf, build_udp(buf, SERVER_IP, OFFERED_IP, 67, 68, msg, BOOTP_MIN_LEN), 1);
	reply(DHCPOFFER, xid, 3600, NULL, 0);
	m->op = BOOTP_REQUEST;
	inject(buf, build_udp(buf, SERVER_IP, OFFERED_IP, 67, 68, msg, BOOTP_MIN_LEN), 1);
	/* An offer of an unusable address, and one without a server identifier. */
	reply(DHCPOFFER, xid, 3600, NULL, 0);
	m->yiaddr = cpu_to_be32(IPV4(127, 0, 0, 1));
	inject(buf, build_udp(buf, SERVER_IP, OFFERED_IP, 67, 68, msg, BOOTP_MIN_LEN), 1);
	reply(DHCPOFFER, xid, 3600, NULL, 0);
	memset(msg + sizeof(*m) + 3, DHCPOPT_PAD, 6); /* the server identifier is gone */
	inject(buf, build_udp(buf, SERVER_IP, OFFERED_IP, 67, 68, msg, BOOTP_MIN_LEN), 1);
	assert_int_equal(stack.stats.dhcp_malformed, 10);
	/* Not ours: another transaction, another MAC; unexpected in SELECTING. */
	inject(buf, reply(DHCPOFFER, xid + 1, 3600, NULL, 0), 1);
	reply(DHCPOFFER, xid, 3600, NULL, 0);
	m->chaddr[5] ^= 1;
	inject(buf, build_udp(buf, SERVER_IP, OFFERED_IP, 67, 68, msg, BOOTP_MIN_LEN), 1);
	inject(buf, reply(DHCPACK, xid, 3600, NULL, 0), 1);
	assert_int_equal(stack.stats.dhcp_ignored, 3);
	/* Through all of it: still selecting, nothing sent but the DISCOVER. */
	assert_int_equal(stack.dhcp.state, DHCP_SELECTING);
	assert_int_equal(nic.nr, 1);
	/* And a good offer still works. */
	inject(buf, reply(DHCPOFFER, xid, 3600, NULL, 0), 2);
	assert_int_equal(stack.dhcp.state, DHCP_REQUESTING);
}

static void test_renew_rebind_expire(void **state)
{
	const struct dhcp_msg *m;
	struct tcp_conn *c;
	struct parsed p;
	struct peer peer;
	u8 len;

	(void)state;
	bind_lease(100, 0);
	learn(SERVER_IP, gw_mac, 10);
	c = establish(&peer, 65535, 10);
	/* T1 = 50 s: a unicast REQUEST to the server with our address in ciaddr. */
	net_poll(&stack, 49999);
	assert_int_equal(nic.nr, 0);
	net_poll(&stack, 50002);
	assert_int_equal(nic.nr, 1);
	m = sent_msg(0, &p);
	assert_int_equal(sent_type(&p), DHCPREQUEST);
	assert_memory_equal(p.eth->dst, gw_mac, ETH_ALEN);
	assert_int_equal(be32_to_cpu(p.ip->src), OFFERED_IP);
	assert_int_equal(be32_to_cpu(p.ip->dst), SERVER_IP);
	assert_int_equal(be32_to_cpu(m->ciaddr), OFFERED_IP);
	assert_int_equal(stack.dhcp.state, DHCP_RENEWING);
	/* RFC 2131 4.3.2: no requested-address or server id while renewing. */
	assert_null(sent_option(&p, DHCPOPT_REQUESTED, &len));
	assert_null(sent_option(&p, DHCPOPT_SERVER_ID, &len));

	/* No answer: T2 = 87 s, a broadcast REQUEST. */
	nic_clear();
	net_poll(&stack, 87002);
	assert_int_equal(nic.nr, 1);
	m = sent_msg(0, &p);
	assert_memory_equal(p.eth->dst, bcast_mac, ETH_ALEN);
	assert_int_equal(be32_to_cpu(m->ciaddr), OFFERED_IP);
	assert_int_equal(stack.dhcp.state, DHCP_REBINDING);
	assert_true(net_configured(&stack));

	/* Expiry at 100 s: the address and the connections on it are gone. */
	nic_clear();
	net_poll(&stack, 100002);
	assert_false(net_configured(&stack));
	assert_int_equal(tcp_state(c), TCP_CLOSED);
	assert_int_equal(tcp_close_reason(c), TCP_CLOSED_ABORTED);
	sent_msg(0, &p);
	assert_int_equal(sent_type(&p), DHCPDISCOVER);
	assert_int_equal(stack.dhcp.state, DHCP_SELECTING);
	tcp_abort(c);
}

static void test_renew_acked(void **state)
{
	(void)state;
	bind_lease(100, 0);
	learn(SERVER_IP, gw_mac, 10);
	net_poll(&stack, 50002);
	assert_int_equal(stack.dhcp.state, DHCP_RENEWING);
	inject(buf, reply(DHCPACK, stack.dhcp.xid, 100, NULL, 0), 50010);
	assert_int_equal(stack.dhcp.state, DHCP_BOUND);
	assert_int_equal(stack.dhcp.expire_at, 150010);
	assert_true(net_configured(&stack));
}

static void test_infinite_and_short_leases(void **state)
{
	(void)state;
	/* No lease option: nothing to renew. */
	bind_lease(0, 0);
	assert_int_equal(stack.dhcp.expire_at, 0);
	net_poll(&stack, 10ull * 24 * 3600 * 1000);
	assert_int_equal(stack.dhcp.state, DHCP_BOUND);
	assert_int_equal(nic.nr, 0);
	/* A 1 s lease counts as 10 s: no spinning. */
	net_test_setup(false);
	bind_lease(1, 0);
	assert_int_equal(stack.dhcp.expire_at, 2 + 10000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_full_exchange, setup),
		cmocka_unit_test_setup(test_discover_backoff, setup),
		cmocka_unit_test_setup(test_request_retries_then_restart, setup),
		cmocka_unit_test_setup(test_nak_starts_over, setup),
		cmocka_unit_test_setup(test_malformed_replies, setup),
		cmocka_unit_test_setup(test_renew_rebind_expire, setup),
		cmocka_unit_test_setup(test_renew_acked, setup),
		cmocka_unit_test_setup(test_infinite_and_short_leases, setup),
	};

	return cmocka_run_group_tests_name("net_dhcp", tests, NULL, NULL);
}

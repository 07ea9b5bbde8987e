/*
 * A DHCP client (RFC 2131, options from RFC 2132): DISCOVER, OFFER,
 * REQUEST, ACK; NAK starts over. Retransmissions back off from 4 s to 64 s
 * with +-1 s of jitter (4.1). A bound lease is renewed at T1 by unicast and
 * rebound at T2 by broadcast (4.4.5); when it expires the address is given
 * up, every connection is aborted and DHCP starts over.
 */
#include <hv/dhcp_opt.h>
#include <hv/errno.h>
#include <hv/string.h>

#include "net_internal.h"

#define DHCP_LEASE_MIN_S     10	   /* shorter leases would make us spin */
#define DHCP_RENEW_RETRY_MIN 60000 /* RFC 2131 4.4.5 */
#define DHCP_INFINITE	     0xffffffffu

struct dhcp_opts {
	u8 type;
	bool has_mask, has_router, has_lease, has_server, has_t1, has_t2;
	u32 mask, router, lease, server, t1, t2; /* host byte order */
};

static const u8 dhcp_param_list[] = {
	DHCPOPT_SUBNET_MASK, DHCPOPT_ROUTER, DHCPOPT_LEASE_TIME,
	DHCPOPT_SERVER_ID,   DHCPOPT_T1,     DHCPOPT_T2,
};

/* Store a 4-byte option value; -EBADMSG unless len is 4 (at least 4 for lists). */
static int opt_u32(const u8 *val, u8 len, bool list, u32 *out, bool *has)
{
	if (list ? (len < 4 || len % 4) : len != 4)
		return -EBADMSG;
	*out = dhcp_get_be32(val);
	*has = true;
	return 0;
}

/*
 * Read the options field (RFC 2132 2) through the shared bounds-checked walk.
 * Option overload (52) is not honoured: options in sname/file are not read.
 */
static int dhcp_parse_options(const u8 *p, size_t len, struct dhcp_opts *o)
{
	struct dhcp_opt_walk w;
	struct dhcp_opt opt;
	int rc, more;

	memset(o, 0, sizeof(*o));
	dhcp_opt_begin(&w, p, len);
	while ((more = dhcp_opt_next(&w, &opt)) > 0) {
		rc = 0;
		switch (opt.code) {
		case DHCPOPT_MSG_TYPE:
			if (opt.len != 1)
				return -EBADMSG;
			o->type = opt.val[0];
			break;
		case DHCPOPT_SUBNET_MASK:
			rc = opt_u32(opt.val, opt.len, false, &o->mask, &o->has_mask);
			break;
		case DHCPOPT_ROUTER:
			rc = opt_u32(opt.val, opt.len, true, &o->router, &o->has_router);
			break;
		case DHCPOPT_LEASE_TIME:
			rc = opt_u32(opt.val, opt.len, false, &o->lease, &o->has_lease);
			break;
		case DHCPOPT_SERVER_ID:
			rc = opt_u32(opt.val, opt.len, false, &o->server, &o->has_server);
			break;
		case DHCPOPT_T1:
			rc = opt_u32(opt.val, opt.len, false, &o->t1, &o->has_t1);
			break;
		case DHCPOPT_T2:
			rc = opt_u32(opt.val, opt.len, false, &o->t2, &o->has_t2);
			break;
		}
		if (rc)
			return rc;
	}
	if (more < 0)
		return more;
	return o->type ? 0 : -EBADMSG;
}

/* Build and broadcast (or, renewing, unicast to the server) a message of this type. */
static void dhcp_send(struct net_stack *s, u8 type)
{
	struct dhcp_client *d = &s->dhcp;
	struct dhcp_msg *m = (struct dhcp_msg *)(s->tx + NET_UDP_DATA);
	u8 *opt = (u8 *)(m + 1);
	u32 dst = d->state == DHCP_RENEWING ? d->server_id : IPV4_BROADCAST;
	size_t len;

	memset(m, 0, BOOTP_MIN_LEN);
	m->op = BOOTP_REQUEST;
	m->htype = ARP_HRD_ETHER;
	m->hlen = ETH_ALEN;
	m->xid = cpu_to_be32(d->xid);
	if (d->state == DHCP_RENEWING || d->state == DHCP_REBINDING)
		m->ciaddr = cpu_to_be32(s->ip);
	memcpy(m->chaddr, s->drv.mac, ETH_ALEN);
	m->magic = cpu_to_be32(DHCP_MAGIC);
	*opt++ = DHCPOPT_MSG_TYPE;
	*opt++ = 1;
	*opt++ = type;
	/* RFC 2131 4.3.2: REQUEST in SELECTING names the offer and its server. */
	if (type == DHCPREQUEST && d->state == DHCP_REQUESTING) {
		opt = dhcp_put_opt_u32(opt, DHCPOPT_REQUESTED, d->offered_ip);
		opt = dhcp_put_opt_u32(opt, DHCPOPT_SERVER_ID, d->server_id);
	}
	*opt++ = DHCPOPT_PARAM_LIST;
	*opt++ = sizeof(dhcp_param_list);
	memcpy(opt, dhcp_param_list, sizeof(dhcp_param_list));
	opt += sizeof(dhcp_param_list);
	*opt++ = DHCPOPT_END;
	len = MAX((size_t)(opt - (u8 *)m), (size_t)BOOTP_MIN_LEN);
	if (udp_output(s, dst, DHCP_CLIENT_PORT, DHCP_SERVER_PORT, len) >= 0)
		s->stats.dhcp_sent++;
}

/* Arm the retransmission timer: RFC 2131 4.1, doubling to 64 s, +-1 s. */
static void dhcp_backoff(struct net_stack *s, bool first)
{
	struct dhcp_client *d = &s->dhcp;

	d->retry_ms = first ? DHCP_RETRY_MIN_MS : MIN(d->retry_ms * 2, (u64)DHCP_RETRY_MAX_MS);
	d->retry_at = s->now + d->retry_ms - 1000 + net_random(s) % 2001;
}

/* Give up the address: connections on it cannot survive. */
static void dhcp_unconfigure(struct net_stack *s)
{
	if (!s->configured)
		return;
	tcp_abort_all(s, TCP_CLOSED_ABORTED);
	arp_flush(s);
	s->configured = false;
	s->ip = s->netmask = s->gateway = 0;
}

/* INIT (RFC 2131 4.4.1): a new transaction starting with DHCPDISCOVER. */
void dhcp_start(struct net_stack *s)
{
	struct dhcp_client *d = &s->dhcp;

	dhcp_unconfigure(s);
	d->state = DHCP_SELECTING;
	d->xid = net_random(s);
	d->tries = 1;
	d->offered_ip = d->server_id = 0;
	dhcp_backoff(s, true);
	dhcp_send(s, DHCPDISCOVER);
}

/* The classful mask of ip, for a server that sends none (RFC 1122 3.3.1.1 as fallback). */
static u32 classful_mask(u32 ip)
{
	if (ip >> 31 == 0)
		return 0xff000000u;
	if (ip >> 30 == 2)
		return 0xffff0000u;
	return 0xffffff00u;
}

static bool mask_contiguous(u32 mask)
{
	return mask != 0 && (~mask & (~mask + 1)) == 0;
}

/* A usable unicast address for us: not 0, broadcast, multicast, class E or loopback. */
static bool dhcp_addr_ok(u32 ip)
{
	return ip != 0 && (ip >> 28) < 0xe && (ip >> 24) != 127;
}

/* Take the lease of an ACK: configure the stack and arm T1, T2 and expiry (4.4.5). */
static void dhcp_bind(struct net_stack *s, u32 ip, const struct dhcp_opts *o)
{
	struct dhcp_client *d = &s->dhcp;
	u32 mask = o->has_mask && mask_contiguous(o->mask) ? o->mask : classful_mask(ip);
	u32 lease = o->has_lease ? MAX(o->lease, (u32)DHCP_LEASE_MIN_S) : DHCP_INFINITE;
	u32 t1 = lease / 2, t2 = (u32)((u64)lease * 7 / 8);

	if (s->configured && s->ip != ip)
		dhcp_unconfigure(s);
	if (o->has_t1 && o->has_t2 && o->t1 <= o->t2 && o->t2 <= lease) {
		t1 = o->t1;
		t2 = o->t2;
	}
	s->ip = ip;
	s->netmask = mask;
	s->gateway = o->has_router && (o->router & mask) == (ip & mask) ? o->router : 0;
	s->configured = true;
	if (o->has_server)
		d->server_id = o->server;
	d->state = DHCP_BOUND;
	d->t1_at = d->t2_at = d->expire_at = 0;
	if (lease != DHCP_INFINITE) {
		d->t1_at = s->now + (u64)t1 * 1000;
		d->t2_at = s->now + (u64)t2 * 1000;
		d->expire_at = s->now + (u64)lease * 1000;
	}
	pr_info("net: dhcp: bound " IP_FMT " mask " IP_FMT " gateway " IP_FMT
		" lease %u s from " IP_FMT "\n",
		IP_ARGS(ip), IP_ARGS(mask), IP_ARGS(s->gateway), lease, IP_ARGS(d->server_id));
}

/* SELECTING: take the first valid offer and request it (RFC 2131 4.4.1). */
static void dhcp_offer(struct net_stack *s, u32 yiaddr, const struct dhcp_opts *o)
{
	struct dhcp_client *d = &s->dhcp;

	if (!dhcp_addr_ok(yiaddr) || !o->has_server) {
		NET_DROP(s, dhcp_malformed);
		return;
	}
	d->offered_ip = yiaddr;
	d->server_id = o->server;
	d->state = DHCP_REQUESTING;
	d->tries = 1;
	dhcp_backoff(s, true);
	dhcp_send(s, DHCPREQUEST);
}

/* The fixed part of a reply: ours (op, hardware, xid, MAC) and well-formed. */
static int dhcp_check_header(struct net_stack *s, const struct dhcp_msg *m)
{
	if (m->op != BOOTP_REPLY || m->htype != ARP_HRD_ETHER || m->hlen != ETH_ALEN ||
	    be32_to_cpu(m->magic) != DHCP_MAGIC) {
		NET_DROP(s, dhcp_malformed);
		return -EBADMSG;
	}
	if (be32_to_cpu(m->xid) != s->dhcp.xid || memcmp(m->chaddr, s->drv.mac, ETH_ALEN)) {
		NET_DROP(s, dhcp_ignored);
		return -ENOENT;
	}
	return 0;
}

void dhcp_input(struct net_stack *s, const u8 *msg, size_t len)
{
	const struct dhcp_msg *m = (const struct dhcp_msg *)msg;
	struct dhcp_client *d = &s->dhcp;
	bool waiting_ack;
	struct dhcp_opts o;

	if (len < sizeof(*m)) {
		NET_DROP(s, dhcp_malformed);
		return;
	}
	if (d->state == DHCP_OFF || d->state == DHCP_BOUND) {
		NET_DROP(s, dhcp_ignored);
		return;
	}
	if (dhcp_check_header(s, m))
		return;
	if (dhcp_parse_options(msg + sizeof(*m), len - sizeof(*m), &o)) {
		NET_DROP(s, dhcp_malformed);
		return;
	}
	waiting_ack =
	    d->state == DHCP_REQUESTING || d->state == DHCP_RENEWING || d->state == DHCP_REBINDING;
	/* In REQUESTING only the chosen server may answer (RFC 2131 4.4.1). */
	if (d->state == DHCP_REQUESTING && o.has_server && o.server != d->server_id)
		waiting_ack = false;
	if (o.type == DHCPOFFER && d->state == DHCP_SELECTING) {
		dhcp_offer(s, be32_to_cpu(m->yiaddr), &o);
	} else if (o.type == DHCPACK && waiting_ack) {
		if (!dhcp_addr_ok(be32_to_cpu(m->yiaddr))) {
			NET_DROP(s, dhcp_malformed);
			return;
		}
		dhcp_bind(s, be32_to_cpu(m->yiaddr), &o);
	} else if (o.type == DHCPNAK && waiting_ack) {
		pr_info("net: dhcp: NAK from " IP_FMT ", starting over\n", IP_ARGS(o.server));
		dhcp_start(s);
	} else {
		NET_DROP(s, dhcp_ignored);
	}
}

/* Retransmit in SELECTING/REQUESTING; give up after DHCP_REQUEST_TRIES requests. */
static void dhcp_poll_init(struct net_stack *s)
{
	struct dhcp_client *d = &s->dhcp;

	if (s->now < d->retry_at)
		return;
	if (d->state == DHCP_REQUESTING && d->tries >= DHCP_REQUEST_TRIES) {
		pr_info("net: dhcp: no ACK from " IP_FMT ", starting over\n",
			IP_ARGS(d->server_id));
		dhcp_start(s);
		return;
	}
	if (d->tries < 255)
		d->tries++;
	dhcp_backoff(s, false);
	dhcp_send(s, d->state == DHCP_SELECTING ? DHCPDISCOVER : DHCPREQUEST);
}

/* Enter RENEWING or REBINDING with a new transaction, or retransmit in it (4.4.5). */
static void dhcp_renew(struct net_stack *s, u8 state, u64 deadline)
{
	struct dhcp_client *d = &s->dhcp;

	if (d->state != state) {
		d->state = state;
		d->xid = net_random(s);
		d->retry_at = 0;
	}
	if (s->now < d->retry_at)
		return;
	/* Wait half the time left, at least 60 s. */
	d->retry_at = s->now + MAX((deadline - s->now) / 2, (u64)DHCP_RENEW_RETRY_MIN);
	dhcp_send(s, DHCPREQUEST);
}

void dhcp_poll(struct net_stack *s)
{
	struct dhcp_client *d = &s->dhcp;

	switch (d->state) {
	case DHCP_SELECTING:
	case DHCP_REQUESTING:
		dhcp_poll_init(s);
		break;
	case DHCP_BOUND:
	case DHCP_RENEWING:
	case DHCP_REBINDING:
		if (!d->expire_at)
			break;
		if (s->now >= d->expire_at) {
			pr_info("net: dhcp: lease of " IP_FMT " expired\n", IP_ARGS(s->ip));
			dhcp_start(s);
		} else if (s->now >= d->t2_at) {
			dhcp_renew(s, DHCP_REBINDING, d->expire_at);
		} else if (s->now >= d->t1_at) {
			dhcp_renew(s, DHCP_RENEWING, d->t2_at);
		}
		break;
	}
}

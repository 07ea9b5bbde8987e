/*
 * The DHCP server (hv/dhcp_server.h). Requests come from guests: every
 * header and option length is checked before use (the option walk is the
 * client's, hv/dhcp_opt.h); the client hardware address must be the port's.
 */
#include <hv/dhcp_opt.h>
#include <hv/dhcp_server.h>
#include <hv/errno.h>
#include <hv/string.h>
#include <hv/switch.h>

#define DHCPOPT_DNS    6
#define DHCP_REPLY_TTL IP_DEFAULT_TTL

/* What the server reads from a request. */
struct dhcps_req {
	const struct dhcp_msg *m;
	u8 type;
	bool has_requested, has_server;
	u32 requested, server, ciaddr; /* host byte order */
};

int dhcps_init(struct dhcp_server *d, const struct dhcps_config *cfg)
{
	u32 net = cfg->server_ip & cfg->mask, last = cfg->pool_start + cfg->pool_size - 1;

	if (!cfg->pool_size || cfg->pool_size > DHCPS_POOL_MAX || last < cfg->pool_start ||
	    (cfg->pool_start & cfg->mask) != net || (last & cfg->mask) != net ||
	    (cfg->server_ip >= cfg->pool_start && cfg->server_ip <= last) ||
	    cfg->pool_start == net || last == (net | ~cfg->mask))
		return -EINVAL;
	memset(d, 0, sizeof(*d));
	d->cfg = *cfg;
	return 0;
}

static bool lease_live(const struct dhcps_lease *l, u64 now_ms)
{
	return l->state != DHCPS_FREE && now_ms < l->until_ms;
}

/* The index of the live lease (offered or bound) of mac, or -1. */
static int lease_of(const struct dhcp_server *d, const u8 *mac, u64 now_ms)
{
	for (u32 i = 0; i < d->cfg.pool_size; i++) {
		const struct dhcps_lease *l = &d->lease[i];

		if (lease_live(l, now_ms) && l->state != DHCPS_DECLINED &&
		    !memcmp(l->mac, mac, ETH_ALEN))
			return (int)i;
	}
	return -1;
}

u32 dhcps_lease_ip(const struct dhcp_server *d, const u8 *mac, u64 now_ms)
{
	int i = lease_of(d, mac, now_ms);

	if (i < 0 || d->lease[i].state != DHCPS_BOUND)
		return 0;
	return d->cfg.pool_start + (u32)i;
}

/* The pool index of ip, or -1 when ip is not in the pool. */
static int pool_index(const struct dhcp_server *d, u32 ip)
{
	if (ip < d->cfg.pool_start || ip - d->cfg.pool_start >= d->cfg.pool_size)
		return -1;
	return (int)(ip - d->cfg.pool_start);
}

int dhcps_set_home(struct dhcp_server *d, const u8 *mac, u32 ip)
{
	int i = pool_index(d, ip);

	if (i < 0 || d->home[i].used)
		return -EINVAL;
	memcpy(d->home[i].mac, mac, ETH_ALEN);
	d->home[i].used = true;
	return 0;
}

/* Is pool slot i kept for a MAC other than mac? */
static bool someone_elses_home(const struct dhcp_server *d, u32 i, const u8 *mac)
{
	return d->home[i].used && memcmp(d->home[i].mac, mac, ETH_ALEN);
}

/*
 * An address for a DISCOVER: its lease, its home address if free, the one
 * asked for if free and nobody's home, any free one that is nobody's home,
 * any free one, or -1.
 */
static int pick_lease(const struct dhcp_server *d, const struct dhcps_req *r, const u8 *mac,
		      u64 now_ms)
{
	int i = lease_of(d, mac, now_ms);

	if (i >= 0)
		return i;
	for (u32 j = 0; j < d->cfg.pool_size; j++)
		if (d->home[j].used && !someone_elses_home(d, j, mac) &&
		    !lease_live(&d->lease[j], now_ms))
			return (int)j;
	i = r->has_requested ? pool_index(d, r->requested) : -1;
	if (i >= 0 && !lease_live(&d->lease[i], now_ms) && !someone_elses_home(d, (u32)i, mac))
		return i;
	for (u32 j = 0; j < d->cfg.pool_size; j++)
		if (!lease_live(&d->lease[j], now_ms) && !someone_elses_home(d, j, mac))
			return (int)j;
	for (u32 j = 0; j < d->cfg.pool_size; j++)
		if (!lease_live(&d->lease[j], now_ms))
			return (int)j;
	return -1;
}

/* The options the server reads; -EBADMSG for a bad length or no message type. */
static int parse_options(const u8 *p, size_t len, struct dhcps_req *r)
{
	struct dhcp_opt_walk w;
	struct dhcp_opt o;
	int more;

	dhcp_opt_begin(&w, p, len);
	while ((more = dhcp_opt_next(&w, &o)) > 0) {
		if (o.code == DHCPOPT_MSG_TYPE) {
			if (o.len != 1)
				return -EBADMSG;
			r->type = o.val[0];
		} else if (o.code == DHCPOPT_REQUESTED || o.code == DHCPOPT_SERVER_ID) {
			if (o.len != 4)
				return -EBADMSG;
			bool req = o.code == DHCPOPT_REQUESTED;

			*(req ? &r->requested : &r->server) = dhcp_get_be32(o.val);
			*(req ? &r->has_requested : &r->has_server) = true;
		}
	}
	return more < 0 || !r->type ? -EBADMSG : 0;
}

/*
 * A DHCP request in frame from port_mac: Ethernet, IPv4 (header checksum) and
 * UDP 68 -> 67 to us or broadcast, UDP length and checksum, BOOTP header and magic, chaddr
 * the port's MAC, options. 0, -ENOENT (not for the server: no count),
 * -EPERM (foreign) or -EBADMSG.
 */
static int parse_request(const struct dhcp_server *d, const u8 *port_mac, const u8 *frame,
			 size_t len, struct dhcps_req *r)
{
	struct sw_frame f;
	const u8 *udp;
	u16 ulen;

	memset(r, 0, sizeof(*r));
	if (sw_classify(frame, len, &f) || f.cls != SW_CLASS_IPV4 || f.tagged || f.ip_frag ||
	    f.ip_proto != IP_PROTO_UDP || f.dport != DHCP_SERVER_PORT ||
	    f.sport != DHCP_CLIENT_PORT)
		return -ENOENT;
	if (f.ip_dst != IPV4_BROADCAST && f.ip_dst != d->cfg.server_ip)
		return -ENOENT;
	if (inet_fold(inet_sum(0, frame + f.l3_off, f.l4_off - f.l3_off)))
		return -EBADMSG; /* the switch does not check the IPv4 header checksum */
	udp = frame + f.l4_off;
	ulen = (u16)(udp[4] << 8 | udp[5]);
	if (ulen < UDP_HLEN + sizeof(struct dhcp_msg) || ulen > f.l4_len)
		return -EBADMSG;
	if ((udp[6] | udp[7]) &&
	    inet_fold(inet_sum(inet_pseudo_sum(f.ip_src, f.ip_dst, IP_PROTO_UDP, ulen), udp, ulen)))
		return -EBADMSG;
	r->m = (const struct dhcp_msg *)(udp + UDP_HLEN);
	if (r->m->op != BOOTP_REQUEST || r->m->htype != ARP_HRD_ETHER || r->m->hlen != ETH_ALEN ||
	    be32_to_cpu(r->m->magic) != DHCP_MAGIC)
		return -EBADMSG;
	if (memcmp(f.src, port_mac, ETH_ALEN) || memcmp(r->m->chaddr, port_mac, ETH_ALEN))
		return -EPERM;
	r->ciaddr = be32_to_cpu(r->m->ciaddr);
	return parse_options((const u8 *)(r->m + 1), ulen - UDP_HLEN - sizeof(struct dhcp_msg), r);
}

/* The options of a reply (RFC 2132 3.3, 3.5, 3.8, 9.2, 9.6, 9.7, 9.11-9.12); returns the end. */
static u8 *put_options(const struct dhcp_server *d, u8 *o, u8 type)
{
	const struct dhcps_config *c = &d->cfg;

	*o++ = DHCPOPT_MSG_TYPE;
	*o++ = 1;
	*o++ = type;
	o = dhcp_put_opt_u32(o, DHCPOPT_SERVER_ID, c->server_ip);
	if (type != DHCPNAK) {
		o = dhcp_put_opt_u32(o, DHCPOPT_LEASE_TIME, c->lease_s);
		o = dhcp_put_opt_u32(o, DHCPOPT_T1, c->lease_s / 2);
		o = dhcp_put_opt_u32(o, DHCPOPT_T2, (u32)((u64)c->lease_s * 7 / 8));
		o = dhcp_put_opt_u32(o, DHCPOPT_SUBNET_MASK, c->mask);
		o = dhcp_put_opt_u32(o, DHCPOPT_ROUTER, c->server_ip);
		if (c->dns)
			o = dhcp_put_opt_u32(o, DHCPOPT_DNS, c->server_ip);
	}
	*o++ = DHCPOPT_END;
	return o;
}

/* IPv4 and UDP headers in front of a BOOTP message of blen bytes. */
static void put_headers(const struct dhcp_server *d, u8 *ip, u32 dst, size_t blen)
{
	struct ip_hdr *h = (struct ip_hdr *)ip;
	struct udp_hdr *u = (struct udp_hdr *)(ip + IP_HLEN);
	u16 ulen = (u16)(UDP_HLEN + blen);

	memset(h, 0, sizeof(*h));
	h->ver_ihl = IP_VERSION << 4 | IP_HLEN / 4;
	h->tot_len = cpu_to_be16((u16)(IP_HLEN + ulen));
	h->ttl = DHCP_REPLY_TTL;
	h->proto = IP_PROTO_UDP;
	h->src = cpu_to_be32(d->cfg.server_ip);
	h->dst = cpu_to_be32(dst);
	h->csum = cpu_to_be16(inet_fold(inet_sum(0, h, IP_HLEN)));
	u->sport = cpu_to_be16(DHCP_SERVER_PORT);
	u->dport = cpu_to_be16(DHCP_CLIENT_PORT);
	u->len = cpu_to_be16(ulen);
	u->csum = 0;
	u->csum = cpu_to_be16(inet_fold(
	    inet_sum(inet_pseudo_sum(d->cfg.server_ip, dst, IP_PROTO_UDP, ulen), u, ulen)));
	if (!u->csum)
		u->csum = 0xffff; /* RFC 768 */
}

/*
 * A reply of type with yiaddr to the port's MAC: broadcast for a NAK or when
 * the client asks (RFC 2131 4.1), else unicast to yiaddr. Returns its length.
 */
static size_t build_reply(struct dhcp_server *d, const struct dhcps_req *r, const u8 *port_mac,
			  u8 type, u32 yiaddr, u8 *reply)
{
	struct dhcp_msg *m = (struct dhcp_msg *)(reply + ETH_HLEN + IP_HLEN + UDP_HLEN);
	bool bcast = type == DHCPNAK || (be16_to_cpu(r->m->flags) & BOOTP_FLAG_BCAST);
	struct eth_hdr *e = (struct eth_hdr *)reply;

	memset(m, 0, BOOTP_MIN_LEN);
	m->op = BOOTP_REPLY;
	m->htype = ARP_HRD_ETHER;
	m->hlen = ETH_ALEN;
	m->xid = r->m->xid;
	m->flags = r->m->flags;
	m->yiaddr = cpu_to_be32(yiaddr);
	memcpy(m->chaddr, port_mac, ETH_ALEN);
	m->magic = cpu_to_be32(DHCP_MAGIC);
	put_options(d, (u8 *)(m + 1), type);
	put_headers(d, reply + ETH_HLEN, bcast ? IPV4_BROADCAST : yiaddr, BOOTP_MIN_LEN);
	memcpy(e->dst, port_mac, ETH_ALEN);
	memcpy(e->src, d->cfg.server_mac, ETH_ALEN);
	e->type = cpu_to_be16(ETH_P_IP);
	*(type == DHCPOFFER ? &d->stats.offer
	  : type == DHCPACK ? &d->stats.ack
			    : &d->stats.nak) += 1;
	return DHCPS_REPLY_MAX;
}

/* DISCOVER (RFC 2131 4.3.1): offer the client's address, or a free one; silence when none. */
static size_t on_discover(struct dhcp_server *d, const struct dhcps_req *r, const u8 *mac,
			  u64 now_ms, u8 *reply)
{
	int i = pick_lease(d, r, mac, now_ms);
	struct dhcps_lease *l;

	if (i < 0) {
		d->stats.pool_full++;
		return 0;
	}
	l = &d->lease[i];
	if (!lease_live(l, now_ms) || l->state != DHCPS_BOUND) {
		memcpy(l->mac, mac, ETH_ALEN);
		l->state = DHCPS_OFFERED;
		l->until_ms = now_ms + DHCPS_OFFER_HOLD_MS;
	}
	return build_reply(d, r, mac, DHCPOFFER, d->cfg.pool_start + (u32)i, reply);
}

/*
 * REQUEST (RFC 2131 4.3.2): SELECTING names a server (ours, or the offer
 * is withdrawn silently); INIT-REBOOT names the address, RENEWING and
 * REBINDING put it in ciaddr. ACK when it is the client's lease, else NAK.
 */
static size_t on_request(struct dhcp_server *d, const struct dhcps_req *r, const u8 *mac,
			 u64 now_ms, u8 *reply)
{
	int i = lease_of(d, mac, now_ms);
	u32 ip = r->has_requested ? r->requested : r->ciaddr;

	if (r->has_server && r->server != d->cfg.server_ip) {
		if (i >= 0 && d->lease[i].state == DHCPS_OFFERED)
			d->lease[i].state = DHCPS_FREE;
		d->stats.ignored++;
		return 0;
	}
	if (i < 0 || ip != d->cfg.pool_start + (u32)i)
		return build_reply(d, r, mac, DHCPNAK, 0, reply);
	d->lease[i].state = DHCPS_BOUND;
	d->lease[i].until_ms = now_ms + (u64)d->cfg.lease_s * 1000;
	return build_reply(d, r, mac, DHCPACK, ip, reply);
}

/* RELEASE (4.4.6) frees the client's own lease; DECLINE (4.3.3) keeps it out of the pool. */
static void on_release_decline(struct dhcp_server *d, const struct dhcps_req *r, const u8 *mac,
			       u64 now_ms)
{
	int i = lease_of(d, mac, now_ms);
	u32 ip = r->type == DHCPRELEASE ? r->ciaddr : r->requested;

	if (i < 0 || ip != d->cfg.pool_start + (u32)i ||
	    (r->has_server && r->server != d->cfg.server_ip)) {
		d->stats.ignored++;
		return;
	}
	if (r->type == DHCPRELEASE) {
		d->lease[i].state = DHCPS_FREE;
		return;
	}
	d->lease[i].state = DHCPS_DECLINED;
	d->lease[i].until_ms = now_ms + (u64)d->cfg.lease_s * 1000;
}

size_t dhcps_input(struct dhcp_server *d, const u8 *port_mac, const u8 *frame, size_t len,
		   u64 now_ms, u8 *reply)
{
	struct dhcps_req r;
	int rc = parse_request(d, port_mac, frame, len, &r);

	if (rc == -ENOENT)
		return 0;
	if (rc) {
		*(rc == -EPERM ? &d->stats.foreign : &d->stats.malformed) += 1;
		return 0;
	}
	switch (r.type) {
	case DHCPDISCOVER:
		d->stats.discover++;
		return on_discover(d, &r, port_mac, now_ms, reply);
	case DHCPREQUEST:
		d->stats.request++;
		return on_request(d, &r, port_mac, now_ms, reply);
	case DHCPRELEASE:
	case DHCPDECLINE:
		*(r.type == DHCPRELEASE ? &d->stats.release : &d->stats.decline) += 1;
		on_release_decline(d, &r, port_mac, now_ms);
		return 0;
	}
	d->stats.ignored++;
	return 0;
}

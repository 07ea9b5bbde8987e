/*
 * The NAT table (hv/nat.h): parsing what crosses it, rows, port allocation,
 * TCP state and timeouts, and the in-place rewrite with RFC 1624 updates.
 * Every datagram comes from a guest or the network: each length is checked
 * before the field behind it is read.
 */
#include <hv/byteorder.h>
#include <hv/errno.h>
#include <hv/nat.h>
#include <hv/string.h>

#define IP_IHL_MASK   0x0f
#define IP_TTL_OFF    8
#define IP_CSUM_OFF   10
#define IP_SRC_OFF    12
#define IP_DST_OFF    16
#define TCP_FLAGS_OFF 13
#define TCP_CSUM_OFF  16
#define UDP_CSUM_OFF  6
#define ICMP_CSUM_OFF 2
#define ICMP_ID_OFF   4

/* A parsed datagram: where the fields NAT touches are. */
struct nat_pkt {
	u8 *ip, *l4;
	u8 proto, tcp_flags;
	u32 src, dst;
	u16 sport, dport; /* ICMP echo: both are the identifier */
	u8 *sport_p, *dport_p, *csum_p;
};

/* The transport header: the ports (or echo identifier) and the checksum. */
static int parse_l4(struct nat_pkt *k, size_t l4len, u8 icmp_type)
{
	u8 *l4 = k->l4;

	if (k->proto == IP_PROTO_ICMP) {
		if (l4len < ICMP_HLEN)
			return -EBADMSG;
		if (l4[0] != icmp_type || l4[1] != 0)
			return -ENOTSUP; /* errors and the rest: not translated */
		k->sport_p = k->dport_p = l4 + ICMP_ID_OFF;
		k->csum_p = l4 + ICMP_CSUM_OFF;
	} else if (k->proto == IP_PROTO_TCP || k->proto == IP_PROTO_UDP) {
		if (l4len < (k->proto == IP_PROTO_TCP ? TCP_HLEN : UDP_HLEN))
			return -EBADMSG;
		k->sport_p = l4;
		k->dport_p = l4 + 2;
		k->csum_p = l4 + (k->proto == IP_PROTO_TCP ? TCP_CSUM_OFF : UDP_CSUM_OFF);
		if (k->proto == IP_PROTO_TCP)
			k->tcp_flags = l4[TCP_FLAGS_OFF];
	} else {
		return -ENOTSUP;
	}
	k->sport = get_be16(k->sport_p);
	k->dport = get_be16(k->dport_p);
	return 0;
}

/* RFC 791 header checks, RFC 1812 5.2.2 header checksum; fragments are not translated. */
static int parse(u8 *ip, size_t len, u8 icmp_type, struct nat_pkt *k)
{
	size_t ihl, tot;

	memset(k, 0, sizeof(*k));
	if (len < IP_HLEN || ip[0] >> 4 != IP_VERSION)
		return -EBADMSG;
	ihl = (size_t)(ip[0] & IP_IHL_MASK) * 4;
	tot = get_be16(ip + 2);
	if (ihl < IP_HLEN || tot < ihl || tot > len || inet_fold(inet_sum(0, ip, ihl)))
		return -EBADMSG;
	if (get_be16(ip + 6) & (IP_FLAG_MF | IP_OFFSET_MASK))
		return -ENOTSUP;
	k->ip = ip;
	k->l4 = ip + ihl;
	k->proto = ip[9];
	k->src = get_be32(ip + IP_SRC_OFF);
	k->dst = get_be32(ip + IP_DST_OFF);
	return parse_l4(k, tot - ihl, icmp_type);
}

/* Count a parse failure under its reason. */
static int count_parse(struct nat_table *t, int rc)
{
	if (rc == -EBADMSG)
		t->stats.malformed++;
	else if (rc == -ENOTSUP)
		t->stats.unsupported++;
	return rc;
}

void nat_init(struct nat_table *t, u32 outside_ip, u16 port_lo, u16 port_hi)
{
	memset(t, 0, sizeof(*t));
	t->outside_ip = outside_ip;
	t->port_lo = port_lo;
	t->port_hi = port_hi < port_lo ? port_lo : port_hi;
	t->next_port = t->port_lo;
}

int nat_add_forward(struct nat_table *t, u16 host_port, u32 vsi_ip, u16 vsi_port)
{
	for (u32 i = 0; i < t->nfwd; i++)
		if (t->fwd[i].host_port == host_port)
			return -EEXIST;
	if (t->nfwd >= NAT_FWD_MAX)
		return -ENOSPC;
	t->fwd[t->nfwd++] = (struct nat_fwd){ host_port, vsi_port, vsi_ip };
	return 0;
}

int nat_retarget_forward(struct nat_table *t, u16 host_port, u32 vsi_ip)
{
	for (u32 i = 0; i < t->nfwd; i++) {
		if (t->fwd[i].host_port == host_port) {
			t->fwd[i].vsi_ip = vsi_ip;
			return 0;
		}
	}
	return -ENOENT;
}

static u64 row_timeout(const struct nat_row *r)
{
	if (r->proto == IP_PROTO_UDP)
		return NAT_TIMEOUT_UDP_MS;
	if (r->proto == IP_PROTO_ICMP)
		return NAT_TIMEOUT_ICMP_MS;
	if (r->state == NAT_TCP_ESTABLISHED)
		return NAT_TIMEOUT_TCP_EST_MS;
	if (r->state == NAT_TCP_RST)
		return NAT_TIMEOUT_TCP_RST_MS;
	return NAT_TIMEOUT_TCP_TRANS_MS;
}

static bool row_live(const struct nat_row *r, u64 now_ms)
{
	/* a clock that went back never makes a row look older */
	return r->used && (now_ms < r->seen_ms || now_ms - r->seen_ms < row_timeout(r));
}

bool nat_forward_reply(const struct nat_table *t, u32 in_ip, u16 in_port, u32 rem_ip, u16 rem_port,
		       u64 now_ms)
{
	for (u32 i = 0; i < NAT_ROWS; i++) {
		const struct nat_row *r = &t->rows[i];

		if (row_live(r, now_ms) && r->fwd && r->proto == IP_PROTO_TCP &&
		    r->state != NAT_TCP_RST && r->in_ip == in_ip && r->in_port == in_port &&
		    r->rem_ip == rem_ip && r->rem_port == rem_port)
			return true;
	}
	return false;
}

u32 nat_expire(struct nat_table *t, u64 now_ms)
{
	u32 n = 0;

	for (u32 i = 0; i < NAT_ROWS; i++) {
		if (t->rows[i].used && !row_live(&t->rows[i], now_ms)) {
			t->rows[i].used = false;
			n++;
		}
	}
	t->stats.expired += n;
	return n;
}

/* The live row of a connection seen from inside, or NULL. */
static struct nat_row *find_out(struct nat_table *t, const struct nat_pkt *k, u16 rem_port,
				u64 now_ms)
{
	for (u32 i = 0; i < NAT_ROWS; i++) {
		struct nat_row *r = &t->rows[i];

		if (row_live(r, now_ms) && r->proto == k->proto && r->in_ip == k->src &&
		    r->in_port == k->sport && r->rem_ip == k->dst && r->rem_port == rem_port)
			return r;
	}
	return NULL;
}

/* The live row of a connection seen from outside, or NULL. */
static struct nat_row *find_in(struct nat_table *t, const struct nat_pkt *k, u16 rem_port,
			       u64 now_ms)
{
	for (u32 i = 0; i < NAT_ROWS; i++) {
		struct nat_row *r = &t->rows[i];

		if (row_live(r, now_ms) && r->proto == k->proto && r->out_port == k->dport &&
		    r->rem_ip == k->src && r->rem_port == rem_port)
			return r;
	}
	return NULL;
}

/* Is outside port p of proto taken: by a live row, or (TCP) by a static forward? */
static bool port_taken(const struct nat_table *t, u8 proto, u16 p, u64 now_ms)
{
	for (u32 i = 0; proto == IP_PROTO_TCP && i < t->nfwd; i++)
		if (t->fwd[i].host_port == p)
			return true;
	for (u32 i = 0; i < NAT_ROWS; i++)
		if (row_live(&t->rows[i], now_ms) && t->rows[i].proto == proto &&
		    t->rows[i].out_port == p)
			return true;
	return false;
}

/*
 * The outside port for a new row from inside: the one this ip:port already
 * has (endpoint-independent mapping, RFC 4787 REQ-1), else the next free one
 * of the range, round robin so a freed port is reused last. 0: none free.
 */
static u16 alloc_port(struct nat_table *t, const struct nat_pkt *k, u64 now_ms)
{
	u32 range = (u32)t->port_hi - t->port_lo + 1;

	for (u32 i = 0; i < NAT_ROWS; i++) {
		const struct nat_row *r = &t->rows[i];

		if (row_live(r, now_ms) && !r->fwd && r->proto == k->proto && r->in_ip == k->src &&
		    r->in_port == k->sport)
			return r->out_port;
	}
	for (u32 n = 0; n < range; n++) {
		u16 p = t->next_port;

		t->next_port = p >= t->port_hi ? t->port_lo : (u16)(p + 1);
		if (p && !port_taken(t, k->proto, p, now_ms))
			return p;
	}
	return 0;
}

/* A free (or timed-out) row, or NULL: table full. */
static struct nat_row *alloc_row(struct nat_table *t, u64 now_ms)
{
	for (u32 i = 0; i < NAT_ROWS; i++) {
		struct nat_row *r = &t->rows[i];

		if (r->used && !row_live(r, now_ms))
			t->stats.expired++;
		if (!row_live(r, now_ms)) {
			memset(r, 0, sizeof(*r));
			return r;
		}
	}
	t->stats.table_full++;
	return NULL;
}

/* TCP state from the flags of a segment crossing either way (RFC 9293 3.3.2, coarsely). */
static void track_tcp(struct nat_row *r, u8 flags)
{
	if (flags & TCP_RST)
		r->state = NAT_TCP_RST;
	else if (r->state == NAT_TCP_RST)
		return;
	else if (flags & TCP_FIN)
		r->state = NAT_TCP_FIN;
	else if ((flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK) && r->state == NAT_TCP_SYN)
		r->state = NAT_TCP_ESTABLISHED;
}

/*
 * Replace the address at ip+addr_off and the port at *port_p, updating the
 * header checksum, the transport checksum (TCP and UDP cover the address in
 * their pseudo-header, ICMP does not) and the TTL.
 */
static void rewrite(struct nat_pkt *k, size_t addr_off, u8 *port_p, u32 addr, u16 port)
{
	u32 old_addr = get_be32(k->ip + addr_off);
	u16 old_port = get_be16(port_p), old_ttl = get_be16(k->ip + IP_TTL_OFF);
	bool udp_none = k->proto == IP_PROTO_UDP && !get_be16(k->csum_p);

	put_be32(k->ip + addr_off, addr);
	inet_csum_update32(k->ip + IP_CSUM_OFF, old_addr, addr);
	k->ip[IP_TTL_OFF]--;
	inet_csum_update16(k->ip + IP_CSUM_OFF, old_ttl, get_be16(k->ip + IP_TTL_OFF));
	put_be16(port_p, port);
	if (udp_none)
		return; /* RFC 768: no checksum stays none */
	if (k->proto != IP_PROTO_ICMP)
		inet_csum_update32(k->csum_p, old_addr, addr);
	inet_csum_update16(k->csum_p, old_port, port);
	if (k->proto == IP_PROTO_UDP && !get_be16(k->csum_p))
		put_be16(k->csum_p, 0xffff); /* RFC 768: a computed 0 is sent as all ones */
}

/* A new row for a connection from inside, or an error counted. */
static int new_out_row(struct nat_table *t, const struct nat_pkt *k, u16 rem_port, u64 now_ms,
		       struct nat_row **out)
{
	struct nat_row *r;
	u16 port;

	if (k->proto == IP_PROTO_TCP && (k->tcp_flags & (TCP_SYN | TCP_ACK | TCP_RST)) != TCP_SYN) {
		t->stats.no_mapping++;
		return -ENOENT; /* RFC 5382 allows: only a SYN opens a mapping */
	}
	port = alloc_port(t, k, now_ms);
	if (!port) {
		t->stats.no_port++;
		return -ENOSPC;
	}
	r = alloc_row(t, now_ms);
	if (!r)
		return -ENOSPC;
	*r = (struct nat_row){ .used = true,
			       .proto = k->proto,
			       .in_ip = k->src,
			       .in_port = k->sport,
			       .out_port = port,
			       .rem_ip = k->dst,
			       .rem_port = rem_port };
	*out = r;
	return 0;
}

int nat_outbound(struct nat_table *t, u8 *ip, size_t len, u64 now_ms)
{
	struct nat_pkt k;
	struct nat_row *r;
	u16 rem_port;
	int rc = parse(ip, len, ICMP_ECHO, &k);

	if (rc)
		return count_parse(t, rc);
	if (ip[IP_TTL_OFF] <= 1) {
		t->stats.ttl_expired++;
		return -ETIMEDOUT;
	}
	rem_port = k.proto == IP_PROTO_ICMP ? 0 : k.dport;
	r = find_out(t, &k, rem_port, now_ms);
	if (!r && (rc = new_out_row(t, &k, rem_port, now_ms, &r)))
		return rc;
	r->seen_ms = now_ms;
	if (k.proto == IP_PROTO_TCP)
		track_tcp(r, k.tcp_flags);
	rewrite(&k, IP_SRC_OFF, k.sport_p, t->outside_ip, r->out_port);
	t->stats.out_ok++;
	return 0;
}

/* A SYN to a forwarded host port: a new row towards the VSI's server, or NULL. */
static struct nat_row *new_fwd_row(struct nat_table *t, const struct nat_pkt *k, u64 now_ms)
{
	struct nat_row *r;

	if (k->proto != IP_PROTO_TCP || (k->tcp_flags & (TCP_SYN | TCP_ACK | TCP_RST)) != TCP_SYN)
		return NULL;
	for (u32 i = 0; i < t->nfwd; i++) {
		if (t->fwd[i].host_port != k->dport)
			continue;
		if (!t->fwd[i].vsi_ip)
			return NULL; /* its VSI has no address (yet) */
		r = alloc_row(t, now_ms);
		if (r)
			*r = (struct nat_row){ .used = true,
					       .fwd = true,
					       .proto = IP_PROTO_TCP,
					       .in_ip = t->fwd[i].vsi_ip,
					       .in_port = t->fwd[i].vsi_port,
					       .out_port = k->dport,
					       .rem_ip = k->src,
					       .rem_port = k->sport };
		return r;
	}
	return NULL;
}

int nat_inbound(struct nat_table *t, u8 *ip, size_t len, u64 now_ms)
{
	struct nat_pkt k;
	struct nat_row *r;
	u16 rem_port;
	int rc = parse(ip, len, ICMP_ECHO_REPLY, &k);

	if (rc)
		return count_parse(t, rc);
	if (k.dst != t->outside_ip) {
		t->stats.no_mapping++;
		return -ENOENT;
	}
	if (ip[IP_TTL_OFF] <= 1) {
		t->stats.ttl_expired++;
		return -ETIMEDOUT;
	}
	rem_port = k.proto == IP_PROTO_ICMP ? 0 : k.sport;
	r = find_in(t, &k, rem_port, now_ms);
	if (!r) {
		u64 full = t->stats.table_full;

		r = new_fwd_row(t, &k, now_ms);
		if (!r && t->stats.table_full != full)
			return -ENOSPC;
		if (!r) {
			t->stats.no_mapping++;
			return -ENOENT;
		}
	}
	r->seen_ms = now_ms;
	if (k.proto == IP_PROTO_TCP)
		track_tcp(r, k.tcp_flags);
	rewrite(&k, IP_DST_OFF, k.dport_p, r->in_ip, r->in_port);
	t->stats.in_ok++;
	return 0;
}

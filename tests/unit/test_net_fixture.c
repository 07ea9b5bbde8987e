/* The fake NIC, frame builders and parser shared by the net unit tests. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <hv/errno.h>
#include "test_net_fixture.h"

const u8 our_mac[ETH_ALEN] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
const u8 peer_mac[ETH_ALEN] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x05 };
const u8 gw_mac[ETH_ALEN] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0xfe };
const u8 bcast_mac[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

struct fake_nic nic;
struct net_stack stack;

static int fake_transmit(void *ctx, const void *frame, size_t len)
{
	struct fake_nic *n = ctx;

	assert_true(len >= ETH_ZLEN && len <= ETH_FRAME_MAX);
	if (n->busy) {
		n->busy--;
		return -EBUSY;
	}
	assert_true(n->nr < NIC_MAX_FRAMES);
	n->frames[n->nr].len = len;
	memcpy(n->frames[n->nr].data, frame, len);
	n->nr++;
	return 0;
}

void nic_clear(void)
{
	nic.nr = 0;
	nic.busy = 0;
}

void net_test_setup(bool configure)
{
	struct net_driver drv = { .transmit = fake_transmit, .ctx = &nic };

	memcpy(drv.mac, our_mac, ETH_ALEN);
	nic_clear();
	net_init(&stack, &drv);
	if (configure)
		net_config_static(&stack, OUR_IP, NETMASK, GW_IP);
}

static u16 fold(u32 sum)
{
	return inet_fold(sum);
}

void parse_frame(u32 i, struct parsed *p)
{
	const u8 *f;
	size_t len, hlen, tot;

	assert_true(i < nic.nr);
	f = nic.frames[i].data;
	len = nic.frames[i].len;
	memset(p, 0, sizeof(*p));
	p->eth = (const struct eth_hdr *)f;
	assert_memory_equal(p->eth->src, our_mac, ETH_ALEN);
	if (be16_to_cpu(p->eth->type) == ETH_P_ARP) {
		p->arp = (const struct arp_pkt *)(f + ETH_HLEN);
		return;
	}
	assert_int_equal(be16_to_cpu(p->eth->type), ETH_P_IP);
	p->ip = (const struct ip_hdr *)(f + ETH_HLEN);
	hlen = (p->ip->ver_ihl & 0xf) * 4;
	tot = be16_to_cpu(p->ip->tot_len);
	assert_int_equal(p->ip->ver_ihl, 0x45);
	assert_true(ETH_HLEN + tot <= len);
	assert_int_equal(fold(inet_sum(0, p->ip, hlen)), 0);
	assert_int_equal(p->ip->ttl, 64);
	assert_int_equal(be16_to_cpu(p->ip->frag_off), IP_FLAG_DF);
	p->data = f + ETH_HLEN + hlen;
	p->data_len = tot - hlen;
	u32 pseudo = inet_pseudo_sum(be32_to_cpu(p->ip->src), be32_to_cpu(p->ip->dst), p->ip->proto,
				     (u16)p->data_len);
	switch (p->ip->proto) {
	case IP_PROTO_ICMP:
		p->icmp = (const struct icmp_hdr *)p->data;
		assert_int_equal(fold(inet_sum(0, p->data, p->data_len)), 0);
		break;
	case IP_PROTO_UDP:
		p->udp = (const struct udp_hdr *)p->data;
		assert_int_equal(be16_to_cpu(p->udp->len), p->data_len);
		assert_int_equal(fold(inet_sum(pseudo, p->data, p->data_len)), 0);
		p->data += UDP_HLEN;
		p->data_len -= UDP_HLEN;
		break;
	case IP_PROTO_TCP:
		p->tcp = (const struct tcp_hdr *)p->data;
		assert_int_equal(fold(inet_sum(pseudo, p->data, p->data_len)), 0);
		hlen = (p->tcp->doff >> 4) * 4;
		assert_true(hlen >= TCP_HLEN && hlen <= p->data_len);
		p->opts = p->data + TCP_HLEN;
		p->opts_len = hlen - TCP_HLEN;
		p->data += hlen;
		p->data_len -= hlen;
		break;
	default:
		fail_msg("unexpected protocol %u", p->ip->proto);
	}
}

int find_tcp(u32 from, u32 n)
{
	for (u32 i = from; i < nic.nr; i++) {
		const struct eth_hdr *eh = (const struct eth_hdr *)nic.frames[i].data;
		const struct ip_hdr *ih = (const struct ip_hdr *)(eh + 1);

		if (be16_to_cpu(eh->type) == ETH_P_IP && ih->proto == IP_PROTO_TCP && n-- == 0)
			return (int)i;
	}
	return -1;
}

u32 count_tcp(u32 from)
{
	u32 n = 0;

	while (find_tcp(from, n) >= 0)
		n++;
	return n;
}

static size_t build_eth(u8 *buf, const u8 *dst, u16 type, size_t payload_len)
{
	struct eth_hdr *eh = (struct eth_hdr *)buf;

	memcpy(eh->dst, dst, ETH_ALEN);
	memcpy(eh->src, peer_mac, ETH_ALEN);
	eh->type = cpu_to_be16(type);
	return ETH_HLEN + payload_len;
}

size_t build_arp(u8 *buf, const u8 *dst, u16 op, const u8 *sha, u32 spa, const u8 *tha, u32 tpa)
{
	struct arp_pkt *ap = (struct arp_pkt *)(buf + ETH_HLEN);

	ap->hrd = cpu_to_be16(ARP_HRD_ETHER);
	ap->pro = cpu_to_be16(ETH_P_IP);
	ap->hln = 6;
	ap->pln = 4;
	ap->op = cpu_to_be16(op);
	memcpy(ap->sha, sha, ETH_ALEN);
	ap->spa = cpu_to_be32(spa);
	memcpy(ap->tha, tha, ETH_ALEN);
	ap->tpa = cpu_to_be32(tpa);
	return build_eth(buf, dst, ETH_P_ARP, sizeof(*ap));
}

size_t build_ip(u8 *buf, u32 src, u32 dst, u8 proto, const void *payload, size_t len)
{
	struct ip_hdr *ih = (struct ip_hdr *)(buf + ETH_HLEN);

	memset(ih, 0, IP_HLEN);
	ih->ver_ihl = 0x45;
	ih->tot_len = cpu_to_be16((u16)(IP_HLEN + len));
	ih->id = cpu_to_be16(0x1234);
	ih->ttl = 64;
	ih->proto = proto;
	ih->src = cpu_to_be32(src);
	ih->dst = cpu_to_be32(dst);
	ih->csum = cpu_to_be16(inet_fold(inet_sum(0, ih, IP_HLEN)));
	if (payload != buf + ETH_HLEN + IP_HLEN)
		memmove(buf + ETH_HLEN + IP_HLEN, payload, len);
	return build_eth(buf, our_mac, ETH_P_IP, IP_HLEN + len);
}

size_t build_udp(u8 *buf, u32 src, u32 dst, u16 sport, u16 dport, const void *data, size_t len)
{
	u8 *l4 = buf + ETH_HLEN + IP_HLEN;
	struct udp_hdr *uh = (struct udp_hdr *)l4;
	u16 ulen = (u16)(UDP_HLEN + len);
	u16 csum;

	memmove(l4 + UDP_HLEN, data, len);
	uh->sport = cpu_to_be16(sport);
	uh->dport = cpu_to_be16(dport);
	uh->len = cpu_to_be16(ulen);
	uh->csum = 0;
	csum = inet_fold(inet_sum(inet_pseudo_sum(src, dst, IP_PROTO_UDP, ulen), uh, ulen));
	uh->csum = cpu_to_be16(csum ? csum : 0xffff);
	return build_ip(buf, src, dst, IP_PROTO_UDP, l4, ulen);
}

size_t build_tcp(u8 *buf, const struct tcp_spec *t)
{
	u8 *l4 = buf + ETH_HLEN + IP_HLEN;
	struct tcp_hdr *th = (struct tcp_hdr *)l4;
	size_t hlen = TCP_HLEN + ((t->opts_len + 3) & ~3u), seglen = hlen + t->len;

	memset(th, 0, hlen);
	th->sport = cpu_to_be16(t->sport);
	th->dport = cpu_to_be16(t->dport);
	th->seq = cpu_to_be32(t->seq);
	th->ack = cpu_to_be32(t->ack);
	th->doff = (u8)(hlen / 4) << 4;
	th->flags = t->flags;
	th->wnd = cpu_to_be16(t->wnd);
	if (t->opts_len)
		memcpy(l4 + TCP_HLEN, t->opts, t->opts_len);
	if (t->len)
		memcpy(l4 + hlen, t->data, t->len);
	th->csum = cpu_to_be16(inet_fold(
	    inet_sum(inet_pseudo_sum(t->src, t->dst, IP_PROTO_TCP, (u16)seglen), l4, seglen)));
	return build_ip(buf, t->src, t->dst, IP_PROTO_TCP, l4, seglen);
}

void inject(const void *frame, size_t len, u64 now)
{
	net_input(&stack, frame, len, now);
}

void learn(u32 ip, const u8 *mac, u64 now)
{
	u8 buf[ETH_FRAME_MAX];
	size_t len = build_arp(buf, our_mac, ARP_OP_REPLY, mac, ip, our_mac, OUR_IP);

	inject(buf, len, now);
}

void peer_send(struct peer *p, u8 flags, const void *data, size_t len, u64 now)
{
	static u8 buf[ETH_FRAME_MAX];
	struct tcp_spec t = {
		.src = p->ip,
		.dst = OUR_IP,
		.sport = p->port,
		.dport = p->lport,
		.seq = p->seq,
		.ack = p->ack,
		.flags = flags,
		.wnd = p->wnd,
		.data = data,
		.len = len,
	};

	inject(buf, build_tcp(buf, &t), now);
	p->seq += (u32)len + !!(flags & TCP_SYN) + !!(flags & TCP_FIN);
}

struct tcp_conn *establish(struct peer *p, u16 wnd, u64 now)
{
	static const u8 mss_opt[] = { TCPOPT_MSS, 4, 0x05, 0xb4 };
	static u8 buf[ETH_FRAME_MAX];
	struct tcp_conn *c;
	struct parsed syn;
	struct tcp_spec t;
	int i;

	learn(PEER_IP, peer_mac, now);
	nic_clear();
	c = tcp_connect(&stack, PEER_IP, PEER_PORT, now);
	assert_non_null(c);
	i = find_tcp(0, 0);
	assert_true(i >= 0);
	parse_frame((u32)i, &syn);
	assert_int_equal(syn.tcp->flags, TCP_SYN);
	*p = (struct peer){
		.ip = PEER_IP,
		.port = PEER_PORT,
		.lport = be16_to_cpu(syn.tcp->sport),
		.seq = 0x10000000,
		.ack = be32_to_cpu(syn.tcp->seq) + 1,
		.wnd = wnd,
	};
	t = (struct tcp_spec){
		.src = PEER_IP,
		.dst = OUR_IP,
		.sport = PEER_PORT,
		.dport = p->lport,
		.seq = p->seq,
		.ack = p->ack,
		.flags = TCP_SYN | TCP_ACK,
		.wnd = wnd,
		.opts = mss_opt,
		.opts_len = sizeof(mss_opt),
	};
	inject(buf, build_tcp(buf, &t), now + 10);
	p->seq++;
	assert_int_equal(tcp_state(c), TCP_ESTABLISHED);
	nic_clear();
	return c;
}

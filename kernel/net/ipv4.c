/*
 * IPv4 (RFC 791) in and out, and ICMP echo (RFC 792). No fragmentation:
 * fragments are dropped and counted, and everything sent carries DF and
 * fits the MTU. Output goes to the destination on our subnet, through the
 * gateway otherwise.
 */
#include <hv/errno.h>
#include <hv/string.h>

#include "net_internal.h"

/* The source address of what we send: 0.0.0.0 until configured (RFC 2131 4.1). */
u32 ip_source(const struct net_stack *s)
{
	return s->configured ? s->ip : 0;
}

static bool ip_is_broadcast(const struct net_stack *s, u32 ip)
{
	return ip == IPV4_BROADCAST ||
	       (s->configured && s->netmask != IPV4_BROADCAST && ip == (s->ip | ~s->netmask));
}

/* RFC 1122 3.2.1.3: a source may not be broadcast, multicast, loopback or 0 (nor us). */
static bool ip_bad_source(const struct net_stack *s, u32 src)
{
	return src == 0 || ip_is_broadcast(s, src) || (src >> 28) == 0xe || (src >> 24) == 127 ||
	       (s->configured && src == s->ip);
}

/* RFC 792 "Echo or Echo Reply Message": the reply returns the request's data. */
static void icmp_input(struct net_stack *s, const struct ip_info *ip, const u8 *pkt, size_t len)
{
	struct icmp_hdr *reply = (struct icmp_hdr *)(s->tx + NET_L4_OFF);
	const struct icmp_hdr *ih = (const struct icmp_hdr *)pkt;

	if (len < ICMP_HLEN) {
		NET_DROP(s, icmp_short);
		return;
	}
	if (inet_fold(inet_sum(0, pkt, len)) != 0) {
		NET_DROP(s, icmp_bad_checksum);
		return;
	}
	/* RFC 1122 3.2.2.6 allows ignoring echo requests sent to a broadcast address. */
	if (ih->type != ICMP_ECHO || ih->code != 0 || ip->broadcast) {
		NET_DROP(s, icmp_ignored);
		return;
	}
	memcpy(reply, pkt, len);
	reply->type = ICMP_ECHO_REPLY;
	reply->csum = 0;
	reply->csum = cpu_to_be16(inet_fold(inet_sum(0, reply, len)));
	if (ip_output(s, ip->src, IP_PROTO_ICMP, len) >= 0)
		s->stats.icmp_echo_replied++;
}

/* Check a datagram's header (RFC 791 3.1) and pass its payload up. */
void ip_input(struct net_stack *s, const u8 *pkt, size_t len)
{
	const struct ip_hdr *ih = (const struct ip_hdr *)pkt;
	struct ip_info info;
	size_t hlen, tot;
	u16 frag;

	if (len < IP_HLEN) {
		NET_DROP(s, ip_short);
		return;
	}
	if (ih->ver_ihl >> 4 != IP_VERSION) {
		NET_DROP(s, ip_bad_version);
		return;
	}
	hlen = (size_t)(ih->ver_ihl & 0xf) * 4;
	if (hlen < IP_HLEN || hlen > len) {
		NET_DROP(s, ip_bad_hlen);
		return;
	}
	if (inet_fold(inet_sum(0, pkt, hlen)) != 0) {
		NET_DROP(s, ip_bad_checksum);
		return;
	}
	/* The frame may be padded beyond the datagram, never shorter; no jumbo frames. */
	tot = be16_to_cpu(ih->tot_len);
	if (tot < hlen || tot > len || tot > ETH_MTU) {
		NET_DROP(s, ip_bad_len);
		return;
	}
	frag = be16_to_cpu(ih->frag_off);
	if ((frag & IP_FLAG_MF) || (frag & IP_OFFSET_MASK)) {
		NET_DROP(s, ip_fragments);
		return;
	}
	info.src = be32_to_cpu(ih->src);
	info.dst = be32_to_cpu(ih->dst);
	info.broadcast = ip_is_broadcast(s, info.dst);
	if (ip_bad_source(s, info.src)) {
		NET_DROP(s, ip_bad_src);
		return;
	}
	/* Unconfigured, only DHCP's UDP gets through, whatever the address. */
	if (s->configured ? (info.dst != s->ip && !info.broadcast) : ih->proto != IP_PROTO_UDP) {
		NET_DROP(s, ip_not_for_us);
		return;
	}
	pkt += hlen;
	len = tot - hlen;
	switch (ih->proto) {
	case IP_PROTO_ICMP:
		icmp_input(s, &info, pkt, len);
		break;
	case IP_PROTO_UDP:
		udp_input(s, &info, pkt, len);
		break;
	case IP_PROTO_TCP:
		tcp_input(s, &info, pkt, len);
		break;
	default:
		NET_DROP(s, ip_unknown_proto);
		break;
	}
}

/* The next hop for dst: itself on the subnet, else the gateway; 0 for none. */
static u32 next_hop_for(const struct net_stack *s, u32 dst)
{
	if (ip_is_broadcast(s, dst))
		return IPV4_BROADCAST;
	if (!s->configured || dst == 0)
		return 0;
	if ((dst & s->netmask) != (s->ip & s->netmask))
		return s->gateway;
	return dst;
}

int net_route_datagram(struct net_stack *s, const u8 *ip, size_t len)
{
	struct eth_hdr *eh = (struct eth_hdr *)s->tx;
	u32 dst, next_hop;

	if (len < IP_HLEN || len > ETH_MTU)
		return -E2BIG;
	dst = be32_to_cpu(((const struct ip_hdr *)ip)->dst);
	next_hop = next_hop_for(s, dst);
	if (!next_hop || next_hop == IPV4_BROADCAST) {
		NET_DROP(s, ip_no_route);
		return -EHOSTUNREACH;
	}
	memcpy(s->tx + NET_IP_OFF, ip, len);
	memcpy(eh->src, s->drv.mac, ETH_ALEN);
	eh->type = cpu_to_be16(ETH_P_IP);
	return arp_output(s, next_hop, s->tx, ETH_HLEN + len);
}

/*
 * Send the l4_len bytes of protocol proto at s->tx + NET_L4_OFF to dst: 0
 * sent, NET_QUEUED held for ARP, or -errno.
 */
int ip_output(struct net_stack *s, u32 dst, u8 proto, size_t l4_len)
{
	struct eth_hdr *eh = (struct eth_hdr *)s->tx;
	struct ip_hdr *ih = (struct ip_hdr *)(s->tx + NET_IP_OFF);
	u32 next_hop = next_hop_for(s, dst);

	if (l4_len > NET_L4_MAX)
		return -E2BIG;
	if (!next_hop) {
		NET_DROP(s, ip_no_route);
		return -EHOSTUNREACH;
	}
	ih->ver_ihl = IP_VERSION << 4 | IP_HLEN / 4;
	ih->tos = 0;
	ih->tot_len = cpu_to_be16((u16)(IP_HLEN + l4_len));
	ih->id = cpu_to_be16(s->ip_id++);
	ih->frag_off = cpu_to_be16(IP_FLAG_DF);
	ih->ttl = IP_DEFAULT_TTL;
	ih->proto = proto;
	ih->csum = 0;
	ih->src = cpu_to_be32(ip_source(s));
	ih->dst = cpu_to_be32(dst);
	ih->csum = cpu_to_be16(inet_fold(inet_sum(0, ih, IP_HLEN)));
	memcpy(eh->src, s->drv.mac, ETH_ALEN);
	eh->type = cpu_to_be16(ETH_P_IP);
	return arp_output(s, next_hop, s->tx, ETH_HLEN + IP_HLEN + l4_len);
}

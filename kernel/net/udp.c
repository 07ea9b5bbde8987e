/*
 * UDP (RFC 768). The only user is the DHCP client on port 68; datagrams to
 * any other port are counted and dropped (no ICMP port unreachable).
 */
#include <hv/errno.h>

#include "net_internal.h"

void udp_input(struct net_stack *s, const struct ip_info *ip, const u8 *pkt, size_t len)
{
	const struct udp_hdr *uh = (const struct udp_hdr *)pkt;
	size_t ulen;

	if (len < UDP_HLEN) {
		NET_DROP(s, udp_short);
		return;
	}
	ulen = be16_to_cpu(uh->len);
	if (ulen < UDP_HLEN || ulen > len) {
		NET_DROP(s, udp_bad_len);
		return;
	}
	/* RFC 768: a zero checksum means the sender computed none. */
	if (uh->csum &&
	    inet_fold(inet_sum(inet_pseudo_sum(ip->src, ip->dst, IP_PROTO_UDP, (u16)ulen), pkt,
			       ulen)) != 0) {
		NET_DROP(s, udp_bad_checksum);
		return;
	}
	if (be16_to_cpu(uh->dport) == DHCP_CLIENT_PORT &&
	    be16_to_cpu(uh->sport) == DHCP_SERVER_PORT) {
		dhcp_input(s, pkt + UDP_HLEN, ulen - UDP_HLEN);
		return;
	}
	NET_DROP(s, udp_no_port);
}

/* Send the data_len bytes at s->tx + NET_UDP_DATA from sport to dst:dport (ip_output()'s result). */
int udp_output(struct net_stack *s, u32 dst, u16 sport, u16 dport, size_t data_len)
{
	struct udp_hdr *uh = (struct udp_hdr *)(s->tx + NET_L4_OFF);
	u16 ulen = (u16)(UDP_HLEN + data_len);
	u16 csum;

	if (data_len > NET_L4_MAX - UDP_HLEN)
		return -E2BIG;
	uh->sport = cpu_to_be16(sport);
	uh->dport = cpu_to_be16(dport);
	uh->len = cpu_to_be16(ulen);
	uh->csum = 0;
	csum =
	    inet_fold(inet_sum(inet_pseudo_sum(ip_source(s), dst, IP_PROTO_UDP, ulen), uh, ulen));
	/* RFC 768: a computed zero is sent as all ones. */
	uh->csum = cpu_to_be16(csum ? csum : 0xffff);
	return ip_output(s, dst, IP_PROTO_UDP, ulen);
}

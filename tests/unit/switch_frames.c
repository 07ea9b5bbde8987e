/* Frame builders and an independent checksum check (see switch_frames.h). */
#include <string.h>

#include <hv/byteorder.h>

#include "switch_frames.h"

/* RFC 1071, written out again on purpose: it checks the code under test. */
static u16 ref_csum(const u8 *a, size_t alen, const u8 *b, size_t blen)
{
	u64 sum = 0;
	size_t i;

	for (i = 0; i + 1 < alen; i += 2)
		sum += (u32)(a[i] << 8 | a[i + 1]);
	for (i = 0; i + 1 < blen; i += 2)
		sum += (u32)(b[i] << 8 | b[i + 1]);
	if (blen & 1)
		sum += (u32)b[blen - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (u16)~sum;
}

size_t fr_eth(u8 *buf, const u8 *dst, const u8 *src, u16 type, int vid)
{
	memcpy(buf, dst, ETH_ALEN);
	memcpy(buf + ETH_ALEN, src, ETH_ALEN);
	if (vid >= 0) {
		put_be16(buf + 12, 0x8100);
		put_be16(buf + 14, (u16)vid);
		put_be16(buf + 16, type);
		return 18;
	}
	put_be16(buf + 12, type);
	return 14;
}

size_t fr_arp(u8 *buf, const u8 *src, u16 op, const u8 *sha, u32 spa, u32 tpa)
{
	static const u8 bcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	size_t h = fr_eth(buf, bcast, src, ETH_P_ARP, -1);
	u8 *a = buf + h;

	put_be16(a, ARP_HRD_ETHER);
	put_be16(a + 2, ETH_P_IP);
	a[4] = ETH_ALEN;
	a[5] = 4;
	put_be16(a + 6, op);
	memcpy(a + 8, sha, ETH_ALEN);
	put_be32(a + 14, spa);
	memset(a + 18, 0, ETH_ALEN);
	put_be32(a + 24, tpa);
	return h + 28;
}

static size_t l4_hlen(u8 proto)
{
	return proto == IP_PROTO_TCP ? TCP_HLEN : proto == IP_PROTO_UDP ? UDP_HLEN : ICMP_HLEN;
}

static void fill_l4(u8 *l4, u8 proto, u16 sport, u16 dport, u8 tcp_flags, size_t l4len)
{
	memset(l4, 0, l4_hlen(proto));
	if (proto == IP_PROTO_ICMP) {
		l4[0] = ICMP_ECHO;
		put_be16(l4 + 4, sport);
		put_be16(l4 + 6, 1);
		return;
	}
	put_be16(l4, sport);
	put_be16(l4 + 2, dport);
	if (proto == IP_PROTO_UDP) {
		put_be16(l4 + 4, (u16)l4len);
		return;
	}
	put_be32(l4 + 4, 1000);
	l4[12] = 5 << 4;
	l4[13] = tcp_flags;
	put_be16(l4 + 14, 65535);
}

size_t fr_ipv4(u8 *buf, u8 proto, u32 src, u16 sport, u32 dst, u16 dport, u8 tcp_flags, size_t plen)
{
	size_t l4len = l4_hlen(proto) + plen, tot = IP_HLEN + l4len;
	u8 *l4 = buf + IP_HLEN, ph[12];
	u16 c;

	memset(buf, 0, IP_HLEN);
	buf[0] = 0x45;
	put_be16(buf + 2, (u16)tot);
	put_be16(buf + 6, IP_FLAG_DF);
	buf[8] = 64;
	buf[9] = proto;
	put_be32(buf + 12, src);
	put_be32(buf + 16, dst);
	put_be16(buf + 10, ref_csum(buf, IP_HLEN, NULL, 0));
	fill_l4(l4, proto, sport, dport, tcp_flags, l4len);
	memset(l4 + l4_hlen(proto), 0x5a, plen);
	put_be32(ph, src);
	put_be32(ph + 4, dst);
	ph[8] = 0;
	ph[9] = proto;
	put_be16(ph + 10, (u16)l4len);
	c = proto == IP_PROTO_ICMP ? ref_csum(NULL, 0, l4, l4len) : ref_csum(ph, 12, l4, l4len);
	if (proto == IP_PROTO_UDP && !c)
		c = 0xffff; /* RFC 768: 0 means "no checksum" */
	put_be16(l4 + (proto == IP_PROTO_TCP ? 16 : proto == IP_PROTO_UDP ? 6 : 2), c);
	return tot;
}

size_t fr_eth_ipv4(u8 *buf, const u8 *dst, const u8 *src, u8 proto, u32 sip, u16 sport, u32 dip,
		   u16 dport, size_t plen)
{
	size_t h = fr_eth(buf, dst, src, ETH_P_IP, -1);

	return h + fr_ipv4(buf + h, proto, sip, sport, dip, dport, TCP_SYN, plen);
}

bool fr_ipv4_csums_ok(const u8 *ip, size_t len)
{
	size_t ihl = (size_t)(ip[0] & 0x0f) * 4, tot = (size_t)(ip[2] << 8 | ip[3]);
	u8 ph[12];

	if (len < IP_HLEN || ihl < IP_HLEN || tot > len || tot < ihl)
		return false;
	if (ref_csum(ip, ihl, NULL, 0) != 0)
		return false;
	memcpy(ph, ip + 12, 8);
	ph[8] = 0;
	ph[9] = ip[9];
	put_be16(ph + 10, (u16)(tot - ihl));
	if (ip[9] == IP_PROTO_ICMP)
		return ref_csum(NULL, 0, ip + ihl, tot - ihl) == 0;
	if (ip[9] == IP_PROTO_UDP && ip[ihl + 6] == 0 && ip[ihl + 7] == 0)
		return true; /* no checksum (RFC 768) */
	return ref_csum(ph, 12, ip + ihl, tot - ihl) == 0;
}

size_t fr_dhcp(u8 *buf, const u8 *mac, u32 ciaddr, const u8 *opt, size_t olen)
{
	static const u8 bcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	size_t h = fr_eth(buf, bcast, mac, ETH_P_IP, -1);
	u8 *ip = buf + h, *udp = ip + IP_HLEN, *m = udp + UDP_HLEN, ph[12];
	size_t blen = sizeof(struct dhcp_msg) + olen;

	blen = blen < BOOTP_MIN_LEN ? BOOTP_MIN_LEN : blen;
	fr_ipv4(ip, IP_PROTO_UDP, ciaddr, DHCP_CLIENT_PORT, IPV4_BROADCAST, DHCP_SERVER_PORT, 0,
		blen);
	memset(m, 0, blen);
	m[0] = BOOTP_REQUEST;
	m[1] = ARP_HRD_ETHER;
	m[2] = ETH_ALEN;
	put_be32(m + 4, 0x11223344u);
	put_be32(m + 12, ciaddr);
	memcpy(m + 28, mac, ETH_ALEN);
	put_be32(m + 236, DHCP_MAGIC);
	memcpy(m + sizeof(struct dhcp_msg), opt, olen);
	put_be32(ph, ciaddr);
	put_be32(ph + 4, IPV4_BROADCAST);
	ph[8] = 0;
	ph[9] = IP_PROTO_UDP;
	put_be16(ph + 10, (u16)(UDP_HLEN + blen));
	put_be16(udp + 6, 0);
	put_be16(udp + 6, ref_csum(ph, 12, udp, UDP_HLEN + blen) ?: 0xffff);
	return h + IP_HLEN + UDP_HLEN + blen;
}

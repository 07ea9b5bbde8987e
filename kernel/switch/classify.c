/*
 * Frame classification for the switch: Ethernet II with at most one
 * IEEE 802.1Q tag, ARP for IPv4 over Ethernet (RFC 826), IPv4 (RFC 791) and
 * the ports of TCP (RFC 9293) and UDP (RFC 768). Every length comes from a
 * guest or the wire and is checked against the frame before it is used.
 * Checksums are not verified here: the receiver does that.
 */
#include <hv/byteorder.h>
#include <hv/errno.h>
#include <hv/string.h>
#include <hv/switch.h>

#define IP_IHL_MASK  0x0f
#define ETH_TYPE_MIN 0x0600 /* IEEE 802.3 3.2.6: smaller values are lengths */

/* ARP for IPv4 over Ethernet only: anything else is malformed to the switch. */
static int classify_arp(const u8 *frame, size_t len, struct sw_frame *f)
{
	const u8 *a = frame + f->l3_off;

	if (len - f->l3_off < sizeof(struct arp_pkt))
		return -EBADMSG;
	if (get_be16(a) != ARP_HRD_ETHER || get_be16(a + 2) != ETH_P_IP || a[4] != ETH_ALEN ||
	    a[5] != 4)
		return -EBADMSG;
	f->cls = SW_CLASS_ARP;
	f->l3_len = sizeof(struct arp_pkt);
	f->arp_op = get_be16(a + 6);
	f->arp_sha = a + 8;
	f->arp_spa = get_be32(a + 14);
	f->arp_tpa = get_be32(a + 24);
	return 0;
}

/* The TCP/UDP ports of a first fragment, when the header is all there. */
static int classify_l4(const u8 *ip, struct sw_frame *f)
{
	size_t need = 0;

	if (f->ip_proto == IP_PROTO_TCP)
		need = TCP_HLEN;
	else if (f->ip_proto == IP_PROTO_UDP)
		need = UDP_HLEN;
	else if (f->ip_proto == IP_PROTO_ICMP)
		need = ICMP_HLEN;
	if (f->l4_len < need)
		return -EBADMSG;
	if (f->ip_proto == IP_PROTO_TCP || f->ip_proto == IP_PROTO_UDP) {
		f->sport = get_be16(ip + (f->l4_off - f->l3_off));
		f->dport = get_be16(ip + (f->l4_off - f->l3_off) + 2);
	}
	return 0;
}

/* IPv4: version, IHL, total length within the frame (padding ignored). */
static int classify_ipv4(const u8 *frame, size_t len, struct sw_frame *f)
{
	const u8 *ip = frame + f->l3_off;
	size_t avail = len - f->l3_off, ihl, tot;
	u16 frag;

	if (avail < IP_HLEN || ip[0] >> 4 != IP_VERSION)
		return -EBADMSG;
	ihl = (size_t)(ip[0] & IP_IHL_MASK) * 4;
	tot = get_be16(ip + 2);
	if (ihl < IP_HLEN || tot < ihl || tot > avail)
		return -EBADMSG;
	frag = get_be16(ip + 6);
	f->cls = SW_CLASS_IPV4;
	f->l3_len = tot;
	f->ip_proto = ip[9];
	f->ip_src = get_be32(ip + 12);
	f->ip_dst = get_be32(ip + 16);
	f->ip_frag = (frag & (IP_FLAG_MF | IP_OFFSET_MASK)) != 0;
	if (frag & IP_OFFSET_MASK)
		return 0; /* a later fragment: no transport header */
	f->l4_off = f->l3_off + ihl;
	f->l4_len = tot - ihl;
	return classify_l4(ip, f);
}

int sw_classify(const u8 *frame, size_t len, struct sw_frame *f)
{
	memset(f, 0, sizeof(*f));
	if (len < ETH_HLEN || len > ETH_FRAME_MAX + VLAN_HLEN)
		return -EBADMSG;
	f->dst = frame;
	f->src = frame + ETH_ALEN;
	f->type = get_be16(frame + 2 * ETH_ALEN);
	f->l3_off = ETH_HLEN;
	/* Any tag (802.1Q, 802.1ad, QinQ) marks the frame; only the outer one is read. */
	if (f->type == ETH_P_8021Q || f->type == ETH_P_8021AD || f->type == ETH_P_QINQ) {
		if (len < ETH_HLEN + VLAN_HLEN)
			return -EBADMSG;
		f->tagged = true;
		f->vid = get_be16(frame + ETH_HLEN) & VLAN_VID_MASK;
		f->type = get_be16(frame + ETH_HLEN + 2);
		f->l3_off += VLAN_HLEN;
	}
	if (f->type < ETH_TYPE_MIN) /* an 802.3 length, not an EtherType */
		return -EBADMSG;
	if (f->type == ETH_P_ARP)
		return classify_arp(frame, len, f);
	if (f->type == ETH_P_IP)
		return classify_ipv4(frame, len, f);
	f->l3_len = len - f->l3_off;
	return 0;
}

/*
 * Wire formats of the protocols kernel/net/ speaks: Ethernet II, ARP, IPv4,
 * ICMP, UDP, TCP and DHCP. Headers are packed structs of big-endian fields
 * (read them through be16_to_cpu()/be32_to_cpu(): x86 is little-endian); a
 * frame is never assumed aligned. Shared by the stack, its unit tests and
 * the fuzzer, which craft frames. Names stay clear of the C library's
 * (htons, IPPROTO_TCP, IP_TTL) so host programs can include both.
 */
#ifndef HV_NET_PROTO_H
#define HV_NET_PROTO_H

#include <hv/types.h>

static inline u16 cpu_to_be16(u16 v)
{
	return __builtin_bswap16(v);
}

static inline u16 be16_to_cpu(u16 v)
{
	return __builtin_bswap16(v);
}

static inline u32 cpu_to_be32(u32 v)
{
	return __builtin_bswap32(v);
}

static inline u32 be32_to_cpu(u32 v)
{
	return __builtin_bswap32(v);
}

/* An IPv4 address in host byte order from its dotted parts. */
#define IPV4(a, b, c, d) (((u32)(a) << 24) | ((u32)(b) << 16) | ((u32)(c) << 8) | (u32)(d))
#define IPV4_BROADCAST	 0xffffffffu

/* Ethernet II (IEEE 802.3 clause 3.2.6: type field >= 0x0600). */
#define ETH_ALEN      6
#define ETH_HLEN      14
#define ETH_ZLEN      60 /* minimum frame without the FCS; shorter ones are padded */
#define ETH_MTU	      1500
#define ETH_FRAME_MAX (ETH_HLEN + ETH_MTU)
#define ETH_P_IP      0x0800
#define ETH_P_ARP     0x0806

/* VLAN tags: 802.1Q (C-tag), 802.1ad (S-tag), and the pre-standard QinQ type. */
#define ETH_P_8021Q   0x8100
#define ETH_P_8021AD  0x88A8
#define ETH_P_QINQ    0x9100
#define VLAN_HLEN     4
#define VLAN_VID_MASK 0x0fff

struct eth_hdr {
	u8 dst[ETH_ALEN];
	u8 src[ETH_ALEN];
	u16 type;
} __packed;
_Static_assert(sizeof(struct eth_hdr) == ETH_HLEN, "Ethernet header");

/* ARP for IPv4 over Ethernet (RFC 826). */
#define ARP_HRD_ETHER  1
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY   2

struct arp_pkt {
	u16 hrd; /* hardware address space: ARP_HRD_ETHER */
	u16 pro; /* protocol address space: ETH_P_IP */
	u8 hln;	 /* 6 */
	u8 pln;	 /* 4 */
	u16 op;
	u8 sha[ETH_ALEN];
	u32 spa;
	u8 tha[ETH_ALEN];
	u32 tpa;
} __packed;
_Static_assert(sizeof(struct arp_pkt) == 28, "ARP packet");

/* IPv4 (RFC 791 section 3.1). */
#define IP_HLEN	       20 /* without options */
#define IP_VERSION     4
#define IP_DEFAULT_TTL 64 /* RFC 1700 default, as RFC 1122 3.2.1.7 asks */
#define IP_FLAG_DF     0x4000
#define IP_FLAG_MF     0x2000
#define IP_OFFSET_MASK 0x1fff
#define IP_PROTO_ICMP  1
#define IP_PROTO_TCP   6
#define IP_PROTO_UDP   17

struct ip_hdr {
	u8 ver_ihl; /* version << 4 | header length in 32-bit words */
	u8 tos;
	u16 tot_len;
	u16 id;
	u16 frag_off; /* flags and fragment offset in 8-byte units */
	u8 ttl;
	u8 proto;
	u16 csum;
	u32 src;
	u32 dst;
} __packed;
_Static_assert(sizeof(struct ip_hdr) == IP_HLEN, "IPv4 header");

/* ICMP (RFC 792). */
#define ICMP_HLEN	8
#define ICMP_ECHO_REPLY 0
#define ICMP_ECHO	8

struct icmp_hdr {
	u8 type;
	u8 code;
	u16 csum;
	u16 id;
	u16 seq;
} __packed;
_Static_assert(sizeof(struct icmp_hdr) == ICMP_HLEN, "ICMP echo header");

/* UDP (RFC 768). */
#define UDP_HLEN 8

struct udp_hdr {
	u16 sport;
	u16 dport;
	u16 len; /* header and data */
	u16 csum;
} __packed;
_Static_assert(sizeof(struct udp_hdr) == UDP_HLEN, "UDP header");

/* TCP (RFC 9293 section 3.1). */
#define TCP_HLEN     20 /* without options */
#define TCP_HLEN_MAX 60
#define TCP_FIN	     0x01
#define TCP_SYN	     0x02
#define TCP_RST	     0x04
#define TCP_PSH	     0x08
#define TCP_ACK	     0x10
#define TCP_URG	     0x20

/* Options (RFC 9293 3.2, RFC 7323 2.2, RFC 2018 2-3). */
#define TCPOPT_EOL	      0
#define TCPOPT_NOP	      1
#define TCPOPT_MSS	      2 /* length 4 */
#define TCPOPT_WSCALE	      3 /* length 3 */
#define TCPOPT_SACK_PERMITTED 4 /* length 2 */
#define TCPOPT_SACK	      5 /* length 2 + 8n */
#define TCPOPT_TIMESTAMP      8 /* length 10 */

struct tcp_hdr {
	u16 sport;
	u16 dport;
	u32 seq;
	u32 ack;
	u8 doff;  /* data offset in 32-bit words << 4 */
	u8 flags; /* TCP_FIN .. TCP_URG (CWR and ECE ignored) */
	u16 wnd;
	u16 csum;
	u16 urg;
} __packed;
_Static_assert(sizeof(struct tcp_hdr) == TCP_HLEN, "TCP header");

/* DHCP over BOOTP (RFC 2131 section 2, RFC 2132 for the options). */
#define DHCP_SERVER_PORT 67
#define DHCP_CLIENT_PORT 68
#define DHCP_MAGIC	 0x63825363u
#define BOOTP_REQUEST	 1
#define BOOTP_REPLY	 2
#define BOOTP_FLAG_BCAST 0x8000
#define BOOTP_MIN_LEN	 300 /* RFC 1542 2.1: some relays drop shorter messages */

#define DHCPOPT_PAD	    0
#define DHCPOPT_SUBNET_MASK 1
#define DHCPOPT_ROUTER	    3
#define DHCPOPT_REQUESTED   50
#define DHCPOPT_LEASE_TIME  51
#define DHCPOPT_OVERLOAD    52
#define DHCPOPT_MSG_TYPE    53
#define DHCPOPT_SERVER_ID   54
#define DHCPOPT_PARAM_LIST  55
#define DHCPOPT_T1	    58
#define DHCPOPT_T2	    59
#define DHCPOPT_END	    255

#define DHCPDISCOVER 1
#define DHCPOFFER    2
#define DHCPREQUEST  3
#define DHCPDECLINE  4
#define DHCPACK	     5
#define DHCPNAK	     6
#define DHCPRELEASE  7

struct dhcp_msg {
	u8 op;
	u8 htype; /* ARP_HRD_ETHER */
	u8 hlen;  /* 6 */
	u8 hops;
	u32 xid;
	u16 secs;
	u16 flags;
	u32 ciaddr;
	u32 yiaddr;
	u32 siaddr;
	u32 giaddr;
	u8 chaddr[16];
	u8 sname[64];
	u8 file[128];
	u32 magic; /* DHCP_MAGIC, then the options */
} __packed;
_Static_assert(sizeof(struct dhcp_msg) == 240, "BOOTP header and magic cookie");

/*
 * The Internet checksum (RFC 1071): inet_sum() adds len bytes as big-endian
 * 16-bit words to sum (an odd last byte is padded with zero); inet_fold()
 * folds the sum and complements it. A buffer whose checksum field is right
 * folds to 0.
 */
u32 inet_sum(u32 sum, const void *buf, size_t len);
u16 inet_fold(u32 sum);
/* The sum of the IPv4 pseudo-header for TCP and UDP (RFC 9293 3.1, RFC 768). */
u32 inet_pseudo_sum(u32 src, u32 dst, u8 proto, u16 len);
/*
 * Incremental update (RFC 1624 eqn. 3): the big-endian checksum field at
 * csum after a 16-bit (or 32-bit) field covered by it changed from old to new
 * (host byte order). A wrong checksum stays wrong: the receiver still sees it.
 */
void inet_csum_update16(u8 *csum, u16 old, u16 new);
void inet_csum_update32(u8 *csum, u32 old, u32 new);

#endif

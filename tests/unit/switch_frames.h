/*
 * Frame builders for the switch, NAT and DHCP server tests and fuzzers:
 * Ethernet (optionally 802.1Q tagged), ARP, IPv4 with TCP, UDP or ICMP echo,
 * with right checksums, and a checksum check written from scratch (not the
 * code under test) to verify what NAT rewrote.
 */
#ifndef SWITCH_FRAMES_H
#define SWITCH_FRAMES_H

#include <hv/net_proto.h>

/* Ethernet header; returns the header length (14, 18 with a tag when vid >= 0). */
size_t fr_eth(u8 *buf, const u8 *dst, const u8 *src, u16 type, int vid);
/* An ARP packet after an Ethernet header; returns the frame length. */
size_t fr_arp(u8 *buf, const u8 *src, u16 op, const u8 *sha, u32 spa, u32 tpa);
/*
 * An IPv4 datagram with a transport header at buf (no Ethernet) and plen
 * bytes of payload (0x5a); ports are the ICMP echo id for IP_PROTO_ICMP.
 * Returns the datagram length.
 */
size_t fr_ipv4(u8 *buf, u8 proto, u32 src, u16 sport, u32 dst, u16 dport, u8 tcp_flags,
	       size_t plen);
/* An Ethernet frame with fr_ipv4() inside; returns the frame length. */
size_t fr_eth_ipv4(u8 *buf, const u8 *dst, const u8 *src, u8 proto, u32 sip, u16 sport, u32 dip,
		   u16 dport, size_t plen);
/*
 * A DHCP request frame (BOOTP_REQUEST, xid 0x11223344) from mac (chaddr too),
 * broadcast, from ciaddr, with olen bytes of options (nothing added), padded
 * to BOOTP_MIN_LEN. Returns the frame length.
 */
size_t fr_dhcp(u8 *buf, const u8 *mac, u32 ciaddr, const u8 *opt, size_t olen);
/* Checksums of a datagram (IPv4 header, TCP/UDP/ICMP) recomputed from scratch: true if right. */
bool fr_ipv4_csums_ok(const u8 *ip, size_t len);

#endif

/*
 * Shared by the kernel/net unit tests: a fake NIC that captures what the
 * stack sends, builders for the frames a peer would send, a parser that
 * checks every checksum of a captured frame, and a scripted TCP peer.
 */
#ifndef TESTS_NET_FIXTURE_H
#define TESTS_NET_FIXTURE_H

#include <hv/net.h>

#define NIC_MAX_FRAMES 1024

#define OUR_IP	  IPV4(10, 0, 0, 2)
#define NETMASK	  IPV4(255, 255, 255, 0)
#define GW_IP	  IPV4(10, 0, 0, 1)
#define PEER_IP	  IPV4(10, 0, 0, 5)
#define FAR_IP	  IPV4(192, 168, 7, 9)
#define PEER_PORT 10809

extern const u8 our_mac[ETH_ALEN];
extern const u8 peer_mac[ETH_ALEN];
extern const u8 gw_mac[ETH_ALEN];
extern const u8 bcast_mac[ETH_ALEN];

struct captured {
	size_t len;
	u8 data[ETH_FRAME_MAX];
};

struct fake_nic {
	u32 nr;	  /* frames captured since nic_clear() */
	u32 busy; /* fail this many transmits with -EBUSY */
	struct captured frames[NIC_MAX_FRAMES];
};

extern struct fake_nic nic;
extern struct net_stack stack;

/* net_init() on the fake NIC; configure: static 10.0.0.2/24 gateway 10.0.0.1. */
void net_test_setup(bool configure);
void nic_clear(void);

/* A captured frame split into its layers; checksums are checked by parse_frame(). */
struct parsed {
	const struct eth_hdr *eth;
	const struct arp_pkt *arp;
	const struct ip_hdr *ip;
	const struct icmp_hdr *icmp;
	const struct udp_hdr *udp;
	const struct tcp_hdr *tcp;
	const u8 *data; /* above the last header parsed */
	size_t data_len;
	const u8 *opts; /* TCP options */
	size_t opts_len;
};

void parse_frame(u32 i, struct parsed *p);
/* Index of the n-th (0-based) captured TCP frame from index from on, or -1. */
int find_tcp(u32 from, u32 n);
u32 count_tcp(u32 from);

/* Frame builders (to our MAC unless told otherwise); they return the frame length. */
size_t build_arp(u8 *buf, const u8 *dst, u16 op, const u8 *sha, u32 spa, const u8 *tha, u32 tpa);
size_t build_ip(u8 *buf, u32 src, u32 dst, u8 proto, const void *payload, size_t len);
size_t build_udp(u8 *buf, u32 src, u32 dst, u16 sport, u16 dport, const void *data, size_t len);

struct tcp_spec {
	u32 src, dst;
	u16 sport, dport;
	u32 seq, ack;
	u8 flags;
	u16 wnd;
	const u8 *opts;
	size_t opts_len;
	const void *data;
	size_t len;
};
size_t build_tcp(u8 *buf, const struct tcp_spec *t);

void inject(const void *frame, size_t len, u64 now);
/* An ARP reply from ip/mac to us, so the cache knows it. */
void learn(u32 ip, const u8 *mac, u64 now);

/* The far end of one connection, as the tests script it. */
struct peer {
	u32 ip;
	u16 port, lport; /* lport: our port */
	u32 seq;	 /* next sequence number the peer sends */
	u32 ack;	 /* next sequence number the peer expects from us */
	u16 wnd;
};

void peer_send(struct peer *p, u8 flags, const void *data, size_t len, u64 now);
/* Connect to PEER_IP:PEER_PORT and complete the handshake with MSS 1460, window wnd. */
struct tcp_conn *establish(struct peer *p, u16 wnd, u64 now);

#endif

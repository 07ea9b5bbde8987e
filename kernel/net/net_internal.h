/*
 * What the files of kernel/net/ share and no user needs: the layers'
 * entry points, the frame being built (s->tx) and the drop counters.
 */
#ifndef NET_INTERNAL_H
#define NET_INTERNAL_H

#include <hv/log.h>
#include <hv/net.h>

/* Offsets into s->tx of the headers of an outgoing IPv4 frame (no IP options). */
#define NET_IP_OFF   ETH_HLEN
#define NET_L4_OFF   (ETH_HLEN + IP_HLEN)
#define NET_L4_MAX   (ETH_MTU - IP_HLEN)
#define NET_UDP_DATA (NET_L4_OFF + UDP_HLEN)
#define NET_QUEUED   1 /* output held until ARP resolves the next hop */

/* dotted-quad arguments for a host-order address: pr_info("%u.%u.%u.%u", IP_ARGS(ip)) */
#define IP_FMT	    "%u.%u.%u.%u"
#define IP_ARGS(ip) ((ip) >> 24) & 0xff, ((ip) >> 16) & 0xff, ((ip) >> 8) & 0xff, (ip)&0xff

/* Count a dropped frame under its reason and say which at debug level. */
#define NET_DROP(s, counter)                           \
	do {                                           \
		(s)->stats.counter++;                  \
		pr_debug("net: drop: %s\n", #counter); \
	} while (0)

/* What IPv4 input tells the upper layers about a datagram. */
struct ip_info {
	u32 src, dst;	/* host byte order */
	bool broadcast; /* sent to a broadcast address */
};

/* net.c */
int net_transmit(struct net_stack *s, u8 *frame, size_t len);
u32 net_random(struct net_stack *s);
u64 net_hash(u64 key, u64 a, u64 b);

/* arp.c */
void arp_input(struct net_stack *s, const u8 *pkt, size_t len);
int arp_output(struct net_stack *s, u32 next_hop, u8 *frame, size_t len);
void arp_poll(struct net_stack *s);
void arp_flush(struct net_stack *s);

/* ipv4.c */
void ip_input(struct net_stack *s, const u8 *pkt, size_t len);
u32 ip_source(const struct net_stack *s);
int ip_output(struct net_stack *s, u32 dst, u8 proto, size_t l4_len);

/* udp.c */
void udp_input(struct net_stack *s, const struct ip_info *ip, const u8 *pkt, size_t len);
int udp_output(struct net_stack *s, u32 dst, u16 sport, u16 dport, size_t data_len);

/* dhcp.c */
void dhcp_input(struct net_stack *s, const u8 *msg, size_t len);
void dhcp_start(struct net_stack *s);
void dhcp_poll(struct net_stack *s);

/* tcp.c, tcp_input.c, tcp_output.c */
void tcp_input(struct net_stack *s, const struct ip_info *ip, const u8 *seg, size_t len);
void tcp_poll(struct net_stack *s);
void tcp_abort_all(struct net_stack *s, enum tcp_close_reason reason);
void tcp_set_closed(struct tcp_conn *c, enum tcp_close_reason reason);
void tcp_free(struct tcp_conn *c);
void tcp_output(struct tcp_conn *c);
int tcp_send_ack(struct tcp_conn *c);
int tcp_send_rst(struct tcp_conn *c);
int tcp_send_syn(struct tcp_conn *c);
int tcp_emit(struct net_stack *s, u32 dst, u16 sport, u16 dport, u32 seq, u32 ack, u8 flags,
	     u16 wnd);
void tcp_rtt_sample(struct tcp_conn *c, u32 rtt_ms);
void tcp_rto_reset(struct tcp_conn *c);
u32 tcp_seg_max(const struct tcp_conn *c);
u32 tcp_unsent(const struct tcp_conn *c);
int tcp_retransmit(struct tcp_conn *c, u32 seq, u32 len);

/* tcp_recovery.c */
bool tcp_range_add(struct tcp_range *r, u8 *nr, u32 max, u32 start, u32 end, bool *dropped);
size_t tcp_sack_options(const struct tcp_conn *c, u8 *p);
bool tcp_sack_update(struct tcp_conn *c, const struct tcp_range *blocks, u32 n, u32 cum);
void tcp_cwnd_on_ack(struct tcp_conn *c, u32 acked);
void tcp_cwnd_on_dupack(struct tcp_conn *c, bool sack_news);
void tcp_on_rto(struct tcp_conn *c);
void tcp_on_persist(struct tcp_conn *c);
u32 tcp_rcv_space(const struct tcp_conn *c);

/* Sequence number comparisons modulo 2^32 (RFC 9293 3.4). */
static inline bool seq_lt(u32 a, u32 b)
{
	return (s32)(a - b) < 0;
}

static inline bool seq_le(u32 a, u32 b)
{
	return (s32)(a - b) <= 0;
}

static inline bool seq_gt(u32 a, u32 b)
{
	return (s32)(a - b) > 0;
}

static inline bool seq_ge(u32 a, u32 b)
{
	return (s32)(a - b) >= 0;
}

#endif

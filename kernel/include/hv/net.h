/*
 * The hypervisor's IPv4 stack (docs/net.md): Ethernet II, ARP, IPv4, ICMP
 * echo, UDP, a DHCP client and client-side TCP, for the NBD client on the
 * service CPU. Polled and non-blocking: the caller feeds received frames to
 * net_input(), calls net_poll() often (timers, delayed sends) and passes the
 * time in milliseconds to both. All state lives in one struct net_stack the
 * caller owns; nothing here allocates. Portable: builds into the image, the
 * host unit tests, the fuzzer and the hosted TAP test.
 *
 * Addresses and ports in this API are in host byte order.
 */
#ifndef HV_NET_H
#define HV_NET_H

#include <hv/types.h>
#include <hv/net_proto.h>

/* Errors of the TCP calls (Linux numbering, as in hv/errno.h). */
#ifndef EAGAIN
#define EAGAIN 11
#endif
#ifndef ECONNRESET
#define ECONNRESET 104
#endif
#ifndef ENOTCONN
#define ENOTCONN 107
#endif
#ifndef ESHUTDOWN
#define ESHUTDOWN 108
#endif
#ifndef ECONNREFUSED
#define ECONNREFUSED 111
#endif
#ifndef EHOSTUNREACH
#define EHOSTUNREACH 113
#endif

/* Limits (docs/net.md lists them with the reasons). */
#define NET_ARP_ENTRIES	  16
#define NET_ARP_QUEUE	  8	 /* frames waiting for an address resolution */
#define NET_TCP_MAX_CONNS 20	 /* one per VSI disk (CONFIG_MAX_VSIS) plus spares */
#define TCP_RCV_BUF	  65536	 /* receive buffer per connection: our window */
#define TCP_SND_BUF	  131072 /* send buffer per connection, kept until acknowledged */
#define TCP_OOO_RANGES	  4	 /* out-of-order ranges held in the receive buffer */
#define TCP_SACK_RANGES	  8	 /* ranges of the peer's SACK scoreboard */
#define TCP_MSS_LOCAL	  (ETH_MTU - IP_HLEN - TCP_HLEN)
#define TCP_MSS_DEFAULT	  536 /* when the peer sends no MSS option (RFC 9293 3.7.1) */

/* Timing, in milliseconds. */
#define ARP_TTL_MS	       60000 /* a cache entry lives this long after its last reply */
#define ARP_REFRESH_MS	       5000  /* re-ask this long before an entry in use expires */
#define ARP_RETRY_MS	       1000
#define ARP_TRIES	       3
#define DHCP_RETRY_MIN_MS      4000 /* RFC 2131 4.1: 4 s, doubling, to 64 s, +-1 s */
#define DHCP_RETRY_MAX_MS      64000
#define DHCP_REQUEST_TRIES     4    /* REQUESTs before DHCP starts over with a DISCOVER */
#define TCP_RTO_INITIAL_MS     1000 /* RFC 6298 2.1 */
#define TCP_RTO_MIN_MS	       200  /* below RFC 6298 2.4's 1 s, as Linux: a LAN */
#define TCP_RTO_MAX_MS	       60000
#define TCP_CONNECT_TIMEOUT_MS 15000 /* SYN-SENT for this long: TCP_CLOSED_TIMEOUT */
#define TCP_DEAD_PEER_MS       30000 /* data unacknowledged this long: TCP_CLOSED_DEAD_PEER */
#define TCP_MAX_RETRANSMITS    12    /* RTO expiries in a row: TCP_CLOSED_DEAD_PEER */
#define TCP_TIME_WAIT_MS       60000 /* 2 MSL with MSL = 30 s */
#define TCP_RST_PER_SEC	       10    /* RSTs answering unknown segments, per second */

/* One counter per reason a frame was dropped, and what was sent. */
struct net_stats {
	/* Ethernet */
	u64 rx_frames, tx_frames;
	u64 tx_busy;	      /* the driver's ring was full: retried or left to TCP */
	u64 tx_error;	      /* the driver failed otherwise */
	u64 eth_short;	      /* shorter than an Ethernet header */
	u64 eth_not_for_us;   /* destination neither our MAC nor broadcast */
	u64 eth_unknown_type; /* neither IPv4 nor ARP (VLAN tags included) */
	/* ARP */
	u64 arp_short, arp_bad_format, arp_not_for_us, arp_bad_sender;
	u64 arp_requests_sent, arp_replies_sent, arp_replies_received;
	u64 arp_queued;	    /* frames that waited for a resolution */
	u64 arp_queue_full; /* frames dropped: the wait queue was full */
	u64 arp_unresolved; /* frames dropped: no reply after ARP_TRIES */
	u64 arp_cache_full; /* resolutions refused: every entry was pending */
	/* IPv4 */
	u64 ip_short, ip_bad_version, ip_bad_hlen, ip_bad_checksum, ip_bad_len;
	u64 ip_fragments;  /* fragments are not reassembled */
	u64 ip_not_for_us; /* another destination, or any but DHCP while unconfigured */
	u64 ip_bad_src;	   /* broadcast, multicast, loopback or our own source */
	u64 ip_unknown_proto;
	u64 ip_no_route; /* output to a destination off-subnet without a gateway */
	/* ICMP */
	u64 icmp_short, icmp_bad_checksum, icmp_echo_replied, icmp_ignored;
	/* UDP */
	u64 udp_short, udp_bad_len, udp_bad_checksum, udp_no_port;
	/* DHCP */
	u64 dhcp_malformed; /* bad header, options overrunning, missing type */
	u64 dhcp_ignored;   /* not ours (xid, MAC) or unexpected in this state */
	u64 dhcp_sent;
	/* TCP */
	u64 tcp_short, tcp_bad_offset, tcp_bad_checksum, tcp_bad_options;
	u64 tcp_bad_dst; /* to a broadcast address */
	u64 tcp_no_conn; /* no connection for the segment */
	u64 tcp_rst_sent, tcp_rst_ratelimited;
	u64 tcp_bad_state;	/* not acceptable in the connection's state (RFC 9293 3.10.7) */
	u64 tcp_out_of_window;	/* failed the sequence test (RFC 9293 3.10.7.4) */
	u64 tcp_bad_ack;	/* acknowledges nothing we sent */
	u64 tcp_challenge_acks; /* RFC 5961 */
	u64 tcp_ooo_queued;	/* out-of-order data held for later */
	u64 tcp_ooo_dropped;	/* out-of-order data dropped: no range left */
	u64 tcp_segs_in, tcp_segs_out;
	u64 tcp_retransmits, tcp_fast_retransmits, tcp_rto_expired, tcp_window_probes;
};

/* What the user of a connection sees (tcp_state()). */
enum tcp_state {
	TCP_CONNECTING,	 /* SYN sent, no answer yet */
	TCP_ESTABLISHED, /* data flows both ways */
	TCP_CLOSING,	 /* a FIN was sent or received; tcp_recv() drains what is left */
	TCP_CLOSED,	 /* gone: tcp_close_reason() says why */
};

enum tcp_close_reason {
	TCP_CLOSED_NONE,      /* not closed */
	TCP_CLOSED_NORMAL,    /* FINs exchanged */
	TCP_CLOSED_REFUSED,   /* RST answered our SYN */
	TCP_CLOSED_RESET,     /* RST on an established connection */
	TCP_CLOSED_TIMEOUT,   /* no answer to the SYN within TCP_CONNECT_TIMEOUT_MS */
	TCP_CLOSED_DEAD_PEER, /* data unacknowledged after TCP_MAX_RETRANSMITS/TCP_DEAD_PEER_MS */
	TCP_CLOSED_ABORTED,   /* the stack lost its configuration (DHCP lease expired) */
};

/* The RFC 9293 3.3.2 state machine, minus LISTEN and SYN-RECEIVED (no passive open). */
enum tcp_fsm {
	TCPS_FREE,
	TCPS_SYN_SENT,
	TCPS_ESTABLISHED,
	TCPS_FIN_WAIT_1,
	TCPS_FIN_WAIT_2,
	TCPS_CLOSING,
	TCPS_TIME_WAIT,
	TCPS_CLOSE_WAIT,
	TCPS_LAST_ACK,
	TCPS_CLOSED, /* still owned by the user, who has to tcp_close() or tcp_abort() it */
};

struct net_stack;

/* [start, end) of sequence space held in the receive buffer beyond rcv_nxt. */
struct tcp_range {
	u32 start, end;
};

/*
 * One connection. Fields are the stack's; users only hold the pointer.
 * Sequence variables follow RFC 9293 3.3.1 (snd_max: highest sequence sent,
 * which snd_nxt falls back from after a timeout).
 */
struct tcp_conn {
	struct net_stack *stack;
	u8 *rbuf;  /* TCP_RCV_BUF bytes */
	u8 *sbuf;  /* TCP_SND_BUF bytes */
	u8 fsm;	   /* enum tcp_fsm */
	u8 reason; /* enum tcp_close_reason */
	bool user; /* the user still holds this connection */
	u32 remote_ip;
	u16 local_port, remote_port;
	u16 mss;       /* bytes per segment we send */
	u8 snd_wscale; /* the peer's window scale (0 if not negotiated) */
	bool sack_ok;  /* the peer accepts SACK blocks from us */

	/* Send side: sbuf holds [snd_una, snd_una + snd_len) from sbuf[snd_head]. */
	u32 iss, snd_una, snd_nxt, snd_max, snd_wnd, snd_wl1, snd_wl2, max_snd_wnd;
	u32 snd_head, snd_len;
	bool fin_queued; /* tcp_close(): FIN after snd_len bytes */
	bool fin_acked;
	u32 cwnd, ssthresh, recover; /* RFC 5681, RFC 6582 */
	u32 prev_una;		     /* snd_una before the latest advance (RFC 6582 4.2) */
	u8 dupacks;
	bool in_recovery;
	u32 rtx_nxt; /* recovery: resend holes from here on */
	u8 nr_sacked;
	struct tcp_range sacked[TCP_SACK_RANGES]; /* SACKed by the peer, above snd_una */

	/* Receive side: rbuf holds rcv_len in-order bytes from rbuf[rcv_head]. */
	u32 irs, rcv_nxt, rcv_head, rcv_len;
	u32 rcv_adv; /* right edge of the window we advertised last */
	bool fin_received;
	u8 nr_ooo;
	struct tcp_range ooo[TCP_OOO_RANGES];
	u32 ooo_last;	  /* start of the latest out-of-order segment (first SACK block) */
	bool ack_now;	  /* send an ACK before net_input() returns */
	bool ack_delayed; /* send an ACK at the next net_poll() (RFC 9293 3.8.6.3) */
	u8 segs_unacked;  /* segments received since our last ACK */

	/* Timers (absolute ms; 0: off). RTT state as RFC 6298: srtt << 3, rttvar << 2. */
	u32 srtt8, rttvar4, rto;
	u8 retransmits;	 /* RTO expiries since the last progress */
	bool rtt_timing; /* Karn: one untransmitted segment timed at a time */
	u32 rtt_seq;
	u64 rtt_start;
	u64 rto_at, persist_at, connect_by, time_wait_at;
	u32 persist_ms;
	u64 last_progress; /* when snd_una last advanced (or the data was queued) */
};

/* The NIC, supplied by the caller. transmit() must be done with frame when it returns. */
struct net_driver {
	u8 mac[ETH_ALEN];
	/* 0 or -errno (-EBUSY: ring full) */
	int (*transmit)(void *ctx, const void *frame, size_t len);
	void *ctx;
};

enum dhcp_state {
	DHCP_OFF, /* static configuration or none */
	DHCP_SELECTING,
	DHCP_REQUESTING,
	DHCP_BOUND,
	DHCP_RENEWING,
	DHCP_REBINDING,
};

struct dhcp_client {
	u8 state; /* enum dhcp_state */
	u8 tries;
	u32 xid;
	u32 offered_ip, server_id;
	u64 retry_at, retry_ms;
	u64 t1_at, t2_at, expire_at; /* 0: never (infinite lease) */
};

enum arp_entry_state {
	ARP_FREE,
	ARP_PENDING, /* request sent, no reply yet */
	ARP_VALID,
};

struct arp_entry {
	u8 state;
	u8 tries;     /* requests sent for the current resolution */
	bool refresh; /* a refresh of a valid entry is under way */
	u32 ip;
	u8 mac[ETH_ALEN];
	u64 expires_at; /* ARP_VALID: end of life */
	u64 retry_at;	/* next request, while pending or refreshing */
};

struct arp_queued {
	u32 next_hop;
	u16 len;
	u8 frame[ETH_FRAME_MAX];
};

/* Per-connection buffers; never read before written, so net_init() skips them. */
struct tcp_bufs {
	u8 rcv[TCP_RCV_BUF];
	u8 snd[TCP_SND_BUF];
};

struct net_stack {
	struct net_driver drv;
	u64 now;	 /* the latest time passed in */
	bool configured; /* ip, netmask, gateway are valid */
	u32 ip, netmask, gateway;
	u64 rng;    /* xorshift state: ports, DHCP xid, jitter */
	u64 secret; /* key of the ISN function (RFC 6528) */
	u16 ip_id;
	u16 next_port;
	u32 rst_tokens; /* TCP_RST_PER_SEC bucket */
	u64 rst_refill_at;
	struct dhcp_client dhcp;
	struct arp_entry arp[NET_ARP_ENTRIES];
	u32 nr_arpq;
	struct arp_queued arpq[NET_ARP_QUEUE]; /* oldest first */
	struct tcp_conn tcp[NET_TCP_MAX_CONNS];
	struct net_stats stats;
	u8 tx[ETH_FRAME_MAX];			 /* the frame being built */
	struct tcp_bufs bufs[NET_TCP_MAX_CONNS]; /* last: see net_init() */
};

/* Reset s to an unconfigured stack on drv's NIC. */
void net_init(struct net_stack *s, const struct net_driver *drv);
/* Mix entropy (a TSC or RDRAND value) into ISNs, ports and DHCP transaction ids. */
void net_seed(struct net_stack *s, u64 seed);
/*
 * Use a fixed address (host byte order); stops DHCP. gateway 0: no route off
 * the subnet. A new address closes the connections on the old one.
 */
void net_config_static(struct net_stack *s, u32 ip, u32 netmask, u32 gateway);
/* Start DHCP (RFC 2131); net_configured() once an address is bound. */
void net_config_dhcp(struct net_stack *s, u64 now_ms);
bool net_configured(const struct net_stack *s);
/* Handle one received Ethernet frame (without FCS); any bytes at all are safe. */
void net_input(struct net_stack *s, const void *frame, size_t len, u64 now_ms);
/* Run the timers (ARP, DHCP, TCP) and send what waited: call every few milliseconds. */
void net_poll(struct net_stack *s, u64 now_ms);
const struct net_stats *net_stats(const struct net_stack *s);
/* The address in use (host byte order), 0 while unconfigured. */
u32 net_address(const struct net_stack *s);
/*
 * Route a complete IPv4 datagram (len bytes at ip, its source our address:
 * the NAT's output) to its next hop through ARP: 0 sent, NET_QUEUED held
 * for ARP, or -errno (-EHOSTUNREACH unconfigured or no route, -E2BIG).
 */
int net_route_datagram(struct net_stack *s, const u8 *ip, size_t len);

/* Open a connection to ip:port; NULL if unconfigured or no slot is free. */
struct tcp_conn *tcp_connect(struct net_stack *s, u32 ip, u16 port, u64 now_ms);
enum tcp_state tcp_state(const struct tcp_conn *c);
enum tcp_close_reason tcp_close_reason(const struct tcp_conn *c);
/*
 * Queue up to len bytes for sending and send what the windows allow. Returns
 * the bytes taken (0: the send buffer is full), -ENOTCONN while connecting,
 * or the close reason's error once closed. Sending after the peer's FIN is
 * allowed (RFC 9293 3.6.1: half-closed).
 */
long tcp_send(struct tcp_conn *c, const void *buf, size_t len, u64 now_ms);
/*
 * Take up to len received bytes. Returns the bytes taken, 0 if none are
 * buffered yet, -ESHUTDOWN once the peer's FIN and all data before it were
 * taken, or the close reason's error (-ECONNREFUSED, -ECONNRESET,
 * -ETIMEDOUT) once closed and drained.
 */
long tcp_recv(struct tcp_conn *c, void *buf, size_t len);
/* Bytes tcp_send() would take now. */
size_t tcp_send_space(const struct tcp_conn *c);
/* Send FIN after the queued data. The stack finishes the close and frees c: do not use it. */
void tcp_close(struct tcp_conn *c, u64 now_ms);
/* Send RST (unless already closed) and free c at once: do not use it. */
void tcp_abort(struct tcp_conn *c);

#endif

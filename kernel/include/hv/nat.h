/*
 * NAT between a VSI network and the hypervisor's uplink address (RFC 3022
 * NAPT, behaviour after RFC 4787 (UDP), RFC 5382 (TCP), RFC 5508 (ICMP)):
 * one bounded table, one row per connection. Mappings are endpoint
 * independent (a VSI's ip:port keeps its outside port for every remote,
 * RFC 4787 REQ-1), filtering is address and port dependent (only the remote
 * of a row gets in). Static forwards (forward = tcp:HOSTPORT:VSIPORT) make a
 * server inside reachable. Packets are rewritten in place with incremental
 * checksum updates (RFC 1624).
 *
 * Portable: no globals, no allocation. kernel/netsw_gw.c drives the one table.
 */
#ifndef HV_NAT_H
#define HV_NAT_H

#include <hv/net_proto.h>

#define NAT_ROWS    256
#define NAT_FWD_MAX 16

/* Idle timeouts, by protocol and TCP state. */
#define NAT_TIMEOUT_UDP_MS	 300000	 /* RFC 4787 REQ-5: >= 2 min, 5 min recommended */
#define NAT_TIMEOUT_ICMP_MS	 60000	 /* RFC 5508 REQ-1: >= 60 s */
#define NAT_TIMEOUT_TCP_EST_MS	 7440000 /* RFC 5382 REQ-5: >= 2 h 4 min established */
#define NAT_TIMEOUT_TCP_TRANS_MS 240000	 /* RFC 5382 REQ-5: 4 min partially open or closing */
#define NAT_TIMEOUT_TCP_RST_MS	 10000	 /* a reset connection's port is free again soon */

enum nat_tcp_state {
	NAT_TCP_SYN,	     /* SYN seen, no SYN+ACK yet */
	NAT_TCP_ESTABLISHED, /* SYN+ACK seen */
	NAT_TCP_FIN,	     /* a FIN either way */
	NAT_TCP_RST,	     /* a RST either way */
};

struct nat_row {
	bool used, fwd; /* fwd: created by a static forward */
	u8 proto;	/* IP_PROTO_TCP, _UDP or _ICMP (echo: ports are the identifier) */
	u8 state;	/* enum nat_tcp_state */
	u32 in_ip;	/* the VSI's address, host byte order */
	u16 in_port, out_port;
	u32 rem_ip;
	u16 rem_port; /* 0 for ICMP */
	u64 seen_ms;
};

struct nat_fwd {
	u16 host_port, vsi_port;
	u32 vsi_ip;
};

struct nat_stats {
	u64 out_ok, in_ok;
	u64 table_full;	 /* no free row */
	u64 no_port;	 /* the port range is all in use */
	u64 no_mapping;	 /* inbound without a row or forward; outbound TCP without a SYN */
	u64 malformed;	 /* a length, version or header checksum that does not add up */
	u64 unsupported; /* fragments, other protocols, ICMP other than echo */
	u64 ttl_expired;
	u64 expired; /* rows freed by their timeout */
};

struct nat_table {
	u32 outside_ip;
	u16 port_lo, port_hi, next_port; /* outside ports handed out, inclusive */
	struct nat_row rows[NAT_ROWS];
	struct nat_fwd fwd[NAT_FWD_MAX];
	u32 nfwd;
	struct nat_stats stats;
};

void nat_init(struct nat_table *t, u32 outside_ip, u16 port_lo, u16 port_hi);
/* A static TCP forward: 0, -ENOSPC, or -EEXIST for a host port already forwarded. */
int nat_add_forward(struct nat_table *t, u16 host_port, u32 vsi_ip, u16 vsi_port);
/*
 * The VSI behind host_port has the address vsi_ip now (0: none, the forward
 * is closed): 0, or -ENOENT. Rows of the old address stay until they time out.
 */
int nat_retarget_forward(struct nat_table *t, u16 host_port, u32 vsi_ip);

/*
 * A datagram from inside (len bytes at ip, Ethernet stripped): find or make
 * its row, rewrite the source to the outside address and port, decrement the
 * TTL. 0, or -EBADMSG (malformed), -ENOTSUP, -ENOSPC (table full or
 * no port), -ENOENT (TCP without a SYN and no row), -ETIMEDOUT (TTL).
 */
int nat_outbound(struct nat_table *t, u8 *ip, size_t len, u64 now_ms);
/* A datagram from outside to the outside address: the same, rewriting the destination. */
int nat_inbound(struct nat_table *t, u8 *ip, size_t len, u64 now_ms);
/*
 * Is a TCP segment from in_ip:in_port to rem_ip:rem_port the inside half of
 * a live connection a forward opened from outside? The switch lets such
 * answers through even when rem_ip is a storage server's address: they can
 * only reach the client's own socket, never a listening port.
 */
bool nat_forward_reply(const struct nat_table *t, u32 in_ip, u16 in_port, u32 rem_ip, u16 rem_port,
		       u64 now_ms);
/* Free the rows whose timeout passed; returns how many. */
u32 nat_expire(struct nat_table *t, u64 now_ms);

#endif

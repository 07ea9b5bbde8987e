/*
 * The hypervisor's DHCP server for a nat (or internal) network (RFC 2131,
 * options RFC 2132): DISCOVER/OFFER, REQUEST/ACK or NAK, RELEASE, DECLINE
 * for one configured private subnet. A lease is bound to the MAC in the
 * requesting port's policy, not to what the message claims: a guest can
 * only ever hold one address, its own. Authoritative for its subnet: a
 * REQUEST for any other address is NAKed.
 *
 * Portable: no globals, no allocation. kernel/netsw_gw.c runs one per network.
 */
#ifndef HV_DHCP_SERVER_H
#define HV_DHCP_SERVER_H

#include <hv/net_proto.h>

#define DHCPS_POOL_MAX	    64
#define DHCPS_OFFER_HOLD_MS 60000 /* an offer is kept this long for the REQUEST */
#define DHCPS_REPLY_MAX	    (ETH_HLEN + IP_HLEN + UDP_HLEN + BOOTP_MIN_LEN)

enum dhcps_state {
	DHCPS_FREE,
	DHCPS_OFFERED,
	DHCPS_BOUND,
	DHCPS_DECLINED, /* a client saw it in use (RFC 2131 4.3.3): kept out for a lease time */
};

struct dhcps_config {
	u32 server_ip; /* the gateway: the hypervisor on this network */
	u32 mask;
	u32 pool_start; /* pool_size addresses from here, all in the subnet */
	u32 pool_size;
	u32 lease_s;
	bool dns; /* offer the gateway as DNS server (option 6), else none */
	u8 server_mac[ETH_ALEN];
};

struct dhcps_lease {
	u8 mac[ETH_ALEN];
	u8 state; /* enum dhcps_state */
	u64 until_ms;
};

struct dhcps_stats {
	u64 discover, request, release, decline;
	u64 offer, ack, nak;
	u64 pool_full; /* a DISCOVER found no address */
	u64 malformed; /* headers, lengths or options that do not add up */
	u64 foreign;   /* not from the port's MAC, or not to us */
	u64 ignored;   /* INFORM, unknown types, REQUESTs meant for another server */
};

/* An address kept for one MAC while it is free: a VSI's stable address. */
struct dhcps_home {
	u8 mac[ETH_ALEN];
	bool used;
};

struct dhcp_server {
	struct dhcps_config cfg;
	struct dhcps_lease lease[DHCPS_POOL_MAX]; /* lease[i] is pool_start + i */
	struct dhcps_home home[DHCPS_POOL_MAX];	  /* home[i]: who gets pool_start + i first */
	struct dhcps_stats stats;
};

/* 0, or -EINVAL: pool too large, outside the subnet, or holding the server's address. */
int dhcps_init(struct dhcp_server *d, const struct dhcps_config *cfg);

/*
 * A frame from the port whose policy MAC is port_mac. Returns the length of
 * the reply frame built in reply (DHCPS_REPLY_MAX bytes) for that port, or 0
 * for none (not DHCP, dropped, or no answer due).
 */
size_t dhcps_input(struct dhcp_server *d, const u8 *port_mac, const u8 *frame, size_t len,
		   u64 now_ms, u8 *reply);

/*
 * Offer mac the address ip first whenever it is free, and nobody else while
 * another is free: 0, or -EINVAL (not in the pool, or already someone's).
 */
int dhcps_set_home(struct dhcp_server *d, const u8 *mac, u32 ip);

/* The address bound to mac now (for the port's policy record), or 0. */
u32 dhcps_lease_ip(const struct dhcp_server *d, const u8 *mac, u64 now_ms);

#endif

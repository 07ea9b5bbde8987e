/*
 * The switch between the VSIs, the physical NIC and the hypervisor's own
 * stack (docs/net.md, "VSI networks: the switch"). Policy is data: each port
 * has one policy record, checked in one place on the way in
 * (sw_ingress()) and one on the way out (sw_egress_ok()). The switch never
 * copies a frame: it returns the set of ports that get it, and the caller
 * copies and reports ring-full losses with sw_count_out().
 *
 * Portable: no globals, no allocation; the caller owns struct sw_switch
 * (kernel/netsw.c, on the service CPU).
 */
#ifndef HV_SWITCH_H
#define HV_SWITCH_H

#include <hv/net_proto.h>

#define SW_PORTS_MAX	  32	 /* one bit per port in struct sw_decision */
#define SW_MAC_TABLE_SIZE 128	 /* learnt (network, MAC) -> port rows */
#define SW_MAC_AGE_MS	  300000 /* IEEE 802.1D-2004 7.9.2 default ageing time */
#define SW_STORAGE_MAX	  16	 /* storage server addresses */
#define SW_HOST_FWD_MAX	  16	 /* TCP ports of the hypervisor's address open to guests */

enum sw_port_kind {
	SW_PORT_UPLINK, /* the physical NIC */
	SW_PORT_HOST,	/* the hypervisor's own stack (or its NAT gateway on a network) */
	SW_PORT_VSI,	/* a VSI's virtio-net device */
};

enum sw_mode {
	SW_MODE_NAT,	  /* private subnet, our DHCP server, NAT to the uplink */
	SW_MODE_BRIDGED,  /* own MAC on the physical LAN */
	SW_MODE_INTERNAL, /* L2 between the VSIs of the network only */
};

/* One port's rules: the only place a port's permissions are kept. */
struct sw_policy {
	enum sw_port_kind kind;
	enum sw_mode mode; /* VSI ports */
	u16 network;	   /* frames never leave their network */
	u8 mac[ETH_ALEN];  /* VSI: the only source MAC it may send, the only unicast it gets */
	u32 ip;		   /* VSI in nat/internal: its leased IPv4, 0 while it has none */
	bool up;
};

/* Why a frame went or did not go (one counter per port and reason, each way). */
enum sw_reason {
	SW_FORWARDED,
	SW_DROP_SPOOFED,    /* forged source MAC/IPv4, ARP for another address */
	SW_DROP_NO_BUFFER,  /* the receiving ring was full (counted by the caller) */
	SW_DROP_POLICY,	    /* not allowed by the port's mode (tags, EtherType, down) */
	SW_DROP_STORAGE,    /* to a storage server or the hypervisor itself */
	SW_DROP_TABLE_FULL, /* MAC table (frame still flooded) or NAT table (dropped) */
	SW_DROP_MALFORMED,  /* a length or header that does not add up */
	SW_REASONS
};

struct sw_port {
	struct sw_policy pol;
	u64 in[SW_REASONS];  /* frames this port sent into the switch */
	u64 out[SW_REASONS]; /* frames the switch handed (or failed to hand) to it */
};

struct sw_frame;

struct sw_mac_entry {
	u8 mac[ETH_ALEN];
	u16 network;
	u8 port;
	bool used;
	u64 seen_ms;
};

struct sw_switch {
	struct sw_port ports[SW_PORTS_MAX];
	u32 nports;
	struct sw_mac_entry macs[SW_MAC_TABLE_SIZE];
	u32 storage[SW_STORAGE_MAX]; /* every nbd:// server address, host byte order */
	u32 nstorage;
	u32 host_ip;		       /* the hypervisor's own address on the uplink */
	u16 host_fwd[SW_HOST_FWD_MAX]; /* forward = tcp:HOSTPORT:... host ports */
	u32 nhost_fwd;
	/*
	 * Optional: a storage-bound frame of a nat VSI that answers a connection
	 * a forward let in (nat_forward_reply()) goes through after all.
	 */
	bool (*fwd_reply)(void *ctx, const struct sw_frame *f);
	void *fwd_reply_ctx;
};

/* What sw_classify() found; offsets are from the start of the frame. */
enum sw_class {
	SW_CLASS_OTHER, /* an EtherType the switch does not look into */
	SW_CLASS_ARP,
	SW_CLASS_IPV4,
};

struct sw_frame {
	const u8 *dst, *src;
	u16 type; /* EtherType after the tag, if any */
	bool tagged;
	u16 vid;
	enum sw_class cls;
	size_t l3_off, l3_len; /* ARP packet or IPv4 datagram (tot_len, without padding) */
	u16 arp_op;
	const u8 *arp_sha;
	u32 arp_spa, arp_tpa; /* host byte order */
	u32 ip_src, ip_dst;   /* host byte order */
	u8 ip_proto;
	bool ip_frag;	       /* MF or a fragment offset */
	size_t l4_off, l4_len; /* 0 for later fragments */
	u16 sport, dport;      /* TCP/UDP, host byte order; 0 when absent */
};

struct sw_decision {
	u32 out_mask; /* bit n: port n gets the frame */
	enum sw_reason reason;
};

/* Frame classification: 0, or -EBADMSG when a header or length does not add up. */
int sw_classify(const u8 *frame, size_t len, struct sw_frame *f);

void sw_init(struct sw_switch *sw, u32 host_ip);
/* Add a port with its policy: its number, or -ENOSPC. */
int sw_add_port(struct sw_switch *sw, const struct sw_policy *pol);
/* Replace a port's policy (e.g. its lease changed); learnt MACs of the port are forgotten. */
int sw_set_policy(struct sw_switch *sw, u32 port, const struct sw_policy *pol);
int sw_add_storage(struct sw_switch *sw, u32 ip);
int sw_add_host_fwd(struct sw_switch *sw, u16 tcp_port);

/*
 * A frame arrived from port in: classify, apply the port's policy, learn its
 * source, pick the ports that get it. Returns the number of ports (0: dropped,
 * d->reason says why). Counted on the ports' in/out counters.
 */
u32 sw_ingress(struct sw_switch *sw, u32 in, const u8 *frame, size_t len, u64 now_ms,
	       struct sw_decision *d);
/* The caller could not hand a forwarded frame to port out (ring full, say). */
void sw_count_out(struct sw_switch *sw, u32 out, enum sw_reason reason);

/* The policy checks on their own (used by sw_ingress(), exposed for tests). */
enum sw_reason sw_ingress_check(const struct sw_switch *sw, const struct sw_policy *pol,
				const struct sw_frame *f);
bool sw_egress_ok(const struct sw_policy *in, const struct sw_policy *out,
		  const struct sw_frame *f);
bool sw_storage_bound(const struct sw_switch *sw, const struct sw_frame *f);

#endif

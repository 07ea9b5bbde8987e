/*
 * What kernel/netsw.c and kernel/netsw_gw.c share: the state of the VSIs'
 * networks. Service CPU only.
 */
#ifndef KERNEL_NETSW_INTERNAL_H
#define KERNEL_NETSW_INTERNAL_H

#include <hv/config.h>
#include <hv/dhcp_server.h>
#include <hv/nat.h>
#include <hv/netsw.h>
#include <hv/switch.h>

#define NETSW_NAT_PORT_LO 20000 /* outside ports of NAT rows: below the stack's 49152.. */
#define NETSW_NAT_PORT_HI 29999
#define NETSW_LEASE_S	  3600 /* DHCP lease of a VSI */
#define NETSW_BURST	  32   /* frames taken from one device per poll */
#define NETSW_BUSY_MS	  20   /* keep polling this long after the last frame */

struct vsi;
struct vsi_net;

/* One network of the configuration. */
struct vnetwork {
	const struct network_config *cfg;
	u16 id;	     /* the switch's network: 0 (the uplink's LAN) for bridged */
	int gw_port; /* nat, internal with a subnet: the gateway's port; else -1 */
	u32 members; /* VSIs on it so far */
	struct dhcp_server dhcps;
	u8 gw_mac[ETH_ALEN];
	u64 gw_unrouted; /* frames to the gateway it could not route (internal, no address) */
};

/* One VSI's device and its port. */
struct vport {
	struct vsi *v;
	struct vsi_net *n;
	u32 port;
	struct vnetwork *net;
};

struct netsw {
	const struct hv_config *cfg;
	struct sw_switch sw;
	struct nat_table nat;
	struct netdev *nic;    /* the uplink, once storage brought it up */
	struct net_stack *net; /* the stack whose address NAT uses */
	int uplink, host;      /* ports, -1 without an uplink */
	u64 nat_out_failed;    /* translated but not routed (no route, ARP queue full) */
	struct vnetwork nets[CONFIG_MAX_NETWORKS];
	struct vport vp[CONFIG_MAX_VSIS];
	u32 nr_vp;
	u64 last_frame_ms, last_tick_ms;
	u64 now_ms; /* the clock at the last poll or uplink frame */
	u8 frame[ETH_FRAME_MAX];
	u8 out[DHCPS_REPLY_MAX + ETH_FRAME_MAX]; /* what a gateway sends */
};

extern struct netsw *ns;

void netsw_ip_text(u32 ip, char *buf, size_t len);
struct vport *netsw_vport_of_port(u32 port);
void netsw_deliver(u32 mask, u32 in, u8 *frame, size_t len, u64 now_ms);
void netsw_track_leases(u64 now_ms);
/* A frame a VSI sent to its network's gateway (from may be NULL). */
void netsw_gw_input(struct vnetwork *w, struct vport *from, u8 *frame, size_t len, u64 now_ms);
/* A frame from the uplink for a NAT row or forward: translated and delivered (true). */
bool netsw_gw_nat_inbound(u8 *frame, size_t len, u64 now_ms);

#endif

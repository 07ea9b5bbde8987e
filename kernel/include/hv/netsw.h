/*
 * The VSIs' networks on the service CPU (docs/net.md, "VSI networks"): the
 * switch (hv/switch.h) with one port per VSI device, the uplink (the NIC
 * that carries storage) and the hypervisor's own stack on it, and per nat
 * network a gateway port that answers ARP and ping, runs the network's DHCP
 * server and translates (hv/nat.h) to and from the uplink's address.
 */
#ifndef HV_NETSW_H
#define HV_NETSW_H

#include <hv/config.h>

struct vsi;
struct vsi_net;
struct netdev;
struct net_stack;

/* Build the switch and the networks of the configuration (before the VSIs). */
void netsw_init(const struct hv_config *cfg);
/* True when some VSI has a network. */
bool netsw_active(void);
/* True when a nat or bridged network needs the uplink NIC and an address on it. */
bool netsw_needs_uplink(void);
/* A VSI's device joins its network: 0 or -errno (logged). */
int netsw_attach(struct vsi *v, struct vsi_net *n);
/* The uplink is up: frames go out through nic, NAT uses the address of net. */
void netsw_set_uplink(struct netdev *nic, struct net_stack *net);
/*
 * A frame the uplink NIC received (may be rewritten in place). True when
 * the hypervisor's own stack must see it too (net_input()).
 */
bool netsw_uplink_input(u8 *frame, size_t len, u64 now_ms);
/* Move the VSIs' frames; true while frames moved recently. */
bool netsw_poll(u64 now_ms);
/* The console's `net` command: each VSI's network, address, MAC and counters. */
void netsw_print(void);

#endif

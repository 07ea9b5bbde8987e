/*
 * The VSIs' networks on the service CPU (docs/net.md, "VSI networks"). One
 * switch (hv/switch.h) holds every port: the uplink (the NIC that carries
 * storage) and the hypervisor's own stack on it, both on switch network 0
 * with the bridged VSIs; each nat network, and each internal network with
 * a subnet, has a gateway port (kernel/netsw_gw.c) on its own switch
 * network; each VSI's virtio-net device is a port. Frames move only here,
 * on the service CPU: from the devices in netsw_poll(), from the NIC in
 * netsw_uplink_input(), always through sw_ingress(), whose decision is the
 * only place policy lives.
 */
#include <hv/errno.h>
#include <hv/frame.h>
#include <hv/kernel.h>
#include <hv/log.h>
#include <hv/net.h>
#include <hv/printf.h>
#include <hv/string.h>
#include <hv/virtio_net.h>
#include <hv/vnet.h>
#include <hv/vsi.h>
#include <net/netdev.h>
#include "netsw_internal.h"

struct netsw *ns;

static const char *const mode_names[] = {
	[CONFIG_NETWORK_NAT] = "nat",
	[CONFIG_NETWORK_BRIDGED] = "bridged",
	[CONFIG_NETWORK_INTERNAL] = "internal",
};

static const enum sw_mode sw_modes[] = {
	[CONFIG_NETWORK_NAT] = SW_MODE_NAT,
	[CONFIG_NETWORK_BRIDGED] = SW_MODE_BRIDGED,
	[CONFIG_NETWORK_INTERNAL] = SW_MODE_INTERNAL,
};

void netsw_ip_text(u32 ip, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
}

bool netsw_active(void)
{
	return ns != NULL;
}

bool netsw_needs_uplink(void)
{
	return ns && ns->uplink >= 0;
}

/* A network's gateway MAC: locally administered, 02:00:5e:00:00:N (N: the network, 1-based). */
static void gateway_mac(u32 index, u8 *mac)
{
	static const u8 base[ETH_ALEN] = { 0x02, 0x00, 0x5e, 0x00, 0x00, 0x00 };

	memcpy(mac, base, ETH_ALEN);
	mac[5] = (u8)(index + 1);
}

static int init_network(u32 i)
{
	const struct network_config *c = &ns->cfg->net[i];
	struct vnetwork *w = &ns->nets[i];
	struct sw_policy pol = { .kind = SW_PORT_HOST, .up = true };
	struct dhcps_config dc;
	int port;

	w->cfg = c;
	w->gw_port = -1;
	w->id = c->mode == CONFIG_NETWORK_BRIDGED ? 0 : (u16)(1 + i);
	if (c->mode == CONFIG_NETWORK_BRIDGED || !c->prefix)
		return 0;
	gateway_mac(i, w->gw_mac);
	pol.network = w->id;
	memcpy(pol.mac, w->gw_mac, ETH_ALEN);
	port = sw_add_port(&ns->sw, &pol);
	if (port < 0)
		return port;
	w->gw_port = port;
	memset(&dc, 0, sizeof(dc));
	dc.server_ip = c->gateway;
	dc.mask = ~0U << (32 - c->prefix);
	dc.pool_start = c->pool_start;
	dc.pool_size = c->pool_size;
	dc.lease_s = NETSW_LEASE_S;
	memcpy(dc.server_mac, w->gw_mac, ETH_ALEN);
	return dhcps_init(&w->dhcps, &dc);
}

/* A nat VSI answering a client that came in through a forward (nat_forward_reply()). */
static bool fwd_reply(void *ctx, const struct sw_frame *f)
{
	return nat_forward_reply(&ns->nat, f->ip_src, f->sport, f->ip_dst, f->dport, ns->now_ms);
}

void netsw_init(const struct hv_config *cfg)
{
	bool used[CONFIG_MAX_NETWORKS] = { false }, uplink = false;
	struct sw_policy pol = { .kind = SW_PORT_UPLINK, .network = 0 };

	for (u32 i = 0; i < cfg->nr_vsis; i++)
		if (cfg->vsi[i].has_net)
			used[cfg->vsi[i].net] = true;
	for (u32 i = 0; i < cfg->nr_networks; i++)
		uplink |= used[i] && cfg->net[i].mode != CONFIG_NETWORK_INTERNAL;
	for (u32 i = 0; i < cfg->nr_vsis && !ns; i++)
		if (cfg->vsi[i].has_net)
			ns = page_alloc_zeroed(sizeof(*ns), PAGE_SIZE, 0);
	if (!ns)
		return;
	ns->cfg = cfg;
	ns->uplink = ns->host = -1;
	sw_init(&ns->sw, 0);
	ns->sw.fwd_reply = fwd_reply;
	nat_init(&ns->nat, 0, NETSW_NAT_PORT_LO, NETSW_NAT_PORT_HI);
	for (u32 i = 0; i < cfg->nr_vsis; i++)
		if (cfg->vsi[i].disk.present)
			sw_add_storage(&ns->sw, cfg->vsi[i].disk.ip);
	if (uplink) {
		ns->uplink = sw_add_port(&ns->sw, &pol); /* down until netsw_set_uplink() */
		pol.kind = SW_PORT_HOST;
		ns->host = sw_add_port(&ns->sw, &pol);
	}
	for (u32 i = 0; i < cfg->nr_networks; i++)
		if (init_network(i))
			pr_err("net: network %s: cannot be set up", cfg->net[i].name);
	for (u32 i = 0; i < cfg->nr_vsis; i++) {
		const struct vsi_config *v = &cfg->vsi[i];

		for (u32 j = 0; j < v->nr_forwards; j++) {
			sw_add_host_fwd(&ns->sw, v->fwd[j].host_port);
			nat_add_forward(&ns->nat, v->fwd[j].host_port, 0, v->fwd[j].vsi_port);
		}
	}
}

/* Bridged VSIs: the NIC must receive their unicast frames too. */
static void uplink_add_mac(struct vport *p)
{
	char mac[18];
	int rc;

	if (!ns->nic || p->net->cfg->mode != CONFIG_NETWORK_BRIDGED || !ns->nic->add_rx_mac)
		return;
	rc = ns->nic->add_rx_mac(ns->nic, p->v->cfg->mac);
	netdev_format_mac(p->v->cfg->mac, mac, sizeof(mac));
	if (rc == 1)
		pr_warn("net: %s: no address filter left for %s (vsi %s): the NIC receives every "
			"frame now",
			ns->nic->name, mac, p->v->name);
	else if (rc < 0)
		pr_err("net: %s: cannot receive for %s (vsi %s): %d", ns->nic->name, mac,
		       p->v->name, rc);
}

int netsw_attach(struct vsi *v, struct vsi_net *n)
{
	struct vnetwork *w = &ns->nets[v->cfg->net];
	struct sw_policy pol = { .kind = SW_PORT_VSI, .up = true };
	struct vport *p = &ns->vp[ns->nr_vp];
	char mac[18], ip[16];
	int port;

	pol.mode = sw_modes[w->cfg->mode];
	pol.network = w->id;
	memcpy(pol.mac, v->cfg->mac, ETH_ALEN);
	port = sw_add_port(&ns->sw, &pol);
	if (port < 0) {
		pr_err("vsi %s: no switch port left for its network device", v->name);
		return port;
	}
	p->v = v;
	p->n = n;
	p->port = (u32)port;
	p->net = w;
	ns->nr_vp++;
	netdev_format_mac(v->cfg->mac, mac, sizeof(mac));
	if (w->gw_port >= 0) {
		/* the k-th VSI of the network gets pool_start + k whenever it is free */
		u32 home = w->cfg->pool_start + w->members;

		if (w->members < w->cfg->pool_size &&
		    !dhcps_set_home(&w->dhcps, v->cfg->mac, home)) {
			netsw_ip_text(home, ip, sizeof(ip));
			pr_info("vsi %s: on network %s (%s), MAC %s, address %s by DHCP", v->name,
				w->cfg->name, mode_names[w->cfg->mode], mac, ip);
		}
	} else {
		pr_info("vsi %s: on network %s (%s), MAC %s", v->name, w->cfg->name,
			mode_names[w->cfg->mode], mac);
	}
	w->members++;
	uplink_add_mac(p);
	return 0;
}

void netsw_set_uplink(struct netdev *nic, struct net_stack *net)
{
	struct sw_policy pol;

	if (!ns || ns->uplink < 0)
		return;
	ns->nic = nic;
	ns->net = net;
	for (int port = ns->uplink; port <= ns->host; port++) {
		pol = ns->sw.ports[port].pol;
		pol.up = true;
		sw_set_policy(&ns->sw, (u32)port, &pol);
	}
	for (u32 i = 0; i < ns->nr_vp; i++)
		uplink_add_mac(&ns->vp[i]);
	pr_info("net: uplink for the VSIs' networks: %s", nic->name);
}

struct vport *netsw_vport_of_port(u32 port)
{
	for (u32 i = 0; i < ns->nr_vp; i++)
		if (ns->vp[i].port == port)
			return &ns->vp[i];
	return NULL;
}

/*
 * Hand frame to every port in mask. The uplink gets it through the NIC, a
 * VSI through its device, a gateway through netsw_gw_input() (last: it may
 * rewrite the frame). A full ring is counted as SW_DROP_NO_BUFFER.
 */
void netsw_deliver(u32 mask, u32 in, u8 *frame, size_t len, u64 now_ms)
{
	struct vnetwork *gw = NULL;
	struct vport *p;

	for (u32 i = 0; i < ns->sw.nports; i++) {
		if (!(mask & (1u << i)))
			continue;
		if ((int)i == ns->uplink) {
			if (ns->nic->transmit(ns->nic, frame, len))
				sw_count_out(&ns->sw, i, SW_DROP_NO_BUFFER);
		} else if ((p = netsw_vport_of_port(i))) {
			if (vnet_rx(p->n, frame, len))
				sw_count_out(&ns->sw, i, SW_DROP_NO_BUFFER);
		} else if ((int)i != ns->host) {
			for (u32 j = 0; j < ns->cfg->nr_networks; j++)
				if (ns->nets[j].gw_port == (int)i)
					gw = &ns->nets[j];
		}
		/* the hypervisor's own stack takes only what the uplink brings */
	}
	if (gw)
		netsw_gw_input(gw, netsw_vport_of_port(in), frame, len, now_ms);
}

bool netsw_uplink_input(u8 *frame, size_t len, u64 now_ms)
{
	struct sw_decision d;

	if (!ns || ns->uplink < 0 || !ns->nic)
		return true;
	ns->now_ms = now_ms;
	if (netsw_gw_nat_inbound(frame, len, now_ms))
		return false;
	sw_ingress(&ns->sw, (u32)ns->uplink, frame, len, now_ms, &d);
	netsw_deliver(d.out_mask & ~(1u << ns->host), (u32)ns->uplink, frame, len, now_ms);
	return true; /* net_input() keeps only what is addressed to the stack */
}

/* The uplink address NAT translates to, once the stack has one (DHCP may take a while). */
static void track_address(void)
{
	u32 ip = ns->net ? net_address(ns->net) : 0;
	char text[16];

	if (ip == ns->nat.outside_ip)
		return;
	ns->nat.outside_ip = ip;
	ns->sw.host_ip = ip;
	netsw_ip_text(ip, text, sizeof(text));
	pr_info("net: nat networks leave through %s", text);
}

/* A VSI's lease changed (bound, renewed elsewhere, expired): its policy and forwards follow. */
void netsw_track_leases(u64 now_ms)
{
	for (u32 i = 0; i < ns->nr_vp; i++) {
		struct vport *p = &ns->vp[i];
		struct sw_policy pol = ns->sw.ports[p->port].pol;
		u32 ip = p->net->gw_port >= 0 ? dhcps_lease_ip(&p->net->dhcps, pol.mac, now_ms) : 0;
		char text[16];

		if (p->net->gw_port < 0 || ip == pol.ip)
			continue;
		pol.ip = ip;
		sw_set_policy(&ns->sw, p->port, &pol);
		for (u32 j = 0; j < p->v->cfg->nr_forwards; j++)
			nat_retarget_forward(&ns->nat, p->v->cfg->fwd[j].host_port, ip);
		netsw_ip_text(ip, text, sizeof(text));
		if (ip)
			pr_info("vsi %s: leased %s on network %s", p->v->name, text,
				p->net->cfg->name);
		else
			pr_info("vsi %s: its lease on network %s ended", p->v->name,
				p->net->cfg->name);
	}
}

bool netsw_poll(u64 now_ms)
{
	struct sw_decision d;
	size_t len;

	if (!ns)
		return false;
	ns->now_ms = now_ms;
	if (ns->uplink >= 0)
		track_address();
	for (u32 i = 0; i < ns->nr_vp; i++) {
		struct vport *p = &ns->vp[i];

		for (u32 n = 0; n < NETSW_BURST && (len = vnet_tx(p->n, ns->frame)); n++) {
			ns->last_frame_ms = now_ms;
			if (sw_ingress(&ns->sw, p->port, ns->frame, len, now_ms, &d))
				netsw_deliver(d.out_mask, p->port, ns->frame, len, now_ms);
		}
	}
	if (now_ms - ns->last_tick_ms >= 1000) {
		ns->last_tick_ms = now_ms;
		netsw_track_leases(now_ms);
		nat_expire(&ns->nat, now_ms);
	}
	return now_ms - ns->last_frame_ms < NETSW_BUSY_MS;
}

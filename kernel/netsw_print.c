/*
 * The console's `net` command: the uplink and the NAT table, each network
 * with its DHCP server, each VSI's port with its address, MAC and the
 * switch's counters by reason, and its device's own counters.
 */
#include <hv/log.h>
#include <hv/net.h>
#include <hv/printf.h>
#include <hv/storage.h>
#include <hv/virtio_net.h>
#include <hv/vnet.h>
#include <hv/vsi.h>
#include <net/netdev.h>
#include "netsw_internal.h"

static const char *const reason_names[SW_REASONS] = {
	[SW_FORWARDED] = "forwarded",	   [SW_DROP_SPOOFED] = "spoofed",
	[SW_DROP_NO_BUFFER] = "no buffer", [SW_DROP_POLICY] = "policy",
	[SW_DROP_STORAGE] = "storage",	   [SW_DROP_TABLE_FULL] = "table full",
	[SW_DROP_MALFORMED] = "malformed",
};

static const char *const modes[] = {
	[CONFIG_NETWORK_NAT] = "nat",
	[CONFIG_NETWORK_BRIDGED] = "bridged",
	[CONFIG_NETWORK_INTERNAL] = "internal",
};

static void print_counters(const char *what, const u64 *c)
{
	char line[160];
	int n = snprintf(line, sizeof(line), "    %s:", what);

	for (u32 r = 0; r < SW_REASONS; r++)
		n += snprintf(line + n, sizeof(line) - (size_t)n, "%s %s %llu", r ? "," : "",
			      reason_names[r], (unsigned long long)c[r]);
	console_printf("%s\n", line);
}

static void print_networks(void)
{
	char gw[16], sub[16];

	for (u32 i = 0; i < ns->cfg->nr_networks; i++) {
		struct vnetwork *w = &ns->nets[i];
		const struct dhcps_stats *d = &w->dhcps.stats;

		if (w->gw_port < 0) {
			console_printf("network %s (%s): %u VSIs\n", w->cfg->name,
				       modes[w->cfg->mode], w->members);
			continue;
		}
		netsw_ip_text(w->cfg->subnet, sub, sizeof(sub));
		netsw_ip_text(w->cfg->gateway, gw, sizeof(gw));
		console_printf(
		    "network %s (%s, %s/%u, gateway %s): %u VSIs; DHCP offers %llu, acks %llu, "
		    "naks %llu, pool full %llu, malformed %llu, foreign %llu; not routed %llu\n",
		    w->cfg->name, modes[w->cfg->mode], sub, w->cfg->prefix, gw, w->members,
		    (unsigned long long)d->offer, (unsigned long long)d->ack,
		    (unsigned long long)d->nak, (unsigned long long)d->pool_full,
		    (unsigned long long)d->malformed, (unsigned long long)d->foreign,
		    (unsigned long long)w->gw_unrouted);
	}
}

/* storage_vlan: what the NIC's frames were sorted into by their tags. */
static void print_storage_vlan(void)
{
	const struct vlan_stats *v;
	u16 vid;

	v = storage_vlan_stats(&vid);
	if (!v)
		return;
	console_printf("storage VLAN %u: in tagged %llu, untagged (to the switch) %llu, other VLAN "
		       "%llu, malformed %llu; out tagged %llu, not taggable %llu\n",
		       vid, (unsigned long long)v->rx_ours, (unsigned long long)v->rx_untagged,
		       (unsigned long long)v->rx_other_vid, (unsigned long long)v->rx_malformed,
		       (unsigned long long)v->tx_tagged, (unsigned long long)v->tx_bad);
}

void netsw_print(void)
{
	const struct nat_stats *t;
	char ip[16], mac[18];

	print_storage_vlan();
	if (!ns) {
		console_printf("net: no VSI has a network\n");
		return;
	}
	if (ns->uplink >= 0) {
		t = &ns->nat.stats;
		netsw_ip_text(ns->nat.outside_ip, ip, sizeof(ip));
		console_printf(
		    "uplink %s, address %s; NAT out %llu, in %llu, table full %llu, no port "
		    "%llu, no mapping %llu, malformed %llu, unsupported %llu, not routed %llu\n",
		    ns->nic ? ns->nic->name : "(none)", ip, (unsigned long long)t->out_ok,
		    (unsigned long long)t->in_ok, (unsigned long long)t->table_full,
		    (unsigned long long)t->no_port, (unsigned long long)t->no_mapping,
		    (unsigned long long)t->malformed, (unsigned long long)t->unsupported,
		    (unsigned long long)ns->nat_out_failed);
		print_counters("from the LAN", ns->sw.ports[ns->uplink].in);
		print_counters("to the LAN", ns->sw.ports[ns->uplink].out);
		if (ns->nic)
			console_printf(
			    "    NIC: rx %llu, tx %llu, rx dropped %llu, tx ring full %llu\n",
			    (unsigned long long)ns->nic->rx_frames,
			    (unsigned long long)ns->nic->tx_frames,
			    (unsigned long long)ns->nic->rx_dropped,
			    (unsigned long long)ns->nic->tx_busy);
	}
	print_networks();
	for (u32 i = 0; i < ns->nr_vp; i++) {
		struct vport *p = &ns->vp[i];
		const struct sw_port *sp = &ns->sw.ports[p->port];
		struct virtio_net_stats s;
		struct virtio_pci_stats ps;
		u8 status;

		netsw_ip_text(sp->pol.ip, ip, sizeof(ip));
		netdev_format_mac(sp->pol.mac, mac, sizeof(mac));
		console_printf("vsi %s: network %s (%s), MAC %s, address %s\n", p->v->name,
			       p->net->cfg->name, modes[p->net->cfg->mode], mac,
			       sp->pol.ip	      ? ip
			       : p->net->gw_port >= 0 ? "(no lease)"
						      : "(its own)");
		print_counters("sent", sp->in);
		print_counters("received", sp->out);
		vnet_stats(p->n, &s, &ps, &status);
		console_printf(
		    "    device: status 0x%02x, tx %llu, rx %llu, tx bad %llu, rx no buffer %llu, "
		    "rx bad buffer %llu, rx too small %llu, needs-reset %llu, interrupts %llu, "
		    "suppressed %llu\n",
		    status, (unsigned long long)s.tx_frames, (unsigned long long)s.rx_frames,
		    (unsigned long long)s.tx_bad, (unsigned long long)s.rx_no_buffer,
		    (unsigned long long)s.rx_bad_buffer, (unsigned long long)s.rx_too_small,
		    (unsigned long long)ps.needs_reset, (unsigned long long)ps.irq_sent,
		    (unsigned long long)ps.irq_suppressed);
	}
}

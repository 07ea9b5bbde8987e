/*
 * A network's gateway: the hypervisor's address on a nat network (or an
 * internal one with a subnet). It answers ARP and ping for that address,
 * runs the network's DHCP server, and on nat networks translates the VSIs'
 * datagrams to the uplink's address (hv/nat.h) and routes them through the
 * hypervisor's stack; replies and forwarded connections come back through
 * netsw_gw_nat_inbound(). Everything the gateway sends a VSI enters the
 * switch at the gateway's port, so the switch's egress rules hold for it.
 */
#include <hv/errno.h>
#include <hv/log.h>
#include <hv/net.h>
#include <hv/string.h>
#include <hv/vsi.h>
#include <net/netdev.h>
#include "netsw_internal.h"

/* Into the switch from the gateway's port: out to the VSIs it is for. */
static void gw_send(struct vnetwork *w, u8 *frame, size_t len, u64 now_ms)
{
	struct sw_decision d;

	if (len < ETH_ZLEN) {
		memset(frame + len, 0, ETH_ZLEN - len);
		len = ETH_ZLEN;
	}
	if (sw_ingress(&ns->sw, (u32)w->gw_port, frame, len, now_ms, &d))
		netsw_deliver(d.out_mask & ~(1u << w->gw_port), (u32)w->gw_port, frame, len,
			      now_ms);
}

/* RFC 826: who-has GATEWAY tell X, answered to X. */
static void gw_arp(struct vnetwork *w, const struct sw_frame *f, u64 now_ms)
{
	struct eth_hdr *eh = (struct eth_hdr *)ns->out;
	struct arp_pkt *a = (struct arp_pkt *)(ns->out + ETH_HLEN);

	if (f->arp_op != ARP_OP_REQUEST || f->arp_tpa != w->cfg->gateway)
		return;
	memcpy(eh->dst, f->arp_sha, ETH_ALEN);
	memcpy(eh->src, w->gw_mac, ETH_ALEN);
	eh->type = cpu_to_be16(ETH_P_ARP);
	a->hrd = cpu_to_be16(ARP_HRD_ETHER);
	a->pro = cpu_to_be16(ETH_P_IP);
	a->hln = ETH_ALEN;
	a->pln = 4;
	a->op = cpu_to_be16(ARP_OP_REPLY);
	memcpy(a->sha, w->gw_mac, ETH_ALEN);
	a->spa = cpu_to_be32(w->cfg->gateway);
	memcpy(a->tha, f->arp_sha, ETH_ALEN);
	a->tpa = cpu_to_be32(f->arp_spa);
	gw_send(w, ns->out, ETH_HLEN + sizeof(*a), now_ms);
}

/* RFC 792: an echo request to the gateway comes back with the same id, sequence and data. */
static void gw_echo(struct vnetwork *w, const u8 *frame, const struct sw_frame *f, u64 now_ms)
{
	struct eth_hdr *eh = (struct eth_hdr *)ns->out;
	struct ip_hdr *ih = (struct ip_hdr *)(ns->out + ETH_HLEN);
	struct icmp_hdr *ic;
	size_t icmp_len = f->l4_len;

	if (f->ip_proto != IP_PROTO_ICMP || f->ip_frag || icmp_len < ICMP_HLEN ||
	    frame[f->l4_off] != ICMP_ECHO || frame[f->l4_off + 1] != 0)
		return;
	memcpy(eh->dst, f->src, ETH_ALEN);
	memcpy(eh->src, w->gw_mac, ETH_ALEN);
	eh->type = cpu_to_be16(ETH_P_IP);
	memset(ih, 0, IP_HLEN);
	ih->ver_ihl = IP_VERSION << 4 | IP_HLEN / 4;
	ih->tot_len = cpu_to_be16((u16)(IP_HLEN + icmp_len));
	ih->ttl = IP_DEFAULT_TTL;
	ih->proto = IP_PROTO_ICMP;
	ih->src = cpu_to_be32(w->cfg->gateway);
	ih->dst = cpu_to_be32(f->ip_src);
	ih->csum = cpu_to_be16(inet_fold(inet_sum(0, ih, IP_HLEN)));
	ic = (struct icmp_hdr *)((u8 *)ih + IP_HLEN);
	memcpy(ic, frame + f->l4_off, icmp_len);
	ic->type = ICMP_ECHO_REPLY;
	ic->csum = 0;
	ic->csum = cpu_to_be16(inet_fold(inet_sum(0, ic, icmp_len)));
	gw_send(w, ns->out, ETH_HLEN + IP_HLEN + icmp_len, now_ms);
}

/* Translate and route a VSI's datagram to the outside (nat networks only). */
static void gw_nat_out(struct vnetwork *w, u8 *frame, const struct sw_frame *f, u64 now_ms)
{
	u8 *ip = frame + f->l3_off;

	if (w->cfg->mode != CONFIG_NETWORK_NAT || !ns->net || !ns->nat.outside_ip ||
	    f->ip_dst == IPV4_BROADCAST || (f->ip_dst >> 28) == 0xe) {
		w->gw_unrouted++;
		return;
	}
	if (nat_outbound(&ns->nat, ip, f->l3_len, now_ms))
		return; /* counted in the table's statistics */
	if (net_route_datagram(ns->net, ip, f->l3_len) < 0)
		ns->nat_out_failed++;
}

void netsw_gw_input(struct vnetwork *w, struct vport *from, u8 *frame, size_t len, u64 now_ms)
{
	struct sw_frame f;
	size_t n;

	if (!from || sw_classify(frame, len, &f))
		return;
	if (f.cls == SW_CLASS_ARP) {
		gw_arp(w, &f, now_ms);
		return;
	}
	if (f.cls != SW_CLASS_IPV4)
		return;
	if (f.ip_proto == IP_PROTO_UDP && f.dport == DHCP_SERVER_PORT) {
		n = dhcps_input(&w->dhcps, from->v->cfg->mac, frame, len, now_ms, ns->out);
		if (n)
			gw_send(w, ns->out, n, now_ms);
		netsw_track_leases(now_ms); /* an ACK lets the VSI use its address at once */
		return;
	}
	if (f.ip_dst == w->cfg->gateway) {
		gw_echo(w, frame, &f, now_ms);
		return;
	}
	if (memcmp(f.dst, w->gw_mac, ETH_ALEN))
		return; /* flooded here, not routed to us */
	gw_nat_out(w, frame, &f, now_ms);
}

/* The nat network and VSI port that hold address ip, or NULL. */
static struct vport *nat_vport(u32 ip)
{
	for (u32 i = 0; i < ns->nr_vp; i++) {
		struct vport *p = &ns->vp[i];

		if (p->net->cfg->mode == CONFIG_NETWORK_NAT && ns->sw.ports[p->port].pol.ip == ip)
			return p;
	}
	return NULL;
}

/* Is this frame from the uplink one NAT may own: to our MAC and address, a NAT port or echo reply? */
static bool nat_candidate(const u8 *frame, const struct sw_frame *f)
{
	if (f->cls != SW_CLASS_IPV4 || f->tagged || f->ip_dst != ns->nat.outside_ip ||
	    memcmp(f->dst, ns->nic->mac, ETH_ALEN))
		return false;
	if (f->ip_proto == IP_PROTO_ICMP)
		return f->l4_len >= ICMP_HLEN && frame[f->l4_off] == ICMP_ECHO_REPLY;
	if (f->ip_proto != IP_PROTO_TCP && f->ip_proto != IP_PROTO_UDP)
		return false;
	if (f->dport >= NETSW_NAT_PORT_LO && f->dport <= NETSW_NAT_PORT_HI)
		return true;
	for (u32 i = 0; i < ns->nat.nfwd; i++)
		if (f->ip_proto == IP_PROTO_TCP && ns->nat.fwd[i].host_port == f->dport)
			return true;
	return false;
}

bool netsw_gw_nat_inbound(u8 *frame, size_t len, u64 now_ms)
{
	struct eth_hdr *eh;
	struct sw_frame f;
	struct vport *p;
	u8 *ip;

	if (!ns->nat.outside_ip || sw_classify(frame, len, &f) || !nat_candidate(frame, &f))
		return false;
	ip = frame + f.l3_off;
	if (nat_inbound(&ns->nat, ip, f.l3_len, now_ms))
		return true; /* ours, but no row lets it in: counted by the table */
	p = nat_vport(be32_to_cpu(((struct ip_hdr *)ip)->dst));
	if (!p || p->net->gw_port < 0)
		return true;
	eh = (struct eth_hdr *)(ip - ETH_HLEN); /* over the old header */
	memcpy(eh->dst, ns->sw.ports[p->port].pol.mac, ETH_ALEN);
	memcpy(eh->src, p->net->gw_mac, ETH_ALEN);
	eh->type = cpu_to_be16(ETH_P_IP);
	gw_send(p->net, (u8 *)eh, ETH_HLEN + f.l3_len, now_ms);
	return true;
}

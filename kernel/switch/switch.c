/*
 * The switch: port table, the per-port policy checked once on ingress and
 * once on egress, a bounded MAC-learning table, and forwarding decisions
 * returned as a port mask (docs/net.md, "VSI networks: the switch").
 *
 * Rules, whatever the mode: a VSI sends only from its own MAC, never as a
 * storage server or the hypervisor (MAC, IPv4 or ARP), never to a storage
 * server or the hypervisor's address (except a forwarded TCP port); it gets
 * only unicast to its own MAC and the broadcast/multicast of its own network.
 * Unknown unicast is never flooded to VSIs, so the hypervisor's storage
 * traffic cannot reach a guest. In nat and internal modes a VSI also sends
 * only from its leased IPv4 (DHCP from 0.0.0.0 before it has one), only ARP
 * about itself, only ARP and IPv4. A tagged frame (802.1Q, 802.1ad) never
 * comes from or goes to a VSI, in any mode.
 */
#include <hv/errno.h>
#include <hv/string.h>
#include <hv/switch.h>

#define ETH_MULTICAST_BIT 0x01 /* I/G bit of the first octet (IEEE 802-2014 8.2) */

static bool mac_multicast(const u8 *mac)
{
	return mac[0] & ETH_MULTICAST_BIT;
}

void sw_init(struct sw_switch *sw, u32 host_ip)
{
	memset(sw, 0, sizeof(*sw));
	sw->host_ip = host_ip;
}

int sw_add_port(struct sw_switch *sw, const struct sw_policy *pol)
{
	if (sw->nports >= SW_PORTS_MAX)
		return -ENOSPC;
	sw->ports[sw->nports].pol = *pol;
	return (int)sw->nports++;
}

int sw_set_policy(struct sw_switch *sw, u32 port, const struct sw_policy *pol)
{
	if (port >= sw->nports)
		return -EINVAL;
	sw->ports[port].pol = *pol;
	for (u32 i = 0; i < SW_MAC_TABLE_SIZE; i++)
		if (sw->macs[i].used && sw->macs[i].port == port)
			sw->macs[i].used = false;
	return 0;
}

int sw_add_storage(struct sw_switch *sw, u32 ip)
{
	if (sw->nstorage >= SW_STORAGE_MAX)
		return -ENOSPC;
	sw->storage[sw->nstorage++] = ip;
	return 0;
}

int sw_add_host_fwd(struct sw_switch *sw, u16 tcp_port)
{
	if (sw->nhost_fwd >= SW_HOST_FWD_MAX)
		return -ENOSPC;
	sw->host_fwd[sw->nhost_fwd++] = tcp_port;
	return 0;
}

/* A storage server's address, or the hypervisor's own. */
static bool protected_ip(const struct sw_switch *sw, u32 ip)
{
	if (ip == sw->host_ip && ip)
		return true;
	for (u32 i = 0; i < sw->nstorage; i++)
		if (sw->storage[i] == ip)
			return true;
	return false;
}

/* A datagram to a protected address; TCP to a forwarded host port is let through. */
bool sw_storage_bound(const struct sw_switch *sw, const struct sw_frame *f)
{
	if (f->cls != SW_CLASS_IPV4 || !protected_ip(sw, f->ip_dst))
		return false;
	if (f->ip_dst == sw->host_ip && f->ip_proto == IP_PROTO_TCP && !f->ip_frag) {
		for (u32 i = 0; i < sw->nhost_fwd; i++)
			if (sw->host_fwd[i] == f->dport)
				return false;
	}
	return true;
}

/* DHCP from a VSI without a lease: 0.0.0.0:68 -> 255.255.255.255:67 (RFC 2131 4.1). */
static bool dhcp_client_request(const struct sw_frame *f)
{
	return f->ip_src == 0 && f->ip_dst == IPV4_BROADCAST && f->ip_proto == IP_PROTO_UDP &&
	       !f->ip_frag && f->sport == DHCP_CLIENT_PORT && f->dport == DHCP_SERVER_PORT;
}

/* nat/internal: only ARP about itself, only its leased IPv4 (or DHCP), nothing else. */
static enum sw_reason check_leased(const struct sw_policy *pol, const struct sw_frame *f)
{
	if (f->cls == SW_CLASS_ARP) {
		if (memcmp(f->arp_sha, pol->mac, ETH_ALEN))
			return SW_DROP_SPOOFED;
		/* RFC 5227 probes come from 0.0.0.0 */
		if (f->arp_spa != pol->ip && f->arp_spa != 0)
			return SW_DROP_SPOOFED;
		if (!pol->ip)
			return SW_DROP_SPOOFED;
		return SW_FORWARDED;
	}
	if (f->cls != SW_CLASS_IPV4)
		return SW_DROP_POLICY;
	if (dhcp_client_request(f))
		return SW_FORWARDED;
	if (!pol->ip || f->ip_src != pol->ip)
		return SW_DROP_SPOOFED;
	return SW_FORWARDED;
}

/* Is mac some VSI port's? */
static bool vsi_mac(const struct sw_switch *sw, const u8 *mac)
{
	for (u32 i = 0; i < sw->nports; i++)
		if (sw->ports[i].pol.kind == SW_PORT_VSI &&
		    !memcmp(sw->ports[i].pol.mac, mac, ETH_ALEN))
			return true;
	return false;
}

/* The ingress policy of a port: VSIs are checked, the uplink only for VSI MACs, host trusted. */
enum sw_reason sw_ingress_check(const struct sw_switch *sw, const struct sw_policy *pol,
				const struct sw_frame *f)
{
	if (!pol->up)
		return SW_DROP_POLICY;
	if (pol->kind == SW_PORT_UPLINK && vsi_mac(sw, f->src))
		return SW_DROP_SPOOFED; /* the LAN must not steal a VSI's frames */
	if (f->tagged)
		return SW_DROP_POLICY; /* the networks are untagged: a VLAN's frame is no guest's */
	if (pol->kind != SW_PORT_VSI)
		return SW_FORWARDED;
	if (memcmp(f->src, pol->mac, ETH_ALEN))
		return SW_DROP_SPOOFED;
	if (f->cls == SW_CLASS_ARP && protected_ip(sw, f->arp_spa))
		return SW_DROP_SPOOFED;
	if (f->cls == SW_CLASS_IPV4 && protected_ip(sw, f->ip_src))
		return SW_DROP_SPOOFED;
	if (pol->mode != SW_MODE_BRIDGED) {
		enum sw_reason r = check_leased(pol, f);

		if (r != SW_FORWARDED)
			return r;
	}
	if (sw_storage_bound(sw, f) &&
	    !(pol->mode == SW_MODE_NAT && f->ip_proto == IP_PROTO_TCP && !f->ip_frag &&
	      f->ip_dst != sw->host_ip && sw->fwd_reply && sw->fwd_reply(sw->fwd_reply_ctx, f)))
		return SW_DROP_STORAGE;
	return SW_FORWARDED;
}

/*
 * May a frame from a port with policy in go out of the port with policy out?
 * Same network, and a VSI gets only its own unicast or broadcast/multicast.
 */
bool sw_egress_ok(const struct sw_policy *in, const struct sw_policy *out, const struct sw_frame *f)
{
	if (!out->up || in->network != out->network)
		return false;
	if (out->kind != SW_PORT_VSI)
		return true;
	if (f->tagged)
		return false;
	if (mac_multicast(f->dst))
		return true;
	return !memcmp(f->dst, out->mac, ETH_ALEN);
}

/* The live learnt row for (network, mac), or NULL. */
static struct sw_mac_entry *mac_lookup(struct sw_switch *sw, u16 network, const u8 *mac, u64 now_ms)
{
	for (u32 i = 0; i < SW_MAC_TABLE_SIZE; i++) {
		struct sw_mac_entry *e = &sw->macs[i];

		if (e->used && now_ms > e->seen_ms && now_ms - e->seen_ms >= SW_MAC_AGE_MS)
			e->used = false;
		if (e->used && e->network == network && !memcmp(e->mac, mac, ETH_ALEN))
			return e;
	}
	return NULL;
}

/*
 * Learn where (network, src) lives. A full table learns nothing new (the
 * frame is still forwarded; later frames to it are flooded, never to VSIs):
 * counted as SW_DROP_TABLE_FULL on the port. A VSI's MAC is in its policy and
 * never learnt.
 */
static void mac_learn(struct sw_switch *sw, u32 in, const struct sw_frame *f, u64 now_ms)
{
	u16 net = sw->ports[in].pol.network;
	struct sw_mac_entry *e;

	if (sw->ports[in].pol.kind == SW_PORT_VSI || mac_multicast(f->src))
		return;
	e = mac_lookup(sw, net, f->src, now_ms);
	for (u32 i = 0; !e && i < SW_MAC_TABLE_SIZE; i++)
		if (!sw->macs[i].used)
			e = &sw->macs[i];
	if (!e) {
		sw->ports[in].in[SW_DROP_TABLE_FULL]++;
		return;
	}
	memcpy(e->mac, f->src, ETH_ALEN);
	e->network = net;
	e->port = (u8)in;
	e->used = true;
	e->seen_ms = now_ms;
}

/* The port a unicast destination lives on: a VSI's policy MAC, then the learnt table. */
static int unicast_port(struct sw_switch *sw, u16 network, const u8 *dst, u64 now_ms)
{
	struct sw_mac_entry *e;

	for (u32 i = 0; i < sw->nports; i++) {
		const struct sw_policy *p = &sw->ports[i].pol;

		if (p->kind == SW_PORT_VSI && p->network == network &&
		    !memcmp(p->mac, dst, ETH_ALEN))
			return (int)i;
	}
	e = mac_lookup(sw, network, dst, now_ms);
	return e ? e->port : -1;
}

/* The ports that get f: the known one for unicast, else every other port that egress allows. */
static u32 pick_ports(struct sw_switch *sw, u32 in, const struct sw_frame *f, u64 now_ms)
{
	const struct sw_policy *pin = &sw->ports[in].pol;
	u32 mask = 0;
	int known = -1;

	if (!mac_multicast(f->dst))
		known = unicast_port(sw, pin->network, f->dst, now_ms);
	for (u32 i = 0; i < sw->nports; i++) {
		if (i == in || (known >= 0 && (u32)known != i))
			continue;
		if (sw_egress_ok(pin, &sw->ports[i].pol, f))
			mask |= 1u << i;
	}
	return mask;
}

u32 sw_ingress(struct sw_switch *sw, u32 in, const u8 *frame, size_t len, u64 now_ms,
	       struct sw_decision *d)
{
	struct sw_frame f;
	u32 n = 0;

	d->out_mask = 0;
	if (in >= sw->nports)
		return 0;
	if (sw_classify(frame, len, &f))
		d->reason = SW_DROP_MALFORMED;
	else
		d->reason = sw_ingress_check(sw, &sw->ports[in].pol, &f);
	if (d->reason != SW_FORWARDED) {
		sw->ports[in].in[d->reason]++;
		return 0;
	}
	mac_learn(sw, in, &f, now_ms);
	d->out_mask = pick_ports(sw, in, &f, now_ms);
	sw->ports[in].in[SW_FORWARDED]++;
	for (u32 i = 0; i < sw->nports; i++) {
		if (d->out_mask & (1u << i)) {
			sw->ports[i].out[SW_FORWARDED]++;
			n++;
		}
	}
	return n;
}

void sw_count_out(struct sw_switch *sw, u32 out, enum sw_reason reason)
{
	if (out >= sw->nports || reason >= SW_REASONS)
		return;
	if (reason != SW_FORWARDED && sw->ports[out].out[SW_FORWARDED])
		sw->ports[out].out[SW_FORWARDED]--;
	sw->ports[out].out[reason]++;
}

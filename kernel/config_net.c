/*
 * The networks of the configuration file (docs/config.md, "Networks"):
 * [network NAME] sections, the VSIs' net, mac and forward keys, and
 * uplink = none in [hypervisor]. config.c hands each line's keys here; what
 * needs the whole file is checked at the end: names used before their
 * section, MACs and host ports two VSIs share, and subnets that collide
 * with each other or with the hypervisor's own path to storage.
 */
#include <hv/config.h>
#include <hv/printf.h>
#include <hv/string.h>

#include "config_internal.h"

static const char *const mode_names[] = {
	[CONFIG_NETWORK_NAT] = "nat",
	[CONFIG_NETWORK_BRIDGED] = "bridged",
	[CONFIG_NETWORK_INTERNAL] = "internal",
};

/* Row of the current network in p->net_seen and p->mode_ok. */
static u32 net_slot(const struct parser *p)
{
	if (p->network == &p->spare_net)
		return CONFIG_MAX_NETWORKS;
	return (u32)(p->network - p->out->net);
}

/* Row of the current VSI in p->vsi_seen and p->vsi_net. */
static u32 vsi_slot(const struct parser *p)
{
	if (p->vsi == &p->spare)
		return CONFIG_MAX_VSIS;
	return (u32)(p->vsi - p->out->vsi);
}

static u32 prefix_mask(u32 prefix)
{
	return prefix ? ~0U << (32 - prefix) : 0;
}

/* Whether the subnets a/pa and b/pb share an address. */
static bool overlap(u32 a, u32 pa, u32 b, u32 pb)
{
	u32 mask = prefix_mask(MIN(pa, pb));

	return (a & mask) == (b & mask);
}

static const char *ip_text(char *buf, size_t size, u32 ip)
{
	snprintf(buf, size, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff,
		 ip & 0xff);
	return buf;
}

static const char *mac_text(char *buf, size_t size, const u8 mac[6])
{
	snprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
	return buf;
}

void config_default_mac(const char *name, u8 mac[6])
{
	u64 h = 0xcbf29ce484222325ULL; /* FNV-1a, 64 bits */

	for (; *name; name++) {
		h ^= (u8)*name;
		h *= 0x100000001b3ULL;
	}
	mac[0] = 0x02; /* locally administered, unicast */
	for (u32 i = 1; i < 6; i++)
		mac[i] = (u8)(h >> (8 * (5 - i)));
}

/* Complain if name is not a valid network name or one used already. */
static void check_network_name(struct parser *p, const char *name)
{
	const struct hv_config *out = p->out;

	if (!*name) {
		config_error(p, p->line, "a network section needs a name, e.g. [network lan]");
		return;
	}
	if (!config_name_ok(name)) {
		config_error(
		    p, p->line,
		    "network name '%.40s' is invalid: use 1 to %u of a-z, 0-9, '_' and '-'", name,
		    CONFIG_NAME_MAX - 1);
		return;
	}
	for (u32 i = 0; i < out->nr_networks; i++) {
		if (!strcmp(out->net[i].name, name)) {
			config_error(p, p->line,
				     "network name '%s' is already used on line %u; name each "
				     "network uniquely",
				     name, out->net[i].line);
			return;
		}
	}
}

/* Start a [network NAME] section; networks past the limit are checked in p->spare_net. */
void config_enter_network(struct parser *p, const char *name)
{
	struct hv_config *out = p->out;
	u32 slot = out->nr_networks;

	check_network_name(p, name);
	if (slot == CONFIG_MAX_NETWORKS) {
		config_error(p, p->line,
			     "more than %u networks; remove this one or let its VSIs share another",
			     CONFIG_MAX_NETWORKS);
		p->network = &p->spare_net;
	} else {
		p->network = &out->net[out->nr_networks++];
	}
	memset(p->network, 0, sizeof(*p->network));
	snprintf(p->network->name, sizeof(p->network->name), "%s", name);
	p->network->line = p->line;
	memset(p->net_seen[slot], 0, sizeof(p->net_seen[0]));
	p->mode_ok[slot] = false;
	p->seen = p->net_seen[slot];
	p->sec = SEC_NETWORK;
	p->desc = &config_network_section;
}

static void parse_mode(struct parser *p, char *val)
{
	int mode = config_choice(p, "mode", val, mode_names, ARRAY_SIZE(mode_names),
				 "nat, bridged or internal");

	if (mode >= 0) {
		p->network->mode = mode;
		p->mode_ok[net_slot(p)] = true;
	}
}

/*
 * The hypervisor is the subnet's first host address; its DHCP pool starts
 * at the tenth (leaving room for static VSIs) in a /27 or larger, else at
 * the second, and ends before the broadcast address.
 */
static void derive_addresses(struct network_config *n)
{
	u32 size = 1U << (32 - n->prefix); /* prefix 8..29: 8 to 2^24 addresses */
	u32 first = size >= 32 ? 10 : 2;

	n->gateway = n->subnet + 1;
	n->pool_start = n->subnet + first;
	n->pool_size = MIN(CONFIG_NAT_POOL_MAX, size - 1 - first);
}

/* "subnet = 10.0.3.0/24": a network address with a prefix from 8 to 29, not a reserved one. */
static void parse_subnet(struct parser *p, char *val)
{
	char *slash = strchr(val, '/');
	char fix[16];
	u32 ip, top;
	u64 prefix;

	if (!slash || config_ipv4(val, slash, &ip) || config_number(slash + 1, &prefix) ||
	    prefix > 32) {
		config_error(p, p->line,
			     "subnet = '%.40s' is not an IPv4 subnet; write e.g. "
			     "subnet = 10.0.3.0/24",
			     val);
		return;
	}
	top = ip >> 24;
	if (prefix < 8) {
		config_error(
		    p, p->line,
		    "subnet = %.40s is too large: the prefix is /8 at most; e.g. 10.0.3.0/24", val);
	} else if (prefix > 29) {
		config_error(p, p->line,
			     "subnet = %.40s is too small: a network needs 8 addresses or more "
			     "(gateway, VSIs, broadcast); use /29 or less",
			     val);
	} else if (ip & ~prefix_mask(prefix)) {
		config_error(p, p->line, "subnet = %.40s has host bits set; did you mean %s/%u?",
			     val, ip_text(fix, sizeof(fix), ip & prefix_mask(prefix)), (u32)prefix);
	} else if (top == 0 || top == 127 || top >= 224) {
		config_error(p, p->line,
			     "subnet = %.40s is reserved (0/8, 127/8, multicast, 240/4); use a "
			     "private one, e.g. 10.0.3.0/24",
			     val);
	} else {
		p->network->subnet = ip;
		p->network->prefix = (u32)prefix;
		derive_addresses(p->network);
	}
}

static const struct key_desc network_keys[NR_NET_KEYS] = {
	[NET_MODE] = { "mode", "mode = nat", true, parse_mode, false },
	[NET_SUBNET] = { "subnet", "subnet = 10.0.3.0/24", false, parse_subnet, false },
};

const struct section_desc config_network_section = {
	"[network NAME]",
	network_keys,
	NR_NET_KEYS,
	"mode, subnet",
};

/* "uplink = none": VSIs get internal networks only. */
void config_parse_uplink(struct parser *p, char *val)
{
	static const char *const choices[] = { "none" };

	if (config_choice(p, "uplink", val, choices, ARRAY_SIZE(choices),
			  "none, or leave it out for the NIC that carries storage") == 0)
		p->out->no_uplink = true;
}

/* "net = NAME": resolved at the end, since the network may be defined further down. */
void config_parse_net(struct parser *p, char *val)
{
	if (!config_name_ok(val)) {
		config_error(p, p->line,
			     "net = '%.40s' is not a network name; write e.g. net = lan for "
			     "[network lan]",
			     val);
		return;
	}
	snprintf(p->vsi_net[vsi_slot(p)], CONFIG_NAME_MAX, "%s", val);
	p->vsi->net_line = p->line;
}

/* "mac = 52:54:00:12:34:57": unicast and not zero. */
void config_parse_mac(struct parser *p, char *val)
{
	static const u8 zero[6];
	char fix[18];
	u8 mac[6];

	if (!config_scan_mac(val, mac)) {
		config_error(p, p->line,
			     "mac = '%.40s' is not a MAC address; write e.g. "
			     "mac = 52:54:00:12:34:57",
			     val);
	} else if (mac[0] & 1) {
		mac[0] &= ~1;
		config_error(p, p->line,
			     "mac = %s is a multicast address (the first byte is odd); e.g. %s",
			     val, mac_text(fix, sizeof(fix), mac));
	} else if (!memcmp(mac, zero, sizeof(zero))) {
		config_error(p, p->line,
			     "mac = %s is not an address; leave mac out for one made from the "
			     "VSI's name",
			     val);
	} else {
		memcpy(p->vsi->mac, mac, sizeof(mac));
	}
}

/* Digits s..end as a port number 1-65535. */
static bool parse_port(const char *s, const char *end, u16 *port)
{
	u32 v = 0;

	if (s == end || end - s > 5)
		return false;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (u32)(*s - '0');
	}
	if (v < 1 || v > 65535)
		return false;
	*port = (u16)v;
	return true;
}

/* "forward = tcp:HOSTPORT:VSIPORT"; that the VSI is on a nat network is checked at the end. */
void config_parse_forward(struct parser *p, char *val)
{
	struct vsi_config *vsi = p->vsi;
	struct forward_config f = { .line = p->line };
	bool tcp = !strncmp(val, "tcp:", 4);
	const char *colon = tcp ? strchr(val + 4, ':') : NULL;

	if (!strncmp(val, "udp:", 4)) {
		config_error(p, p->line,
			     "forward = '%.40s': only tcp ports are forwarded; write e.g. "
			     "forward = tcp:8080:80",
			     val);
		return;
	}
	if (!colon || !parse_port(val + 4, colon, &f.host_port) ||
	    !parse_port(colon + 1, colon + 1 + strlen(colon + 1), &f.vsi_port)) {
		config_error(p, p->line,
			     "forward = '%.40s' is not tcp:HOSTPORT:VSIPORT with ports 1-65535; "
			     "write e.g. forward = tcp:8080:80",
			     val);
		return;
	}
	if (vsi->nr_forwards == CONFIG_MAX_FORWARDS) {
		config_error(p, p->line, "more than %u forwards in one VSI; remove this one",
			     CONFIG_MAX_FORWARDS);
		return;
	}
	vsi->fwd[vsi->nr_forwards++] = f;
}

/* What one network needs of its own keys, and of uplink = none. */
static void check_network_keys(struct parser *p, u32 i)
{
	const struct network_config *n = &p->out->net[i];
	const u32 *seen = p->net_seen[i];

	if (!seen[NET_MODE]) {
		config_error(p, n->line, "network '%s' has no 'mode'; add a line like 'mode = nat'",
			     n->name);
		return;
	}
	if (!p->mode_ok[i])
		return;
	if (n->mode == CONFIG_NETWORK_BRIDGED && seen[NET_SUBNET])
		config_error(p, seen[NET_SUBNET],
			     "a bridged network takes no subnet: the LAN's DHCP server serves "
			     "its VSIs; remove this line");
	if (n->mode == CONFIG_NETWORK_NAT && !seen[NET_SUBNET])
		config_error(p, n->line,
			     "nat network '%s' has no subnet; add a line like "
			     "'subnet = 10.0.3.0/24'",
			     n->name);
	if (n->mode != CONFIG_NETWORK_INTERNAL && p->out->no_uplink)
		config_error(p, seen[NET_MODE],
			     "mode = %s needs the uplink, but uplink = none (line %u); a %s VSI "
			     "without an uplink reaches nothing; use mode = internal",
			     mode_names[n->mode], p->hv_seen[HV_UPLINK], mode_names[n->mode]);
}

/*
 * A subnet the hypervisor serves must not hide anything it reaches through
 * its own network: its address's subnet, its gateway, the storage servers;
 * nor overlap another network's subnet.
 */
static void check_subnet(struct parser *p, u32 i)
{
	const struct hv_config *out = p->out;
	const struct network_config *n = &out->net[i];
	u32 line = p->net_seen[i][NET_SUBNET], mask = prefix_mask(n->prefix);
	char a[16], b[16];

	ip_text(a, sizeof(a), n->subnet);
	if (p->hv_seen[HV_ADDRESS] && out->prefix &&
	    overlap(n->subnet, n->prefix, out->ip, out->prefix))
		config_error(p, line,
			     "subnet %s/%u overlaps the hypervisor's address %s/%u (line %u); "
			     "choose a subnet apart from it",
			     a, n->prefix, ip_text(b, sizeof(b), out->ip), out->prefix,
			     p->hv_seen[HV_ADDRESS]);
	if (p->hv_seen[HV_GATEWAY] && (out->gateway & mask) == n->subnet)
		config_error(p, line,
			     "subnet %s/%u holds the hypervisor's gateway %s (line %u); choose "
			     "another subnet",
			     a, n->prefix, ip_text(b, sizeof(b), out->gateway),
			     p->hv_seen[HV_GATEWAY]);
	for (u32 v = 0; v < out->nr_vsis; v++) {
		const struct disk_config *d = &out->vsi[v].disk;

		if (d->present && (d->ip & mask) == n->subnet) {
			config_error(p, line,
				     "subnet %s/%u holds storage server %s (VSI '%s''s disk, line "
				     "%u); choose another subnet",
				     a, n->prefix, ip_text(b, sizeof(b), d->ip), out->vsi[v].name,
				     d->line);
			break;
		}
	}
	for (u32 j = 0; j < i; j++) {
		const struct network_config *m = &out->net[j];

		if (m->prefix && overlap(n->subnet, n->prefix, m->subnet, m->prefix)) {
			config_error(p, line,
				     "subnet %s/%u overlaps network '%s''s subnet (line %u); give "
				     "each network its own subnet",
				     a, n->prefix, m->name, p->net_seen[j][NET_SUBNET]);
			break;
		}
	}
}

/* "no network named 'lam'; did you mean 'lan'? networks: lan, dmz" */
static void unknown_network(struct parser *p, u32 line, const char *name)
{
	const struct hv_config *out = p->out;
	const char *names[CONFIG_MAX_NETWORKS];
	const char *hint;
	char list[80];

	for (u32 i = 0; i < out->nr_networks; i++)
		names[i] = out->net[i].name;
	hint = config_closest(name, names, out->nr_networks);
	config_name_list(list, sizeof(list), names, out->nr_networks);
	if (hint)
		config_error(p, line, "no network named '%s'; did you mean '%s'? networks: %s",
			     name, hint, list);
	else
		config_error(p, line,
			     "no network named '%s'; define it with [network %s] (networks: %s)",
			     name, name, list);
}

/* Index of the network called name, or -1. */
static int find_network(const struct hv_config *out, const char *name)
{
	for (u32 i = 0; i < out->nr_networks; i++)
		if (!strcmp(out->net[i].name, name))
			return i;
	return -1;
}

/* VSI i's net = names a network; its MAC is given or derived; its forwards have a nat network. */
static void resolve_vsi(struct parser *p, u32 i)
{
	struct vsi_config *vsi = &p->out->vsi[i];
	const u32 *seen = p->vsi_seen[i];
	const char *name = p->vsi_net[i];
	int j = name[0] ? find_network(p->out, name) : -1;
	const struct network_config *n = j >= 0 ? &p->out->net[j] : NULL;

	if (name[0] && !n)
		unknown_network(p, seen[VSI_NET], name);
	if (n) {
		vsi->has_net = true;
		vsi->net = j;
		if (!seen[VSI_MAC])
			config_default_mac(vsi->name, vsi->mac);
	}
	if (seen[VSI_MAC] && !seen[VSI_NET])
		config_error(p, seen[VSI_MAC],
			     "mac is set, but VSI '%s' has no net, so no network device; add e.g. "
			     "net = lan or remove this line",
			     vsi->name);
	if (!vsi->nr_forwards || (n && (!p->mode_ok[j] || n->mode == CONFIG_NETWORK_NAT)))
		return;
	if (!seen[VSI_NET])
		config_error(p, vsi->fwd[0].line,
			     "forward needs a nat network, but VSI '%s' has no net; add e.g. "
			     "net = lan",
			     vsi->name);
	else if (n)
		config_error(
		    p, vsi->fwd[0].line,
		    "forward needs a nat network; VSI '%s' is on %s network '%s' (line %u)",
		    vsi->name, mode_names[n->mode], n->name, n->line);
}

/* The line that gives VSI i its MAC: mac =, else net = (the MAC is made from the name). */
static u32 mac_line(const struct parser *p, u32 i)
{
	return p->vsi_seen[i][VSI_MAC] ? p->vsi_seen[i][VSI_MAC] : p->vsi_seen[i][VSI_NET];
}

/* No two VSIs' devices, nor a VSI's and the storage NIC, have one MAC. */
static void check_macs(struct parser *p)
{
	const struct hv_config *out = p->out;
	const struct nic_config *nic = &out->storage_nic;
	char text[18];

	for (u32 i = 0; i < out->nr_vsis; i++) {
		const struct vsi_config *vsi = &out->vsi[i];
		u32 line = mac_line(p, i);

		if (!vsi->has_net)
			continue;
		mac_text(text, sizeof(text), vsi->mac);
		if (nic->by == CONFIG_NIC_MAC && !memcmp(nic->mac, vsi->mac, 6))
			config_error(p, line,
				     "MAC %s is the storage NIC's (line %u); give VSI '%s' another "
				     "mac",
				     text, nic->line, vsi->name);
		for (u32 j = 0; j < i; j++) {
			if (out->vsi[j].has_net && !memcmp(out->vsi[j].mac, vsi->mac, 6)) {
				config_error(
				    p, line,
				    "MAC %s is already VSI '%s''s (line %u); give each VSI "
				    "its own mac",
				    text, out->vsi[j].name, mac_line(p, j));
				break;
			}
		}
	}
}

/* The forward of VSI v before forward f (this VSI's or an earlier one's) with the same host port. */
static const struct forward_config *earlier_forward(const struct hv_config *out, u32 v, u32 f,
						    u32 *owner)
{
	u16 port = out->vsi[v].fwd[f].host_port;

	for (u32 i = 0; i <= v; i++) {
		for (u32 k = 0; k < (i == v ? f : out->vsi[i].nr_forwards); k++) {
			if (out->vsi[i].fwd[k].host_port == port) {
				*owner = i;
				return &out->vsi[i].fwd[k];
			}
		}
	}
	return NULL;
}

/* A host port is forwarded to one VSI port only. */
static void check_forwards(struct parser *p)
{
	const struct hv_config *out = p->out;
	const struct forward_config *other;
	u32 owner;

	for (u32 v = 0; v < out->nr_vsis; v++) {
		for (u32 f = 0; f < out->vsi[v].nr_forwards; f++) {
			other = earlier_forward(out, v, f, &owner);
			if (other)
				config_error(p, out->vsi[v].fwd[f].line,
					     "host port %u is already forwarded on line %u (VSI "
					     "'%s'); give each forward its own host port",
					     other->host_port, other->line, out->vsi[owner].name);
		}
	}
}

void config_check_networks(struct parser *p)
{
	const struct hv_config *out = p->out;

	for (u32 i = 0; i < out->nr_networks; i++) {
		check_network_keys(p, i);
		if (out->net[i].prefix &&
		    (!p->mode_ok[i] || out->net[i].mode != CONFIG_NETWORK_BRIDGED))
			check_subnet(p, i);
	}
	for (u32 i = 0; i < out->nr_vsis; i++)
		resolve_vsi(p, i);
	check_macs(p);
	check_forwards(p);
}

int config_uplink_user(const struct parser *p)
{
	const struct hv_config *out = p->out;

	for (u32 i = 0; i < out->nr_vsis; i++) {
		const struct vsi_config *vsi = &out->vsi[i];

		if (vsi->has_net && p->mode_ok[vsi->net] &&
		    out->net[vsi->net].mode != CONFIG_NETWORK_INTERNAL)
			return i;
	}
	return -1;
}

/*
 * storage_vlan = VID in [hypervisor] (docs/config.md): the hypervisor's own
 * stack lives on that 802.1Q VLAN of the storage NIC, the VSIs' uplink on
 * the untagged LAN. NAT translates to the stack's address, which is then on
 * the VLAN, so a nat network and a storage VLAN are refused together
 * (docs/architecture.md, "Storage on its own VLAN").
 */
#include <hv/config.h>
#include <hv/vlan.h>

#include "config_internal.h"

/* "storage_vlan = 100": an 802.1Q VLAN ID, 1 to 4094. */
void config_parse_storage_vlan(struct parser *p, char *val)
{
	u64 vid;

	if (config_number(val, &vid) || vid < VLAN_ID_MIN || vid > VLAN_ID_MAX) {
		config_error(p, p->line,
			     "storage_vlan = '%.40s' is not a VLAN ID from 1 to 4094; write e.g. "
			     "storage_vlan = 100",
			     val);
		return;
	}
	p->out->storage_vlan = (u16)vid;
}

void config_check_storage_vlan(struct parser *p)
{
	const struct hv_config *out = p->out;

	if (!out->storage_vlan)
		return;
	for (u32 i = 0; i < out->nr_networks; i++) {
		if (!p->mode_ok[i] || out->net[i].mode != CONFIG_NETWORK_NAT)
			continue;
		config_error(p, p->net_seen[i][NET_MODE],
			     "mode = nat translates to the hypervisor's address, which "
			     "storage_vlan = %u (line %u) puts on the storage VLAN; use mode = "
			     "bridged, or leave out storage_vlan",
			     out->storage_vlan, p->hv_seen[HV_STORAGE_VLAN]);
	}
}

/*
 * The storage VLAN (docs/net.md, "Storage on its own VLAN"): with
 * storage_vlan = VID the hypervisor's own frames leave the NIC with an
 * 802.1Q tag of that VID, inserted here in software so every NIC model
 * does it the same way, and a received frame is sorted by its tag: ours
 * (tag stripped) to the stack, untagged to the switch, anything else
 * dropped and counted.
 *
 * Portable: no globals, no allocation; the caller owns struct vlan_port.
 */
#ifndef HV_VLAN_H
#define HV_VLAN_H

#include <hv/net_proto.h>

#define VLAN_ID_MIN    1
#define VLAN_ID_MAX    4094			   /* 0 and 4095 are reserved (802.1Q 9.6) */
#define VLAN_FRAME_MAX (ETH_FRAME_MAX + VLAN_HLEN) /* 1518 without the FCS */

/* Where a received frame goes. */
enum vlan_rx {
	VLAN_RX_STACK,	/* tagged with our VID: the tag stripped, to the stack only */
	VLAN_RX_SWITCH, /* untagged: the VSIs' uplink, never the stack */
	VLAN_RX_DROP,	/* another VID, an 802.1ad or priority tag, malformed: counted */
};

struct vlan_stats {
	u64 rx_ours;	  /* tagged with our VID, to the stack */
	u64 rx_untagged;  /* to the switch */
	u64 rx_other_vid; /* another VID, a priority tag (VID 0) or an outer 802.1ad tag */
	u64 rx_malformed; /* shorter than the tag, or longer than 1518 bytes */
	u64 tx_tagged;	  /* our frames, tagged */
	u64 tx_bad;	  /* ours but too short or too long to tag (a bug, never sent) */
};

struct vlan_port {
	u16 vid; /* 1-4094 */
	struct vlan_stats stats;
};

/* 802.1Q, 802.1ad or the pre-standard QinQ EtherType: a tag, whatever its VID. */
static inline bool vlan_tag_type(u16 type)
{
	return type == ETH_P_8021Q || type == ETH_P_8021AD || type == ETH_P_QINQ;
}

void vlan_init(struct vlan_port *v, u16 vid);

/*
 * Sort a received frame of *len bytes. For VLAN_RX_STACK the tag is taken
 * out in place: *out points at the untagged frame (4 bytes into frame) and
 * *len is its length. Otherwise *out is frame and *len unchanged.
 */
enum vlan_rx vlan_demux(struct vlan_port *v, u8 *frame, size_t *len, u8 **out);

/*
 * Copy an untagged frame of len bytes into out (room for VLAN_FRAME_MAX)
 * with our tag after the MAC addresses (PCP 0, DEI 0): the tagged length,
 * or -EINVAL for a frame shorter than a header or longer than 1514 bytes.
 */
long vlan_tag(struct vlan_port *v, const u8 *frame, size_t len, u8 *out);

#endif

/*
 * The storage VLAN's tags (hv/vlan.h): inserted on the way out, checked
 * and stripped on the way in. Every received byte is hostile: lengths are
 * checked before the tag is read.
 */
#include <hv/errno.h>
#include <hv/string.h>
#include <hv/vlan.h>

#define ETH_ADDRS_LEN (2 * ETH_ALEN) /* the tag goes right after both addresses */

static u16 get16(const u8 *p)
{
	return (u16)(p[0] << 8 | p[1]);
}

static void put16(u8 *p, u16 v)
{
	p[0] = (u8)(v >> 8);
	p[1] = (u8)v;
}

void vlan_init(struct vlan_port *v, u16 vid)
{
	memset(v, 0, sizeof(*v));
	v->vid = vid;
}

enum vlan_rx vlan_demux(struct vlan_port *v, u8 *frame, size_t *len, u8 **out)
{
	u16 type;

	*out = frame;
	if (*len < ETH_HLEN) {
		v->stats.rx_malformed++;
		return VLAN_RX_DROP;
	}
	type = get16(frame + ETH_ADDRS_LEN);
	if (!vlan_tag_type(type)) {
		v->stats.rx_untagged++;
		return VLAN_RX_SWITCH;
	}
	if (*len < ETH_HLEN + VLAN_HLEN || *len > VLAN_FRAME_MAX) {
		v->stats.rx_malformed++;
		return VLAN_RX_DROP;
	}
	/* Only a C-tag with our VID is ours; an S-tag (802.1ad) is an outer tag: never ours. */
	if (type != ETH_P_8021Q || (get16(frame + ETH_HLEN) & VLAN_VID_MASK) != v->vid) {
		v->stats.rx_other_vid++;
		return VLAN_RX_DROP;
	}
	memmove(frame + VLAN_HLEN, frame, ETH_ADDRS_LEN);
	*out = frame + VLAN_HLEN;
	*len -= VLAN_HLEN;
	v->stats.rx_ours++;
	return VLAN_RX_STACK;
}

long vlan_tag(struct vlan_port *v, const u8 *frame, size_t len, u8 *out)
{
	if (len < ETH_HLEN || len > ETH_FRAME_MAX) {
		v->stats.tx_bad++;
		return -EINVAL;
	}
	memcpy(out, frame, ETH_ADDRS_LEN);
	put16(out + ETH_ADDRS_LEN, ETH_P_8021Q);
	put16(out + ETH_HLEN, v->vid);
	memcpy(out + ETH_ADDRS_LEN + VLAN_HLEN, frame + ETH_ADDRS_LEN, len - ETH_ADDRS_LEN);
	v->stats.tx_tagged++;
	return (long)(len + VLAN_HLEN);
}

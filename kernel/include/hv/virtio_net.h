/*
 * A virtio-net device (VIRTIO 1.2, 5.1) over the virtio-PCI transport
 * (virtio_pci.c) and the hostile-ring walker (virtqueue.c), shaped like
 * virtio_blk.h. One receive and one transmit queue, a fixed MAC, link
 * status, no offloads (no checksum, no GSO, no mergeable buffers): frames
 * cross as they are, at most ETH_FRAME_MAX bytes after the 12-byte header.
 *
 * The device never decides where a frame goes: virtio_net_tx() hands the
 * caller (the switch's port) one frame the guest sent, virtio_net_rx() puts
 * one frame in the guest's next receive buffer. Portable, no globals.
 * kernel/vnet.c gives each VSI with a network one, at PCI 00:02.0.
 */
#ifndef HV_VIRTIO_NET_H
#define HV_VIRTIO_NET_H

#include <hv/net_proto.h>
#include <hv/virtio_pci.h>

#define VIRTIO_NET_PCI_DEVICE_ID 0x1041 /* 0x1040 + device type 1 (4.1.2.1) */
#define VIRTIO_NET_PCI_SUBSYS_ID 1
#define VIRTIO_NET_PCI_REVISION	 1
#define VIRTIO_NET_PCI_CLASS	 0x02 /* network controller, Ethernet */

/* Feature bits (5.1.3). */
#define VIRTIO_NET_F_MAC    5
#define VIRTIO_NET_F_STATUS 16

#define VIRTIO_NET_S_LINK_UP BIT(0) /* status field (5.1.4) */

/* struct virtio_net_hdr with num_buffers, as VERSION_1 always has it (5.1.6). */
#define VIRTIO_NET_HDR_LEN	    12
#define VIRTIO_NET_HDR_F_NEEDS_CSUM BIT(0)
#define VIRTIO_NET_HDR_GSO_NONE	    0
#define VIRTIO_NET_HDR_NUM_BUFS_OFF 10
#define VIRTIO_NET_CFG_SIZE	    8 /* mac[6], status (le16) */

#define VIRTIO_NET_RXQ 0
#define VIRTIO_NET_TXQ 1

struct virtio_net_params {
	u8 mac[ETH_ALEN];
	struct vq_mem mem;
	void (*msi)(void *ctx, u64 addr, u32 data);
	void *msi_ctx;
};

struct virtio_net_stats {
	u64 tx_frames, rx_frames;
	u64 tx_bad;	   /* malformed chain, writable buffer, bad length or header flags */
	u64 rx_no_buffer;  /* no receive buffer posted: the frame is dropped */
	u64 rx_bad_buffer; /* a receive chain that is malformed or device-readable */
	u64 rx_too_small;  /* a receive buffer shorter than header + frame (5.1.6.3.1) */
	u64 rx_bad_frame;  /* the caller passed a runt or oversized frame */
};

struct virtio_net {
	struct virtio_pci pci;
	u8 mac[ETH_ALEN];
	struct vq_chain chain; /* the chain being handled (too large for a stack) */
	struct virtio_net_stats stats;
};

/* -EINVAL for bad parameters (a multicast or zero MAC). */
int virtio_net_init(struct virtio_net *n, const struct virtio_net_params *p);
/* Function-level reset, as virtio_blk_reset(): before the guest's RAM goes away. */
void virtio_net_reset(struct virtio_net *n);

/*
 * The next frame the guest sent: its length (copied into frame, which has
 * room for ETH_FRAME_MAX bytes), or 0 when there is none. Bad chains are
 * completed, counted and skipped. Interrupts the guest for what it used.
 */
size_t virtio_net_tx(struct virtio_net *n, u8 *frame);
/*
 * Put frame into the guest's next receive buffer: 0, -ENOSPC (no usable
 * buffer: the caller counts SW_DROP_NO_BUFFER), -EINVAL (bad frame), -EIO
 * (the queue is broken, the device needs a reset).
 */
int virtio_net_rx(struct virtio_net *n, const u8 *frame, size_t len);

#endif

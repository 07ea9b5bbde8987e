/*
 * Virtio network device (Virtual I/O Device (VIRTIO) Version 1.2, 5.1) over
 * the modern PCI transport: feature bits, the device configuration layout,
 * the per-packet header, and the driver's entry points. QEMU's
 * "-device virtio-net-pci" is 1af4:1000 (transitional) or 1af4:1041
 * (modern only, disable-legacy=on).
 */
#ifndef DRIVERS_NET_VIRTIO_NET_H
#define DRIVERS_NET_VIRTIO_NET_H

#include <hv/types.h>
#include <net/netdev.h>

#define VIRTIO_NET_DEV_MODERN	    0x1041
#define VIRTIO_NET_DEV_TRANSITIONAL 0x1000

/* Feature bits (5.1.3). */
#define VIRTIO_NET_F_MAC    5
#define VIRTIO_NET_F_STATUS 16

/* Device configuration (5.1.4): mac[6], then status. */
#define VIRTIO_NET_CFG_MAC    0
#define VIRTIO_NET_CFG_STATUS 6
#define VIRTIO_NET_CFG_LEN    8 /* what we read: mac and status */
#define VIRTIO_NET_S_LINK_UP  (1ULL << 0)
#define VIRTIO_NET_S_ANNOUNCE (1ULL << 1)

/* Queues (5.1.2): receiveq1, transmitq1 (no VIRTIO_NET_F_MQ, no control queue). */
#define VIRTIO_NET_RXQ 0
#define VIRTIO_NET_TXQ 1

/* struct virtio_net_hdr (5.1.6) with VERSION_1: num_buffers is always there. */
struct virtio_net_hdr {
	u8 flags;
	u8 gso_type;
	u16 hdr_len;
	u16 gso_size;
	u16 csum_start;
	u16 csum_offset;
	u16 num_buffers;
} __packed;
_Static_assert(sizeof(struct virtio_net_hdr) == 12, "5.1.6: the 12-byte header");

#define VIRTIO_NET_QUEUE_MAX 256  /* entries per queue we use at most */
#define VIRTIO_NET_QUEUE_MIN 16	  /* fewer is not a network device worth running */
#define VIRTIO_NET_BUF_SIZE  2048 /* header + frame; 5.1.6.3.1 asks for at least 1526 */

/* True for virtio-net functions (modern, or transitional with subsystem device 1). */
bool virtio_net_match(const struct pci_dev *pdev);
/*
 * Reset the device, negotiate VERSION_1 and MAC (and STATUS if offered), set
 * up one receive and one transmit queue, post every receive buffer and set
 * DRIVER_OK. 0 and *out, or -errno with the reason logged and the device
 * left reset or FAILED: -ENODEV (legacy-only, capabilities unusable),
 * -ENOTSUP (features), -EINVAL (absurd queue sizes or notify offsets),
 * -ETIMEDOUT (stuck in reset), -EIO (FEATURES_OK refused), -ENOMEM.
 */
int virtio_net_attach(const struct pci_dev *pdev, struct netdev **out);

#endif

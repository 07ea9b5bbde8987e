/*
 * Virtio network device (Virtual I/O Device (VIRTIO) Version 1.2, 5.1) over
 * the modern PCI transport, driver side: the PCI IDs, the device
 * configuration offsets and the driver's entry points; feature bits, queue
 * numbers and the header length come from the device model's hv/virtio_net.h. QEMU's
 * "-device virtio-net-pci" is 1af4:1000 (transitional) or 1af4:1041
 * (modern only, disable-legacy=on).
 */
#ifndef DRIVERS_NET_VIRTIO_NET_H
#define DRIVERS_NET_VIRTIO_NET_H

#include <hv/types.h>
#include <hv/virtio_net.h> /* feature bits, status, queues, header: shared with the device model */
#include <net/netdev.h>

#define VIRTIO_NET_DEV_MODERN	    VIRTIO_NET_PCI_DEVICE_ID /* 1af4:1041 */
#define VIRTIO_NET_DEV_TRANSITIONAL 0x1000 /* 4.1.2.3: with subsystem device ID 1 */

/* Device configuration (5.1.4): mac[6], then status. */
#define VIRTIO_NET_CFG_MAC    0
#define VIRTIO_NET_CFG_STATUS 6

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

/*
 * A VSI's network device as the guest sees it: the virtio-net PCI function
 * at 00:02.0 (kernel/vdev/virtio_net.c), one port of the switch
 * (kernel/netsw.c). vCPUs reach it through configuration space and its BAR;
 * the service CPU moves frames in and out. One lock per device.
 */
#ifndef HV_VNET_H
#define HV_VNET_H

#include <hv/types.h>

#define VNET_PCI_DEV 2 /* device number on bus 0 */

struct vsi;
struct vsi_net;
struct virtio_net_stats;
struct virtio_pci_stats;

/* Service CPU. Create the device of a VSI with net = (0 if it has none). */
int vnet_attach(struct vsi *v);
/* The next frame the guest sent (frame: ETH_FRAME_MAX bytes): its length, or 0. */
size_t vnet_tx(struct vsi_net *n, u8 *frame);
/* Into the guest's next receive buffer: 0, or -ENOSPC (none posted), -errno. */
int vnet_rx(struct vsi_net *n, const u8 *frame, size_t len);
/* A copy of the device's counters, its function's (interrupts, resets) and its status byte. */
void vnet_stats(struct vsi_net *n, struct virtio_net_stats *out, struct virtio_pci_stats *pci,
		u8 *status);

/* vCPU side. */
u32 vnet_cfg_read(struct vsi_net *n, u32 reg, u32 size);
void vnet_cfg_write(struct vsi_net *n, u32 reg, u32 size, u32 val);
/* True if gpa is inside the device's BAR (the access is then done). */
bool vnet_mmio(struct vsi_net *n, u64 gpa, u32 size, bool write, u64 *val);
/* The VSI is reset or stopped: the device returns to its reset state. */
void vnet_reset(struct vsi_net *n);

#endif

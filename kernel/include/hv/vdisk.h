/*
 * A VSI's disk as the guest sees it: the virtio-blk PCI function at 00:01.0,
 * backed by the VSI's NBD export (kernel/vdisk.c). The vCPU side routes
 * configuration and BAR accesses here; the service CPU runs the queue.
 */
#ifndef HV_VDISK_H
#define HV_VDISK_H

#include <hv/types.h>

#define VDISK_PCI_DEV	   1 /* device number on bus 0 */
#define VDISK_OVMF_PCI_DEV 3 /* with firmware = ovmf: 00:01 is the PIIX3 there */

struct vsi;
struct vsi_disk;
struct virtio_blk_stats;

/* Service CPU. Attach the VSI's configured disk (0 if it has none). */
int vdisk_attach(struct vsi *v);
/* The device exists: its export was negotiated. */
bool vdisk_ready(struct vsi_disk *d);
/* The export cannot be a disk (logged with the reason): the VSI never gets a device. */
bool vdisk_refused(struct vsi_disk *d);
/* Create the device when the export is ready, run the queue; true while I/O is in flight. */
bool vdisk_poll(struct vsi_disk *d);

/* vCPU side. */
u32 vdisk_cfg_read(struct vsi_disk *d, u32 reg, u32 size);
void vdisk_cfg_write(struct vsi_disk *d, u32 reg, u32 size, u32 val);
/* True if gpa is inside the device's BAR (the access is then done). */
bool vdisk_mmio(struct vsi_disk *d, u64 gpa, u32 size, bool write, u64 *val);
/* The VSI is reset or stopped: the device returns to its reset state. */
void vdisk_reset(struct vsi_disk *d);
/* The device's counters since it was created; false (out untouched) before it exists. */
bool vdisk_stats(struct vsi_disk *d, struct virtio_blk_stats *out, bool *read_only);
/* The NBD export behind the disk, as configured. */
const char *vdisk_export_name(const struct vsi_disk *d);

#endif

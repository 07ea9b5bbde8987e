/*
 * The driver side of virtio 1.x over PCI (Virtual I/O Device (VIRTIO)
 * Version 1.2: 4.1 the modern PCI transport, 2.7 split virtqueues), the
 * portable part: finding the virtio structures through the capability list,
 * choosing features and queue sizes, and the descriptor-ring bookkeeping.
 * Everything the device reports is hostile: capabilities that point outside
 * their BAR, absurd queue sizes, used-ring indices running ahead and ids
 * never handed out are refused with a reason instead of being followed.
 * No hardware access and no globals (configuration space is reached through
 * the function's struct pci_config), so host tests drive it with fakes.
 */
#ifndef DRIVERS_VIRTIO_DRV_H
#define DRIVERS_VIRTIO_DRV_H

#include <hv/types.h>
#include <hv/virtio_pci.h>
#include <hv/virtqueue.h>
#include <pci/pci.h>

#define VIRTIO_DRV_CAPS_MAX   48 /* (256 - 64) / 4: more is a loop in the list */
#define VIRTIO_DRV_NOTIFY_MIN 2	 /* one 16-bit queue index */

/* Where the virtio structures are: physical addresses inside the function's BARs. */
struct virtio_drv_caps {
	u64 common, notify, isr, device; /* 0: not found (isr is optional) */
	u32 notify_len, device_len;
	u32 notify_mult; /* queue_notify_off multiplier (4.1.4.4) */
	u8 bars;	 /* bit n: BAR n holds one of them (to be mapped) */
};

/*
 * Walk the capability list of pdev for the first usable common, notify,
 * ISR and device configuration capability of each type (4.1.4.1). A
 * capability is usable when it is long enough, names an assigned memory BAR
 * and lies inside it. 0 with *c filled, or -ENODEV with *why (common, notify
 * or device configuration missing: a legacy-only device, or BARs the
 * firmware did not assign).
 */
int virtio_drv_find_caps(const struct pci_dev *pdev, struct virtio_drv_caps *c, const char **why);

/*
 * Features to accept from offered: wanted & offered. 0 and *accept, or
 * -ENOTSUP with *why when a required bit is missing (VIRTIO_F_VERSION_1
 * missing: a legacy-only device, named as such).
 */
int virtio_drv_features(u64 offered, u64 wanted, u64 required, u64 *accept, const char **why);

/*
 * The queue size to use given the device's maximum (queue_size as read,
 * 4.1.4.3): the largest power of two <= min(device_max, limit). -ENODEV for
 * 0 (no such queue), -EINVAL for a size no split queue can have (above
 * VIRTQ_SPLIT_MAX_SIZE, or not a power of two, 2.7) or one below min.
 */
int virtio_drv_queue_size(u16 device_max, u16 limit, u16 min, u16 *size, const char **why);

/* Driver-side split virtqueue: which descriptors the device holds, and the rings' indices. */
#define VRING_DRV_MAX 256

struct vring_drv {
	u16 size; /* power of two, <= VRING_DRV_MAX */
	volatile struct virtq_desc *desc;
	volatile struct virtq_avail *avail;
	volatile struct virtq_used *used;
	u16 avail_idx;		     /* the next avail->idx to publish */
	u16 used_idx;		     /* the next used element to read */
	u16 nr_out;		     /* descriptors the device holds */
	u64 out[VRING_DRV_MAX / 64]; /* bit per descriptor the device holds */
	bool broken;		     /* the device broke the ring protocol: stop using it */
};

/* Bytes the three parts need for size entries, each part at its own page-aligned place. */
#define VRING_DRV_DESC_BYTES(size)  VQ_DESC_BYTES(size)
#define VRING_DRV_AVAIL_BYTES(size) (VQ_AVAIL_BYTES(size) + 2) /* + used_event */
#define VRING_DRV_USED_BYTES(size)  (VQ_USED_BYTES(size) + 2)  /* + avail_event */

/*
 * Set r up on zeroed memory for the three parts (alignment 16, 2, 4);
 * interrupts suppressed (we poll). -EINVAL unless size is a power of two
 * <= VRING_DRV_MAX.
 */
int vring_drv_init(struct vring_drv *r, u16 size, void *desc, void *avail, void *used);
/* Fill descriptor id (one buffer, no chaining); flags VIRTQ_DESC_F_WRITE for device-writes. */
void vring_drv_set(struct vring_drv *r, u16 id, u64 addr, u32 len, u16 flags);
/* Give descriptor id to the device (not yet notified). -EINVAL if out of range or already given. */
int vring_drv_post(struct vring_drv *r, u16 id);
/*
 * True unless the device asked not to be notified of new buffers
 * (VIRTQ_USED_F_NO_NOTIFY, 2.7.10): call after vring_drv_post(), before the
 * notification. A full barrier orders the index store before the flag load.
 */
bool vring_drv_needs_kick(struct vring_drv *r);
/*
 * The next buffer the device returned: 1 with *id and *len, 0 if none.
 * -EIO when the device broke the protocol (used index more than size ahead,
 * an id it does not hold): r->broken is set and every later call fails too.
 */
int vring_drv_take(struct vring_drv *r, u16 *id, u32 *len);

#endif

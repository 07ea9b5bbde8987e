/*
 * Virtio 1.x over PCI, driver side (Virtual I/O Device (VIRTIO) Version 1.2:
 * 4.1 PCI transport, modern interface only; 2.7 split virtqueues). Polled:
 * interrupts are never used and every MSI-X vector stays NO_VECTOR.
 */
#ifndef FW_VIRTIO_H
#define FW_VIRTIO_H

#include "fwtypes.h"
#include "pci.h"

#define VIRTIO_PCI_VENDOR 0x1AF4

/* 2.1 Device Status Field */
#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER	  2
#define VIRTIO_STATUS_DRIVER_OK	  4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_FAILED	  128

#define VIRTIO_F_VERSION_1 (1UL << 32)

/* 2.7.5 - 2.7.8 */
#define VIRTQ_DESC_F_NEXT	   1
#define VIRTQ_DESC_F_WRITE	   2
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTIO_MSI_NO_VECTOR	   0xFFFF

struct virtq_desc {
	u64 addr;
	u32 len;
	u16 flags;
	u16 next;
};

struct virtq_avail {
	u16 flags;
	u16 idx;
	u16 ring[];
};

struct virtq_used_elem {
	u32 id;
	u32 len;
};

struct virtq_used {
	u16 flags;
	u16 idx;
	struct virtq_used_elem ring[];
};

/* The memory of one queue of up to VIRTQ_MAX_SIZE entries: one page. */
#define VIRTQ_MAX_SIZE 128
#define VIRTQ_MEM_SIZE 4096

struct virtq {
	u16 index, size;
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	u16 avail_idx; /* next avail->idx to publish */
	u16 used_idx;  /* next used element to look at */
	volatile u8 *notify;
};

struct virtio_dev {
	const struct pci_func *pci;
	volatile u8 *common, *notify_base, *device;
	u32 notify_mult;
	u64 features; /* negotiated */
};

/* Finds the common, notify and device configuration structures (4.1.4). */
int virtio_pci_probe(struct virtio_dev *vd, const struct pci_func *f, const char **why);

/*
 * Resets the device and runs 3.1.1 up to FEATURES_OK: accepts the offered
 * bits of wanted, fails unless every bit of required is offered and the
 * device accepts the result.
 */
int virtio_negotiate(struct virtio_dev *vd, u64 wanted, u64 required, const char **why);

/* Sets queue index up on mem (VIRTQ_MEM_SIZE bytes, page aligned) with at most max_size entries. */
int virtio_queue_setup(struct virtio_dev *vd, struct virtq *q, u16 index, u16 max_size, void *mem,
		       const char **why);

void virtio_driver_ok(struct virtio_dev *vd);
void virtio_fail(struct virtio_dev *vd);

/* Writes 0 to device_status and waits until it reads back 0 (4.1.4.3.2). */
void virtio_reset(struct virtio_dev *vd);

/* Publishes head on the available ring (not yet notified). */
void virtq_push(struct virtq *q, u16 head);
void virtq_notify(struct virtq *q);

/* The next used element, or false if the device has returned nothing new. */
bool virtq_pop_used(struct virtq *q, struct virtq_used_elem *e);

u32 virtio_config_read32(struct virtio_dev *vd, u32 off);
u64 virtio_config_read64(struct virtio_dev *vd, u32 off);

#endif

/*
 * The modern virtio-PCI transport of one emulated PCI function (VIRTIO 1.2,
 * 4.1 "Virtio Over PCI Bus"): configuration space with the virtio and MSI-X
 * capabilities, one 64-bit memory BAR holding the common configuration, ISR,
 * device configuration, notifications and the MSI-X table and PBA, the device
 * status handshake (2.1) and feature negotiation. The device model on top
 * (virtio_blk.c) owns the queues' contents; this file owns their set-up.
 *
 * BAR0/BAR1 layout (VIRTIO_PCI_BAR_SIZE bytes):
 *   0x0000 common configuration   0x3000 notifications (queue q at 0x3000 + 4q)
 *   0x1000 ISR status             0x3800 MSI-X table (1 + nr_queues entries)
 *   0x2000 device configuration   0x3c00 MSI-X PBA
 *
 * Everything the guest writes is hostile: every register access is checked
 * for size and alignment, and a bad one reads all-ones or is dropped and
 * counted. Portable: no hardware access, no globals.
 */
#ifndef HV_VIRTIO_PCI_H
#define HV_VIRTIO_PCI_H

#include <hv/types.h>
#include <hv/virtqueue.h>

#define VIRTIO_PCI_VENDOR_ID   0x1af4
#define VIRTIO_PCI_MAX_QUEUES  2
#define VIRTIO_PCI_MSIX_MAX    (1 + VIRTIO_PCI_MAX_QUEUES)
#define VIRTIO_PCI_DEVCFG_MAX  64
#define VIRTIO_PCI_CONFIG_SIZE 256

/* The BAR (one 64-bit non-prefetchable memory BAR in BAR0/BAR1). */
#define VIRTIO_PCI_BAR_SIZE	  0x4000
#define VIRTIO_PCI_COMMON_OFF	  0x0000
#define VIRTIO_PCI_ISR_OFF	  0x1000
#define VIRTIO_PCI_DEVICE_OFF	  0x2000
#define VIRTIO_PCI_NOTIFY_OFF	  0x3000
#define VIRTIO_PCI_NOTIFY_LEN	  0x0800
#define VIRTIO_PCI_NOTIFY_MULT	  4
#define VIRTIO_PCI_MSIX_TABLE_OFF 0x3800
#define VIRTIO_PCI_MSIX_PBA_OFF	  0x3c00
#define VIRTIO_PCI_REGION_LEN	  0x1000 /* common, ISR, device: each structure's length */

/* Device status (2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE	 BIT(0)
#define VIRTIO_STATUS_DRIVER		 BIT(1)
#define VIRTIO_STATUS_DRIVER_OK		 BIT(2)
#define VIRTIO_STATUS_FEATURES_OK	 BIT(3)
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET BIT(6)
#define VIRTIO_STATUS_FAILED		 BIT(7)

/* Reserved feature bits (6). */
#define VIRTIO_RING_F_INDIRECT_DESC 28
#define VIRTIO_RING_F_EVENT_IDX	    29
#define VIRTIO_F_VERSION_1	    32

/* Virtio structure PCI capabilities (4.1.4): cfg_type of a vendor capability. */
#define VIRTIO_PCI_CAP_COMMON  1
#define VIRTIO_PCI_CAP_NOTIFY  2
#define VIRTIO_PCI_CAP_ISR     3
#define VIRTIO_PCI_CAP_DEVICE  4
#define VIRTIO_PCI_CAP_PCI_CFG 5

/* struct virtio_pci_cap (4.1.4): byte offsets from the capability's start. */
#define VIRTIO_PCI_CAP_BAR	   4
#define VIRTIO_PCI_CAP_OFFSET	   8
#define VIRTIO_PCI_CAP_LENGTH	   12
#define VIRTIO_PCI_CAP_LEN	   16 /* bytes of the structure */
#define VIRTIO_PCI_NOTIFY_CAP_MULT 16 /* struct virtio_pci_notify_cap: the multiplier */
#define VIRTIO_PCI_NOTIFY_CAP_LEN  20

/* struct virtio_pci_common_cfg (4.1.4.3): byte offsets, the fields of virtio 1.0. */
#define VIRTIO_PCI_COMMON_DFSELECT	0x00
#define VIRTIO_PCI_COMMON_DF		0x04
#define VIRTIO_PCI_COMMON_GFSELECT	0x08
#define VIRTIO_PCI_COMMON_GF		0x0c
#define VIRTIO_PCI_COMMON_MSIX		0x10
#define VIRTIO_PCI_COMMON_NUMQ		0x12
#define VIRTIO_PCI_COMMON_STATUS	0x14
#define VIRTIO_PCI_COMMON_CFGGENERATION 0x15
#define VIRTIO_PCI_COMMON_Q_SELECT	0x16
#define VIRTIO_PCI_COMMON_Q_SIZE	0x18
#define VIRTIO_PCI_COMMON_Q_MSIX	0x1a
#define VIRTIO_PCI_COMMON_Q_ENABLE	0x1c
#define VIRTIO_PCI_COMMON_Q_NOFF	0x1e
#define VIRTIO_PCI_COMMON_Q_DESC	0x20
#define VIRTIO_PCI_COMMON_Q_DRIVER	0x28
#define VIRTIO_PCI_COMMON_Q_DEVICE	0x30
#define VIRTIO_PCI_COMMON_LEN		0x38

/* ISR status bits (4.1.4.5). */
#define VIRTIO_ISR_QUEUE  BIT(0)
#define VIRTIO_ISR_CONFIG BIT(1)

#define VIRTIO_MSI_NO_VECTOR 0xffff

/* What the function says it is in its configuration header. */
struct virtio_pci_id {
	u16 device_id;
	u16 subsys_vendor, subsys_id;
	u8 revision;
	u8 class_code, subclass, prog_if;
};

struct virtio_pci_params {
	struct virtio_pci_id id;
	u64 features;	    /* offered; VIRTIO_F_VERSION_1 is always added */
	u16 nr_queues;	    /* 1..VIRTIO_PCI_MAX_QUEUES */
	u16 queue_max;	    /* largest queue size: a power of two <= VQ_MAX_SIZE */
	const void *devcfg; /* device-specific configuration, copied; read-only for the driver */
	u32 devcfg_len;	    /* <= VIRTIO_PCI_DEVCFG_MAX */
	struct vq_mem mem;  /* the guest's RAM */
	/* Deliver one MSI: a 32-bit write of data to addr (the guest's view). */
	void (*msi)(void *ctx, u64 addr, u32 data);
	void *msi_ctx;
};

struct virtio_pci_stats {
	u64 cfg_invalid;    /* config-space accesses with a bad size, alignment or offset */
	u64 bar_invalid;    /* BAR accesses with a bad size, alignment or width for the register */
	u64 bar_disabled;   /* BAR accesses while memory decoding was off */
	u64 notifies;	    /* queue notifications written */
	u64 irq_sent;	    /* MSI-X messages delivered */
	u64 irq_suppressed; /* used-buffer notifications the driver asked not to get */
	u64 irq_pending;    /* messages held in the PBA because their vector was masked */
	u64 irq_no_vector;  /* events mapped to VIRTIO_MSI_NO_VECTOR: nothing sent */
	u64 irq_no_msix;    /* events while MSI-X was disabled: no INTx, nothing sent */
	u64 irq_no_master;  /* events while bus mastering was off: nothing sent */
	u64 features_refused; /* FEATURES_OK refused */
	u64 resets;	      /* device resets (status 0 or function reset) */
	u64 needs_reset;      /* times DEVICE_NEEDS_RESET was raised */
};

struct virtio_pci_queue {
	u16 size; /* as the driver set it */
	u16 msix_vector;
	bool enabled;
	u64 desc, driver, device;
	struct virtqueue vq; /* valid once enabled */
};

struct virtio_msix_entry {
	u32 addr_lo, addr_hi, data, ctrl;
};

struct virtio_pci {
	struct virtio_pci_params p;
	u64 offered; /* p.features | VERSION_1 */

	/* PCI function state */
	u16 command;
	u32 bar_lo, bar_hi;
	u8 intr_line;
	u16 msix_ctrl;
	struct virtio_msix_entry msix[VIRTIO_PCI_MSIX_MAX];
	u64 pba;
	struct {
		u8 bar;
		u32 offset, length;
		u8 data[4];
	} cfg_window; /* VIRTIO_PCI_CAP_PCI_CFG */

	/* virtio device state (reset by a status write of 0) */
	u32 dfselect, gfselect;
	u64 driver_features;
	u8 status;
	u8 isr;
	u16 config_vector;
	u16 queue_select;
	struct virtio_pci_queue q[VIRTIO_PCI_MAX_QUEUES];
	u32 generation; /* bumped by every device reset: work begun before it is stale */
	bool kick;	/* a queue notification arrived since virtio_pci_take_kick() */

	u8 devcfg[VIRTIO_PCI_DEVCFG_MAX];
	struct virtio_pci_stats stats;
};

/*
 * Set vp up as a function after power-on: decoding off, BAR unassigned,
 * MSI-X disabled with every vector masked. -EINVAL for bad parameters.
 */
int virtio_pci_init(struct virtio_pci *vp, const struct virtio_pci_params *p);
/* Function-level reset (the VSI's reset): PCI state and device state, as after init. */
void virtio_pci_reset(struct virtio_pci *vp);

/*
 * Configuration space: size 1, 2 or 4 at an offset aligned to it below 256.
 * Reads of a bad access give all-ones, writes are dropped; both counted.
 * cfg_write returns true when a queue notification arrived through the
 * VIRTIO_PCI_CAP_PCI_CFG window and the device's service side should run.
 */
u32 virtio_pci_cfg_read(struct virtio_pci *vp, u32 off, u32 size);
bool virtio_pci_cfg_write(struct virtio_pci *vp, u32 off, u32 size, u32 val);

/* Guest-physical base of the BAR; 0 while memory decoding is off or the BAR is unassigned. */
u64 virtio_pci_bar_base(const struct virtio_pci *vp);
/*
 * The BAR at offset off (from its base): size 1, 2, 4 or 8, aligned to it.
 * Bad accesses, and any access while memory decoding is off, read all-ones
 * and write nothing (counted). bar_write returns true when it posted a queue
 * notification that was not already pending: wake the service side.
 */
u64 virtio_pci_bar_read(struct virtio_pci *vp, u64 off, u32 size);
bool virtio_pci_bar_write(struct virtio_pci *vp, u64 off, u32 size, u64 val);

/* For the device model. */

/* True (and cleared) if a queue notification arrived since the last call. */
bool virtio_pci_take_kick(struct virtio_pci *vp);
/*
 * Queue q if the device may use it now: DRIVER_OK after FEATURES_OK, no
 * NEEDS_RESET or FAILED, bus mastering on, the queue enabled and not broken.
 */
struct virtqueue *virtio_pci_queue_live(struct virtio_pci *vp, u16 q);
/* True while the function may touch guest memory (bus mastering is on). */
bool virtio_pci_dma_allowed(const struct virtio_pci *vp);
/* Features both sides agreed on; 0 before FEATURES_OK. */
u64 virtio_pci_features(const struct virtio_pci *vp);
/* Used-buffer notification for queue q (4.1.5.3), unless the driver suppressed it. */
void virtio_pci_notify_queue(struct virtio_pci *vp, u16 q);
/* Enter DEVICE_NEEDS_RESET and tell the driver (2.1.2), once per reset. */
void virtio_pci_needs_reset(struct virtio_pci *vp);

#endif

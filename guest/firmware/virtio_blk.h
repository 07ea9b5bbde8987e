/*
 * Polled virtio-blk driver (VIRTIO 1.2 5.2), read-only. Reads are split into
 * requests of up to VBLK_REQ_BYTES, each one header, a few large data
 * buffers and a status byte, with up to VBLK_MAX_INFLIGHT requests in flight
 * and one notification per batch: few exits, and on vsi-pc several NBD
 * requests on the wire at once.
 */
#ifndef FW_VIRTIO_BLK_H
#define FW_VIRTIO_BLK_H

#include "disk.h"
#include "virtio.h"

#define VIRTIO_BLK_DEVICE_ID 0x1042 /* 0x1040 + device type 2 */
#define VBLK_REQ_BYTES	     (2 * MiB)
#define VBLK_MAX_INFLIGHT    4

/* The request header the device reads (5.2.6). */
struct virtio_blk_outhdr {
	u32 type;
	u32 reserved;
	u64 sector;
};

struct vblk_slot {
	struct virtio_blk_outhdr hdr;
	u8 status;
	bool busy;
	u64 lba;
	u32 count;
};

struct vblk {
	struct virtio_dev vd;
	struct virtq q;
	u64 capacity;	 /* 512-byte sectors */
	u32 seg_bytes;	 /* bytes per data buffer (SIZE_MAX, or a whole request) */
	u32 req_sectors; /* sectors per request */
	u16 per_slot;	 /* descriptors per request slot */
	u16 nr_slots;
	struct vblk_slot slot[VBLK_MAX_INFLIGHT];
	u64 bytes, requests, ticks; /* what has been read, and the TSC ticks spent waiting */
};

/* Brings the device at f up (3.1.1) with one request queue. */
int vblk_init(struct vblk *b, const struct pci_func *f, const char **why);

/* struct fw_disk's read(): ctx is the struct vblk. Failures are printed, then -FW_EIO. */
int vblk_read(void *ctx, u64 lba, u32 count, void *buf);

/* Resets the device so the OS finds it as after power-on. */
void vblk_shutdown(struct vblk *b);

#endif

/*
 * The device side of a virtio 1.x split virtqueue (Virtual I/O Device
 * (VIRTIO) Version 1.2, 2.7 Split Virtqueues). Every value in the rings is
 * written by the guest: the walker copies what it reads, bounds-checks every
 * index and buffer against the guest's RAM, and turns what it cannot accept
 * into an error instead of trusting it. Guest memory is reached only through
 * the caller's accessor, so the same file runs in the image and in host tests.
 */
#ifndef HV_VIRTQUEUE_H
#define HV_VIRTQUEUE_H

#include <hv/types.h>

#define VQ_MAX_SIZE  256	 /* largest queue size we offer */
#define VQ_MAX_SEGS  130	 /* buffers in one chain (virtio-blk: seg_max 128 + 2) */
#define VQ_MAX_BYTES (256 * MiB) /* bytes in one chain, readable + writable */

/* 2.7.5 The Virtqueue Descriptor Table */
#define VIRTQ_DESC_F_NEXT     1
#define VIRTQ_DESC_F_WRITE    2
#define VIRTQ_DESC_F_INDIRECT 4

/* 2.7.6, 2.7.8: the driver asks for no used-buffer notifications; the device for no kicks. */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY	   1

/* Largest queue size a split virtqueue can have (2.7). */
#define VIRTQ_SPLIT_MAX_SIZE 32768

/* Guest layout, little-endian (2.7.5, 2.7.6, 2.7.8). */
struct virtq_desc {
	u64 addr;
	u32 len;
	u16 flags;
	u16 next;
};
_Static_assert(sizeof(struct virtq_desc) == 16, "virtq_desc is 16 bytes");

struct virtq_used_elem {
	u32 id;
	u32 len;
};
_Static_assert(sizeof(struct virtq_used_elem) == 8, "virtq_used_elem is 8 bytes");

/* The available and used rings as the driver sees them (2.7.6, 2.7.8). */
struct virtq_avail {
	u16 flags;
	u16 idx;
	u16 ring[];
};

struct virtq_used {
	u16 flags;
	u16 idx;
	struct virtq_used_elem ring[];
};

/* Bytes of each part of a queue of the given size (2.7, alignment/size table). */
#define VQ_DESC_BYTES(size)  (16ULL * (size))
#define VQ_AVAIL_BYTES(size) (6ULL + 2ULL * (size))
#define VQ_USED_BYTES(size)  (6ULL + 8ULL * (size))

struct vq_mem {
	/* Host pointer to [gpa, gpa+len) if it lies wholly inside the guest's RAM, else NULL. */
	void *(*map)(void *ctx, u64 gpa, u64 len);
	void *ctx;
};

struct virtqueue {
	u16 size; /* power of two, <= VQ_MAX_SIZE */
	u64 desc_gpa, avail_gpa, used_gpa;
	u16 last_avail; /* next avail index to take */
	u16 used_idx;	/* next used index to fill */
	bool broken;	/* device-level violation: the device needs a reset (NEEDS_RESET) */
	struct vq_mem mem;
};

/* One guest buffer, already bounds-checked against the guest's RAM. */
struct vq_seg {
	void *hva;
	u32 len; /* never 0: zero-length descriptors are skipped */
	bool device_writes;
};

/*
 * One descriptor chain, readable segments first. bytes_out: what the driver
 * gives the device (readable); bytes_in: room for the device's answer
 * (writable); the names follow the driver's point of view as Linux does.
 */
struct vq_chain {
	u16 head;
	u32 nr;
	struct vq_seg seg[VQ_MAX_SEGS];
	u64 bytes_in, bytes_out;
};

/* Set vq up on the three areas; -EINVAL unless size is a power of two <= VQ_MAX_SIZE
 * and each area lies in RAM with its alignment (16, 2, 4). */
int vq_init(struct virtqueue *vq, u16 size, u64 desc, u64 avail, u64 used, const struct vq_mem *m);
/*
 * Take the next available chain: 1 with *c filled, 0 if none. -EINVAL if the
 * chain is malformed: its head is consumed and c->head names it, so the caller
 * can complete it with an error status (the rest of *c is meaningless).
 * -EIO if the queue itself is broken (avail idx more than size ahead, head
 * index out of range, rings unmapped): vq->broken is set.
 */
int vq_pop(struct virtqueue *vq, struct vq_chain *c);
/*
 * Put a finished chain on the used ring, written = bytes the device wrote.
 * The element is stored before idx (compiler barrier; x86 keeps store order).
 * -EIO if broken, -EINVAL if head is out of range or nothing is outstanding.
 */
int vq_push(struct virtqueue *vq, u16 head, u32 written);
/*
 * After vq_push(): false if the driver asked for no used-buffer notification
 * (VIRTQ_AVAIL_F_NO_INTERRUPT; 2.7.7.2, no VIRTIO_F_EVENT_IDX). The flags
 * are read after the used idx is visible, so a driver that clears the flag
 * and then looks at the used ring misses nothing. False too if the queue is
 * broken (then set).
 */
bool vq_wants_interrupt(struct virtqueue *vq);
/*
 * Copy len bytes between buf and a popped chain's device-writable (writable)
 * or device-readable bytes, from stream position pos, towards the guest when
 * to_guest. Callers keep pos + len inside the stream (bytes_in / bytes_out).
 */
void vq_chain_copy(const struct vq_chain *c, bool writable, u64 pos, void *buf, u64 len,
		   bool to_guest);

#endif

/*
 * virtio-blk over the modern PCI transport (VIRTIO 1.2, 5.2), one request
 * queue, backed by a block backend (struct blk_backend): an NBD client in the
 * image, an in-memory disk in the tests.
 *
 * Split between two sides that may run on different CPUs:
 * - the trap side calls the configuration-space and BAR accessors of
 *   dev->pci (hv/virtio_pci.h). A queue notification only sets a flag; the
 *   accessor returns true when the service side should be woken.
 * - the service side calls virtio_blk_process(): it takes the available
 *   chains, validates them and submits blk_io to the backend. A request is
 *   answered (data, status byte, used ring) from the done() of its last io;
 *   the queue's MSI-X message for everything answered since goes out at the
 *   end of the next virtio_blk_process(), so call it after every backend poll
 *   that completed something (or simply on every service-loop pass).
 * Locking: every call on one device, including blk_io.done(), runs under
 * one lock per device held by the caller. A backend that completes inside
 * submit() is already under it (process() holds it); one that completes
 * later (the NBD poll) must take it around done(). msi() is called with the
 * lock held and must not call back into the device.
 *
 * Guest data never goes to the backend by pointer: reads and writes are
 * staged in a bounce area the integrator gives the device, so a backend that
 * still holds an io after a reset (or after the VSI's RAM was handed back)
 * can only touch device memory. A completion is matched against the
 * transport's reset generation before anything is written to the guest.
 */
#ifndef HV_VIRTIO_BLK_H
#define HV_VIRTIO_BLK_H

#include <hv/types.h>
#include <hv/virtio_pci.h>
#include <hv/virtqueue.h>

/* PCI identity (platform contract: function 00:01.0 of every VSI with a disk). */
#define VIRTIO_BLK_PCI_DEVICE_ID 0x1042 /* 0x1040 + virtio device ID 2 */
#define VIRTIO_BLK_PCI_SUBSYS_ID 0x1100
#define VIRTIO_BLK_PCI_REVISION	 0x01
#define VIRTIO_BLK_PCI_CLASS	 0x01 /* mass storage */
#define VIRTIO_BLK_PCI_SUBCLASS	 0x80 /* other */

/* Feature bits (5.2.3). */
#define VIRTIO_BLK_F_SIZE_MAX	  1
#define VIRTIO_BLK_F_SEG_MAX	  2
#define VIRTIO_BLK_F_RO		  5
#define VIRTIO_BLK_F_BLK_SIZE	  6
#define VIRTIO_BLK_F_FLUSH	  9
#define VIRTIO_BLK_F_DISCARD	  13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

/* Device configuration layout (5.2.4): byte offsets of the fields we fill. */
#define VIRTIO_BLK_CFG_CAPACITY		 0
#define VIRTIO_BLK_CFG_SIZE_MAX		 8
#define VIRTIO_BLK_CFG_SEG_MAX		 12
#define VIRTIO_BLK_CFG_BLK_SIZE		 20
#define VIRTIO_BLK_CFG_MAX_DISCARD_SECT	 36
#define VIRTIO_BLK_CFG_MAX_DISCARD_SEG	 40
#define VIRTIO_BLK_CFG_DISCARD_ALIGN	 44
#define VIRTIO_BLK_CFG_MAX_WZEROES_SECT	 48
#define VIRTIO_BLK_CFG_MAX_WZEROES_SEG	 52
#define VIRTIO_BLK_CFG_WZEROES_MAY_UNMAP 56
#define VIRTIO_BLK_CFG_SIZE		 60

/* Requests (5.2.6). */
#define VIRTIO_BLK_T_IN		  0
#define VIRTIO_BLK_T_OUT	  1
#define VIRTIO_BLK_T_FLUSH	  4
#define VIRTIO_BLK_T_GET_ID	  8
#define VIRTIO_BLK_T_DISCARD	  11
#define VIRTIO_BLK_T_WRITE_ZEROES 13
#define VIRTIO_BLK_S_OK		  0
#define VIRTIO_BLK_S_IOERR	  1
#define VIRTIO_BLK_S_UNSUPP	  2
#define VIRTIO_BLK_DWZ_F_UNMAP	  BIT(0) /* struct virtio_blk_discard_write_zeroes flags */
#define VIRTIO_BLK_HDR_SIZE	  16	 /* le32 type, le32 reserved, le64 sector */
#define VIRTIO_BLK_DWZ_SIZE	  16	 /* le64 sector, le32 num_sectors, le32 flags */
#define VIRTIO_BLK_ID_BYTES	  20
#define VIRTIO_BLK_SECTOR_SIZE	  512

/* Limits of this device. */
#define VIRTIO_BLK_SLOTS	 128		   /* requests in flight */
#define VIRTIO_BLK_IOS		 256		   /* blk_io in flight */
#define VIRTIO_BLK_SEG_MAX	 (VQ_MAX_SEGS - 2) /* data segments: header and status aside */
#define VIRTIO_BLK_SIZE_MAX	 (1 * MiB) /* per segment: seg_max * size_max < VQ_MAX_BYTES */
#define VIRTIO_BLK_MAX_RANGES	 16	   /* max_discard_seg, max_write_zeroes_seg */
#define VIRTIO_BLK_IO_MAX	 (1 * MiB) /* data bytes of one blk_io */
#define VIRTIO_BLK_BOUNCE_PAGES	 4096	   /* largest bounce area: 16 MiB */
#define VIRTIO_BLK_DISCARD_ALIGN 8	   /* discard_sector_alignment: 4 KiB */

enum blk_op {
	BLK_OP_READ,
	BLK_OP_WRITE,
	BLK_OP_FLUSH,
	BLK_OP_DISCARD,
	BLK_OP_WRITE_ZEROES,
};

/* One operation for the backend; valid from submit() until done() returns. */
struct blk_io {
	u8 op; /* enum blk_op */
	bool fua;
	bool may_unmap; /* WRITE_ZEROES may deallocate */
	u64 offset;	/* bytes, a multiple of 512 */
	u32 length;	/* bytes, a multiple of 512; 0 for FLUSH */
	void *buf; /* READ: filled, WRITE: source; device memory, never guest RAM; NULL otherwise */
	/* Called exactly once for an accepted io, status 0 or -errno; may be called inside submit(). */
	void (*done)(struct blk_io *io, int status);
	void *priv; /* the backend's own; the device sets it to NULL and never reads it */
};

struct blk_backend {
	/* 0: accepted (done() follows exactly once); -EBUSY: full, try later; other -errno: failed. */
	int (*submit)(void *ctx, struct blk_io *io);
	void *ctx;
	u64 capacity; /* bytes, a nonzero multiple of 512 */
	bool read_only, can_flush, can_discard, can_write_zeroes;
	u32 max_io; /* largest length of one blk_io, >= 4096 */
};

struct virtio_blk_params {
	struct blk_backend backend;
	struct vq_mem mem; /* the VSI's RAM */
	void (*msi)(void *ctx, u64 addr, u32 data);
	void *msi_ctx;
	u8 serial[VIRTIO_BLK_ID_BYTES]; /* GET_ID answer, NUL-padded */
	void *bounce;			/* staging memory owned by the device, page-aligned */
	u64 bounce_size; /* 4 KiB multiple, <= VIRTIO_BLK_BOUNCE_PAGES pages; whole pages per io */
};

struct virtio_blk_stats {
	u64 reads, writes, flushes, get_ids, discards, write_zeroes; /* requests by type */
	u64 unsupported;       /* unknown or not negotiated types: UNSUPP */
	u64 ok, ioerr, unsupp; /* completions by status */
	u64 bad_chains;	       /* chains the walker refused: used with nothing written */
	u64 no_status; /* chains without a device-writable last byte: used with nothing written */
	u64 bad_requests; /* header, direction, length, range or segment violations: IOERR */
	u64 ro_rejected;  /* writes to a read-only disk: IOERR */
	u64 io_submitted; /* blk_io accepted by the backend */
	u64 io_errors;	  /* ... that failed, or were refused at submit */
	u64 io_busy;	  /* submissions the backend refused with -EBUSY */
	u64 stalls;	  /* out of request slots, ios or bounce space */
	u64 stale;	  /* requests whose completion came after a reset: dropped */
	u64 bytes_read, bytes_written;
};

/* A blk_io and what the device needs to finish it; blk_io first (done() gets &io). */
struct virtio_blk_io {
	struct blk_io io;
	struct virtio_blk *dev;
	u16 req;   /* index of its request */
	bool busy; /* with the backend */
	u32 bounce_first, bounce_pages;
	u64 pos; /* byte position in the request's data */
};

/* A byte range of the disk a request covers. */
struct virtio_blk_range {
	u64 offset, length;
	bool unmap;
};

struct virtio_blk_req {
	struct vq_chain chain; /* validated by the walker when taken */
	u32 gen;	       /* transport generation when taken */
	u32 type;
	u8 *status;  /* the status byte in guest RAM */
	u32 written; /* used length on success */
	struct virtio_blk_range range[VIRTIO_BLK_MAX_RANGES];
	u32 nr_ranges;
	u32 next_range;	 /* submission cursor: range ... */
	u64 next_pos;	 /* ... and byte within it */
	u32 inflight;	 /* ios with the backend */
	u8 result;	 /* VIRTIO_BLK_S_* */
	bool submitting; /* not all of its ios are submitted yet */
};

struct virtio_blk {
	struct virtio_pci pci; /* transport: pass &dev->pci to the accessors */
	struct blk_backend be;
	u8 serial[VIRTIO_BLK_ID_BYTES];
	u8 *bounce;
	u32 bounce_pages;
	u64 bounce_map[VIRTIO_BLK_BOUNCE_PAGES / 64];
	u32 io_max;		    /* data bytes of one io */
	u32 range_io_max;	    /* bytes of one DISCARD / WRITE_ZEROES io */
	u32 seen_gen;		    /* transport generation the state below belongs to */
	struct virtio_blk_req *cur; /* taken, not fully submitted */
	bool irq_pending;	    /* used ring grew since the last interrupt */
	u16 free_req[VIRTIO_BLK_SLOTS];
	u32 nr_free_req;
	u16 free_io[VIRTIO_BLK_IOS];
	u32 nr_free_io;
	struct virtio_blk_io io[VIRTIO_BLK_IOS];
	struct virtio_blk_req req[VIRTIO_BLK_SLOTS];
	struct virtio_blk_stats stats;
};

/*
 * Why a backend of size bytes whose requests must be multiples of min_block
 * and at most max_block bytes cannot be this device, or NULL if it can: the
 * device offers 512-byte sectors and needs one page per request.
 */
const char *virtio_blk_backend_unusable(u64 size, u32 min_block, u32 max_block);
/* Set dev up as a powered-on PCI function; -EINVAL for bad parameters. dev is large: not on a stack. */
int virtio_blk_init(struct virtio_blk *dev, const struct virtio_blk_params *p);
/*
 * Service side: take and submit available requests, then raise the queue
 * interrupt for the requests answered since the last call. True when work is
 * waiting for room (slots, ios, bounce space or the backend): call again
 * after the backend has progressed.
 */
bool virtio_blk_process(struct virtio_blk *dev);
/*
 * The VSI's reset (and before its RAM is zeroed or handed back): function
 * reset of the PCI device; ios still with the backend complete into nothing.
 */
void virtio_blk_reset(struct virtio_blk *dev);
/* ios the backend holds (bounce space and slots are busy until they complete). */
u32 virtio_blk_inflight(const struct virtio_blk *dev);

#endif

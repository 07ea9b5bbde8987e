/*
 * virtio-blk reads. Request slot s owns descriptors [s * per_slot,
 * (s + 1) * per_slot): the header, up to per_slot - 2 data buffers, the
 * status byte. The used ring returns the head, which names the slot.
 */
#include "console.h"
#include "io.h"
#include "virtio_blk.h"

/* 5.2.3 Feature bits */
#define VIRTIO_BLK_F_SIZE_MAX (1UL << 1)
#define VIRTIO_BLK_F_SEG_MAX  (1UL << 2)

/* 5.2.4 struct virtio_blk_config */
#define VBLK_CFG_CAPACITY 0
#define VBLK_CFG_SIZE_MAX 8
#define VBLK_CFG_SEG_MAX  12

#define VIRTIO_BLK_T_IN	  0
#define VIRTIO_BLK_S_OK	  0
#define VBLK_STATUS_UNSET 0xFF
#define VBLK_SECTOR	  512
/* No progress for this many TSC ticks is a timeout: ~6 s at 3 GHz, minutes under Bochs. */
#define VBLK_TIMEOUT_TICKS (1UL << 34)

static u8 vblk_queue_mem[VIRTQ_MEM_SIZE] __attribute__((aligned(4096)));

/* Request geometry from the queue size and the device's SEG_MAX / SIZE_MAX. */
static void vblk_geometry(struct vblk *b)
{
	u32 segs, size_max = 0, seg_max = 0;

	b->nr_slots = MIN(VBLK_MAX_INFLIGHT, MAX(1, b->q.size / 8));
	b->per_slot = b->q.size / b->nr_slots;
	segs = b->per_slot - 2;
	if (b->vd.features & VIRTIO_BLK_F_SEG_MAX) {
		seg_max = virtio_config_read32(&b->vd, VBLK_CFG_SEG_MAX);
		if (seg_max)
			segs = MIN(segs, seg_max);
	}
	b->seg_bytes = VBLK_REQ_BYTES;
	if (b->vd.features & VIRTIO_BLK_F_SIZE_MAX) {
		size_max = virtio_config_read32(&b->vd, VBLK_CFG_SIZE_MAX);
		if (size_max)
			b->seg_bytes =
			    MIN(VBLK_REQ_BYTES, MAX(size_max, VBLK_SECTOR)) & ~(VBLK_SECTOR - 1);
	}
	b->req_sectors = (u32)(MIN((u64)VBLK_REQ_BYTES, (u64)segs * b->seg_bytes) / VBLK_SECTOR);
	fw_log("virtio-blk: queue %u, %u requests of up to %u KiB in flight (seg_max %u, "
	       "size_max %u)",
	       b->q.size, b->nr_slots, b->req_sectors / 2, seg_max, size_max);
}

int vblk_init(struct vblk *b, const struct pci_func *f, const char **why)
{
	int err;

	memset(b, 0, sizeof(*b));
	pci_set_command(f, PCI_CMD_MEM | PCI_CMD_MASTER);
	err = virtio_pci_probe(&b->vd, f, why);
	if (!err)
		err = virtio_negotiate(&b->vd, VIRTIO_BLK_F_SIZE_MAX | VIRTIO_BLK_F_SEG_MAX,
				       VIRTIO_F_VERSION_1, why);
	if (!err)
		err = virtio_queue_setup(&b->vd, &b->q, 0, VIRTQ_MAX_SIZE, vblk_queue_mem, why);
	if (err)
		return err;
	if (b->q.size < 4) {
		*why = "the request queue has fewer than 4 entries";
		virtio_fail(&b->vd);
		return -FW_ENODEV;
	}
	b->capacity = virtio_config_read64(&b->vd, VBLK_CFG_CAPACITY);
	vblk_geometry(b);
	virtio_driver_ok(&b->vd);
	return 0;
}

/* Chains slot s for count sectors at lba into buf and makes it available. */
static void vblk_submit(struct vblk *b, u16 s, u64 lba, u32 count, u8 *buf)
{
	struct vblk_slot *sl = &b->slot[s];
	u16 head = s * b->per_slot, d = head;
	u64 left = (u64)count * VBLK_SECTOR;

	sl->hdr = (struct virtio_blk_outhdr){ .type = VIRTIO_BLK_T_IN, .sector = lba };
	sl->status = VBLK_STATUS_UNSET;
	sl->busy = true;
	sl->lba = lba;
	sl->count = count;
	b->q.desc[d] = (struct virtq_desc){ (u64)(uintptr_t)&sl->hdr, sizeof(sl->hdr),
					    VIRTQ_DESC_F_NEXT, d + 1 };
	while (left) {
		u32 n = (u32)MIN(left, (u64)b->seg_bytes);

		d++;
		b->q.desc[d] = (struct virtq_desc){ (u64)(uintptr_t)buf, n,
						    VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, d + 1 };
		buf += n;
		left -= n;
	}
	d++;
	b->q.desc[d] = (struct virtq_desc){ (u64)(uintptr_t)&sl->status, 1, VIRTQ_DESC_F_WRITE, 0 };
	virtq_push(&b->q, head);
}

/* Takes every finished request off the used ring; -FW_EIO on a failed one. */
static int vblk_reap(struct vblk *b, bool *progress)
{
	struct virtq_used_elem e;

	while (virtq_pop_used(&b->q, &e)) {
		u32 s = e.id / b->per_slot;
		struct vblk_slot *sl;

		if (e.id % b->per_slot || s >= b->nr_slots || !b->slot[s].busy) {
			fw_log("virtio-blk: the device returned an unknown request (id %u)", e.id);
			return -FW_EIO;
		}
		sl = &b->slot[s];
		barrier();
		sl->busy = false;
		*progress = true;
		if (*(volatile u8 *)&sl->status != VIRTIO_BLK_S_OK) {
			fw_log("virtio-blk: read of %u sectors at LBA %lu failed: status %u (%s)",
			       sl->count, sl->lba, sl->status, sl->status == 1 ? "IOERR" : "other");
			return -FW_EIO;
		}
	}
	return 0;
}

static bool vblk_all(const struct vblk *b, bool busy)
{
	for (u16 s = 0; s < b->nr_slots; s++) {
		if (b->slot[s].busy != busy)
			return false;
	}
	return true;
}

static void vblk_report_timeout(const struct vblk *b)
{
	for (u16 s = 0; s < b->nr_slots; s++) {
		if (b->slot[s].busy)
			fw_log("virtio-blk: read of %u sectors at LBA %lu timed out (no answer for "
			       "%lu TSC ticks)",
			       b->slot[s].count, b->slot[s].lba, VBLK_TIMEOUT_TICKS);
	}
}

/* Waits until a slot is free (or, if all, until every slot is). */
static int vblk_wait(struct vblk *b, bool all)
{
	u64 start = rdtsc(), t0 = start;

	for (;;) {
		bool progress = false;
		int err = vblk_reap(b, &progress);

		if (err)
			return err;
		if (all ? vblk_all(b, false) : !vblk_all(b, true))
			break;
		if (progress) {
			start = rdtsc();
		} else if (rdtsc() - start > VBLK_TIMEOUT_TICKS) {
			vblk_report_timeout(b);
			return -FW_EIO;
		}
		cpu_relax();
	}
	b->ticks += rdtsc() - t0;
	return 0;
}

static u16 vblk_free_slot(const struct vblk *b)
{
	for (u16 s = 0; s < b->nr_slots; s++) {
		if (!b->slot[s].busy)
			return s;
	}
	return 0;
}

int vblk_read(void *ctx, u64 lba, u32 count, void *buf)
{
	struct vblk *b = ctx;
	u8 *p = buf;
	int err;

	if (lba > b->capacity || count > b->capacity - lba) {
		fw_log("virtio-blk: read of %u sectors at LBA %lu is past the end of the disk "
		       "(%lu sectors)",
		       count, lba, b->capacity);
		return -FW_EIO;
	}
	while (count) {
		u32 n = MIN(count, b->req_sectors);

		err = vblk_wait(b, false);
		if (err)
			return err;
		vblk_submit(b, vblk_free_slot(b), lba, n, p);
		b->requests++;
		lba += n;
		count -= n;
		p += (u64)n * VBLK_SECTOR;
		b->bytes += (u64)n * VBLK_SECTOR;
		/* one notification per batch: when the slots are full or the read is queued */
		if (!count || vblk_all(b, true))
			virtq_notify(&b->q);
	}
	return vblk_wait(b, true);
}

void vblk_shutdown(struct vblk *b)
{
	virtio_reset(&b->vd);
	pci_set_command(b->vd.pci, 0);
}

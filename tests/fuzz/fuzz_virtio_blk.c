/*
 * libFuzzer target: the virtio-blk PCI function driven by a hostile guest.
 * The input is a script of operations: configuration-space and BAR reads and
 * writes, writes into guest RAM, request templates, device processing,
 * backend completions (in any order, failing or not), backend modes and
 * function resets. A "probe" operation performs the whole driver handshake
 * with rings the input places, so deep states are a few bytes away.
 *
 * Guest RAM is a bounded array between two poisoned guard areas; the bounce
 * area and the disk are exactly sized. Checked: every blk_io lies on the
 * disk, its buffer inside the bounce area; the pools never leak. At the end
 * the function is reset and the whole RAM poisoned before the ios still held
 * complete: a late completion that touched guest memory would be reported.
 */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sanitizer/asan_interface.h>

#include <hv/errno.h>
#include <hv/virtio_blk.h>

#define CHECK(cond)                       \
	do {                              \
		if (!(cond))              \
			__builtin_trap(); \
	} while (0)

#define RAM_SIZE    0x10000
#define GUARD_SIZE  0x1000
#define DISK_SIZE   (64 * KiB)
#define BOUNCE_SIZE (16 * KiB)
#define MAX_HELD    64

enum mode {
	MODE_SYNC,	/* complete inside submit with success */
	MODE_SYNC_FAIL, /* complete inside submit with -EIO */
	MODE_HOLD,	/* keep for later */
	MODE_BUSY,	/* -EBUSY */
	MODE_REFUSE,	/* -EIO at submit */
	MODE_UNSUPP,	/* -ENOTSUP at submit */
	MODE_COUNT,
};

struct harness {
	const u8 *in;
	size_t left;
	u8 *region, *ram, *bounce, *disk;
	struct virtio_blk *dev;
	enum mode mode;
	struct blk_io *held[MAX_HELD];
	u32 nr_held;
	u32 max_io;
	/* the rings the last probe set up */
	u16 qsize;
	u64 desc, avail, used;
	u16 avail_idx, next_desc;
};

static u64 take(struct harness *h, u32 n)
{
	u64 v = 0;

	for (u32 i = 0; i < n && h->left; i++, h->left--)
		v |= (u64)*h->in++ << (8 * i);
	return v;
}

static void *ram_map(void *ctx, u64 gpa, u64 len)
{
	struct harness *h = ctx;

	if (gpa > RAM_SIZE || len > RAM_SIZE - gpa)
		return NULL;
	return h->ram + gpa;
}

static void msi(void *ctx, u64 addr, u32 data)
{
	(void)ctx;
	(void)addr;
	(void)data;
}

static void perform(struct harness *h, struct blk_io *io)
{
	if (io->op == BLK_OP_READ)
		memcpy(io->buf, h->disk + io->offset, io->length);
	else if (io->op == BLK_OP_WRITE)
		memcpy(h->disk + io->offset, io->buf, io->length);
	else if (io->op == BLK_OP_WRITE_ZEROES)
		memset(h->disk + io->offset, 0, io->length);
}

static void check_io(struct harness *h, const struct blk_io *io)
{
	const u8 *buf = io->buf;

	CHECK(io->op <= BLK_OP_WRITE_ZEROES);
	CHECK(io->offset <= DISK_SIZE && io->length <= DISK_SIZE - io->offset);
	CHECK(io->offset % 512 == 0 && io->length % 512 == 0 && io->length <= h->max_io);
	CHECK((io->op == BLK_OP_FLUSH) == (io->length == 0));
	if (io->op == BLK_OP_READ || io->op == BLK_OP_WRITE) {
		CHECK(buf >= h->bounce && buf + io->length <= h->bounce + BOUNCE_SIZE);
	} else {
		CHECK(buf == NULL);
	}
	CHECK(io->done != NULL && io->priv == NULL);
}

static int submit(void *ctx, struct blk_io *io)
{
	struct harness *h = ctx;

	check_io(h, io);
	switch (h->mode) {
	case MODE_SYNC:
	case MODE_SYNC_FAIL:
		perform(h, io);
		io->done(io, h->mode == MODE_SYNC ? 0 : -EIO);
		return 0;
	case MODE_HOLD:
		if (h->nr_held == MAX_HELD)
			return -EBUSY;
		h->held[h->nr_held++] = io;
		return 0;
	case MODE_BUSY:
		return -EBUSY;
	case MODE_REFUSE:
		return -EIO;
	default:
		return -ENOTSUP;
	}
}

static void complete(struct harness *h, u32 i, int status)
{
	struct blk_io *io = h->held[i];

	h->held[i] = h->held[--h->nr_held];
	if (status == 0)
		perform(h, io);
	io->done(io, status);
}

static void cc_write(struct harness *h, u32 off, u32 size, u64 val)
{
	virtio_pci_bar_write(&h->dev->pci, off, size, val);
}

/* The driver's handshake with rings placed by the input. */
static void probe(struct harness *h)
{
	struct virtio_pci *vp = &h->dev->pci;
	u64 features = h->dev->pci.offered ^ take(h, 8); /* the input flips bits */

	h->qsize = (u16)(1u << (take(h, 1) % 9));
	h->desc = take(h, 2) & ~15ULL;
	h->avail = take(h, 2) & ~1ULL;
	h->used = take(h, 2) & ~3ULL;
	h->avail_idx = 0;
	h->next_desc = 0;
	virtio_pci_cfg_write(vp, 0x10, 4, 0xfe000000);
	virtio_pci_cfg_write(vp, 0x14, 4, 0);
	virtio_pci_cfg_write(vp, 0x04, 2, 0x6);
	virtio_pci_cfg_write(vp, 0x98 + 2, 2, 0x8000);
	for (u32 v = 0; v < 2; v++) {
		virtio_pci_bar_write(vp, 0x3800 + 16 * v, 8, 0xfee00000);
		virtio_pci_bar_write(vp, 0x3808 + 16 * v, 8, 0x30 + v);
	}
	cc_write(h, 0x14, 1, 0);
	cc_write(h, 0x14, 1, 3);
	cc_write(h, 0x08, 4, 0);
	cc_write(h, 0x0c, 4, (u32)features);
	cc_write(h, 0x08, 4, 1);
	cc_write(h, 0x0c, 4, (u32)(features >> 32));
	cc_write(h, 0x14, 1, 0xb);
	cc_write(h, 0x10, 2, 0);
	cc_write(h, 0x18, 2, h->qsize);
	cc_write(h, 0x20, 8, h->desc);
	cc_write(h, 0x28, 8, h->avail);
	cc_write(h, 0x30, 8, h->used);
	cc_write(h, 0x1a, 2, 1);
	cc_write(h, 0x1c, 2, 1);
	cc_write(h, 0x14, 1, 0xf);
}

static void put(struct harness *h, u64 gpa, u64 v, u32 n)
{
	for (u32 i = 0; i < n; i++)
		if (gpa + i < RAM_SIZE)
			h->ram[gpa + i] = (u8)(v >> (8 * i));
}

/* A request of a few segments from a template, offered on the avail ring. */
static void request(struct harness *h)
{
	static const u32 types[] = { VIRTIO_BLK_T_IN,	   VIRTIO_BLK_T_OUT,
				     VIRTIO_BLK_T_FLUSH,   VIRTIO_BLK_T_GET_ID,
				     VIRTIO_BLK_T_DISCARD, VIRTIO_BLK_T_WRITE_ZEROES };
	u8 shape = (u8)take(h, 1);
	u32 nseg = 1 + shape % 4;
	u64 hdr = take(h, 2);
	u16 head = h->next_desc;

	if (!h->qsize)
		return;
	put(h, hdr, types[(shape >> 2) % ARRAY_SIZE(types)], 4);
	put(h, hdr + 8, take(h, 1) * 8, 8);
	for (u32 i = 0; i < nseg; i++) {
		u64 d = h->desc + 16ULL * h->next_desc;
		u64 addr = i == 0 ? hdr : take(h, 2);
		u32 len = i == 0 ? 16 : (u32)take(h, 1) * 64 + (i + 1 == nseg);
		u16 flags = (i + 1 < nseg ? VIRTQ_DESC_F_NEXT : 0) | (u16)(take(h, 1) & 6);

		h->next_desc = (u16)((h->next_desc + 1) % h->qsize);
		put(h, d, addr, 8);
		put(h, d + 8, len, 4);
		put(h, d + 12, flags, 2);
		put(h, d + 14, h->next_desc, 2);
	}
	put(h, h->avail + 4 + 2ULL * (h->avail_idx % h->qsize), head, 2);
	h->avail_idx++;
	put(h, h->avail + 2, h->avail_idx, 2);
}

static void step(struct harness *h, u8 op)
{
	struct virtio_pci *vp = &h->dev->pci;
	u32 off, size = 1u << (take(h, 1) % 5); /* 1..16: some invalid */
	u64 gpa, n;

	switch (op % 12) {
	case 0:
		virtio_pci_cfg_read(vp, (u32)take(h, 1), size);
		break;
	case 1:
		off = (u32)take(h, 1);
		virtio_pci_cfg_write(vp, off, size, (u32)take(h, 4));
		break;
	case 2:
		virtio_pci_bar_read(vp, take(h, 2), size);
		break;
	case 3:
		off = (u32)take(h, 2);
		virtio_pci_bar_write(vp, off, size, take(h, 8));
		break;
	case 4:
		gpa = take(h, 2);
		n = take(h, 1);
		for (u64 i = 0; i < n && h->left; i++)
			put(h, gpa + i, take(h, 1), 1);
		break;
	case 5:
	case 6:
		virtio_blk_process(h->dev);
		break;
	case 7:
		if (h->nr_held) {
			u32 i = (u32)take(h, 1) % h->nr_held;

			complete(h, i, (take(h, 1) & 3) == 3 ? -EIO : 0);
		}
		break;
	case 8:
		h->mode = (enum mode)(take(h, 1) % MODE_COUNT);
		break;
	case 9:
		virtio_blk_reset(h->dev);
		break;
	case 10:
		probe(h);
		break;
	default:
		request(h);
		break;
	}
}

static void check_state(struct harness *h)
{
	struct virtio_blk *d = h->dev;
	u64 base = virtio_pci_bar_base(&d->pci);

	CHECK(base % VIRTIO_PCI_BAR_SIZE == 0 && base + VIRTIO_PCI_BAR_SIZE - 1 >= base);

	CHECK(d->nr_free_req <= VIRTIO_BLK_SLOTS && d->nr_free_io <= VIRTIO_BLK_IOS);
	CHECK(virtio_blk_inflight(d) >= h->nr_held);
}

static int setup(struct harness *h)
{
	struct virtio_blk_params p;

	h->region = malloc(RAM_SIZE + 2 * GUARD_SIZE);
	h->bounce = aligned_alloc(PAGE_SIZE, BOUNCE_SIZE);
	h->disk = malloc(DISK_SIZE);
	h->dev = calloc(1, sizeof(*h->dev));
	CHECK(h->region && h->bounce && h->disk && h->dev);
	h->ram = h->region + GUARD_SIZE;
	memset(h->ram, 0, RAM_SIZE);
	memset(h->disk, 0x11, DISK_SIZE);
	ASAN_POISON_MEMORY_REGION(h->region, GUARD_SIZE);
	ASAN_POISON_MEMORY_REGION(h->ram + RAM_SIZE, GUARD_SIZE);

	memset(&p, 0, sizeof(p));
	p.backend.submit = submit;
	p.backend.ctx = h;
	p.backend.capacity = DISK_SIZE;
	p.backend.can_flush = take(h, 1) & 1;
	p.backend.can_discard = true;
	p.backend.can_write_zeroes = true;
	p.backend.read_only = (take(h, 1) & 7) == 0;
	p.backend.max_io = h->max_io = 4096u << (take(h, 1) & 1);
	p.mem.map = ram_map;
	p.mem.ctx = h;
	p.msi = msi;
	memcpy(p.serial, "fuzz", 4);
	p.bounce = h->bounce;
	p.bounce_size = BOUNCE_SIZE;
	return virtio_blk_init(h->dev, &p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct harness h;

	memset(&h, 0, sizeof(h));
	h.in = data;
	h.left = size;
	CHECK(setup(&h) == 0);

	for (u32 steps = 0; h.left && steps < 4096; steps++) {
		step(&h, (u8)take(&h, 1));
		check_state(&h);
	}

	/* late completions after a reset must not touch the (now gone) RAM */
	virtio_blk_reset(h.dev);
	ASAN_POISON_MEMORY_REGION(h.ram, RAM_SIZE);
	while (h.nr_held)
		complete(&h, h.nr_held - 1, (h.nr_held & 1) ? -EIO : 0);
	virtio_blk_process(h.dev);
	CHECK(virtio_blk_inflight(h.dev) == 0);
	CHECK(h.dev->nr_free_req == VIRTIO_BLK_SLOTS);
	for (u32 i = 0; i < ARRAY_SIZE(h.dev->bounce_map); i++)
		CHECK(h.dev->bounce_map[i] == 0);

	ASAN_UNPOISON_MEMORY_REGION(h.region, RAM_SIZE + 2 * GUARD_SIZE);
	free(h.region);
	free(h.bounce);
	free(h.disk);
	free(h.dev);
	return 0;
}

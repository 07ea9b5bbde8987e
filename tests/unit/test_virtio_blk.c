/*
 * virtio-blk over the modern PCI transport, driven the way Linux's
 * virtio_pci_modern and virtio_blk drivers drive it: capability walk, BAR
 * sizing, MSI-X programming, the status handshake, queue set-up through the
 * common configuration, then requests built in guest RAM and kicked through
 * the notify register. The guest RAM is an exactly-sized heap buffer (ASan
 * sees any access past it); the disk is a byte array behind a backend that
 * completes at once, holds ios for the test to complete in any order, says
 * -EBUSY or fails.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <hv/errno.h>
#include <hv/virtio_blk.h>

#define RAM_SIZE  (4 * MiB)
#define DISK_SIZE (1 * MiB)
#define BAR_BASE  0x0000000c00000000ULL /* where the "firmware" puts the 64-bit BAR */

/* Guest RAM layout. */
#define DESC	 0x10000ULL
#define AVAIL	 0x11000ULL
#define USED	 0x12000ULL
#define HDR	 0x20000ULL /* request headers, 32 bytes apart */
#define STATUS	 0x30000ULL /* status bytes, one per request id */
#define TABLE	 0x40000ULL /* indirect tables, 64 bytes apart */
#define DATA	 0x100000ULL
#define SENTINEL 0x5a /* status byte before the device answers */
#define GUARD	 0xa5

/* Linux's view of the common configuration (4.1.4.3). */
#define CC_DFSELECT 0x00
#define CC_DF	    0x04
#define CC_GFSELECT 0x08
#define CC_GF	    0x0c
#define CC_MSIX	    0x10
#define CC_NUMQ	    0x12
#define CC_STATUS   0x14
#define CC_QSELECT  0x16
#define CC_QSIZE    0x18
#define CC_QMSIX    0x1a
#define CC_QENABLE  0x1c
#define CC_QNOTIFY  0x1e
#define CC_QDESC    0x20
#define CC_QDRIVER  0x28
#define CC_QDEVICE  0x30

#define S_ACK	  VIRTIO_STATUS_ACKNOWLEDGE
#define S_DRIVER  VIRTIO_STATUS_DRIVER
#define S_FEAT_OK VIRTIO_STATUS_FEATURES_OK
#define S_DRV_OK  VIRTIO_STATUS_DRIVER_OK

#define F_NEXT	VIRTQ_DESC_F_NEXT
#define F_WRITE VIRTQ_DESC_F_WRITE
#define F_IND	VIRTQ_DESC_F_INDIRECT

#define MSI_ADDR(v) (0xfee00000ULL + ((u64)(v) << 12))
#define MSI_DATA(v) (0x40u + (v))

struct io_rec {
	u8 op;
	bool fua, may_unmap;
	u64 offset;
	u32 length;
};

struct disk {
	u8 *bytes;
	bool hold;	  /* keep ios for the test instead of completing them */
	u32 max_held;	  /* -EBUSY beyond this many held */
	int submit_error; /* returned by submit when nonzero */
	int done_status;  /* status of synchronous completions */
	struct blk_io *held[512];
	u32 nr_held;
	struct io_rec log[2048];
	u32 nr_log;
	u32 busy_answers;
};

struct opts {
	bool read_only, can_flush, can_discard, can_write_zeroes;
	u32 max_io;
	u64 bounce_size;
};

struct t {
	struct virtio_blk *dev;
	u8 *ram, *bounce;
	struct disk disk;
	struct {
		u64 addr;
		u32 data;
	} msi[512];
	u32 nr_msi;

	/* what the driver found */
	u32 common, isr, device, notify, notify_mult;
	u32 msix_cap, window_cap, msix_table, msix_pba, msix_size;
	u16 notify_off;
	u64 features;

	/* the driver's ring state */
	u16 qsize, avail_idx, used_seen, next_desc;
};

/* ---- guest RAM and the fake backend ---- */

static void *ram_map(void *ctx, u64 gpa, u64 len)
{
	struct t *t = ctx;

	if (gpa > RAM_SIZE || len > RAM_SIZE - gpa)
		return NULL;
	return t->ram + gpa;
}

static void put16(struct t *t, u64 gpa, u16 v)
{
	memcpy(t->ram + gpa, &v, 2);
}

static void put32(struct t *t, u64 gpa, u32 v)
{
	memcpy(t->ram + gpa, &v, 4);
}

static void put64(struct t *t, u64 gpa, u64 v)
{
	memcpy(t->ram + gpa, &v, 8);
}

static u16 get16(struct t *t, u64 gpa)
{
	u16 v;

	memcpy(&v, t->ram + gpa, 2);
	return v;
}

static u32 get32(struct t *t, u64 gpa)
{
	u32 v;

	memcpy(&v, t->ram + gpa, 4);
	return v;
}

static void fill_pattern(u8 *p, u64 n, u32 seed)
{
	for (u64 i = 0; i < n; i++)
		p[i] = (u8)(i * 7 + i / 509 + seed);
}

/* Carry io out on the disk; the status it gets. */
static int disk_perform(struct disk *d, struct blk_io *io)
{
	assert_true(io->offset <= DISK_SIZE && io->length <= DISK_SIZE - io->offset);
	switch (io->op) {
	case BLK_OP_READ:
		memcpy(io->buf, d->bytes + io->offset, io->length);
		break;
	case BLK_OP_WRITE:
		memcpy(d->bytes + io->offset, io->buf, io->length);
		break;
	case BLK_OP_WRITE_ZEROES:
		memset(d->bytes + io->offset, 0, io->length);
		break;
	default:
		break;
	}
	return 0;
}

static int disk_submit(void *ctx, struct blk_io *io)
{
	struct disk *d = ctx;
	struct io_rec *r = &d->log[d->nr_log % ARRAY_SIZE(d->log)];

	if (d->submit_error)
		return d->submit_error;
	if (d->hold && d->nr_held >= d->max_held) {
		d->busy_answers++;
		return -EBUSY;
	}
	assert_null(io->priv);
	r->op = io->op;
	r->fua = io->fua;
	r->may_unmap = io->may_unmap;
	r->offset = io->offset;
	r->length = io->length;
	d->nr_log++;
	if (io->op == BLK_OP_READ || io->op == BLK_OP_WRITE)
		assert_non_null(io->buf);
	if (d->hold) {
		d->held[d->nr_held++] = io;
		return 0;
	}
	disk_perform(d, io);
	io->done(io, d->done_status);
	return 0;
}

/* Complete the held io at index i (0 = oldest) with status; performs it if 0. */
static void complete_held(struct t *t, u32 i, int status)
{
	struct disk *d = &t->disk;
	struct blk_io *io;

	assert_true(i < d->nr_held);
	io = d->held[i];
	memmove(&d->held[i], &d->held[i + 1], (d->nr_held - i - 1) * sizeof(d->held[0]));
	d->nr_held--;
	if (status == 0)
		disk_perform(d, io);
	io->done(io, status);
}

static void complete_all(struct t *t)
{
	while (t->disk.nr_held)
		complete_held(t, 0, 0);
}

static void msi_record(void *ctx, u64 addr, u32 data)
{
	struct t *t = ctx;

	assert_true(t->nr_msi < ARRAY_SIZE(t->msi));
	t->msi[t->nr_msi].addr = addr;
	t->msi[t->nr_msi].data = data;
	t->nr_msi++;
}

static const struct opts default_opts = {
	.can_flush = true,
	.max_io = 64 * 1024,
	.bounce_size = 256 * 1024,
};

static struct t *t_new(const struct opts *o)
{
	struct t *t = calloc(1, sizeof(*t));
	struct virtio_blk_params p;

	assert_non_null(t);
	t->ram = calloc(1, RAM_SIZE);
	t->disk.bytes = malloc(DISK_SIZE);
	t->bounce = aligned_alloc(PAGE_SIZE, o->bounce_size);
	t->dev = calloc(1, sizeof(*t->dev));
	assert_true(t->ram && t->disk.bytes && t->bounce && t->dev);
	fill_pattern(t->disk.bytes, DISK_SIZE, 0);
	t->disk.max_held = ARRAY_SIZE(t->disk.held);

	memset(&p, 0, sizeof(p));
	p.backend.submit = disk_submit;
	p.backend.ctx = &t->disk;
	p.backend.capacity = DISK_SIZE;
	p.backend.read_only = o->read_only;
	p.backend.can_flush = o->can_flush;
	p.backend.can_discard = o->can_discard;
	p.backend.can_write_zeroes = o->can_write_zeroes;
	p.backend.max_io = o->max_io;
	p.mem.map = ram_map;
	p.mem.ctx = t;
	p.msi = msi_record;
	p.msi_ctx = t;
	memcpy(p.serial, "hv-disk-0123456789AB", VIRTIO_BLK_ID_BYTES);
	p.bounce = t->bounce;
	p.bounce_size = o->bounce_size;
	assert_int_equal(virtio_blk_init(t->dev, &p), 0);
	return t;
}

static int teardown(void **state)
{
	struct t *t = *state;

	if (t) {
		free(t->ram);
		free(t->disk.bytes);
		free(t->bounce);
		free(t->dev);
		free(t);
	}
	return 0;
}

/* ---- configuration space and the BAR, as the PCI core and driver reach them ---- */

static u32 cfg_rd(struct t *t, u32 off, u32 size)
{
	return virtio_pci_cfg_read(&t->dev->pci, off, size);
}

static bool cfg_wr(struct t *t, u32 off, u32 size, u32 val)
{
	return virtio_pci_cfg_write(&t->dev->pci, off, size, val);
}

/* An MMIO access at guest-physical gpa, routed the way the integration does. */
static u64 mmio_rd(struct t *t, u64 gpa, u32 size)
{
	u64 base = virtio_pci_bar_base(&t->dev->pci);

	assert_true(base && gpa >= base && gpa - base < VIRTIO_PCI_BAR_SIZE);
	return virtio_pci_bar_read(&t->dev->pci, gpa - base, size);
}

static bool mmio_wr(struct t *t, u64 gpa, u32 size, u64 val)
{
	u64 base = virtio_pci_bar_base(&t->dev->pci);

	assert_true(base && gpa >= base && gpa - base < VIRTIO_PCI_BAR_SIZE);
	return virtio_pci_bar_write(&t->dev->pci, gpa - base, size, val);
}

static u64 cc_rd(struct t *t, u32 off, u32 size)
{
	return mmio_rd(t, BAR_BASE + t->common + off, size);
}

static void cc_wr(struct t *t, u32 off, u32 size, u64 val)
{
	mmio_wr(t, BAR_BASE + t->common + off, size, val);
}

/* Linux vp_iowrite64_twopart: low half, then high half. */
static void cc_wr64(struct t *t, u32 off, u64 val)
{
	cc_wr(t, off, 4, (u32)val);
	cc_wr(t, off + 4, 4, (u32)(val >> 32));
}

static u8 status_rd(struct t *t)
{
	return (u8)cc_rd(t, CC_STATUS, 1);
}

/* PCI core: size BAR0/1 with all-ones, assign it, enable memory and bus mastering. */
static void assign_bar(struct t *t)
{
	u32 lo, hi;

	cfg_wr(t, 0x10, 4, 0xffffffff);
	cfg_wr(t, 0x14, 4, 0xffffffff);
	lo = cfg_rd(t, 0x10, 4);
	hi = cfg_rd(t, 0x14, 4);
	assert_int_equal(lo & 0xf, 0x4); /* memory, 64-bit, not prefetchable */
	assert_int_equal(~((u64)hi << 32 | (lo & ~0xfu)) + 1, VIRTIO_PCI_BAR_SIZE);
	cfg_wr(t, 0x10, 4, (u32)BAR_BASE);
	cfg_wr(t, 0x14, 4, (u32)(BAR_BASE >> 32));
	cfg_wr(t, 0x04, 2, cfg_rd(t, 0x04, 2) | 0x6);
	assert_int_equal(virtio_pci_bar_base(&t->dev->pci), BAR_BASE);
}

/* virtio_pci_find_capability() and vp_modern_probe(): the first of each type. */
static void find_caps(struct t *t)
{
	u32 pos = cfg_rd(t, 0x34, 1) & ~3u, ttl = 48, seen = 0;

	assert_true(cfg_rd(t, 0x06, 2) & BIT(4)); /* capabilities list */
	while (pos >= 0x40 && ttl--) {
		u32 id = cfg_rd(t, pos, 1), type = cfg_rd(t, pos + 3, 1);
		u32 off = cfg_rd(t, pos + 8, 4);

		if (id == 0x11)
			t->msix_cap = pos;
		if (id == 0x09 && !(seen & BIT(type))) {
			seen |= BIT(type);
			assert_int_equal(cfg_rd(t, pos + 4, 1), 0); /* BAR0 */
			switch (type) {
			case 1:
				t->common = off;
				break;
			case 2:
				t->notify = off;
				t->notify_mult = cfg_rd(t, pos + 16, 4);
				break;
			case 3:
				t->isr = off;
				break;
			case 4:
				t->device = off;
				break;
			case 5:
				t->window_cap = pos;
				break;
			}
		}
		pos = cfg_rd(t, pos + 1, 1) & ~3u;
	}
	assert_int_equal(seen, 0x3e); /* types 1-5 */
	assert_int_not_equal(t->msix_cap, 0);
	t->msix_size = (cfg_rd(t, t->msix_cap + 2, 2) & 0x7ff) + 1;
	t->msix_table = cfg_rd(t, t->msix_cap + 4, 4);
	t->msix_pba = cfg_rd(t, t->msix_cap + 8, 4);
}

static void msix_entry(struct t *t, u32 v, u64 addr, u32 data, bool masked)
{
	u64 e = BAR_BASE + t->msix_table + 16ULL * v;

	mmio_wr(t, e, 4, (u32)addr);
	mmio_wr(t, e + 4, 4, (u32)(addr >> 32));
	mmio_wr(t, e + 8, 4, data);
	mmio_wr(t, e + 12, 4, masked);
}

/* pci_alloc_irq_vectors(): enable with all masked, program, unmask. */
static void msix_enable(struct t *t)
{
	cfg_wr(t, t->msix_cap + 2, 2, BIT(15) | BIT(14));
	for (u32 v = 0; v < t->msix_size; v++)
		msix_entry(t, v, MSI_ADDR(v), MSI_DATA(v), false);
	cfg_wr(t, t->msix_cap + 2, 2, BIT(15));
}

static u64 read_features(struct t *t)
{
	cc_wr(t, CC_DFSELECT, 4, 0);
	u64 lo = cc_rd(t, CC_DF, 4);
	cc_wr(t, CC_DFSELECT, 4, 1);
	return lo | cc_rd(t, CC_DF, 4) << 32;
}

static void write_features(struct t *t, u64 f)
{
	cc_wr(t, CC_GFSELECT, 4, 0);
	cc_wr(t, CC_GF, 4, (u32)f);
	cc_wr(t, CC_GFSELECT, 4, 1);
	cc_wr(t, CC_GF, 4, (u32)(f >> 32));
}

/* Reset, then ACKNOWLEDGE | DRIVER, features; true if FEATURES_OK stuck. */
static bool negotiate(struct t *t, u64 accept)
{
	cc_wr(t, CC_STATUS, 1, 0);
	assert_int_equal(status_rd(t), 0);
	cc_wr(t, CC_STATUS, 1, S_ACK);
	cc_wr(t, CC_STATUS, 1, S_ACK | S_DRIVER);
	t->features = read_features(t) & accept;
	write_features(t, t->features);
	cc_wr(t, CC_STATUS, 1, S_ACK | S_DRIVER | S_FEAT_OK);
	return status_rd(t) & S_FEAT_OK;
}

/* vp_modern setup_vq() and find_vqs(): config vector 0, queue vector 1. */
static void setup_queue(struct t *t, u16 qsize)
{
	memset(t->ram + DESC, 0, USED + 0x1000 - DESC); /* rings come zeroed */
	msix_enable(t);
	cc_wr(t, CC_MSIX, 2, 0);
	assert_int_equal(cc_rd(t, CC_MSIX, 2), 0);
	cc_wr(t, CC_QSELECT, 2, 0);
	assert_int_equal(cc_rd(t, CC_QSIZE, 2), VQ_MAX_SIZE);
	assert_int_equal(cc_rd(t, CC_QENABLE, 2), 0);
	cc_wr(t, CC_QSIZE, 2, qsize);
	cc_wr64(t, CC_QDESC, DESC);
	cc_wr64(t, CC_QDRIVER, AVAIL);
	cc_wr64(t, CC_QDEVICE, USED);
	cc_wr(t, CC_QMSIX, 2, 1);
	assert_int_equal(cc_rd(t, CC_QMSIX, 2), 1);
	t->notify_off = (u16)cc_rd(t, CC_QNOTIFY, 2);
	cc_wr(t, CC_QENABLE, 2, 1);
	t->qsize = qsize;
	t->avail_idx = 0;
	t->used_seen = 0;
	t->next_desc = 0;
}

static void driver_ok(struct t *t)
{
	cc_wr(t, CC_STATUS, 1, S_ACK | S_DRIVER | S_FEAT_OK | S_DRV_OK);
	assert_int_equal(status_rd(t), S_ACK | S_DRIVER | S_FEAT_OK | S_DRV_OK);
}

/* The whole probe of a Linux guest, accepting every offered feature. */
static struct t *t_up(void **state, const struct opts *o, u16 qsize)
{
	struct t *t = t_new(o);

	*state = t;
	assign_bar(t);
	find_caps(t);
	assert_true(negotiate(t, ~0ULL));
	setup_queue(t, qsize);
	driver_ok(t);
	return t;
}

/* ---- requests ---- */

struct seg {
	u64 gpa;
	u32 len;
	bool write; /* device-writable */
};

static void desc_at(struct t *t, u64 gpa, u64 addr, u32 len, u16 flags, u16 next)
{
	put64(t, gpa, addr);
	put32(t, gpa + 8, len);
	put16(t, gpa + 12, flags);
	put16(t, gpa + 14, next);
}

/* Put a chain of n segments on the ring (or in an indirect table) and offer it. */
static u16 offer(struct t *t, const struct seg *s, u32 n, bool indirect)
{
	u16 head = t->next_desc;

	if (indirect) {
		u64 table = TABLE + 64ULL * head;

		for (u32 i = 0; i < n; i++)
			desc_at(t, table + 16ULL * i, s[i].gpa, s[i].len,
				(i + 1 < n ? F_NEXT : 0) | (s[i].write ? F_WRITE : 0),
				(u16)(i + 1));
		desc_at(t, DESC + 16ULL * head, table, 16 * n, F_IND, 0);
		t->next_desc = (u16)((head + 1) % t->qsize);
	} else {
		for (u32 i = 0; i < n; i++) {
			u16 d = t->next_desc, next = (u16)((d + 1) % t->qsize);

			desc_at(t, DESC + 16ULL * d, s[i].gpa, s[i].len,
				(i + 1 < n ? F_NEXT : 0) | (s[i].write ? F_WRITE : 0), next);
			t->next_desc = next;
		}
	}
	put16(t, AVAIL + 4 + 2ULL * (t->avail_idx % t->qsize), head);
	t->avail_idx++;
	put16(t, AVAIL + 2, t->avail_idx);
	return head;
}

static void put_hdr(struct t *t, u32 id, u32 type, u64 sector)
{
	put32(t, HDR + 32ULL * id, type);
	put32(t, HDR + 32ULL * id + 4, 0);
	put64(t, HDR + 32ULL * id + 8, sector);
	t->ram[STATUS + id] = SENTINEL;
}

/* virtblk_add_req(): header, data (direction by type), status. */
static u16 blk_req(struct t *t, u32 id, u32 type, u64 sector, u64 data, u32 len, bool indirect)
{
	struct seg s[3] = { { HDR + 32ULL * id, 16, false } };
	bool dev_writes = type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID;
	u32 n = 1;

	put_hdr(t, id, type, sector);
	if (len)
		s[n++] = (struct seg){ data, len, dev_writes };
	s[n++] = (struct seg){ STATUS + id, 1, true };
	return offer(t, s, n, indirect);
}

static bool kick(struct t *t)
{
	return mmio_wr(t, BAR_BASE + t->notify + (u64)t->notify_off * t->notify_mult, 2, 0);
}

static bool run(struct t *t)
{
	kick(t);
	return virtio_blk_process(t->dev);
}

static u16 used_idx(struct t *t)
{
	return get16(t, USED + 2);
}

/* The next used element is (head, len). */
static void expect_used(struct t *t, u16 head, u32 len)
{
	u64 e = USED + 4 + 8ULL * (t->used_seen % t->qsize);

	assert_true((u16)(used_idx(t) - t->used_seen) > 0);
	assert_int_equal(get32(t, e), head);
	assert_int_equal(get32(t, e + 4), len);
	t->used_seen++;
}

static u8 status_of(struct t *t, u32 id)
{
	return t->ram[STATUS + id];
}

/* One request, run to completion with the synchronous disk; its status. */
static u8 do_req(struct t *t, u32 type, u64 sector, u64 data, u32 len)
{
	u16 head = blk_req(t, 0, type, sector, data, len, false);
	u8 st;

	run(t);
	st = status_of(t, 0);
	expect_used(t, head, type == VIRTIO_BLK_T_IN && st == VIRTIO_BLK_S_OK ? len + 1 : 1);
	return st;
}

static bool last_msi_is(struct t *t, u32 v)
{
	return t->nr_msi && t->msi[t->nr_msi - 1].addr == MSI_ADDR(v) &&
	       t->msi[t->nr_msi - 1].data == MSI_DATA(v);
}

/* ---- configuration space ---- */

static void test_config_header(void **state)
{
	struct t *t = *state = t_new(&default_opts);

	assert_int_equal(cfg_rd(t, 0x00, 2), 0x1af4);
	assert_int_equal(cfg_rd(t, 0x02, 2), 0x1042);
	assert_int_equal(cfg_rd(t, 0x08, 1), 0x01);   /* revision */
	assert_int_equal(cfg_rd(t, 0x09, 1), 0x00);   /* prog-if */
	assert_int_equal(cfg_rd(t, 0x0a, 2), 0x0180); /* class 01, subclass 80 */
	assert_int_equal(cfg_rd(t, 0x0e, 1), 0x00);   /* header type 0, single function */
	assert_int_equal(cfg_rd(t, 0x2c, 2), 0x1af4);
	assert_int_equal(cfg_rd(t, 0x2e, 2), 0x1100);
	assert_int_equal(cfg_rd(t, 0x3d, 1), 0x00); /* no INTx pin */
	assert_int_equal(cfg_rd(t, 0x06, 2), BIT(4));
	assert_int_equal(cfg_rd(t, 0x04, 2), 0); /* decoding off at power-on */
	assert_int_equal(cfg_rd(t, 0x18, 4), 0); /* BAR2-5 and the ROM BAR absent */
	assert_int_equal(cfg_rd(t, 0x30, 4), 0);
	assert_int_equal(virtio_pci_bar_base(&t->dev->pci), 0);

	/* read-only registers keep their value */
	cfg_wr(t, 0x00, 4, 0x12345678);
	cfg_wr(t, 0x08, 4, 0xffffffff);
	cfg_wr(t, 0x3d, 1, 1);
	assert_int_equal(cfg_rd(t, 0x00, 4), 0x10421af4);
	assert_int_equal(cfg_rd(t, 0x08, 4), 0x01800001);
	assert_int_equal(cfg_rd(t, 0x3d, 1), 0);
	/* command keeps memory, master, INTx disable only; interrupt line is scratch */
	cfg_wr(t, 0x04, 2, 0xffff);
	assert_int_equal(cfg_rd(t, 0x04, 2), 0x0406);
	cfg_wr(t, 0x3c, 1, 11);
	assert_int_equal(cfg_rd(t, 0x3c, 1), 11);
	/* past the capabilities: zero, writes dropped */
	cfg_wr(t, 0xf0, 4, 0xdeadbeef);
	assert_int_equal(cfg_rd(t, 0xf0, 4), 0);
	assert_int_equal(t->dev->pci.stats.cfg_invalid, 0);
}

static void test_config_invalid_access(void **state)
{
	struct t *t = *state = t_new(&default_opts);

	assert_int_equal(cfg_rd(t, 0x01, 2), 0xffff); /* misaligned */
	assert_int_equal(cfg_rd(t, 0x02, 4), 0xffffffff);
	assert_int_equal(cfg_rd(t, 0x00, 3), 0xffffffff);  /* bad size */
	assert_int_equal(cfg_rd(t, 0x100, 4), 0xffffffff); /* past 256 */
	assert_int_equal(cfg_rd(t, 0xff, 1), 0);	   /* last byte is fine */
	cfg_wr(t, 0x03, 2, 0x0006);			   /* misaligned command write */
	cfg_wr(t, 0x04, 8, 0x6);
	assert_int_equal(cfg_rd(t, 0x04, 2), 0);
	assert_int_equal(t->dev->pci.stats.cfg_invalid, 6);
}

static void test_capabilities(void **state)
{
	struct t *t = *state = t_new(&default_opts);

	find_caps(t);
	assert_int_equal(t->common, 0x0000);
	assert_int_equal(t->isr, 0x1000);
	assert_int_equal(t->device, 0x2000);
	assert_int_equal(t->notify, 0x3000);
	assert_int_equal(t->notify_mult, 4);
	assert_int_equal(t->msix_size, 2);	 /* config + one queue */
	assert_int_equal(t->msix_table, 0x3800); /* BIR 0 */
	assert_int_equal(t->msix_pba, 0x3c00);
	/* the MSI-X capability ends the list */
	assert_int_equal(cfg_rd(t, t->msix_cap + 1, 1), 0);
	/* lengths: common cfg covers virtio 1.0's fields, notify covers queue 0 */
	for (u32 pos = cfg_rd(t, 0x34, 1); pos; pos = cfg_rd(t, pos + 1, 1)) {
		if (cfg_rd(t, pos, 1) != 0x09 || cfg_rd(t, pos + 3, 1) == 5)
			continue;
		assert_true(cfg_rd(t, pos + 12, 4) >= (cfg_rd(t, pos + 3, 1) == 2 ? 2 : 1));
		assert_true(cfg_rd(t, pos + 8, 4) + cfg_rd(t, pos + 12, 4) <= 0x3800);
		/* read-only for the driver (4.1.4) */
		cfg_wr(t, pos + 8, 4, 0x100);
		assert_int_not_equal(cfg_rd(t, pos + 8, 4), 0x100);
	}
	assert_true(cfg_rd(t, 0x40 + 12, 4) >= 0x38);
	/* MSI-X message control: only enable and function mask are writable */
	cfg_wr(t, t->msix_cap + 2, 2, 0xffff);
	assert_int_equal(cfg_rd(t, t->msix_cap + 2, 2), BIT(15) | BIT(14) | 1);
}

static void test_bar_sizing_and_decoding(void **state)
{
	struct t *t = *state = t_new(&default_opts);

	assert_int_equal(cfg_rd(t, 0x10, 4), 0x4); /* unassigned: type bits only */
	cfg_wr(t, 0x10, 4, 0xffffffff);
	assert_int_equal(cfg_rd(t, 0x10, 4), 0xffffc004);
	cfg_wr(t, 0x14, 4, 0xffffffff);
	assert_int_equal(cfg_rd(t, 0x14, 4), 0xffffffff);
	cfg_wr(t, 0x04, 2, 0x2);
	assert_int_equal(virtio_pci_bar_base(&t->dev->pci), 0); /* the sizing pattern is no base */
	/* the low bits are read-only, byte writes merge */
	cfg_wr(t, 0x10, 4, 0xfebf1fff);
	assert_int_equal(cfg_rd(t, 0x10, 4), 0xfebf0004);
	cfg_wr(t, 0x14, 4, 0);
	cfg_wr(t, 0x13, 1, 0xfd);
	assert_int_equal(virtio_pci_bar_base(&t->dev->pci), 0xfdbf0000);
	/* memory decoding off: no base, BAR reads all-ones, writes dropped */
	cfg_wr(t, 0x04, 2, 0x4);
	assert_int_equal(virtio_pci_bar_base(&t->dev->pci), 0);
	assert_int_equal(virtio_pci_bar_read(&t->dev->pci, CC_NUMQ, 2), 0xffff);
	virtio_pci_bar_write(&t->dev->pci, CC_STATUS, 1, S_ACK);
	assert_int_equal(t->dev->pci.stats.bar_disabled, 2);
	cfg_wr(t, 0x04, 2, 0x2);
	assert_int_equal(virtio_pci_bar_read(&t->dev->pci, CC_NUMQ, 2), 1);
	assert_int_equal(virtio_pci_bar_read(&t->dev->pci, CC_STATUS, 1), 0);
	/* a base of 0 is unassigned */
	cfg_wr(t, 0x10, 4, 0);
	cfg_wr(t, 0x14, 4, 0);
	assert_int_equal(virtio_pci_bar_base(&t->dev->pci), 0);
}

static void test_bar_invalid_access(void **state)
{
	struct t *t = *state = t_new(&default_opts);
	struct virtio_pci *vp;

	assign_bar(t);
	find_caps(t);
	vp = &t->dev->pci;
	assert_int_equal(virtio_pci_bar_read(vp, 0x01, 2), 0xffff);
	assert_int_equal(virtio_pci_bar_read(vp, 0x04, 8), ~0ULL);
	assert_int_equal(virtio_pci_bar_read(vp, 0x00, 3), ~0ULL);
	assert_int_equal(virtio_pci_bar_read(vp, 0x00, 16), ~0ULL);
	assert_int_equal(virtio_pci_bar_read(vp, VIRTIO_PCI_BAR_SIZE, 1), 0xff);
	assert_int_equal(virtio_pci_bar_read(vp, ~0ULL - 3, 4), 0xffffffff);
	assert_int_equal(virtio_pci_bar_read(vp, 0x3800, 2), 0xffff); /* MSI-X: dword/qword */
	assert_int_equal(vp->stats.bar_invalid, 7);
	/* invalid writes change nothing */
	virtio_pci_bar_write(vp, CC_STATUS + 1, 2, 0x0101);
	virtio_pci_bar_write(vp, 0x380c, 1, 0);
	/* a write of the wrong width for the field: dropped and counted */
	virtio_pci_bar_write(vp, CC_STATUS, 2, S_ACK);
	virtio_pci_bar_write(vp, CC_QSELECT, 4, 0x10000);
	virtio_pci_bar_write(vp, CC_QSIZE, 1, 16);
	assert_int_equal(vp->stats.bar_invalid, 12);
	assert_int_equal(status_rd(t), 0);
	assert_int_equal(cc_rd(t, CC_QSIZE, 2), 256);
	assert_int_equal(mmio_rd(t, BAR_BASE + 0x380c, 4), 1); /* still masked */
	/* reads of any aligned size are served, fields assemble little-endian */
	assert_int_equal(cc_rd(t, CC_MSIX, 4), 1u << 16 | VIRTIO_MSI_NO_VECTOR);
	assert_int_equal(cc_rd(t, CC_QSIZE, 4), (u32)VIRTIO_MSI_NO_VECTOR << 16 | 256);
	cc_wr(t, CC_DFSELECT, 4, 1);
	assert_int_equal(cc_rd(t, CC_DFSELECT, 8), 1ULL << 32 | 1); /* select 1, VERSION_1 */
	/* read-only fields ignore writes */
	cc_wr(t, CC_NUMQ, 2, 7);
	cc_wr(t, CC_DF, 4, 0);
	assert_int_equal(cc_rd(t, CC_NUMQ, 2), 1);
	assert_int_equal(read_features(t) >> 32, 1);
	/* device configuration and ISR are read-only */
	mmio_wr(t, BAR_BASE + 0x2000, 4, 0);
	assert_int_equal(mmio_rd(t, BAR_BASE + 0x2000, 4), DISK_SIZE / 512);
}

/* ---- status handshake and features ---- */

static void test_handshake_and_config(void **state)
{
	struct t *t = t_up(state, &default_opts, 256);
	u64 f = t->features;
	u64 dev_cfg = BAR_BASE + t->device;

	assert_true(f & BIT(VIRTIO_F_VERSION_1));
	assert_true(f & BIT(VIRTIO_RING_F_INDIRECT_DESC));
	assert_false(f & BIT(VIRTIO_RING_F_EVENT_IDX));
	assert_true(f & BIT(VIRTIO_BLK_F_SEG_MAX));
	assert_true(f & BIT(VIRTIO_BLK_F_SIZE_MAX));
	assert_true(f & BIT(VIRTIO_BLK_F_BLK_SIZE));
	assert_true(f & BIT(VIRTIO_BLK_F_FLUSH));
	assert_false(f & (BIT(VIRTIO_BLK_F_RO) | BIT(VIRTIO_BLK_F_DISCARD) |
			  BIT(VIRTIO_BLK_F_WRITE_ZEROES)));
	/* the features read back as written; select 2 shows nothing */
	cc_wr(t, CC_GFSELECT, 4, 1);
	assert_int_equal(cc_rd(t, CC_GF, 4), 1);
	cc_wr(t, CC_DFSELECT, 4, 2);
	assert_int_equal(cc_rd(t, CC_DF, 4), 0);
	/* capacity as two 32-bit halves (vp_get), the limits */
	assert_int_equal(mmio_rd(t, dev_cfg, 4) | mmio_rd(t, dev_cfg + 4, 4) << 32,
			 DISK_SIZE / 512);
	assert_int_equal(mmio_rd(t, dev_cfg + VIRTIO_BLK_CFG_SEG_MAX, 4), 128);
	assert_int_equal(mmio_rd(t, dev_cfg + VIRTIO_BLK_CFG_SIZE_MAX, 4), 1 * MiB);
	assert_int_equal(mmio_rd(t, dev_cfg + VIRTIO_BLK_CFG_BLK_SIZE, 4), 512);
	assert_int_equal(mmio_rd(t, dev_cfg + VIRTIO_BLK_CFG_MAX_DISCARD_SEG, 4), 0);
	assert_int_equal(mmio_rd(t, dev_cfg + 0x100, 4), 0);
	assert_int_equal(cc_rd(t, CC_QENABLE, 2), 1);
	assert_int_equal(cc_rd(t, CC_QNOTIFY, 2), 0);
	/* queue registers are frozen once enabled */
	cc_wr(t, CC_QSIZE, 2, 8);
	cc_wr64(t, CC_QDESC, 0x1000);
	assert_int_equal(cc_rd(t, CC_QSIZE, 2), 256);
	assert_int_equal(cc_rd(t, CC_QDESC, 8), DESC);
	/* a queue that does not exist */
	cc_wr(t, CC_QSELECT, 2, 1);
	assert_int_equal(cc_rd(t, CC_QSIZE, 2), 0);
	cc_wr(t, CC_QENABLE, 2, 1);
	assert_int_equal(cc_rd(t, CC_QENABLE, 2), 0);
	/* features are frozen after FEATURES_OK */
	write_features(t, 0);
	cc_wr(t, CC_GFSELECT, 4, 0);
	assert_int_equal(cc_rd(t, CC_GF, 4), (u32)f);
}

static void test_features_ok_refused(void **state)
{
	struct t *t = *state = t_new(&default_opts);

	assign_bar(t);
	find_caps(t);
	/* a legacy-minded driver: no VERSION_1 */
	assert_false(negotiate(t, ~BIT(VIRTIO_F_VERSION_1)));
	assert_int_equal(t->dev->pci.stats.features_refused, 1);
	assert_int_equal(virtio_pci_features(&t->dev->pci), 0);
	/* a feature the device never offered */
	cc_wr(t, CC_STATUS, 1, 0);
	cc_wr(t, CC_STATUS, 1, S_ACK | S_DRIVER);
	write_features(t, read_features(t) | BIT(VIRTIO_RING_F_EVENT_IDX));
	cc_wr(t, CC_STATUS, 1, S_ACK | S_DRIVER | S_FEAT_OK);
	assert_int_equal(status_rd(t), S_ACK | S_DRIVER);
	assert_int_equal(t->dev->pci.stats.features_refused, 2);
	/* DRIVER_OK without FEATURES_OK: the device stays idle */
	setup_queue(t, 16);
	cc_wr(t, CC_STATUS, 1, S_ACK | S_DRIVER | S_DRV_OK);
	blk_req(t, 0, VIRTIO_BLK_T_IN, 0, DATA, 512, false);
	run(t);
	assert_int_equal(used_idx(t), 0);
	assert_int_equal(t->disk.nr_log, 0);
	/* after a reset a correct driver gets through */
	assert_true(negotiate(t, ~0ULL));
	setup_queue(t, 16);
	driver_ok(t);
	assert_int_equal(do_req(t, VIRTIO_BLK_T_IN, 0, DATA, 512), VIRTIO_BLK_S_OK);
}

static void test_reset_state(void **state)
{
	struct t *t = t_up(state, &default_opts, 64);
	u32 gen = t->dev->pci.generation;

	cc_wr(t, CC_STATUS, 1, 0);
	assert_int_equal(status_rd(t), 0); /* complete at once */
	assert_int_equal(t->dev->pci.generation, gen + 1);
	assert_int_equal(cc_rd(t, CC_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	assert_int_equal(cc_rd(t, CC_QSIZE, 2), 256);
	assert_int_equal(cc_rd(t, CC_QENABLE, 2), 0);
	assert_int_equal(cc_rd(t, CC_QMSIX, 2), VIRTIO_MSI_NO_VECTOR);
	assert_int_equal(cc_rd(t, CC_QDESC, 8), 0);
	cc_wr(t, CC_GFSELECT, 4, 1);
	assert_int_equal(cc_rd(t, CC_GF, 4), 0);
	/* PCI state survives a device reset; a function reset clears it */
	assert_int_equal(virtio_pci_bar_base(&t->dev->pci), BAR_BASE);
	assert_int_equal(cfg_rd(t, t->msix_cap + 2, 2) & BIT(15), BIT(15));
	virtio_blk_reset(t->dev);
	assert_int_equal(virtio_pci_bar_base(&t->dev->pci), 0);
	assert_int_equal(cfg_rd(t, 0x04, 2), 0);
	assert_int_equal(cfg_rd(t, 0x10, 4), 0x4);
	assert_int_equal(cfg_rd(t, t->msix_cap + 2, 2), 1);
	assert_int_equal(t->dev->pci.generation, gen + 2);
}

/* ---- requests ---- */

static void test_read_write_round_trip(void **state)
{
	struct t *t = t_up(state, &default_opts, 256);
	u8 pattern[8192];

	fill_pattern(pattern, sizeof(pattern), 99);
	memcpy(t->ram + DATA, pattern, sizeof(pattern));
	assert_int_equal(do_req(t, VIRTIO_BLK_T_OUT, 16, DATA, 8192), VIRTIO_BLK_S_OK);
	assert_memory_equal(t->disk.bytes + 16 * 512, pattern, sizeof(pattern));
	assert_true(last_msi_is(t, 1));

	memset(t->ram + DATA + 0x10000, 0, 8192 + 1);
	assert_int_equal(do_req(t, VIRTIO_BLK_T_IN, 16, DATA + 0x10000, 8192), VIRTIO_BLK_S_OK);
	assert_memory_equal(t->ram + DATA + 0x10000, pattern, sizeof(pattern));
	assert_int_equal(t->ram[DATA + 0x10000 + 8192], 0); /* not a byte further */
	/* the last sector of the disk */
	assert_int_equal(do_req(t, VIRTIO_BLK_T_IN, DISK_SIZE / 512 - 1, DATA, 512),
			 VIRTIO_BLK_S_OK);
	assert_memory_equal(t->ram + DATA, t->disk.bytes + DISK_SIZE - 512, 512);
	assert_int_equal(t->nr_msi, 3);
	assert_int_equal(t->dev->stats.ok, 3);
	assert_int_equal(t->dev->stats.bytes_written, 8192);
	assert_int_equal(t->dev->stats.bytes_read, 8192 + 512);
	/* FLUSH negotiated: writes are not forced to stable storage */
	assert_false(t->disk.log[0].fua);
}

static void test_flush_waits_for_backend(void **state)
{
	struct t *t = t_up(state, &default_opts, 256);
	u16 w, f;

	t->disk.hold = true;
	w = blk_req(t, 1, VIRTIO_BLK_T_OUT, 0, DATA, 4096, false);
	f = blk_req(t, 2, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false);
	run(t);
	/* submitted in arrival order: the write, then the flush */
	assert_int_equal(t->disk.nr_log, 2);
	assert_int_equal(t->disk.log[0].op, BLK_OP_WRITE);
	assert_int_equal(t->disk.log[1].op, BLK_OP_FLUSH);
	assert_int_equal(t->disk.log[1].length, 0);
	complete_held(t, 0, 0);
	virtio_blk_process(t->dev);
	expect_used(t, w, 1);
	assert_int_equal(status_of(t, 2), SENTINEL); /* not before the backend's flush */
	assert_int_equal(used_idx(t), 1);
	complete_held(t, 0, 0);
	virtio_blk_process(t->dev);
	expect_used(t, f, 1);
	assert_int_equal(status_of(t, 2), VIRTIO_BLK_S_OK);
	/* a failed flush is an I/O error */
	blk_req(t, 3, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false);
	run(t);
	complete_held(t, 0, -EIO);
	virtio_blk_process(t->dev);
	assert_int_equal(status_of(t, 3), VIRTIO_BLK_S_IOERR);
}

/* 5.2.6.2: FLUSH offered but not negotiated means write-through: FUA on every write. */
static void test_no_flush_negotiated_means_fua(void **state)
{
	struct t *t = *state = t_new(&default_opts);

	assign_bar(t);
	find_caps(t);
	assert_true(negotiate(t, ~BIT(VIRTIO_BLK_F_FLUSH)));
	setup_queue(t, 16);
	driver_ok(t);
	assert_int_equal(do_req(t, VIRTIO_BLK_T_OUT, 0, DATA, 512), VIRTIO_BLK_S_OK);
	assert_true(t->disk.log[0].fua);
}

/* A backend without a cache: FLUSH completes without reaching it. */
static void test_flush_without_backend_flush(void **state)
{
	struct opts o = default_opts;
	struct t *t;

	o.can_flush = false;
	t = t_up(state, &o, 16);
	assert_true(t->features & BIT(VIRTIO_BLK_F_FLUSH));
	assert_int_equal(do_req(t, VIRTIO_BLK_T_FLUSH, 0, 0, 0), VIRTIO_BLK_S_OK);
	assert_int_equal(do_req(t, VIRTIO_BLK_T_OUT, 0, DATA, 512), VIRTIO_BLK_S_OK);
	assert_int_equal(t->disk.nr_log, 1);
	assert_false(t->disk.log[0].fua);
}

static void test_get_id(void **state)
{
	struct t *t = t_up(state, &default_opts, 16);
	u16 head;

	memset(t->ram + DATA, GUARD, 64);
	head = blk_req(t, 0, VIRTIO_BLK_T_GET_ID, 0, DATA, 20, false);
	run(t);
	expect_used(t, head, 21);
	assert_int_equal(status_of(t, 0), VIRTIO_BLK_S_OK);
	assert_memory_equal(t->ram + DATA, "hv-disk-0123456789AB", 20);
	assert_int_equal(t->ram[DATA + 20], GUARD);
	/* too short a buffer: IOERR, nothing written */
	memset(t->ram + DATA, GUARD, 64);
	head = blk_req(t, 0, VIRTIO_BLK_T_GET_ID, 0, DATA, 19, false);
	run(t);
	expect_used(t, head, 1);
	assert_int_equal(status_of(t, 0), VIRTIO_BLK_S_IOERR);
	assert_int_equal(t->ram[DATA], GUARD);
	assert_int_equal(t->disk.nr_log, 0);
	assert_int_equal(t->dev->stats.get_ids, 2);
}

/*
 * 2.6.4: no assumption on framing. A write whose header is split in two,
 * whose data is three odd-sized pieces, and a read whose data shares its last
 * descriptor with the status byte.
 */
static void test_multi_segment_framing(void **state)
{
	struct t *t = t_up(state, &default_opts, 256);
	u8 pattern[4096];
	struct seg w[] = {
		{ HDR, 8, false },
		{ HDR + 8, 8, false },
		{ DATA + 0x3000, 1000, false },
		{ DATA + 0x1000, 2000, false },
		{ DATA + 0x7ff0, 1096, false },
		{ STATUS, 1, true },
	};
	struct seg r[] = {
		{ HDR + 32, 16, false },
		{ DATA + 0x20000, 3000, true },
		{ DATA + 0x30000, 1096 + 1, true }, /* data tail and status */
	};
	u16 head;

	fill_pattern(pattern, sizeof(pattern), 5);
	memcpy(t->ram + DATA + 0x3000, pattern, 1000);
	memcpy(t->ram + DATA + 0x1000, pattern + 1000, 2000);
	memcpy(t->ram + DATA + 0x7ff0, pattern + 3000, 1096);
	put_hdr(t, 0, VIRTIO_BLK_T_OUT, 100);
	head = offer(t, w, ARRAY_SIZE(w), false);
	run(t);
	expect_used(t, head, 1);
	assert_int_equal(status_of(t, 0), VIRTIO_BLK_S_OK);
	assert_memory_equal(t->disk.bytes + 100 * 512, pattern, sizeof(pattern));

	put_hdr(t, 1, VIRTIO_BLK_T_IN, 100);
	t->ram[DATA + 0x30000 + 1096] = SENTINEL;
	head = offer(t, r, ARRAY_SIZE(r), true);
	run(t);
	expect_used(t, head, 4097);
	assert_int_equal(t->ram[DATA + 0x30000 + 1096], VIRTIO_BLK_S_OK);
	assert_memory_equal(t->ram + DATA + 0x20000, pattern, 3000);
	assert_memory_equal(t->ram + DATA + 0x30000, pattern + 3000, 1096);
}

static void test_indirect(void **state)
{
	struct t *t = t_up(state, &default_opts, 16);
	u16 head;

	head = blk_req(t, 0, VIRTIO_BLK_T_IN, 3, DATA, 1024, true);
	run(t);
	expect_used(t, head, 1025);
	assert_int_equal(status_of(t, 0), VIRTIO_BLK_S_OK);
	assert_memory_equal(t->ram + DATA, t->disk.bytes + 3 * 512, 1024);
	/* the indirect table held all three buffers: one ring descriptor used */
	assert_int_equal(get16(t, DESC + 12), F_IND);
	assert_int_equal(get32(t, DESC + 8), 48);
}

static void test_split_at_max_io(void **state)
{
	struct opts o = default_opts;
	struct t *t;
	u8 pattern[20480];

	o.max_io = 8192;
	t = t_up(state, &o, 16);
	fill_pattern(pattern, sizeof(pattern), 42);
	memcpy(t->ram + DATA, pattern, sizeof(pattern));
	assert_int_equal(do_req(t, VIRTIO_BLK_T_OUT, 40, DATA, sizeof(pattern)), VIRTIO_BLK_S_OK);
	assert_int_equal(t->disk.nr_log, 3);
	assert_int_equal(t->disk.log[0].offset, 40 * 512);
	assert_int_equal(t->disk.log[0].length, 8192);
	assert_int_equal(t->disk.log[1].offset, 40 * 512 + 8192);
	assert_int_equal(t->disk.log[1].length, 8192);
	assert_int_equal(t->disk.log[2].offset, 40 * 512 + 16384);
	assert_int_equal(t->disk.log[2].length, 4096);
	assert_memory_equal(t->disk.bytes + 40 * 512, pattern, sizeof(pattern));
	memset(t->ram + DATA, 0, sizeof(pattern));
	assert_int_equal(do_req(t, VIRTIO_BLK_T_IN, 40, DATA, sizeof(pattern)), VIRTIO_BLK_S_OK);
	assert_memory_equal(t->ram + DATA, pattern, sizeof(pattern));
}

static void test_out_of_order_completion(void **state)
{
	struct t *t = t_up(state, &default_opts, 16);
	u16 head[3];

	t->disk.hold = true;
	for (u32 i = 0; i < 3; i++)
		head[i] = blk_req(t, i, VIRTIO_BLK_T_IN, 8 * i, DATA + 0x1000 * i, 4096, false);
	run(t);
	assert_int_equal(t->disk.nr_held, 3);
	assert_int_equal(used_idx(t), 0);
	complete_held(t, 2, 0); /* the third */
	virtio_blk_process(t->dev);
	expect_used(t, head[2], 4097);
	assert_int_equal(status_of(t, 2), VIRTIO_BLK_S_OK);
	assert_int_equal(status_of(t, 0), SENTINEL);
	assert_int_equal(t->nr_msi, 1);
	complete_held(t, 0, 0); /* the first */
	complete_held(t, 0, 0); /* the second */
	virtio_blk_process(t->dev);
	expect_used(t, head[0], 4097);
	expect_used(t, head[1], 4097);
	assert_int_equal(t->nr_msi, 2); /* one interrupt for both */
	for (u32 i = 0; i < 3; i++)
		assert_memory_equal(t->ram + DATA + 0x1000 * i, t->disk.bytes + 4096 * i, 4096);
}

/* The backend says -EBUSY: nothing is dropped, the rest goes out later in order. */
static void test_backend_busy_resume(void **state)
{
	struct t *t = t_up(state, &default_opts, 64);

	t->disk.hold = true;
	t->disk.max_held = 3;
	for (u32 i = 0; i < 10; i++) {
		fill_pattern(t->ram + DATA + 0x1000 * i, 4096, i);
		blk_req(t, i, VIRTIO_BLK_T_OUT, 8 * i, DATA + 0x1000 * i, 4096, false);
	}
	assert_true(run(t));
	assert_int_equal(t->disk.nr_held, 3);
	assert_true(t->disk.busy_answers >= 1);
	/* the chain the backend refused is held, the later ones not taken */
	assert_int_equal(t->dev->pci.q[0].vq.last_avail, 4);
	while (t->disk.nr_held) {
		complete_all(t);
		virtio_blk_process(t->dev);
	}
	assert_false(virtio_blk_process(t->dev));
	assert_int_equal(used_idx(t), 10);
	for (u32 i = 0; i < 10; i++) {
		assert_int_equal(status_of(t, i), VIRTIO_BLK_S_OK);
		assert_int_equal(t->disk.log[i].offset, 4096ULL * i); /* arrival order */
		fill_pattern(t->ram + DATA, 4096, i);
		assert_memory_equal(t->disk.bytes + 4096 * i, t->ram + DATA, 4096);
	}
	assert_int_equal(virtio_blk_inflight(t->dev), 0);
}

/* More requests than slots: the device stops taking chains and resumes. */
static void test_slot_exhaustion(void **state)
{
	struct opts o = default_opts;
	const u32 n = 200;
	struct t *t;

	o.bounce_size = 1 * MiB; /* bounce space is taken in pages: room for 256 */
	t = t_up(state, &o, 256);
	t->disk.hold = true;
	for (u32 i = 0; i < n; i++)
		blk_req(t, i, VIRTIO_BLK_T_IN, i % 2048, DATA + 512ULL * i, 512, true);
	assert_true(run(t));
	assert_int_equal(t->disk.nr_held, VIRTIO_BLK_SLOTS);
	assert_int_equal(t->dev->pci.q[0].vq.last_avail, VIRTIO_BLK_SLOTS);
	complete_all(t);
	assert_false(virtio_blk_process(t->dev));
	assert_int_equal(t->disk.nr_held, n - VIRTIO_BLK_SLOTS);
	complete_all(t);
	virtio_blk_process(t->dev);
	assert_int_equal(used_idx(t), n);
	for (u32 i = 0; i < n; i++)
		assert_int_equal(status_of(t, i), VIRTIO_BLK_S_OK);
	assert_memory_equal(t->ram + DATA, t->disk.bytes, 512ULL * n);
}

/* Bounce space bounds the data in flight; an io too big for what is left waits. */
static void test_bounce_exhaustion(void **state)
{
	struct opts o = default_opts;
	struct t *t;

	o.bounce_size = 8192;
	t = t_up(state, &o, 16);
	t->disk.hold = true;
	for (u32 i = 0; i < 4; i++)
		blk_req(t, i, VIRTIO_BLK_T_IN, 8 * i, DATA + 0x2000 * i, 4096, false);
	assert_true(run(t));
	assert_int_equal(t->disk.nr_held, 2);
	complete_held(t, 1, 0);
	assert_true(virtio_blk_process(t->dev));
	assert_int_equal(t->disk.nr_held, 2);
	complete_all(t);
	virtio_blk_process(t->dev);
	complete_all(t);
	assert_false(virtio_blk_process(t->dev));
	assert_int_equal(used_idx(t), 4);
	t->used_seen = 4;
	for (u32 i = 0; i < 4; i++)
		assert_memory_equal(t->ram + DATA + 0x2000 * i, t->disk.bytes + 4096 * i, 4096);
	/* a request larger than the bounce area goes through in pieces */
	t->disk.hold = false;
	assert_int_equal(do_req(t, VIRTIO_BLK_T_IN, 0, DATA, 32768), VIRTIO_BLK_S_OK);
	assert_memory_equal(t->ram + DATA, t->disk.bytes, 32768);
	assert_true(t->dev->stats.stalls > 0);
}

/* ---- hostile chains: the answer, no backend io, no stray write ---- */

/* Submit one chain and check its answer; the RAM outside header/status is untouched. */
static void hostile(struct t *t, const struct seg *s, u32 n, int expect_status, u32 expect_len)
{
	u8 *before = malloc(RAM_SIZE);
	u32 ios = t->disk.nr_log;
	u16 head;

	assert_non_null(before);
	head = offer(t, s, n, false);
	memcpy(before, t->ram, RAM_SIZE);
	run(t);
	expect_used(t, head, expect_len);
	assert_int_equal(t->disk.nr_log, ios);
	if (expect_status >= 0)
		before[STATUS] = (u8)expect_status;
	/* only the used ring and (when answered) the status byte changed */
	memcpy(before + USED, t->ram + USED, 4 + 8 * t->qsize);
	assert_memory_equal(before, t->ram, RAM_SIZE);
	free(before);
}

static void test_hostile_requests(void **state)
{
	struct t *t = t_up(state, &default_opts, 64);
	const u64 sectors = DISK_SIZE / 512;
	struct seg hs = { HDR, 16, false }, st = { STATUS, 1, true };

	memset(t->ram + DATA, GUARD, 0x10000);
	/* data outside RAM: the walker refuses, nothing to answer with */
	put_hdr(t, 0, VIRTIO_BLK_T_IN, 0);
	hostile(t, (struct seg[]){ hs, { RAM_SIZE - 256, 512, true }, st }, 3, -1, 0);
	hostile(t, (struct seg[]){ hs, { ~0ULL - 255, 512, true }, st }, 3, -1, 0);
	assert_int_equal(t->dev->stats.bad_chains, 2);
	/* past the end, overflowing sector * 512 + len */
	const u64 bad_sectors[] = { sectors, sectors - 1, ~0ULL, ~0ULL / 512, 1ULL << 55 };
	for (u32 i = 0; i < ARRAY_SIZE(bad_sectors); i++) {
		put_hdr(t, 0, VIRTIO_BLK_T_IN, bad_sectors[i]);
		hostile(t, (struct seg[]){ hs, { DATA, 1024, true }, st }, 3, VIRTIO_BLK_S_IOERR,
			1);
		put_hdr(t, 0, VIRTIO_BLK_T_OUT, bad_sectors[i]);
		hostile(t, (struct seg[]){ hs, { DATA, 1024, false }, st }, 3, VIRTIO_BLK_S_IOERR,
			1);
	}
	/* wrong directions */
	put_hdr(t, 0, VIRTIO_BLK_T_IN, 0);
	hostile(t, (struct seg[]){ hs, { DATA, 512, false }, st }, 3, VIRTIO_BLK_S_IOERR, 1);
	put_hdr(t, 0, VIRTIO_BLK_T_OUT, 0);
	hostile(t, (struct seg[]){ hs, { DATA, 512, true }, st }, 3, VIRTIO_BLK_S_IOERR, 1);
	/* ... also when the right direction has whole sectors too */
	hostile(t, (struct seg[]){ hs, { DATA, 512, false }, { DATA + 512, 512, true }, st }, 4,
		VIRTIO_BLK_S_IOERR, 1);
	put_hdr(t, 0, VIRTIO_BLK_T_IN, 0);
	hostile(t, (struct seg[]){ hs, { DATA, 512, false }, { DATA + 512, 512, true }, st }, 4,
		VIRTIO_BLK_S_IOERR, 1);
	/* zero-length and partial-sector data */
	put_hdr(t, 0, VIRTIO_BLK_T_IN, 0);
	hostile(t, (struct seg[]){ hs, st }, 2, VIRTIO_BLK_S_IOERR, 1);
	hostile(t, (struct seg[]){ hs, { DATA, 0, true }, st }, 3, VIRTIO_BLK_S_IOERR, 1);
	hostile(t, (struct seg[]){ hs, { DATA, 511, true }, st }, 3, VIRTIO_BLK_S_IOERR, 1);
	put_hdr(t, 0, VIRTIO_BLK_T_OUT, 0);
	hostile(t, (struct seg[]){ hs, { DATA, 513, false }, st }, 3, VIRTIO_BLK_S_IOERR, 1);
	/* a header shorter than 16 bytes */
	hostile(t, (struct seg[]){ { HDR, 15, false }, st }, 2, VIRTIO_BLK_S_IOERR, 1);
	hostile(t, (struct seg[]){ st }, 1, VIRTIO_BLK_S_IOERR, 1);
	/* no status byte: the last buffer is readable, or there is no writable one */
	put_hdr(t, 0, VIRTIO_BLK_T_OUT, 0);
	hostile(t, (struct seg[]){ hs, { DATA, 512, false } }, 2, -1, 0);
	put_hdr(t, 0, VIRTIO_BLK_T_FLUSH, 0);
	hostile(t, (struct seg[]){ hs }, 1, -1, 0);
	assert_int_equal(t->dev->stats.no_status, 2);
	/* unknown and not negotiated types */
	const u32 unsupported[] = { 2,
				    3,
				    5,
				    10,
				    14,
				    15,
				    0x80000000,
				    ~0u,
				    VIRTIO_BLK_T_DISCARD,
				    VIRTIO_BLK_T_WRITE_ZEROES };
	for (u32 i = 0; i < ARRAY_SIZE(unsupported); i++) {
		put_hdr(t, 0, unsupported[i], 0);
		hostile(t, (struct seg[]){ hs, { DATA, 16, false }, st }, 3, VIRTIO_BLK_S_UNSUPP,
			1);
	}
	assert_true(t->dev->stats.bad_requests >= 16);
	/* the queue still works */
	assert_int_equal(do_req(t, VIRTIO_BLK_T_IN, sectors - 2, DATA, 1024), VIRTIO_BLK_S_OK);
	assert_memory_equal(t->ram + DATA, t->disk.bytes + DISK_SIZE - 1024, 1024);
}

/* Loops and bad links are the walker's to refuse; the device answers with nothing. */
static void test_hostile_chain_loop(void **state)
{
	struct t *t = t_up(state, &default_opts, 16);
	u16 before = t->avail_idx;

	put_hdr(t, 0, VIRTIO_BLK_T_IN, 0);
	desc_at(t, DESC, HDR, 16, F_NEXT, 1);
	desc_at(t, DESC + 16, DATA, 512, F_NEXT | F_WRITE, 0); /* back to the head */
	put16(t, AVAIL + 4, 0);
	t->avail_idx++;
	put16(t, AVAIL + 2, t->avail_idx);
	t->next_desc = 2;
	run(t);
	expect_used(t, 0, 0);
	assert_int_equal(status_of(t, 0), SENTINEL);
	assert_int_equal(t->disk.nr_log, 0);
	assert_int_equal(t->dev->stats.bad_chains, 1);
	assert_int_equal(t->avail_idx, before + 1);
	assert_int_equal(do_req(t, VIRTIO_BLK_T_IN, 0, DATA, 512), VIRTIO_BLK_S_OK);
}

/* A ring the device cannot trust: DEVICE_NEEDS_RESET and a configuration interrupt. */
static void test_broken_ring_needs_reset(void **state)
{
	struct t *t = t_up(state, &default_opts, 16);

	put16(t, AVAIL + 2, 17); /* more than the queue size ahead */
	run(t);
	assert_true(status_rd(t) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	assert_true(last_msi_is(t, 0));
	assert_int_equal(t->nr_msi, 1);
	assert_int_equal(used_idx(t), 0);
	/* the driver writing the status back keeps the bit; nothing more is done */
	cc_wr(t, CC_STATUS, 1, S_ACK | S_DRIVER | S_FEAT_OK | S_DRV_OK);
	assert_true(status_rd(t) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	run(t);
	assert_int_equal(t->nr_msi, 1);
	/* a reset recovers */
	assert_true(negotiate(t, ~0ULL));
	setup_queue(t, 16);
	driver_ok(t);
	put16(t, AVAIL + 2, 0);
	assert_int_equal(do_req(t, VIRTIO_BLK_T_IN, 0, DATA, 512), VIRTIO_BLK_S_OK);
}

/* Rings outside RAM at enable time: NEEDS_RESET, announced at DRIVER_OK. */
static void test_queue_outside_ram(void **state)
{
	struct t *t = *state = t_new(&default_opts);

	assign_bar(t);
	find_caps(t);
	assert_true(negotiate(t, ~0ULL));
	msix_enable(t);
	cc_wr(t, CC_MSIX, 2, 0);
	cc_wr(t, CC_QSELECT, 2, 0);
	cc_wr64(t, CC_QDESC, RAM_SIZE - 16);
	cc_wr64(t, CC_QDRIVER, AVAIL);
	cc_wr64(t, CC_QDEVICE, USED);
	cc_wr(t, CC_QENABLE, 2, 1);
	assert_true(status_rd(t) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	assert_int_equal(t->nr_msi, 0);
	cc_wr(t, CC_STATUS, 1, S_ACK | S_DRIVER | S_FEAT_OK | S_DRV_OK);
	assert_true(last_msi_is(t, 0));
	/* a queue size that is no power of two fails the same way */
	assert_true(negotiate(t, ~0ULL));
	cc_wr(t, CC_QSIZE, 2, 100);
	cc_wr64(t, CC_QDESC, DESC);
	cc_wr(t, CC_QENABLE, 2, 1);
	assert_true(status_rd(t) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	assert_null(virtio_pci_queue_live(&t->dev->pci, 0));
}

static void test_read_only_export(void **state)
{
	struct opts o = default_opts;
	struct t *t;
	u8 *disk_before = malloc(DISK_SIZE);

	o.read_only = true;
	o.can_write_zeroes = true;
	o.can_discard = true;
	t = t_up(state, &o, 16);
	assert_non_null(disk_before);
	memcpy(disk_before, t->disk.bytes, DISK_SIZE);
	assert_true(t->features & BIT(VIRTIO_BLK_F_RO));
	memset(t->ram + DATA, 0, 4096);
	assert_int_equal(do_req(t, VIRTIO_BLK_T_OUT, 0, DATA, 4096), VIRTIO_BLK_S_IOERR);
	put64(t, DATA, 0);
	put32(t, DATA + 8, 8);
	put32(t, DATA + 12, 0);
	assert_int_equal(do_req(t, VIRTIO_BLK_T_WRITE_ZEROES, 0, DATA, 16), VIRTIO_BLK_S_IOERR);
	assert_int_equal(t->disk.nr_log, 0);
	assert_memory_equal(t->disk.bytes, disk_before, DISK_SIZE);
	assert_int_equal(t->dev->stats.ro_rejected, 2);
	/* reads and flushes still work */
	assert_int_equal(do_req(t, VIRTIO_BLK_T_IN, 0, DATA, 4096), VIRTIO_BLK_S_OK);
	assert_memory_equal(t->ram + DATA, disk_before, 4096);
	assert_int_equal(do_req(t, VIRTIO_BLK_T_FLUSH, 0, 0, 0), VIRTIO_BLK_S_OK);
	free(disk_before);
}

static void put_dwz(struct t *t, u64 gpa, u64 sector, u32 nr, u32 flags)
{
	put64(t, gpa, sector);
	put32(t, gpa + 8, nr);
	put32(t, gpa + 12, flags);
}

static void test_discard_write_zeroes(void **state)
{
	struct opts o = default_opts;
	struct t *t;
	u64 cfg;
	u8 zero[4096] = { 0 };

	o.can_discard = true;
	o.can_write_zeroes = true;
	o.max_io = 16384;
	t = t_up(state, &o, 16);
	cfg = BAR_BASE + t->device;
	assert_true(t->features & BIT(VIRTIO_BLK_F_DISCARD));
	assert_true(t->features & BIT(VIRTIO_BLK_F_WRITE_ZEROES));
	assert_int_equal(mmio_rd(t, cfg + VIRTIO_BLK_CFG_MAX_DISCARD_SECT, 4), 32);
	assert_int_equal(mmio_rd(t, cfg + VIRTIO_BLK_CFG_MAX_DISCARD_SEG, 4), 16);
	assert_int_equal(mmio_rd(t, cfg + VIRTIO_BLK_CFG_MAX_WZEROES_SEG, 4), 16);
	assert_int_equal(mmio_rd(t, cfg + VIRTIO_BLK_CFG_WZEROES_MAY_UNMAP, 1), 1);

	/* two discard segments, one of them split at max_io */
	put_dwz(t, DATA, 8, 8, 0);
	put_dwz(t, DATA + 16, 100, 40, 0);
	assert_int_equal(do_req(t, VIRTIO_BLK_T_DISCARD, 0, DATA, 32), VIRTIO_BLK_S_OK);
	assert_int_equal(t->disk.nr_log, 3);
	assert_int_equal(t->disk.log[0].op, BLK_OP_DISCARD);
	assert_int_equal(t->disk.log[0].offset, 8 * 512);
	assert_int_equal(t->disk.log[0].length, 4096);
	assert_int_equal(t->disk.log[1].offset, 100 * 512);
	assert_int_equal(t->disk.log[1].length, 16384);
	assert_int_equal(t->disk.log[2].offset, 100 * 512 + 16384);
	assert_int_equal(t->disk.log[2].length, 4096);
	/* write zeroes, with and without unmap */
	put_dwz(t, DATA, 16, 8, VIRTIO_BLK_DWZ_F_UNMAP);
	assert_int_equal(do_req(t, VIRTIO_BLK_T_WRITE_ZEROES, 0, DATA, 16), VIRTIO_BLK_S_OK);
	assert_int_equal(t->disk.log[3].op, BLK_OP_WRITE_ZEROES);
	assert_true(t->disk.log[3].may_unmap);
	assert_memory_equal(t->disk.bytes + 16 * 512, zero, 4096);
	put_dwz(t, DATA, 24, 1, 0);
	assert_int_equal(do_req(t, VIRTIO_BLK_T_WRITE_ZEROES, 0, DATA, 16), VIRTIO_BLK_S_OK);
	assert_false(t->disk.log[4].may_unmap);
	/* 5.2.6.2: unmap on a discard and unknown flags are unsupported */
	put_dwz(t, DATA, 8, 8, VIRTIO_BLK_DWZ_F_UNMAP);
	assert_int_equal(do_req(t, VIRTIO_BLK_T_DISCARD, 0, DATA, 16), VIRTIO_BLK_S_UNSUPP);
	put_dwz(t, DATA, 8, 8, 2);
	assert_int_equal(do_req(t, VIRTIO_BLK_T_WRITE_ZEROES, 0, DATA, 16), VIRTIO_BLK_S_UNSUPP);
	/* out of range, ragged, too many, none */
	put_dwz(t, DATA, DISK_SIZE / 512 - 4, 5, 0);
	assert_int_equal(do_req(t, VIRTIO_BLK_T_DISCARD, 0, DATA, 16), VIRTIO_BLK_S_IOERR);
	put_dwz(t, DATA, ~0ULL - 1, 4, 0);
	assert_int_equal(do_req(t, VIRTIO_BLK_T_DISCARD, 0, DATA, 16), VIRTIO_BLK_S_IOERR);
	assert_int_equal(do_req(t, VIRTIO_BLK_T_DISCARD, 0, DATA, 24), VIRTIO_BLK_S_IOERR);
	for (u32 i = 0; i < 17; i++)
		put_dwz(t, DATA + 16 * i, i, 1, 0);
	assert_int_equal(do_req(t, VIRTIO_BLK_T_DISCARD, 0, DATA, 17 * 16), VIRTIO_BLK_S_IOERR);
	assert_int_equal(do_req(t, VIRTIO_BLK_T_DISCARD, 0, DATA, 0), VIRTIO_BLK_S_IOERR);
	assert_int_equal(t->disk.nr_log, 5);
	/* sixteen is fine; zero-sector segments cost nothing */
	put_dwz(t, DATA + 16, 1, 0, 0);
	assert_int_equal(do_req(t, VIRTIO_BLK_T_DISCARD, 0, DATA, 16 * 16), VIRTIO_BLK_S_OK);
	assert_int_equal(t->disk.nr_log, 5 + 15);
}

/* ---- reset with ios in flight: late completions touch nothing ---- */

static void test_reset_with_ios_in_flight(void **state)
{
	struct t *t = t_up(state, &default_opts, 16);
	u8 *snapshot = malloc(RAM_SIZE);
	u32 msis;

	assert_non_null(snapshot);
	t->disk.hold = true;
	blk_req(t, 0, VIRTIO_BLK_T_IN, 0, DATA, 8192, false);
	blk_req(t, 1, VIRTIO_BLK_T_IN, 16, DATA + 0x4000, 4096, false);
	fill_pattern(t->ram + DATA + 0x8000, 4096, 3);
	blk_req(t, 2, VIRTIO_BLK_T_OUT, 32, DATA + 0x8000, 4096, false);
	run(t);
	assert_int_equal(t->disk.nr_held, 3);
	assert_int_equal(virtio_blk_inflight(t->dev), 3);

	/* the driver resets; the VSI's RAM is then wiped to a guard pattern */
	cc_wr(t, CC_STATUS, 1, 0);
	assert_int_equal(status_rd(t), 0);
	memset(t->ram, GUARD, RAM_SIZE);
	memcpy(snapshot, t->ram, RAM_SIZE);
	msis = t->nr_msi;

	complete_held(t, 1, 0); /* the second read */
	virtio_blk_process(t->dev);
	complete_held(t, 0, -EIO); /* the first read, failing */
	complete_held(t, 0, 0);	   /* the write */
	virtio_blk_process(t->dev);
	assert_memory_equal(snapshot, t->ram, RAM_SIZE);
	assert_int_equal(t->nr_msi, msis);
	assert_int_equal(t->dev->stats.stale, 3);
	assert_int_equal(virtio_blk_inflight(t->dev), 0);
	/* the write still reached the disk from the bounce copy, not from RAM */
	fill_pattern(snapshot, 4096, 3);
	assert_memory_equal(t->disk.bytes + 32 * 512, snapshot, 4096);

	/* every slot is free again: a full queue's worth goes through */
	memset(t->ram, 0, RAM_SIZE);
	t->disk.hold = false;
	assert_true(negotiate(t, ~0ULL));
	setup_queue(t, 256);
	driver_ok(t);
	for (u32 i = 0; i < 200; i++)
		blk_req(t, i, VIRTIO_BLK_T_IN, i, DATA + 512ULL * i, 512, true);
	run(t);
	assert_int_equal(used_idx(t), 200);
	assert_memory_equal(t->ram + DATA, t->disk.bytes, 512 * 200);
	free(snapshot);
}

/* The VSI reset path, with a request half submitted (the backend said -EBUSY). */
static void test_function_reset_mid_submission(void **state)
{
	struct opts o = default_opts;
	struct t *t;
	u8 *snapshot = malloc(RAM_SIZE);

	o.max_io = 4096;
	t = t_up(state, &o, 16);
	assert_non_null(snapshot);
	t->disk.hold = true;
	t->disk.max_held = 2;
	blk_req(t, 0, VIRTIO_BLK_T_IN, 0, DATA, 16384, false);
	assert_true(run(t));
	assert_int_equal(t->disk.nr_held, 2);
	assert_non_null(t->dev->cur);

	virtio_blk_reset(t->dev);
	assert_null(t->dev->cur);
	memset(t->ram, GUARD, RAM_SIZE);
	memcpy(snapshot, t->ram, RAM_SIZE);
	complete_all(t);
	assert_false(virtio_blk_process(t->dev));
	assert_int_equal(t->disk.nr_log, 2); /* the rest was never submitted */
	assert_memory_equal(snapshot, t->ram, RAM_SIZE);
	assert_int_equal(t->nr_msi, 0);
	assert_int_equal(virtio_blk_inflight(t->dev), 0);
	assert_int_equal(t->dev->nr_free_req, VIRTIO_BLK_SLOTS);
	free(snapshot);
}

/* ---- backend errors ---- */

static void test_backend_errors(void **state)
{
	struct opts o = default_opts;
	struct t *t;
	u16 head;

	o.max_io = 4096;
	t = t_up(state, &o, 16);
	/* refused at submit */
	t->disk.submit_error = -EIO;
	memset(t->ram + DATA, GUARD, 8192);
	assert_int_equal(do_req(t, VIRTIO_BLK_T_IN, 0, DATA, 8192), VIRTIO_BLK_S_IOERR);
	assert_int_equal(t->ram[DATA], GUARD);
	t->disk.submit_error = -ENOTSUP;
	assert_int_equal(do_req(t, VIRTIO_BLK_T_FLUSH, 0, 0, 0), VIRTIO_BLK_S_UNSUPP);
	t->disk.submit_error = 0;
	/* a READ in two ios, the second fails: IOERR, never OK */
	t->disk.hold = true;
	head = blk_req(t, 1, VIRTIO_BLK_T_IN, 0, DATA, 8192, false);
	run(t);
	assert_int_equal(t->disk.nr_held, 2);
	complete_held(t, 1, -ETIMEDOUT);
	complete_held(t, 0, 0);
	virtio_blk_process(t->dev);
	expect_used(t, head, 1);
	assert_int_equal(status_of(t, 1), VIRTIO_BLK_S_IOERR);
	assert_int_equal(t->dev->stats.io_errors, 3);
	/* a failed synchronous completion */
	t->disk.hold = false;
	t->disk.done_status = -EIO;
	assert_int_equal(do_req(t, VIRTIO_BLK_T_OUT, 0, DATA, 512), VIRTIO_BLK_S_IOERR);
	t->disk.done_status = 0;
	assert_int_equal(do_req(t, VIRTIO_BLK_T_OUT, 0, DATA, 512), VIRTIO_BLK_S_OK);
}

/* ---- interrupts ---- */

static void test_msix_masking(void **state)
{
	struct t *t = t_up(state, &default_opts, 16);
	u64 entry1 = BAR_BASE + t->msix_table + 16;
	u64 pba = BAR_BASE + t->msix_pba;

	/* vector 1 masked: the message waits in the PBA */
	mmio_wr(t, entry1 + 12, 4, 1);
	assert_int_equal(do_req(t, VIRTIO_BLK_T_IN, 0, DATA, 512), VIRTIO_BLK_S_OK);
	assert_int_equal(t->nr_msi, 0);
	assert_int_equal(mmio_rd(t, pba, 8), 2);
	mmio_wr(t, pba, 8, 0); /* read-only */
	assert_int_equal(mmio_rd(t, pba, 4), 2);
	mmio_wr(t, entry1 + 12, 4, 0);
	assert_int_equal(t->nr_msi, 1);
	assert_true(last_msi_is(t, 1));
	assert_int_equal(mmio_rd(t, pba, 8), 0);

	/* the function mask, then a new address programmed while masked */
	cfg_wr(t, t->msix_cap + 2, 2, BIT(15) | BIT(14));
	assert_int_equal(do_req(t, VIRTIO_BLK_T_IN, 0, DATA, 512), VIRTIO_BLK_S_OK);
	assert_int_equal(t->nr_msi, 1);
	mmio_wr(t, entry1, 8, 0xfee0a000ULL);
	mmio_wr(t, entry1 + 8, 4, 0x77);
	assert_int_equal(mmio_rd(t, entry1, 8), 0xfee0a000ULL);
	cfg_wr(t, t->msix_cap + 2, 2, BIT(15));
	assert_int_equal(t->nr_msi, 2);
	assert_int_equal(t->msi[1].addr, 0xfee0a000ULL);
	assert_int_equal(t->msi[1].data, 0x77);
	assert_int_equal(t->dev->pci.stats.irq_pending, 2);
}

static void test_interrupt_routing_edge_cases(void **state)
{
	struct t *t = t_up(state, &default_opts, 16);
	struct virtio_pci_stats *s = &t->dev->pci.stats;

	/* a vector outside the table reads back as NO_VECTOR (mapping failed) */
	cc_wr(t, CC_MSIX, 2, 2);
	assert_int_equal(cc_rd(t, CC_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	cc_wr(t, CC_QMSIX, 2, 5);
	assert_int_equal(cc_rd(t, CC_QMSIX, 2), VIRTIO_MSI_NO_VECTOR);
	assert_int_equal(do_req(t, VIRTIO_BLK_T_IN, 0, DATA, 512), VIRTIO_BLK_S_OK);
	assert_int_equal(t->nr_msi, 0);
	assert_int_equal(s->irq_no_vector, 1);
	/* MSI-X disabled: no INTx to fall back on; the ISR says why, reading clears it */
	cc_wr(t, CC_QMSIX, 2, 1);
	cfg_wr(t, t->msix_cap + 2, 2, 0);
	assert_int_equal(do_req(t, VIRTIO_BLK_T_IN, 0, DATA, 512), VIRTIO_BLK_S_OK);
	assert_int_equal(t->nr_msi, 0);
	assert_int_equal(s->irq_no_msix, 1);
	assert_true(cfg_rd(t, 0x06, 2) & BIT(3)); /* interrupt status mirrors the ISR */
	assert_int_equal(mmio_rd(t, BAR_BASE + t->isr, 1), VIRTIO_ISR_QUEUE);
	assert_int_equal(mmio_rd(t, BAR_BASE + t->isr, 1), 0);
	assert_false(cfg_rd(t, 0x06, 2) & BIT(3));
	/* enabled again: delivered */
	cfg_wr(t, t->msix_cap + 2, 2, BIT(15));
	assert_int_equal(do_req(t, VIRTIO_BLK_T_IN, 0, DATA, 512), VIRTIO_BLK_S_OK);
	assert_true(last_msi_is(t, 1));
	assert_int_equal(s->irq_sent, 1);
}

/*
 * VIRTQ_AVAIL_F_NO_INTERRUPT (2.7.7.2): a driver that polls, as Linux does
 * from its completion handler, gets no message, only the used ring; once it
 * clears the flag the next completion interrupts again.
 */
static void test_interrupt_suppressed(void **state)
{
	struct t *t = t_up(state, &default_opts, 16);
	const struct virtio_pci_stats *s = &t->dev->pci.stats;

	put16(t, AVAIL, VIRTQ_AVAIL_F_NO_INTERRUPT);
	assert_int_equal(do_req(t, VIRTIO_BLK_T_IN, 0, DATA, 512), VIRTIO_BLK_S_OK);
	assert_int_equal(t->nr_msi, 0);
	assert_int_equal(s->irq_suppressed, 1);
	assert_int_equal(get16(t, USED + 2), 1); /* completed all the same */
	put16(t, AVAIL, 0);
	assert_int_equal(do_req(t, VIRTIO_BLK_T_IN, 0, DATA, 512), VIRTIO_BLK_S_OK);
	assert_int_equal(t->nr_msi, 1);
	assert_true(last_msi_is(t, 1));
	assert_int_equal(s->irq_suppressed, 1);
	assert_int_equal(s->irq_sent, 1);
}

/* No DMA without bus mastering: nothing taken, and an io finishing then costs a reset. */
static void test_bus_master_off(void **state)
{
	struct t *t = t_up(state, &default_opts, 16);
	u8 *snapshot = malloc(RAM_SIZE);

	assert_non_null(snapshot);
	cfg_wr(t, 0x04, 2, 0x2);
	blk_req(t, 0, VIRTIO_BLK_T_IN, 0, DATA, 512, false);
	assert_false(run(t));
	assert_int_equal(t->dev->pci.q[0].vq.last_avail, 0);
	cfg_wr(t, 0x04, 2, 0x6);
	virtio_blk_process(t->dev);
	expect_used(t, 0, 513);

	t->disk.hold = true;
	memset(t->ram + DATA, GUARD, 512);
	blk_req(t, 1, VIRTIO_BLK_T_IN, 0, DATA, 512, false);
	run(t);
	cfg_wr(t, 0x04, 2, 0x2);
	memcpy(snapshot, t->ram, RAM_SIZE);
	complete_all(t);
	virtio_blk_process(t->dev);
	assert_memory_equal(snapshot, t->ram, RAM_SIZE);
	assert_true(status_rd(t) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	assert_int_equal(t->dev->pci.stats.irq_no_master, 1);
	free(snapshot);
}

/* ---- notifications ---- */

static void test_notify_and_cfg_window(void **state)
{
	struct t *t = t_up(state, &default_opts, 16);
	u32 w = t->window_cap;

	assert_true(kick(t));
	assert_false(kick(t)); /* already pending */
	assert_true(virtio_pci_take_kick(&t->dev->pci));
	assert_true(kick(t));
	virtio_blk_process(t->dev);
	assert_true(kick(t));
	/* another queue's address, or between addresses: no notification */
	assert_false(mmio_wr(t, BAR_BASE + t->notify + 4, 2, 1));
	assert_false(mmio_wr(t, BAR_BASE + t->notify + 2, 2, 0));
	assert_int_equal(mmio_rd(t, BAR_BASE + t->notify, 2), 0);

	/* 4.1.4.9: the PCI cfg window reads and writes BAR0 */
	virtio_pci_take_kick(&t->dev->pci);
	cfg_wr(t, w + 4, 1, 0);
	cfg_wr(t, w + 12, 4, 1);
	cfg_wr(t, w + 8, 4, CC_STATUS);
	assert_int_equal(cfg_rd(t, w + 16, 1), S_ACK | S_DRIVER | S_FEAT_OK | S_DRV_OK);
	cfg_wr(t, w + 12, 4, 2);
	cfg_wr(t, w + 8, 4, 0x3000);
	assert_true(cfg_wr(t, w + 16, 2, 0)); /* a notification through the window */
	cfg_wr(t, w + 8, 4, 0x2000 + VIRTIO_BLK_CFG_BLK_SIZE);
	cfg_wr(t, w + 12, 4, 4);
	assert_int_equal(cfg_rd(t, w + 16, 4), 512);
	/* it works with memory decoding off too */
	cfg_wr(t, 0x04, 2, 0x4);
	assert_int_equal(cfg_rd(t, w + 16, 4), 512);
	/* a bad length or an unaligned offset does nothing */
	cfg_wr(t, w + 12, 4, 3);
	cfg_wr(t, w + 16, 4, 0x11223344);
	assert_int_equal(cfg_rd(t, w + 16, 4), 0x11223344);
	cfg_wr(t, w + 12, 4, 4);
	cfg_wr(t, w + 8, 4, CC_STATUS + 1);
	cfg_wr(t, w + 16, 4, 0);
	cfg_wr(t, w + 8, 4, CC_STATUS);
	cfg_wr(t, w + 12, 4, 1);
	assert_int_equal(cfg_rd(t, w + 16, 1), S_ACK | S_DRIVER | S_FEAT_OK | S_DRV_OK);
	/* a status write of 0 through the window resets */
	cfg_wr(t, w + 16, 1, 0);
	assert_int_equal(cfg_rd(t, w + 16, 1), 0);
	/* nothing past the virtio structures: not the MSI-X table */
	cfg_wr(t, w + 8, 4, 0x380c);
	cfg_wr(t, w + 12, 4, 4);
	cfg_wr(t, w + 16, 4, 1);
	cfg_wr(t, 0x04, 2, 0x6);
	assert_int_equal(mmio_rd(t, BAR_BASE + 0x380c, 4), 0);
}

/* What a storage server may advertise that this device cannot serve (each refused with why). */
static void test_backend_unusable(void **state)
{
	(void)state;
	assert_null(virtio_blk_backend_unusable(512, 1, 4096));
	assert_null(virtio_blk_backend_unusable(1 * MiB, 512, 32 * MiB));
	assert_non_null(strstr(virtio_blk_backend_unusable(0, 1, 4096), "empty"));
	assert_non_null(strstr(virtio_blk_backend_unusable(100, 1, 4096), "smaller than one"));
	assert_non_null(strstr(virtio_blk_backend_unusable(511, 1, 4096), "smaller than one"));
	assert_non_null(strstr(virtio_blk_backend_unusable(1 * MiB, 4096, 4096), "minimum"));
	assert_non_null(strstr(virtio_blk_backend_unusable(1 * MiB, 1, 2048), "maximum"));
	assert_non_null(strstr(virtio_blk_backend_unusable(1 * MiB, 512, 512), "maximum"));
}

static void test_init_rejects(void **state)
{
	struct t *t = *state = t_new(&default_opts);
	struct virtio_blk_params p;
	struct virtio_blk *dev = calloc(1, sizeof(*dev));

	assert_non_null(dev);
	memset(&p, 0, sizeof(p));
	p.backend.submit = disk_submit;
	p.backend.capacity = DISK_SIZE;
	p.backend.max_io = 4096;
	p.mem.map = ram_map;
	p.mem.ctx = t;
	p.msi = msi_record;
	p.bounce = t->bounce;
	p.bounce_size = 4096;
	assert_int_equal(virtio_blk_init(dev, &p), 0);
	p.backend.capacity = 1000;
	assert_int_equal(virtio_blk_init(dev, &p), -EINVAL);
	p.backend.capacity = DISK_SIZE;
	p.backend.max_io = 2048;
	assert_int_equal(virtio_blk_init(dev, &p), -EINVAL);
	p.backend.max_io = 4096;
	p.bounce_size = 6000;
	assert_int_equal(virtio_blk_init(dev, &p), -EINVAL);
	p.bounce_size = 4096;
	p.bounce = t->bounce + 8;
	assert_int_equal(virtio_blk_init(dev, &p), -EINVAL);
	p.bounce = t->bounce;
	p.msi = NULL;
	assert_int_equal(virtio_blk_init(dev, &p), -EINVAL);
	assert_int_equal(virtio_blk_init(dev, NULL), -EINVAL);
	free(dev);
}

#define T(fn) cmocka_unit_test_teardown(fn, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_config_header),
		T(test_backend_unusable),
		T(test_config_invalid_access),
		T(test_capabilities),
		T(test_bar_sizing_and_decoding),
		T(test_bar_invalid_access),
		T(test_handshake_and_config),
		T(test_features_ok_refused),
		T(test_reset_state),
		T(test_read_write_round_trip),
		T(test_flush_waits_for_backend),
		T(test_no_flush_negotiated_means_fua),
		T(test_flush_without_backend_flush),
		T(test_get_id),
		T(test_multi_segment_framing),
		T(test_indirect),
		T(test_split_at_max_io),
		T(test_out_of_order_completion),
		T(test_backend_busy_resume),
		T(test_slot_exhaustion),
		T(test_bounce_exhaustion),
		T(test_hostile_requests),
		T(test_hostile_chain_loop),
		T(test_broken_ring_needs_reset),
		T(test_queue_outside_ram),
		T(test_read_only_export),
		T(test_discard_write_zeroes),
		T(test_reset_with_ios_in_flight),
		T(test_function_reset_mid_submission),
		T(test_backend_errors),
		T(test_msix_masking),
		T(test_interrupt_routing_edge_cases),
		T(test_interrupt_suppressed),
		T(test_bus_master_off),
		T(test_notify_and_cfg_window),
		T(test_init_rejects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

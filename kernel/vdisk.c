/*
 * A VSI's disk: the virtio-blk PCI function (kernel/vdev/virtio_blk.c) on
 * top of the VSI's own NBD client (kernel/storage.c). The device appears
 * once the export is negotiated (its size is the disk's capacity); the VSI
 * starts then. vCPUs reach the device through configuration space and its
 * BAR; the service CPU runs the queue and the NBD client. One lock per disk
 * covers the device model, and storage_poll() takes it around the NBD
 * client's callbacks, which complete the device's I/O.
 */
#include <asm/spinlock.h>
#include <hv/errno.h>
#include <hv/frame.h>
#include <hv/kernel.h>
#include <hv/log.h>
#include <hv/nbd.h>
#include <hv/printf.h>
#include <hv/storage.h>
#include <hv/string.h>
#include <hv/vdisk.h>
#include <hv/virtio_blk.h>
#include <hv/vsi.h>

#define VDISK_BOUNCE_BYTES (4 * MiB) /* staging for data in flight, per disk */

struct vdisk_rq {
	struct nbd_request nbd;
	struct blk_io *io;
};

struct vsi_disk {
	spinlock_t lock;
	struct vsi *v;
	struct nbd_client *nbd;
	bool present; /* the device exists (export negotiated) */
	bool refused; /* the export cannot be this VSI's disk: it never gets one */
	bool ro_told; /* a write to the read-only disk was reported since the VSI started */
	struct vdisk_rq rq[VIRTIO_BLK_IOS];
	u16 free_rq[VIRTIO_BLK_IOS];
	u32 nr_free;
	struct virtio_blk dev;
};

static void *ram_map(void *ctx, u64 gpa, u64 len)
{
	return vsi_gpa_to_hva(ctx, gpa, len);
}

static void send_msi(void *ctx, u64 addr, u32 data)
{
	vsi_msi(ctx, addr, data);
}

static void nbd_done(struct nbd_request *r, int status)
{
	struct vsi_disk *d = r->arg;
	struct vdisk_rq *q = (struct vdisk_rq *)r;
	struct blk_io *io = q->io;

	q->io = NULL;
	d->free_rq[d->nr_free++] = (u16)(q - d->rq);
	io->done(io, status);
}

/* The device's backend: one NBD request per blk_io. Called with d->lock held. */
static int nbd_submit_io(void *ctx, struct blk_io *io)
{
	static const u16 cmd[] = {
		[BLK_OP_READ] = NBD_CMD_READ,
		[BLK_OP_WRITE] = NBD_CMD_WRITE,
		[BLK_OP_FLUSH] = NBD_CMD_FLUSH,
		[BLK_OP_DISCARD] = NBD_CMD_TRIM,
		[BLK_OP_WRITE_ZEROES] = NBD_CMD_WRITE_ZEROES,
	};
	struct vsi_disk *d = ctx;
	struct vdisk_rq *q;
	int err;

	if (io->op >= ARRAY_SIZE(cmd))
		return -EINVAL;
	if (!d->nr_free)
		return -EBUSY;
	q = &d->rq[d->free_rq[--d->nr_free]];
	memset(&q->nbd, 0, sizeof(q->nbd));
	q->io = io;
	q->nbd.type = cmd[io->op];
	q->nbd.offset = io->offset;
	q->nbd.length = io->length;
	q->nbd.buf = io->buf;
	if (io->fua && (io->op == BLK_OP_WRITE || io->op == BLK_OP_WRITE_ZEROES))
		q->nbd.flags |= NBD_CMD_FLAG_FUA;
	if (io->op == BLK_OP_WRITE_ZEROES && !io->may_unmap)
		q->nbd.flags |= NBD_CMD_FLAG_NO_HOLE;
	q->nbd.done = nbd_done;
	q->nbd.arg = d;
	err = nbd_submit(d->nbd, &q->nbd, storage_now_ms());
	if (err) {
		q->io = NULL;
		d->free_rq[d->nr_free++] = (u16)(q - d->rq);
	}
	return err;
}

static void lock_disk(void *ctx)
{
	spin_lock(&((struct vsi_disk *)ctx)->lock);
}

static void unlock_disk(void *ctx)
{
	spin_unlock(&((struct vsi_disk *)ctx)->lock);
}

int vdisk_attach(struct vsi *v)
{
	struct vsi_disk *d;

	if (!v->cfg->disk.present)
		return 0;
	if (storage_selftest()) {
		pr_warn("vsi %s: a storage self-test owns its disk: it gets no disk device",
			v->name);
		return 0;
	}
	d = page_alloc_zeroed(sizeof(*d), PAGE_SIZE, 0);
	if (!d)
		return -ENOMEM;
	d->v = v;
	d->nbd = storage_attach(v->cfg, lock_disk, unlock_disk, d);
	if (!d->nbd) {
		pr_err("vsi %s: its disk has no storage path (see the storage lines above)",
		       v->name);
		return -ENODEV;
	}
	for (u32 i = 0; i < VIRTIO_BLK_IOS; i++)
		d->free_rq[i] = (u16)i;
	d->nr_free = VIRTIO_BLK_IOS;
	v->plat.disk = d;
	return 0;
}

/* Create the PCI function once the export's facts are known. */
static int vdisk_create(struct vsi_disk *d)
{
	struct virtio_blk_params p;
	u16 f = nbd_transmission_flags(d->nbd);
	void *bounce = page_alloc_zeroed(VDISK_BOUNCE_BYTES, PAGE_SIZE, 0);
	int err;

	if (!bounce) {
		pr_err("vsi %s: no memory for the staging area of its disk", d->v->name);
		return -ENOMEM;
	}
	memset(&p, 0, sizeof(p));
	p.backend = (struct blk_backend){
		.submit = nbd_submit_io,
		.ctx = d,
		.capacity = nbd_export_size(d->nbd) & ~511ULL,
		.read_only = f & NBD_FLAG_READ_ONLY,
		.can_flush = f & NBD_FLAG_SEND_FLUSH,
		.can_discard = f & NBD_FLAG_SEND_TRIM,
		.can_write_zeroes = f & NBD_FLAG_SEND_WRITE_ZEROES,
		.max_io = MIN(nbd_max_block(d->nbd) ? nbd_max_block(d->nbd) : 32 * MiB,
			      VIRTIO_BLK_IO_MAX),
	};
	p.mem = (struct vq_mem){ ram_map, d->v };
	p.msi = send_msi;
	p.msi_ctx = d->v;
	snprintf((char *)p.serial, sizeof(p.serial), "%s", d->v->cfg->disk.export_name);
	p.bounce = bounce;
	p.bounce_size = VDISK_BOUNCE_BYTES;
	err = virtio_blk_init(&d->dev, &p);
	if (err) {
		pr_err("vsi %s: export '%s': the disk device refused its parameters (%d)",
		       d->v->name, d->v->cfg->disk.export_name, err);
		page_free((u64)(uintptr_t)bounce, VDISK_BOUNCE_BYTES); /* identity-mapped */
		return err;
	}
	d->present = true;
	pr_info("vsi %s: disk %llu sectors%s at PCI 00:%02x.0 (virtio-blk)", d->v->name,
		(unsigned long long)(p.backend.capacity / 512),
		p.backend.read_only ? ", read-only" : "",
		vsi_is_ovmf(d->v) ? VDISK_OVMF_PCI_DEV : VDISK_PCI_DEV);
	return 0;
}

/*
 * Whatever the server advertised, the worst it may cost is this VSI's disk:
 * an export the device cannot serve is refused once, with the reason.
 */
static bool vdisk_usable(struct vsi_disk *d)
{
	u64 size = nbd_export_size(d->nbd);
	u32 min = nbd_min_block(d->nbd), max = nbd_max_block(d->nbd);
	const char *why = virtio_blk_backend_unusable(size, min, max);

	if (!why)
		return true;
	pr_err("vsi %s: export '%s' refused: %s (%llu bytes, block sizes %u..%u); the VSI gets "
	       "no disk",
	       d->v->name, d->v->cfg->disk.export_name, why, (unsigned long long)size, min, max);
	return false;
}

bool vdisk_ready(struct vsi_disk *d)
{
	return d->present;
}

bool vdisk_refused(struct vsi_disk *d)
{
	return d->refused;
}

/*
 * The first write the device refused because the export is read-only is
 * reported once per start of the VSI; the others are only counted (`list`),
 * so a guest writing in a loop cannot flood the console.
 */
static void tell_read_only(struct vsi_disk *d, u64 refused)
{
	if (!refused || d->ro_told)
		return;
	d->ro_told = true;
	pr_warn("vsi %s: a write to its disk was refused with an I/O error: export '%s' is "
		"read-only on its server; more are only counted ('list'); serve the export "
		"writable to allow writes",
		d->v->name, d->v->cfg->disk.export_name);
}

bool vdisk_poll(struct vsi_disk *d)
{
	bool busy;
	u64 refused;
	int err;

	if (!d->present) {
		if (d->refused || !nbd_negotiated(d->nbd))
			return false; /* refused, or not negotiated yet (storage_poll() says why) */
		spin_lock(&d->lock);
		err = vdisk_usable(d) ? vdisk_create(d) : -EINVAL;
		spin_unlock(&d->lock);
		d->refused = err != 0;
		return false;
	}
	spin_lock(&d->lock);
	busy = virtio_blk_process(&d->dev) || virtio_blk_inflight(&d->dev);
	refused = d->dev.stats.ro_rejected;
	spin_unlock(&d->lock);
	tell_read_only(d, refused);
	return busy;
}

u32 vdisk_cfg_read(struct vsi_disk *d, u32 reg, u32 size)
{
	u32 val = 0xffffffff;

	spin_lock(&d->lock);
	if (d->present)
		val = virtio_pci_cfg_read(&d->dev.pci, reg, size);
	spin_unlock(&d->lock);
	return val;
}

void vdisk_cfg_write(struct vsi_disk *d, u32 reg, u32 size, u32 val)
{
	bool kick = false;

	spin_lock(&d->lock);
	if (d->present)
		kick = virtio_pci_cfg_write(&d->dev.pci, reg, size, val);
	spin_unlock(&d->lock);
	if (kick)
		service_kick();
}

bool vdisk_mmio(struct vsi_disk *d, u64 gpa, u32 size, bool write, u64 *val)
{
	bool hit = false, kick = false;
	u64 base;

	spin_lock(&d->lock);
	base = d->present ? virtio_pci_bar_base(&d->dev.pci) : 0;
	if (base && gpa >= base && gpa - base < VIRTIO_PCI_BAR_SIZE) {
		hit = true;
		if (write)
			kick = virtio_pci_bar_write(&d->dev.pci, gpa - base, size, *val);
		else
			*val = virtio_pci_bar_read(&d->dev.pci, gpa - base, size);
	}
	spin_unlock(&d->lock);
	if (kick)
		service_kick();
	return hit;
}

void vdisk_reset(struct vsi_disk *d)
{
	spin_lock(&d->lock);
	if (d->present)
		virtio_blk_reset(&d->dev);
	d->ro_told = false;
	spin_unlock(&d->lock);
}

bool vdisk_stats(struct vsi_disk *d, struct virtio_blk_stats *out, bool *read_only)
{
	bool present;

	spin_lock(&d->lock);
	present = d->present;
	if (present) {
		*out = d->dev.stats;
		*read_only = d->dev.be.read_only;
	}
	spin_unlock(&d->lock);
	return present;
}

const char *vdisk_export_name(const struct vsi_disk *d)
{
	return d->v->cfg->disk.export_name;
}

/*
 * virtio-blk device model (VIRTIO 1.2, 5.2) on the PCI transport.
 *
 * A request goes through: taken from the avail ring into a slot (the walker
 * has bounds-checked every buffer) -> parsed and validated against the disk
 * -> cut into blk_io of at most io_max bytes, submitted in arrival order ->
 * finished when its last io is done: status byte, used ring, and an
 * interrupt at the end of the next virtio_blk_process().
 *
 * The request's bytes are read as two streams, following 2.6.4 (no
 * assumption about framing): the device-readable bytes (header, then WRITE
 * data or DISCARD/WRITE_ZEROES segments) and the device-writable bytes (READ
 * or GET_ID data, then the status byte as the very last one).
 *
 * Only one request is being submitted at a time (cur): when the backend or
 * our pools are full it stays cur and nothing more is taken, so submission
 * order is arrival order (a FLUSH is never submitted before the writes the
 * driver queued before it) and no chain is dropped.
 */
#include <hv/errno.h>
#include <hv/string.h>
#include <hv/types.h>
#include <hv/virtio_blk.h>

#define BLK_QUEUE 0

static u64 get_le(const u8 *p, u32 n)
{
	u64 v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

static void put_le(u8 *p, u64 v, u32 n)
{
	for (u32 i = 0; i < n; i++, v >>= 8)
		p[i] = (u8)v;
}

/* ---- pools: request slots, ios, bounce pages ---- */

static struct virtio_blk_req *req_alloc(struct virtio_blk *dev)
{
	if (!dev->nr_free_req)
		return NULL;
	return &dev->req[dev->free_req[--dev->nr_free_req]];
}

static void req_free(struct virtio_blk *dev, struct virtio_blk_req *r)
{
	dev->free_req[dev->nr_free_req++] = (u16)(r - dev->req);
}

static struct virtio_blk_io *io_alloc(struct virtio_blk *dev)
{
	if (!dev->nr_free_io)
		return NULL;
	return &dev->io[dev->free_io[--dev->nr_free_io]];
}

static void io_free(struct virtio_blk *dev, struct virtio_blk_io *vio)
{
	vio->busy = false;
	dev->free_io[dev->nr_free_io++] = (u16)(vio - dev->io);
}

static bool page_used(const struct virtio_blk *dev, u32 i)
{
	return dev->bounce_map[i / 64] & BIT(i % 64);
}

static void mark_pages(struct virtio_blk *dev, u32 first, u32 n, bool used)
{
	for (u32 i = first; i < first + n; i++) {
		if (used)
			dev->bounce_map[i / 64] |= BIT(i % 64);
		else
			dev->bounce_map[i / 64] &= ~BIT(i % 64);
	}
}

/* First fit of len bytes in whole pages; sets vio's buffer. */
static bool bounce_alloc(struct virtio_blk *dev, struct virtio_blk_io *vio, u32 len)
{
	u32 n = (u32)ALIGN_UP(len, PAGE_SIZE) / PAGE_SIZE, run = 0;

	for (u32 i = 0; i < dev->bounce_pages; i++) {
		run = page_used(dev, i) ? 0 : run + 1;
		if (run < n)
			continue;
		vio->bounce_first = i + 1 - n;
		vio->bounce_pages = n;
		mark_pages(dev, vio->bounce_first, n, true);
		vio->io.buf = dev->bounce + (u64)vio->bounce_first * PAGE_SIZE;
		return true;
	}
	return false;
}

static void bounce_free(struct virtio_blk *dev, struct virtio_blk_io *vio)
{
	mark_pages(dev, vio->bounce_first, vio->bounce_pages, false);
	vio->bounce_pages = 0;
	vio->io.buf = NULL;
}

/* ---- completion ---- */

static void push_used(struct virtio_blk *dev, u16 head, u32 written)
{
	struct virtqueue *vq = &dev->pci.q[BLK_QUEUE].vq;

	if (vq_push(vq, head, written) == 0)
		dev->irq_pending = true;
	else if (vq->broken)
		virtio_pci_needs_reset(&dev->pci);
}

static void count_result(struct virtio_blk *dev, u8 result)
{
	if (result == VIRTIO_BLK_S_OK)
		dev->stats.ok++;
	else if (result == VIRTIO_BLK_S_UNSUPP)
		dev->stats.unsupp++;
	else
		dev->stats.ioerr++;
}

/*
 * Every io of r is done: answer the driver, unless the device was reset
 * since r was taken (then guest memory is not ours to write) or bus
 * mastering is off (then the device cannot write and needs a reset).
 */
static void finish(struct virtio_blk *dev, struct virtio_blk_req *r)
{
	if (r->gen != dev->pci.generation) {
		dev->stats.stale++;
	} else if (!virtio_pci_dma_allowed(&dev->pci)) {
		virtio_pci_needs_reset(&dev->pci);
	} else {
		count_result(dev, r->result);
		*(volatile u8 *)r->status = r->result;
		push_used(dev, r->chain.head, r->result == VIRTIO_BLK_S_OK ? r->written : 1);
	}
	req_free(dev, r);
}

static u8 status_of_errno(int err)
{
	return err == -ENOTSUP ? VIRTIO_BLK_S_UNSUPP : VIRTIO_BLK_S_IOERR;
}

static void io_done(struct blk_io *io, int status)
{
	struct virtio_blk_io *vio = (struct virtio_blk_io *)io;
	struct virtio_blk *dev = vio->dev;
	struct virtio_blk_req *r = &dev->req[vio->req];
	bool current = r->gen == dev->pci.generation;

	if (!vio->busy)
		return; /* a second done() for one io: ignore it */
	if (status) {
		dev->stats.io_errors++;
		if (r->result == VIRTIO_BLK_S_OK)
			r->result = status_of_errno(status);
	} else if (io->op == BLK_OP_READ && current && r->result == VIRTIO_BLK_S_OK) {
		if (virtio_pci_dma_allowed(&dev->pci))
			vq_chain_copy(&r->chain, true, vio->pos, io->buf, io->length, true);
		else
			r->result = VIRTIO_BLK_S_IOERR; /* never report data that did not arrive */
	}
	if (!status && io->op == BLK_OP_READ)
		dev->stats.bytes_read += io->length;
	else if (!status && io->op == BLK_OP_WRITE)
		dev->stats.bytes_written += io->length;
	if (vio->bounce_pages)
		bounce_free(dev, vio);
	io_free(dev, vio);
	r->inflight--;
	if (!r->submitting && r->inflight == 0)
		finish(dev, r);
}

/* ---- submission ---- */

static u8 blk_op_of(u32 type)
{
	switch (type) {
	case VIRTIO_BLK_T_IN:
		return BLK_OP_READ;
	case VIRTIO_BLK_T_OUT:
		return BLK_OP_WRITE;
	case VIRTIO_BLK_T_DISCARD:
		return BLK_OP_DISCARD;
	case VIRTIO_BLK_T_WRITE_ZEROES:
		return BLK_OP_WRITE_ZEROES;
	default:
		return BLK_OP_FLUSH;
	}
}

/* 5.2.6.2: without FLUSH negotiated (but offered) completed writes must be stable. */
static bool needs_fua(const struct virtio_blk *dev, u8 op)
{
	if (op != BLK_OP_WRITE && op != BLK_OP_WRITE_ZEROES)
		return false;
	return dev->be.can_flush && !(virtio_pci_features(&dev->pci) & BIT(VIRTIO_BLK_F_FLUSH));
}

/* Fill vio for the next piece of r; false if no bounce space is free. */
static bool prepare_io(struct virtio_blk *dev, struct virtio_blk_req *r, struct virtio_blk_io *vio)
{
	const struct virtio_blk_range *rg = &r->range[r->next_range];
	u8 op = blk_op_of(r->type);
	bool data = op == BLK_OP_READ || op == BLK_OP_WRITE;
	u64 len = MIN(rg->length - r->next_pos, data ? dev->io_max : dev->range_io_max);

	memset(&vio->io, 0, sizeof(vio->io));
	if (data && !bounce_alloc(dev, vio, (u32)len))
		return false;
	vio->io.op = op;
	vio->io.fua = needs_fua(dev, op);
	vio->io.may_unmap = rg->unmap;
	vio->io.offset = rg->offset + r->next_pos;
	vio->io.length = (u32)len;
	vio->io.done = io_done;
	vio->req = (u16)(r - dev->req);
	vio->pos = r->next_pos;
	if (op == BLK_OP_WRITE)
		vq_chain_copy(&r->chain, false, VIRTIO_BLK_HDR_SIZE + r->next_pos, vio->io.buf, len,
			      false);
	return true;
}

static void advance(struct virtio_blk_req *r, u32 len)
{
	r->next_pos += len;
	if (r->next_pos >= r->range[r->next_range].length) {
		r->next_range++;
		r->next_pos = 0;
	}
}

/* Submit the next io of r: 0, -EBUSY (no room anywhere; nothing changed) or the backend's error. */
static int submit_one(struct virtio_blk *dev, struct virtio_blk_req *r)
{
	struct virtio_blk_io *vio = io_alloc(dev);
	u32 saved_range = r->next_range;
	u64 saved_pos = r->next_pos;
	int ret;

	if (!vio || !prepare_io(dev, r, vio)) {
		if (vio)
			io_free(dev, vio);
		dev->stats.stalls++;
		return -EBUSY;
	}
	vio->busy = true;
	r->inflight++;
	advance(r, vio->io.length);
	ret = dev->be.submit(dev->be.ctx, &vio->io); /* done() may run in here */
	if (ret == 0) {
		dev->stats.io_submitted++;
		return 0;
	}
	r->inflight--;
	r->next_range = saved_range;
	r->next_pos = saved_pos;
	if (vio->bounce_pages)
		bounce_free(dev, vio);
	io_free(dev, vio);
	if (ret == -EBUSY)
		dev->stats.io_busy++;
	else
		dev->stats.io_errors++;
	return ret;
}

/* Submit what is left of r (cur); false if it had to stop for room and stays cur. */
static bool submit(struct virtio_blk *dev, struct virtio_blk_req *r)
{
	while (r->result == VIRTIO_BLK_S_OK && r->next_range < r->nr_ranges) {
		int ret = submit_one(dev, r);

		if (ret == -EBUSY)
			return false;
		if (ret)
			r->result = status_of_errno(ret);
	}
	r->submitting = false;
	dev->cur = NULL;
	if (r->inflight == 0)
		finish(dev, r);
	return true;
}

/* ---- parsing: every field comes from the guest ---- */

static u8 bad_request(struct virtio_blk *dev)
{
	dev->stats.bad_requests++;
	return VIRTIO_BLK_S_IOERR;
}

/* [sector, +bytes) lies on the disk; no product or sum can overflow. */
static bool on_disk(const struct virtio_blk *dev, u64 sector, u64 bytes)
{
	u64 sectors = dev->be.capacity / VIRTIO_BLK_SECTOR_SIZE;

	return sector <= sectors && bytes / VIRTIO_BLK_SECTOR_SIZE <= sectors - sector;
}

static void add_range(struct virtio_blk_req *r, u64 sector, u64 bytes, bool unmap)
{
	struct virtio_blk_range *rg = &r->range[r->nr_ranges++];

	rg->offset = sector * VIRTIO_BLK_SECTOR_SIZE;
	rg->length = bytes;
	rg->unmap = unmap;
}

/* READ/WRITE: data all in one direction, whole sectors, on the disk. */
static u8 parse_rw(struct virtio_blk *dev, struct virtio_blk_req *r, u64 sector)
{
	const struct vq_chain *c = &r->chain;
	bool read = r->type == VIRTIO_BLK_T_IN;
	u64 len = read ? c->bytes_in - 1 : c->bytes_out - VIRTIO_BLK_HDR_SIZE;

	if (!read && dev->be.read_only) {
		dev->stats.ro_rejected++;
		return VIRTIO_BLK_S_IOERR; /* 5.2.6.2: and write nothing */
	}
	if (read ? c->bytes_out != VIRTIO_BLK_HDR_SIZE : c->bytes_in != 1)
		return bad_request(dev); /* data in the wrong direction */
	if (len == 0 || len % VIRTIO_BLK_SECTOR_SIZE || !on_disk(dev, sector, len))
		return bad_request(dev);
	add_range(r, sector, len, false);
	r->written = read ? (u32)c->bytes_in : 1;
	return VIRTIO_BLK_S_OK;
}

static u8 parse_segment(struct virtio_blk *dev, struct virtio_blk_req *r, u32 i)
{
	u8 seg[VIRTIO_BLK_DWZ_SIZE];
	u64 sector;
	u32 nr, flags;

	vq_chain_copy(&r->chain, false, VIRTIO_BLK_HDR_SIZE + (u64)i * sizeof(seg), seg,
		      sizeof(seg), false);
	sector = get_le(seg, 8);
	nr = (u32)get_le(seg + 8, 4);
	flags = (u32)get_le(seg + 12, 4);
	/* 5.2.6.2: unknown flags, and unmap on a discard, are unsupported */
	if ((flags & ~VIRTIO_BLK_DWZ_F_UNMAP) ||
	    (r->type == VIRTIO_BLK_T_DISCARD && (flags & VIRTIO_BLK_DWZ_F_UNMAP)))
		return VIRTIO_BLK_S_UNSUPP;
	if (!on_disk(dev, sector, (u64)nr * VIRTIO_BLK_SECTOR_SIZE))
		return bad_request(dev);
	if (nr)
		add_range(r, sector, (u64)nr * VIRTIO_BLK_SECTOR_SIZE,
			  flags & VIRTIO_BLK_DWZ_F_UNMAP);
	return VIRTIO_BLK_S_OK;
}

/* DISCARD/WRITE_ZEROES: 1..VIRTIO_BLK_MAX_RANGES readable segments, copied now. */
static u8 parse_ranges(struct virtio_blk *dev, struct virtio_blk_req *r)
{
	const struct vq_chain *c = &r->chain;
	u32 feature =
	    r->type == VIRTIO_BLK_T_DISCARD ? VIRTIO_BLK_F_DISCARD : VIRTIO_BLK_F_WRITE_ZEROES;
	u64 len = c->bytes_out - VIRTIO_BLK_HDR_SIZE;
	u8 st = VIRTIO_BLK_S_OK;

	if (!(virtio_pci_features(&dev->pci) & BIT(feature))) {
		dev->stats.unsupported++;
		return VIRTIO_BLK_S_UNSUPP;
	}
	if (dev->be.read_only) {
		dev->stats.ro_rejected++;
		return VIRTIO_BLK_S_IOERR;
	}
	if (c->bytes_in != 1 || len == 0 || len % VIRTIO_BLK_DWZ_SIZE ||
	    len / VIRTIO_BLK_DWZ_SIZE > VIRTIO_BLK_MAX_RANGES)
		return bad_request(dev);
	for (u32 i = 0; i < len / VIRTIO_BLK_DWZ_SIZE && st == VIRTIO_BLK_S_OK; i++)
		st = parse_segment(dev, r, i);
	return st;
}

static u8 get_id(struct virtio_blk *dev, struct virtio_blk_req *r)
{
	if (r->chain.bytes_in - 1 < VIRTIO_BLK_ID_BYTES)
		return bad_request(dev);
	vq_chain_copy(&r->chain, true, 0, dev->serial, VIRTIO_BLK_ID_BYTES, true);
	r->written = VIRTIO_BLK_ID_BYTES + 1;
	return VIRTIO_BLK_S_OK;
}

/* Validate r's chain and plan its ranges; the status it gets if nothing else fails. */
static u8 parse(struct virtio_blk *dev, struct virtio_blk_req *r)
{
	u8 hdr[VIRTIO_BLK_HDR_SIZE];
	u64 sector;

	if (r->chain.bytes_out < VIRTIO_BLK_HDR_SIZE)
		return bad_request(dev);
	vq_chain_copy(&r->chain, false, 0, hdr, sizeof(hdr), false);
	r->type = (u32)get_le(hdr, 4);
	sector = get_le(hdr + 8, 8);
	switch (r->type) {
	case VIRTIO_BLK_T_IN:
		dev->stats.reads++;
		return parse_rw(dev, r, sector);
	case VIRTIO_BLK_T_OUT:
		dev->stats.writes++;
		return parse_rw(dev, r, sector);
	case VIRTIO_BLK_T_FLUSH:
		dev->stats.flushes++;
		if (dev->be.can_flush) /* else the backend is write-through */
			add_range(r, 0, 0, false);
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_GET_ID:
		dev->stats.get_ids++;
		return get_id(dev, r);
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		if (r->type == VIRTIO_BLK_T_DISCARD)
			dev->stats.discards++;
		else
			dev->stats.write_zeroes++;
		return parse_ranges(dev, r);
	default:
		dev->stats.unsupported++;
		return VIRTIO_BLK_S_UNSUPP;
	}
}

/* The status byte: the last device-writable byte of the chain, if it has one. */
static u8 *status_byte(const struct vq_chain *c)
{
	const struct vq_seg *last = c->nr ? &c->seg[c->nr - 1] : NULL;

	if (!last || !last->device_writes)
		return NULL;
	return (u8 *)last->hva + last->len - 1;
}

/* Begin the request just taken into r; false if it is blocked (and is cur). */
static bool start(struct virtio_blk *dev, struct virtio_blk_req *r)
{
	r->gen = dev->pci.generation;
	r->nr_ranges = 0;
	r->next_range = 0;
	r->next_pos = 0;
	r->inflight = 0;
	r->written = 1;
	r->status = status_byte(&r->chain);
	if (!r->status) {
		dev->stats.no_status++; /* nowhere to answer: used, nothing written */
		push_used(dev, r->chain.head, 0);
		req_free(dev, r);
		return true;
	}
	r->result = parse(dev, r);
	r->submitting = true;
	dev->cur = r;
	return submit(dev, r);
}

/* ---- the service side ---- */

/* After a reset the request being submitted is abandoned; its ios still complete. */
static void sync_generation(struct virtio_blk *dev)
{
	struct virtio_blk_req *r = dev->cur;

	if (dev->seen_gen == dev->pci.generation)
		return;
	dev->seen_gen = dev->pci.generation;
	dev->irq_pending = false;
	if (!r)
		return;
	dev->cur = NULL;
	r->submitting = false;
	if (r->inflight == 0)
		req_free(dev, r);
}

/* Take chains while there is room; true if stopped by a full pool or backend. */
static bool run_queue(struct virtio_blk *dev, struct virtqueue *vq)
{
	if (dev->cur && !submit(dev, dev->cur))
		return true;
	for (u32 budget = vq->size; budget; budget--) {
		struct virtio_blk_req *r = req_alloc(dev);
		int ret;

		if (!r) {
			dev->stats.stalls++;
			return true;
		}
		ret = vq_pop(vq, &r->chain);
		if (ret == 1) {
			if (!start(dev, r))
				return true;
			continue;
		}
		if (ret == -EINVAL) {
			dev->stats.bad_chains++; /* consumed: used, nothing written */
			push_used(dev, r->chain.head, 0);
		}
		req_free(dev, r);
		if (ret == -EIO)
			virtio_pci_needs_reset(&dev->pci);
		if (ret != -EINVAL)
			return false;
	}
	return true; /* the driver keeps adding: come back */
}

bool virtio_blk_process(struct virtio_blk *dev)
{
	struct virtqueue *vq;
	bool more = false;

	virtio_pci_take_kick(&dev->pci);
	sync_generation(dev);
	vq = virtio_pci_queue_live(&dev->pci, BLK_QUEUE);
	if (vq)
		more = run_queue(dev, vq);
	if (dev->irq_pending) {
		dev->irq_pending = false;
		virtio_pci_notify_queue(&dev->pci, BLK_QUEUE);
	}
	return more;
}

void virtio_blk_reset(struct virtio_blk *dev)
{
	virtio_pci_reset(&dev->pci);
	sync_generation(dev);
}

u32 virtio_blk_inflight(const struct virtio_blk *dev)
{
	return VIRTIO_BLK_IOS - dev->nr_free_io;
}

/* ---- set-up ---- */

static void build_config(const struct virtio_blk *dev, u8 *cfg)
{
	u32 range_sectors = dev->range_io_max / VIRTIO_BLK_SECTOR_SIZE;

	memset(cfg, 0, VIRTIO_BLK_CFG_SIZE);
	put_le(cfg + VIRTIO_BLK_CFG_CAPACITY, dev->be.capacity / VIRTIO_BLK_SECTOR_SIZE, 8);
	put_le(cfg + VIRTIO_BLK_CFG_SIZE_MAX, VIRTIO_BLK_SIZE_MAX, 4);
	put_le(cfg + VIRTIO_BLK_CFG_SEG_MAX, VIRTIO_BLK_SEG_MAX, 4);
	put_le(cfg + VIRTIO_BLK_CFG_BLK_SIZE, VIRTIO_BLK_SECTOR_SIZE, 4);
	if (dev->be.can_discard) {
		put_le(cfg + VIRTIO_BLK_CFG_MAX_DISCARD_SECT, range_sectors, 4);
		put_le(cfg + VIRTIO_BLK_CFG_MAX_DISCARD_SEG, VIRTIO_BLK_MAX_RANGES, 4);
		put_le(cfg + VIRTIO_BLK_CFG_DISCARD_ALIGN, VIRTIO_BLK_DISCARD_ALIGN, 4);
	}
	if (dev->be.can_write_zeroes) {
		put_le(cfg + VIRTIO_BLK_CFG_MAX_WZEROES_SECT, range_sectors, 4);
		put_le(cfg + VIRTIO_BLK_CFG_MAX_WZEROES_SEG, VIRTIO_BLK_MAX_RANGES, 4);
		cfg[VIRTIO_BLK_CFG_WZEROES_MAY_UNMAP] = dev->be.can_discard;
	}
}

static u64 offered_features(const struct blk_backend *be)
{
	u64 f = BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_RING_F_INDIRECT_DESC) |
		BIT(VIRTIO_BLK_F_SEG_MAX) | BIT(VIRTIO_BLK_F_SIZE_MAX) |
		BIT(VIRTIO_BLK_F_BLK_SIZE) | BIT(VIRTIO_BLK_F_FLUSH);

	if (be->read_only)
		f |= BIT(VIRTIO_BLK_F_RO);
	if (be->can_discard)
		f |= BIT(VIRTIO_BLK_F_DISCARD);
	if (be->can_write_zeroes)
		f |= BIT(VIRTIO_BLK_F_WRITE_ZEROES);
	return f;
}

static bool params_ok(const struct virtio_blk_params *p)
{
	const struct blk_backend *be = &p->backend;

	if (!be->submit || be->capacity == 0 || be->capacity % VIRTIO_BLK_SECTOR_SIZE ||
	    be->max_io < PAGE_SIZE)
		return false;
	if (!p->bounce || !IS_ALIGNED((u64)(size_t)p->bounce, PAGE_SIZE))
		return false;
	return p->bounce_size >= PAGE_SIZE && IS_ALIGNED(p->bounce_size, PAGE_SIZE) &&
	       p->bounce_size <= VIRTIO_BLK_BOUNCE_PAGES * PAGE_SIZE;
}

const char *virtio_blk_backend_unusable(u64 size, u32 min_block, u32 max_block)
{
	if (size == 0)
		return "it is empty";
	if (size < VIRTIO_BLK_SECTOR_SIZE)
		return "it is smaller than one 512-byte sector";
	/* Guests may send any whole sector; a larger minimum would fail them (IOERR). */
	if (min_block > VIRTIO_BLK_SECTOR_SIZE)
		return "its minimum block size is above the 512-byte sector the disk offers";
	if (max_block < PAGE_SIZE)
		return "its maximum block size is below the 4096 bytes one disk request may need";
	return NULL;
}

int virtio_blk_init(struct virtio_blk *dev, const struct virtio_blk_params *p)
{
	struct virtio_pci_params pp;
	u8 cfg[VIRTIO_BLK_CFG_SIZE];
	int ret;

	if (!p || !params_ok(p))
		return -EINVAL;
	memset(dev, 0, sizeof(*dev));
	memset(&pp, 0, sizeof(pp));
	dev->be = p->backend;
	memcpy(dev->serial, p->serial, sizeof(dev->serial));
	dev->bounce = p->bounce;
	dev->bounce_pages = (u32)(p->bounce_size / PAGE_SIZE);
	dev->io_max =
	    (u32)ALIGN_DOWN(MIN(MIN(dev->be.max_io, VIRTIO_BLK_IO_MAX), p->bounce_size), PAGE_SIZE);
	dev->range_io_max = (u32)ALIGN_DOWN(dev->be.max_io, VIRTIO_BLK_SECTOR_SIZE);
	build_config(dev, cfg);

	pp.id.device_id = VIRTIO_BLK_PCI_DEVICE_ID;
	pp.id.subsys_vendor = VIRTIO_PCI_VENDOR_ID;
	pp.id.subsys_id = VIRTIO_BLK_PCI_SUBSYS_ID;
	pp.id.revision = VIRTIO_BLK_PCI_REVISION;
	pp.id.class_code = VIRTIO_BLK_PCI_CLASS;
	pp.id.subclass = VIRTIO_BLK_PCI_SUBCLASS;
	pp.features = offered_features(&dev->be);
	pp.nr_queues = 1;
	pp.queue_max = VQ_MAX_SIZE;
	pp.devcfg = cfg;
	pp.devcfg_len = sizeof(cfg);
	pp.mem = p->mem;
	pp.msi = p->msi;
	pp.msi_ctx = p->msi_ctx;
	ret = virtio_pci_init(&dev->pci, &pp);
	if (ret)
		return ret;

	for (u32 i = 0; i < VIRTIO_BLK_SLOTS; i++)
		dev->free_req[dev->nr_free_req++] = (u16)(VIRTIO_BLK_SLOTS - 1 - i);
	for (u32 i = 0; i < VIRTIO_BLK_IOS; i++) {
		dev->io[i].dev = dev;
		dev->free_io[dev->nr_free_io++] = (u16)(VIRTIO_BLK_IOS - 1 - i);
	}
	dev->seen_gen = dev->pci.generation;
	return 0;
}

/*
 * Virtio 1.x over PCI, driver side, portable part: capability walk,
 * feature and queue-size choice, split-ring bookkeeping (see virtio_drv.h).
 */
#include <hv/errno.h>
#include <hv/string.h>
#include <virtio/virtio_drv.h>

/* The device's writes to the used ring are read after its index (x86 keeps load order). */
#define ring_barrier() asm volatile("" ::: "memory")

static u32 cfg_read32(const struct pci_dev *pdev, u16 off)
{
	return pdev->cfg->read32(pdev->cfg->ctx, pdev->bdf, off & ~3u);
}

static u8 cfg_read8(const struct pci_dev *pdev, u16 off)
{
	return cfg_read32(pdev, off) >> (8 * (off & 3));
}

/*
 * The physical address of the structure a virtio capability at pos names,
 * or 0 when it is too short, names no assigned memory BAR, or does not lie
 * inside the BAR (4.1.4: bar, offset, length).
 */
static u64 cap_region(const struct pci_dev *pdev, u8 pos, u32 min_len, u32 *len, u8 *bars)
{
	u8 bar = cfg_read8(pdev, pos + VIRTIO_PCI_CAP_BAR);
	u32 offset = cfg_read32(pdev, pos + VIRTIO_PCI_CAP_OFFSET);
	u32 length = cfg_read32(pdev, pos + VIRTIO_PCI_CAP_LENGTH);
	const struct pci_bar *b;

	if (bar >= PCI_BARS_MAX || bar >= pdev->nr_bars)
		return 0;
	b = &pdev->bar[bar];
	if ((b->kind != PCI_BAR_MEM32 && b->kind != PCI_BAR_MEM64) || !b->base)
		return 0;
	if (length < min_len || (u64)offset + length > b->size)
		return 0;
	*len = length;
	*bars |= 1u << bar;
	return b->base + offset;
}

/* Take the virtio capability at pos (cap_len bytes long) if it is the first usable of its type. */
static void take_cap(const struct pci_dev *pdev, u8 pos, u8 cap_len, struct virtio_drv_caps *c)
{
	u8 type = cfg_read8(pdev, pos + 3);
	u32 len = 0;

	if (cap_len < VIRTIO_PCI_CAP_LEN)
		return;
	if (type == VIRTIO_PCI_CAP_COMMON && !c->common) {
		c->common = cap_region(pdev, pos, VIRTIO_PCI_COMMON_LEN, &len, &c->bars);
	} else if (type == VIRTIO_PCI_CAP_DEVICE && !c->device) {
		c->device = cap_region(pdev, pos, 1, &len, &c->bars);
		c->device_len = len;
	} else if (type == VIRTIO_PCI_CAP_ISR && !c->isr) {
		c->isr = cap_region(pdev, pos, 1, &len, &c->bars);
	} else if (type == VIRTIO_PCI_CAP_NOTIFY && !c->notify &&
		   cap_len >= VIRTIO_PCI_NOTIFY_CAP_LEN) {
		c->notify = cap_region(pdev, pos, VIRTIO_DRV_NOTIFY_MIN, &len, &c->bars);
		c->notify_len = len;
		c->notify_mult = cfg_read32(pdev, pos + VIRTIO_PCI_NOTIFY_CAP_MULT);
	}
}

int virtio_drv_find_caps(const struct pci_dev *pdev, struct virtio_drv_caps *c, const char **why)
{
	u8 pos = 0;

	memset(c, 0, sizeof(*c));
	if (cfg_read32(pdev, PCI_COMMAND) >> 16 & PCI_STATUS_CAP_LIST_BIT)
		pos = cfg_read8(pdev, PCI_CAP_PTR) & 0xfc;
	/* A list that loops, or points into the header, ends the walk. */
	for (u32 n = 0; pos >= PCI_CAP_FIRST && n < VIRTIO_DRV_CAPS_MAX; n++) {
		u32 hdr = cfg_read32(pdev, pos);

		if ((u8)hdr == PCI_CAP_ID_VNDR)
			take_cap(pdev, pos, hdr >> 16, c);
		pos = (hdr >> 8) & 0xfc;
	}
	if (!c->common || !c->notify || !c->device) {
		*why = "no usable virtio 1.x common, notify and device configuration capabilities "
		       "(a legacy-only device, or BARs the firmware did not assign)";
		return -ENODEV;
	}
	return 0;
}

int virtio_drv_features(u64 offered, u64 wanted, u64 required, u64 *accept, const char **why)
{
	if (!(offered & BIT(VIRTIO_F_VERSION_1)) && (required & BIT(VIRTIO_F_VERSION_1))) {
		*why = "the device does not offer VIRTIO_F_VERSION_1 (a legacy-only device)";
		return -ENOTSUP;
	}
	if ((offered & required) != required) {
		*why = "the device does not offer a feature the driver requires";
		return -ENOTSUP;
	}
	*accept = offered & wanted;
	return 0;
}

int virtio_drv_queue_size(u16 device_max, u16 limit, u16 min, u16 *size, const char **why)
{
	u16 n = device_max < limit ? device_max : limit;

	if (!device_max) {
		*why = "the queue is not available (queue_size 0)";
		return -ENODEV;
	}
	if (device_max > VIRTQ_SPLIT_MAX_SIZE || (device_max & (device_max - 1))) {
		*why = "absurd queue size (not a power of two up to 32768)";
		return -EINVAL;
	}
	while (n & (n - 1))
		n &= n - 1; /* down to the highest bit */
	if (n < min) {
		*why = "queue too small";
		return -EINVAL;
	}
	*size = n;
	return 0;
}

int vring_drv_init(struct vring_drv *r, u16 size, void *desc, void *avail, void *used)
{
	if (!size || size > VRING_DRV_MAX || (size & (size - 1)))
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	r->size = size;
	r->desc = desc;
	r->avail = avail;
	r->used = used;
	r->avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
	return 0;
}

void vring_drv_set(struct vring_drv *r, u16 id, u64 addr, u32 len, u16 flags)
{
	if (id >= r->size)
		return;
	r->desc[id].addr = addr;
	r->desc[id].len = len;
	r->desc[id].flags = flags;
	r->desc[id].next = 0;
}

static bool held(const struct vring_drv *r, u16 id)
{
	return r->out[id / 64] & BIT(id % 64);
}

int vring_drv_post(struct vring_drv *r, u16 id)
{
	if (id >= r->size || held(r, id) || r->broken)
		return -EINVAL;
	r->out[id / 64] |= BIT(id % 64);
	r->nr_out++;
	r->avail->ring[r->avail_idx % r->size] = id;
	ring_barrier(); /* the entry before the index that publishes it (2.7.13) */
	r->avail->idx = ++r->avail_idx;
	return 0;
}

bool vring_drv_needs_kick(struct vring_drv *r)
{
	__sync_synchronize(); /* the avail index store must not pass the flags load (2.7.13.3) */
	return !(r->used->flags & VIRTQ_USED_F_NO_NOTIFY);
}

int vring_drv_take(struct vring_drv *r, u16 *id, u32 *len)
{
	u16 idx, got;
	u32 elem_id;

	if (r->broken)
		return -EIO;
	idx = r->used->idx;
	if (idx == r->used_idx)
		return 0;
	/* The device can have returned at most what it holds. */
	if ((u16)(idx - r->used_idx) > r->nr_out)
		goto broken;
	ring_barrier();
	elem_id = r->used->ring[r->used_idx % r->size].id;
	if (elem_id >= r->size || !held(r, elem_id))
		goto broken;
	got = elem_id;
	*len = r->used->ring[r->used_idx % r->size].len;
	r->out[got / 64] &= ~BIT(got % 64);
	r->nr_out--;
	r->used_idx++;
	*id = got;
	return 1;
broken:
	r->broken = true;
	return -EIO;
}

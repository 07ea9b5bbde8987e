/*
 * Modern virtio-PCI transport (VIRTIO 1.2, 4.1) for one emulated function.
 *
 * Configuration space is computed a dword at a time from the state below; a
 * narrower access takes its bytes from that dword. The capability list is
 * fixed:
 *
 *   0x40 common cfg   0x50 notify (+multiplier)   0x64 ISR   0x74 device cfg
 *   0x84 PCI cfg window (+4 data bytes)           0x98 MSI-X
 *
 * Choices where the specs leave room:
 * - common configuration writes must use the field's width (a 64-bit field
 *   may also be written as two aligned 32-bit halves, 4.1.3.1); reads of any
 *   aligned size are served from a snapshot of the structure;
 * - queue registers are frozen once the queue is enabled (the driver must
 *   configure them before, 4.1.4.3.2), except the MSI-X vector;
 * - a queue whose size or rings the walker refuses at enable time is broken:
 *   DEVICE_NEEDS_RESET, announced when DRIVER_OK is (or becomes) set;
 * - MSI-X table and PBA take only aligned 4- and 8-byte accesses (PCI 3.0
 *   6.8.2); the PCI cfg window reaches the virtio structures only.
 */
#include <hv/errno.h>
#include <hv/string.h>
#include <hv/types.h>
#include <hv/virtio_pci.h>

/* Configuration header, type 0 (PCI 3.0 6.1). */
#define CFG_VENDOR_ID  0x00
#define CFG_COMMAND    0x04
#define CFG_CLASS_REV  0x08
#define CFG_BAR0       0x10
#define CFG_BAR1       0x14
#define CFG_SUBSYS     0x2c
#define CFG_CAP_PTR    0x34
#define CFG_INTR_LINE  0x3c
#define CFG_HEADER_END 0x40

#define CMD_MEMORY_BIT	     BIT(1)
#define CMD_MASTER_BIT	     BIT(2)
#define CMD_INTX_DISABLE_BIT BIT(10)
#define CMD_WRITABLE	     (CMD_MEMORY_BIT | CMD_MASTER_BIT | CMD_INTX_DISABLE_BIT)
#define STATUS_INTERRUPT_BIT BIT(3)
#define STATUS_CAP_LIST_BIT  BIT(4)
#define BAR_MEM_TYPE_64	     0x4
#define BAR_ADDR_MASK	     ((u32) ~(VIRTIO_PCI_BAR_SIZE - 1))

/* Capabilities: virtio structures (4.1.4) and MSI-X (PCI 3.0 6.8.2). */
#define CAP_ID_VNDR  0x09
#define CAP_ID_MSIX  0x11
#define CAP_FIRST    0x40
#define CAP_MSIX     0x98
#define CAP_MSIX_LEN 12

#define MSIX_CTRL_ENABLE_BIT  BIT(15)
#define MSIX_CTRL_MASKALL_BIT BIT(14)
#define MSIX_ENTRY_MASKED_BIT BIT(0)
#define MSIX_ENTRY_SIZE	      16

/* Common configuration layout (4.1.4.3), the fields of virtio 1.0. */
#define CC_SIZE 0x38
enum cc_field {
	CC_DFSELECT,
	CC_DF,
	CC_GFSELECT,
	CC_GF,
	CC_MSIX_CONFIG,
	CC_NUM_QUEUES,
	CC_STATUS,
	CC_CFG_GENERATION,
	CC_Q_SELECT,
	CC_Q_SIZE,
	CC_Q_MSIX,
	CC_Q_ENABLE,
	CC_Q_NOTIFY_OFF,
	CC_Q_DESC,
	CC_Q_DRIVER,
	CC_Q_DEVICE,
	CC_NR_FIELDS,
};

static const struct {
	u8 off, width;
} cc_layout[CC_NR_FIELDS] = {
	[CC_DFSELECT] = { 0x00, 4 },	 [CC_DF] = { 0x04, 4 },
	[CC_GFSELECT] = { 0x08, 4 },	 [CC_GF] = { 0x0c, 4 },
	[CC_MSIX_CONFIG] = { 0x10, 2 },	 [CC_NUM_QUEUES] = { 0x12, 2 },
	[CC_STATUS] = { 0x14, 1 },	 [CC_CFG_GENERATION] = { 0x15, 1 },
	[CC_Q_SELECT] = { 0x16, 2 },	 [CC_Q_SIZE] = { 0x18, 2 },
	[CC_Q_MSIX] = { 0x1a, 2 },	 [CC_Q_ENABLE] = { 0x1c, 2 },
	[CC_Q_NOTIFY_OFF] = { 0x1e, 2 }, [CC_Q_DESC] = { 0x20, 8 },
	[CC_Q_DRIVER] = { 0x28, 8 },	 [CC_Q_DEVICE] = { 0x30, 8 },
};

/* The virtio capabilities, in list order; the last one links to MSI-X. */
struct vcap {
	u8 pos, len, type;
	u32 offset, length;
};

static const struct vcap vcaps[] = {
	{ 0x40, 16, VIRTIO_PCI_CAP_COMMON, VIRTIO_PCI_COMMON_OFF, VIRTIO_PCI_REGION_LEN },
	{ 0x50, 20, VIRTIO_PCI_CAP_NOTIFY, VIRTIO_PCI_NOTIFY_OFF, VIRTIO_PCI_NOTIFY_LEN },
	{ 0x64, 16, VIRTIO_PCI_CAP_ISR, VIRTIO_PCI_ISR_OFF, VIRTIO_PCI_REGION_LEN },
	{ 0x74, 16, VIRTIO_PCI_CAP_DEVICE, VIRTIO_PCI_DEVICE_OFF, VIRTIO_PCI_REGION_LEN },
	{ 0x84, 20, VIRTIO_PCI_CAP_PCI_CFG, 0, 0 },
};

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

/* All-ones of an access of that size; of 64 bits for a size that is not one. */
static u64 ones(u32 size)
{
	return size == 1 || size == 2 || size == 4 ? BIT(size * 8) - 1 : ~0ULL;
}

static u32 merge32(u32 old, u32 val, u32 mask)
{
	return (old & ~mask) | (val & mask);
}

static u32 nr_vectors(const struct virtio_pci *vp)
{
	return 1u + vp->p.nr_queues;
}

static struct virtio_pci_queue *selected_queue(struct virtio_pci *vp)
{
	return vp->queue_select < vp->p.nr_queues ? &vp->q[vp->queue_select] : NULL;
}

/* ---- MSI-X (PCI 3.0 6.8.3.4: masked vectors set their pending bit) ---- */

static bool vector_masked(const struct virtio_pci *vp, u32 v)
{
	return (vp->msix_ctrl & MSIX_CTRL_MASKALL_BIT) ||
	       (vp->msix[v].ctrl & MSIX_ENTRY_MASKED_BIT);
}

static void msix_deliver(struct virtio_pci *vp, u32 v)
{
	const struct virtio_msix_entry *e = &vp->msix[v];

	vp->p.msi(vp->p.msi_ctx, (u64)e->addr_hi << 32 | e->addr_lo, e->data);
	vp->stats.irq_sent++;
}

static void msix_signal(struct virtio_pci *vp, u16 v)
{
	if (!(vp->msix_ctrl & MSIX_CTRL_ENABLE_BIT)) {
		vp->stats.irq_no_msix++; /* no INTx pin: the event is lost */
		return;
	}
	if (v >= nr_vectors(vp)) {
		vp->stats.irq_no_vector++;
		return;
	}
	if (!(vp->command & CMD_MASTER_BIT)) {
		vp->stats.irq_no_master++; /* an MSI is a memory write */
		return;
	}
	if (vector_masked(vp, v)) {
		vp->pba |= BIT(v);
		vp->stats.irq_pending++;
		return;
	}
	msix_deliver(vp, v);
}

/* Send the pending messages whose vectors are deliverable now. */
static void msix_flush(struct virtio_pci *vp)
{
	if (!(vp->msix_ctrl & MSIX_CTRL_ENABLE_BIT) || !(vp->command & CMD_MASTER_BIT))
		return;
	for (u32 v = 0; v < nr_vectors(vp); v++) {
		if ((vp->pba & BIT(v)) && !vector_masked(vp, v)) {
			vp->pba &= ~BIT(v);
			msix_deliver(vp, v);
		}
	}
}

static void notify_config(struct virtio_pci *vp)
{
	vp->isr |= VIRTIO_ISR_CONFIG;
	msix_signal(vp, vp->config_vector);
}

void virtio_pci_notify_queue(struct virtio_pci *vp, u16 q)
{
	if (q >= vp->p.nr_queues)
		return;
	if (!vq_wants_interrupt(&vp->q[q].vq)) {
		vp->stats.irq_suppressed++; /* 2.7.7.2: the driver polls */
		return;
	}
	/* 4.1.4.5: the ISR queue bit is for INTx only */
	if (!(vp->msix_ctrl & MSIX_CTRL_ENABLE_BIT))
		vp->isr |= VIRTIO_ISR_QUEUE;
	msix_signal(vp, vp->q[q].msix_vector);
}

void virtio_pci_needs_reset(struct virtio_pci *vp)
{
	if (vp->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET)
		return;
	vp->status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
	vp->stats.needs_reset++;
	/* 2.1.2: announced with a configuration change once DRIVER_OK is set */
	if (vp->status & VIRTIO_STATUS_DRIVER_OK)
		notify_config(vp);
}

/* ---- device status and reset (2.1, 4.1.4.3) ---- */

static void device_reset(struct virtio_pci *vp)
{
	vp->dfselect = 0;
	vp->gfselect = 0;
	vp->driver_features = 0;
	vp->status = 0;
	vp->isr = 0;
	vp->config_vector = VIRTIO_MSI_NO_VECTOR;
	vp->queue_select = 0;
	for (u32 i = 0; i < VIRTIO_PCI_MAX_QUEUES; i++) {
		memset(&vp->q[i], 0, sizeof(vp->q[i]));
		vp->q[i].size = vp->p.queue_max;
		vp->q[i].msix_vector = VIRTIO_MSI_NO_VECTOR;
	}
	vp->generation++;
	vp->kick = false;
	vp->stats.resets++;
}

/* 2.2.2 / 6.1: only features we offered, and VERSION_1 for a modern device. */
static bool features_acceptable(const struct virtio_pci *vp)
{
	return !(vp->driver_features & ~vp->offered) &&
	       (vp->driver_features & BIT(VIRTIO_F_VERSION_1));
}

static void write_status(struct virtio_pci *vp, u8 val)
{
	u8 old = vp->status;

	if (val == 0) {
		device_reset(vp); /* complete at once: the next read gives 0 */
		return;
	}
	val = (u8)((val & ~VIRTIO_STATUS_DEVICE_NEEDS_RESET) |
		   (old & VIRTIO_STATUS_DEVICE_NEEDS_RESET));
	if ((val & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK) &&
	    !features_acceptable(vp)) {
		val &= (u8)~VIRTIO_STATUS_FEATURES_OK;
		vp->stats.features_refused++;
	}
	vp->status = val;
	if ((val & VIRTIO_STATUS_DRIVER_OK) && !(old & VIRTIO_STATUS_DRIVER_OK) &&
	    (val & VIRTIO_STATUS_DEVICE_NEEDS_RESET))
		notify_config(vp);
}

static u16 checked_vector(const struct virtio_pci *vp, u16 v)
{
	return v < nr_vectors(vp) ? v : VIRTIO_MSI_NO_VECTOR;
}

static void enable_queue(struct virtio_pci *vp, struct virtio_pci_queue *q)
{
	if (q->enabled)
		return;
	q->enabled = true;
	memset(&q->vq, 0, sizeof(q->vq));
	if (q->size > vp->p.queue_max ||
	    vq_init(&q->vq, q->size, q->desc, q->driver, q->device, &vp->p.mem)) {
		q->vq.broken = true;
		virtio_pci_needs_reset(vp);
	}
}

/* ---- common configuration ---- */

static u32 feature_word(u64 features, u32 select)
{
	return select < 2 ? (u32)(features >> (32 * select)) : 0;
}

static void common_snapshot(struct virtio_pci *vp, u8 *b)
{
	const struct virtio_pci_queue *q = selected_queue(vp);

	memset(b, 0, CC_SIZE);
	put_le(b + 0x00, vp->dfselect, 4);
	put_le(b + 0x04, feature_word(vp->offered, vp->dfselect), 4);
	put_le(b + 0x08, vp->gfselect, 4);
	put_le(b + 0x0c, feature_word(vp->driver_features, vp->gfselect), 4);
	put_le(b + 0x10, vp->config_vector, 2);
	put_le(b + 0x12, vp->p.nr_queues, 2);
	b[0x14] = vp->status;
	b[0x15] = 0; /* config_generation: the configuration never changes */
	put_le(b + 0x16, vp->queue_select, 2);
	if (!q)
		return; /* 4.1.4.3.1: queue_size 0 for a queue that does not exist */
	put_le(b + 0x18, q->size, 2);
	put_le(b + 0x1a, q->msix_vector, 2);
	put_le(b + 0x1c, q->enabled, 2);
	put_le(b + 0x1e, vp->queue_select, 2); /* queue_notify_off = index */
	put_le(b + 0x20, q->desc, 8);
	put_le(b + 0x28, q->driver, 8);
	put_le(b + 0x30, q->device, 8);
}

static u64 common_read(struct virtio_pci *vp, u32 off, u32 size)
{
	u8 b[CC_SIZE];

	if (off + size > CC_SIZE)
		return 0;
	common_snapshot(vp, b);
	return get_le(b + off, size);
}

/* The field at off, if the access has its width (or is half of a 64-bit one); else -1. */
static int cc_lookup(u32 off, u32 size)
{
	for (int f = 0; f < CC_NR_FIELDS; f++) {
		u32 start = cc_layout[f].off, width = cc_layout[f].width;

		if (off < start || off >= start + width)
			continue;
		if (off == start && size == width)
			return f;
		if (width == 8 && size == 4 && (off - start) % 4 == 0)
			return f;
		return -1;
	}
	return -1;
}

static void set64(u64 *field, u32 rel, u32 size, u64 val)
{
	if (size == 8) {
		*field = val;
		return;
	}
	*field &= ~(0xffffffffULL << (rel * 8));
	*field |= (val & 0xffffffffULL) << (rel * 8);
}

static void write_driver_features(struct virtio_pci *vp, u32 val)
{
	/* frozen once the device accepted them */
	if ((vp->status & VIRTIO_STATUS_FEATURES_OK) || vp->gfselect >= 2)
		return;
	set64(&vp->driver_features, 4 * vp->gfselect, 4, val);
}

static void queue_write(struct virtio_pci *vp, int f, u32 rel, u32 size, u64 val)
{
	struct virtio_pci_queue *q = selected_queue(vp);

	if (!q)
		return;
	if (f == CC_Q_MSIX) {
		q->msix_vector = checked_vector(vp, (u16)val);
		return;
	}
	if (q->enabled)
		return;
	if (f == CC_Q_SIZE)
		q->size = (u16)val;
	else if (f == CC_Q_ENABLE && val == 1)
		enable_queue(vp, q);
	else if (f == CC_Q_DESC)
		set64(&q->desc, rel, size, val);
	else if (f == CC_Q_DRIVER)
		set64(&q->driver, rel, size, val);
	else if (f == CC_Q_DEVICE)
		set64(&q->device, rel, size, val);
}

static void common_write(struct virtio_pci *vp, u32 off, u32 size, u64 val)
{
	int f;

	if (off >= CC_SIZE)
		return;
	f = cc_lookup(off, size);
	if (f < 0) {
		vp->stats.bar_invalid++;
		return;
	}
	switch (f) {
	case CC_DFSELECT:
		vp->dfselect = (u32)val;
		break;
	case CC_GFSELECT:
		vp->gfselect = (u32)val;
		break;
	case CC_GF:
		write_driver_features(vp, (u32)val);
		break;
	case CC_MSIX_CONFIG:
		vp->config_vector = checked_vector(vp, (u16)val);
		break;
	case CC_STATUS:
		write_status(vp, (u8)val);
		break;
	case CC_Q_SELECT:
		vp->queue_select = (u16)val;
		break;
	case CC_DF:
	case CC_NUM_QUEUES:
	case CC_CFG_GENERATION:
	case CC_Q_NOTIFY_OFF:
		break; /* read-only */
	default:
		queue_write(vp, f, off - cc_layout[f].off, size, val);
		break;
	}
}

/* ---- the BAR; callers checked size, alignment and range ---- */

static bool in_msix(u64 off)
{
	return off >= VIRTIO_PCI_MSIX_TABLE_OFF;
}

static u64 msix_table_read(const struct virtio_pci *vp, u32 rel, u32 size)
{
	u32 entry = rel / MSIX_ENTRY_SIZE, word = (rel % MSIX_ENTRY_SIZE) / 4;
	const struct virtio_msix_entry *e;
	u32 w[4];

	if (entry >= nr_vectors(vp))
		return 0;
	e = &vp->msix[entry];
	w[0] = e->addr_lo;
	w[1] = e->addr_hi;
	w[2] = e->data;
	w[3] = e->ctrl;
	return size == 8 ? w[word] | (u64)w[word + 1] << 32 : w[word];
}

static u64 bar_read(struct virtio_pci *vp, u32 off, u32 size)
{
	u8 isr;

	if (off < VIRTIO_PCI_ISR_OFF)
		return common_read(vp, off, size);
	if (off < VIRTIO_PCI_DEVICE_OFF) {
		if (off != VIRTIO_PCI_ISR_OFF)
			return 0;
		isr = vp->isr; /* 4.1.4.5: reading resets it */
		vp->isr = 0;
		return isr;
	}
	if (off < VIRTIO_PCI_NOTIFY_OFF) {
		off -= VIRTIO_PCI_DEVICE_OFF;
		return off < VIRTIO_PCI_DEVCFG_MAX ? get_le(vp->devcfg + off, size) : 0;
	}
	if (off < VIRTIO_PCI_MSIX_TABLE_OFF)
		return 0;
	if (off < VIRTIO_PCI_MSIX_PBA_OFF)
		return msix_table_read(vp, off - VIRTIO_PCI_MSIX_TABLE_OFF, size);
	if (off == VIRTIO_PCI_MSIX_PBA_OFF)
		return size == 8 ? vp->pba : (u32)vp->pba;
	return 0;
}

static void msix_table_write32(struct virtio_pci *vp, u32 rel, u32 val)
{
	u32 entry = rel / MSIX_ENTRY_SIZE;
	struct virtio_msix_entry *e;

	if (entry >= nr_vectors(vp))
		return;
	e = &vp->msix[entry];
	switch ((rel % MSIX_ENTRY_SIZE) / 4) {
	case 0:
		e->addr_lo = val & ~3u; /* dword-aligned message address */
		break;
	case 1:
		e->addr_hi = val;
		break;
	case 2:
		e->data = val;
		break;
	default:
		e->ctrl = val & MSIX_ENTRY_MASKED_BIT;
		break;
	}
}

static bool notify_write(struct virtio_pci *vp, u32 rel)
{
	bool was = vp->kick;

	if (rel % VIRTIO_PCI_NOTIFY_MULT || rel / VIRTIO_PCI_NOTIFY_MULT >= vp->p.nr_queues)
		return false;
	vp->stats.notifies++;
	vp->kick = true;
	return !was;
}

static bool bar_write(struct virtio_pci *vp, u32 off, u32 size, u64 val)
{
	if (off < VIRTIO_PCI_ISR_OFF) {
		common_write(vp, off, size, val);
		return false;
	}
	if (off >= VIRTIO_PCI_NOTIFY_OFF && off < VIRTIO_PCI_MSIX_TABLE_OFF)
		return notify_write(vp, off - VIRTIO_PCI_NOTIFY_OFF);
	if (off >= VIRTIO_PCI_MSIX_TABLE_OFF && off < VIRTIO_PCI_MSIX_PBA_OFF) {
		msix_table_write32(vp, off - VIRTIO_PCI_MSIX_TABLE_OFF, (u32)val);
		if (size == 8)
			msix_table_write32(vp, off + 4 - VIRTIO_PCI_MSIX_TABLE_OFF,
					   (u32)(val >> 32));
		msix_flush(vp);
	}
	return false; /* ISR, device configuration and PBA are read-only */
}

static bool bar_access_ok(u64 off, u32 size)
{
	if (size != 1 && size != 2 && size != 4 && size != 8)
		return false;
	if (off >= VIRTIO_PCI_BAR_SIZE || (off & (size - 1)))
		return false;
	return !in_msix(off) || size >= 4;
}

u64 virtio_pci_bar_base(const struct virtio_pci *vp)
{
	u64 base = (u64)vp->bar_hi << 32 | (vp->bar_lo & BAR_ADDR_MASK);

	if (!(vp->command & CMD_MEMORY_BIT) || base == 0)
		return 0;
	if (base + VIRTIO_PCI_BAR_SIZE < base)
		return 0; /* still holds the all-ones sizing pattern */
	return base;
}

u64 virtio_pci_bar_read(struct virtio_pci *vp, u64 off, u32 size)
{
	if (!bar_access_ok(off, size)) {
		vp->stats.bar_invalid++;
		return ones(size);
	}
	if (!(vp->command & CMD_MEMORY_BIT)) {
		vp->stats.bar_disabled++;
		return ones(size);
	}
	return bar_read(vp, (u32)off, size);
}

bool virtio_pci_bar_write(struct virtio_pci *vp, u64 off, u32 size, u64 val)
{
	if (!bar_access_ok(off, size)) {
		vp->stats.bar_invalid++;
		return false;
	}
	if (!(vp->command & CMD_MEMORY_BIT)) {
		vp->stats.bar_disabled++;
		return false;
	}
	return bar_write(vp, (u32)off, size, val & ones(size));
}

/* ---- configuration space ---- */

/* 4.1.4.9: the window reaches BAR0's virtio structures with 1, 2 or 4 bytes. */
static bool window_ok(const struct virtio_pci *vp)
{
	u32 len = vp->cfg_window.length, off = vp->cfg_window.offset;

	if (vp->cfg_window.bar != 0 || (len != 1 && len != 2 && len != 4))
		return false;
	return off % len == 0 && off < VIRTIO_PCI_MSIX_TABLE_OFF;
}

static u32 window_read(struct virtio_pci *vp)
{
	if (window_ok(vp))
		put_le(vp->cfg_window.data,
		       bar_read(vp, vp->cfg_window.offset, vp->cfg_window.length),
		       vp->cfg_window.length);
	return (u32)get_le(vp->cfg_window.data, 4);
}

static bool window_write(struct virtio_pci *vp, u32 val, u32 mask)
{
	u32 data = merge32((u32)get_le(vp->cfg_window.data, 4), val, mask);

	put_le(vp->cfg_window.data, data, 4);
	if (!window_ok(vp))
		return false;
	return bar_write(vp, vp->cfg_window.offset, vp->cfg_window.length,
			 get_le(vp->cfg_window.data, vp->cfg_window.length));
}

static u32 vcap_read(struct virtio_pci *vp, u32 i, u32 rel)
{
	const struct vcap *c = &vcaps[i];
	u8 next = i + 1 < ARRAY_SIZE(vcaps) ? vcaps[i + 1].pos : CAP_MSIX;
	bool window = c->type == VIRTIO_PCI_CAP_PCI_CFG;

	switch (rel) {
	case 0:
		return CAP_ID_VNDR | next << 8 | (u32)c->len << 16 | (u32)c->type << 24;
	case 4:
		return window ? vp->cfg_window.bar : 0; /* bar 0, id 0 */
	case 8:
		return window ? vp->cfg_window.offset : c->offset;
	case 12:
		return window ? vp->cfg_window.length : c->length;
	default:
		return window ? window_read(vp) : VIRTIO_PCI_NOTIFY_MULT;
	}
}

static bool vcap_write(struct virtio_pci *vp, u32 i, u32 rel, u32 val, u32 mask)
{
	if (vcaps[i].type != VIRTIO_PCI_CAP_PCI_CFG)
		return false; /* 4.1.4: read-only for the driver */
	if (rel == 4 && (mask & 0xff))
		vp->cfg_window.bar = (u8)val;
	else if (rel == 8)
		vp->cfg_window.offset = merge32(vp->cfg_window.offset, val, mask);
	else if (rel == 12)
		vp->cfg_window.length = merge32(vp->cfg_window.length, val, mask);
	else if (rel == 16)
		return window_write(vp, val, mask);
	return false;
}

static u32 msix_cap_read(const struct virtio_pci *vp, u32 rel)
{
	u32 ctrl = (vp->msix_ctrl & (MSIX_CTRL_ENABLE_BIT | MSIX_CTRL_MASKALL_BIT)) |
		   (nr_vectors(vp) - 1); /* table size, N-1 encoded */

	if (rel == 0)
		return CAP_ID_MSIX | ctrl << 16; /* last capability: next 0 */
	return rel == 4 ? VIRTIO_PCI_MSIX_TABLE_OFF : VIRTIO_PCI_MSIX_PBA_OFF; /* BIR 0 */
}

static u32 header_read(const struct virtio_pci *vp, u32 reg)
{
	const struct virtio_pci_id *id = &vp->p.id;
	u32 status = STATUS_CAP_LIST_BIT;

	/* 4.1.4.5: with MSI-X off the interrupt status bit mirrors the ISR */
	if (!(vp->msix_ctrl & MSIX_CTRL_ENABLE_BIT) && vp->isr)
		status |= STATUS_INTERRUPT_BIT;
	switch (reg) {
	case CFG_VENDOR_ID:
		return VIRTIO_PCI_VENDOR_ID | (u32)id->device_id << 16;
	case CFG_COMMAND:
		return vp->command | status << 16;
	case CFG_CLASS_REV:
		return id->revision | (u32)id->prog_if << 8 | (u32)id->subclass << 16 |
		       (u32)id->class_code << 24;
	case CFG_BAR0:
		return (vp->bar_lo & BAR_ADDR_MASK) | BAR_MEM_TYPE_64;
	case CFG_BAR1:
		return vp->bar_hi;
	case CFG_SUBSYS:
		return id->subsys_vendor | (u32)id->subsys_id << 16;
	case CFG_CAP_PTR:
		return CAP_FIRST;
	case CFG_INTR_LINE:
		return vp->intr_line; /* interrupt pin 0: no INTx */
	default:
		return 0; /* header type 0, BIST, ROM BAR, BAR2-5: nothing */
	}
}

static void header_write(struct virtio_pci *vp, u32 reg, u32 val, u32 mask)
{
	switch (reg) {
	case CFG_COMMAND:
		vp->command = (u16)(merge32(vp->command, val, mask & 0xffff) & CMD_WRITABLE);
		msix_flush(vp); /* bus mastering may just have been turned on */
		break;
	case CFG_BAR0:
		vp->bar_lo = merge32(vp->bar_lo, val, mask) & BAR_ADDR_MASK;
		break;
	case CFG_BAR1:
		vp->bar_hi = merge32(vp->bar_hi, val, mask);
		break;
	case CFG_INTR_LINE:
		if (mask & 0xff)
			vp->intr_line = (u8)val;
		break;
	default:
		break;
	}
}

static u32 cfg_read32(struct virtio_pci *vp, u32 reg)
{
	if (reg < CFG_HEADER_END)
		return header_read(vp, reg);
	if (reg >= CAP_MSIX && reg < CAP_MSIX + CAP_MSIX_LEN)
		return msix_cap_read(vp, reg - CAP_MSIX);
	for (u32 i = 0; i < ARRAY_SIZE(vcaps); i++)
		if (reg >= vcaps[i].pos && reg < vcaps[i].pos + vcaps[i].len)
			return vcap_read(vp, i, reg - vcaps[i].pos);
	return 0;
}

static bool cfg_write32(struct virtio_pci *vp, u32 reg, u32 val, u32 mask)
{
	if (reg < CFG_HEADER_END) {
		header_write(vp, reg, val, mask);
		return false;
	}
	if (reg == CAP_MSIX) {
		if (mask >> 16) {
			vp->msix_ctrl = (u16)(merge32((u32)vp->msix_ctrl << 16, val, mask) >> 16) &
					(MSIX_CTRL_ENABLE_BIT | MSIX_CTRL_MASKALL_BIT);
			msix_flush(vp);
		}
		return false;
	}
	for (u32 i = 0; i < ARRAY_SIZE(vcaps); i++)
		if (reg >= vcaps[i].pos && reg < vcaps[i].pos + vcaps[i].len)
			return vcap_write(vp, i, reg - vcaps[i].pos, val, mask);
	return false;
}

static bool cfg_access_ok(u32 off, u32 size)
{
	if (size != 1 && size != 2 && size != 4)
		return false;
	return off < VIRTIO_PCI_CONFIG_SIZE && !(off & (size - 1));
}

u32 virtio_pci_cfg_read(struct virtio_pci *vp, u32 off, u32 size)
{
	u32 shift = (off & 3) * 8;

	if (!cfg_access_ok(off, size)) {
		vp->stats.cfg_invalid++;
		return 0xffffffffu & (u32)ones(size);
	}
	return (u32)((cfg_read32(vp, off & ~3u) >> shift) & ones(size));
}

bool virtio_pci_cfg_write(struct virtio_pci *vp, u32 off, u32 size, u32 val)
{
	u32 shift = (off & 3) * 8;

	if (!cfg_access_ok(off, size)) {
		vp->stats.cfg_invalid++;
		return false;
	}
	return cfg_write32(vp, off & ~3u, (u32)((val & ones(size)) << shift),
			   (u32)(ones(size) << shift));
}

/* ---- life cycle and the device model's view ---- */

void virtio_pci_reset(struct virtio_pci *vp)
{
	vp->command = 0;
	vp->bar_lo = 0;
	vp->bar_hi = 0;
	vp->intr_line = 0;
	vp->msix_ctrl = 0;
	for (u32 v = 0; v < VIRTIO_PCI_MSIX_MAX; v++) {
		memset(&vp->msix[v], 0, sizeof(vp->msix[v]));
		vp->msix[v].ctrl = MSIX_ENTRY_MASKED_BIT; /* PCI 3.0 6.8.2.9 */
	}
	vp->pba = 0;
	memset(&vp->cfg_window, 0, sizeof(vp->cfg_window));
	device_reset(vp);
}

int virtio_pci_init(struct virtio_pci *vp, const struct virtio_pci_params *p)
{
	u16 qmax = p ? p->queue_max : 0;

	if (!p || !p->mem.map || !p->msi || p->nr_queues == 0 ||
	    p->nr_queues > VIRTIO_PCI_MAX_QUEUES || p->devcfg_len > VIRTIO_PCI_DEVCFG_MAX ||
	    (p->devcfg_len && !p->devcfg))
		return -EINVAL;
	if (qmax == 0 || qmax > VQ_MAX_SIZE || (qmax & (qmax - 1)))
		return -EINVAL;

	memset(vp, 0, sizeof(*vp));
	vp->p = *p;
	vp->p.devcfg = NULL; /* copied below; the caller's buffer may go away */
	if (p->devcfg_len)
		memcpy(vp->devcfg, p->devcfg, p->devcfg_len);
	vp->offered = p->features | BIT(VIRTIO_F_VERSION_1);
	virtio_pci_reset(vp);
	memset(&vp->stats, 0, sizeof(vp->stats));
	return 0;
}

bool virtio_pci_take_kick(struct virtio_pci *vp)
{
	bool kick = vp->kick;

	vp->kick = false;
	return kick;
}

bool virtio_pci_dma_allowed(const struct virtio_pci *vp)
{
	return vp->command & CMD_MASTER_BIT;
}

u64 virtio_pci_features(const struct virtio_pci *vp)
{
	return (vp->status & VIRTIO_STATUS_FEATURES_OK) ? vp->driver_features : 0;
}

struct virtqueue *virtio_pci_queue_live(struct virtio_pci *vp, u16 q)
{
	const u8 need = VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_FEATURES_OK;
	struct virtio_pci_queue *queue;

	if (q >= vp->p.nr_queues || (vp->status & need) != need)
		return NULL;
	if (vp->status & (VIRTIO_STATUS_DEVICE_NEEDS_RESET | VIRTIO_STATUS_FAILED))
		return NULL;
	if (!virtio_pci_dma_allowed(vp))
		return NULL;
	queue = &vp->q[q];
	if (!queue->enabled || queue->vq.broken)
		return NULL;
	return &queue->vq;
}

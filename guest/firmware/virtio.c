/*
 * Virtio PCI modern transport and split virtqueues, driver side.
 */
#include "io.h"
#include "virtio.h"

/* 4.1.4 Virtio Structure PCI Capabilities: cfg_type */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_DEVICE_CFG 4

/* 4.1.4.3 struct virtio_pci_common_cfg */
#define VCC_DEVICE_FEATURE_SELECT 0x00
#define VCC_DEVICE_FEATURE	  0x04
#define VCC_DRIVER_FEATURE_SELECT 0x08
#define VCC_DRIVER_FEATURE	  0x0C
#define VCC_MSIX_CONFIG		  0x10
#define VCC_NUM_QUEUES		  0x12
#define VCC_DEVICE_STATUS	  0x14
#define VCC_CONFIG_GENERATION	  0x15
#define VCC_QUEUE_SELECT	  0x16
#define VCC_QUEUE_SIZE		  0x18
#define VCC_QUEUE_MSIX_VECTOR	  0x1A
#define VCC_QUEUE_ENABLE	  0x1C
#define VCC_QUEUE_NOTIFY_OFF	  0x1E
#define VCC_QUEUE_DESC		  0x20
#define VCC_QUEUE_DRIVER	  0x28
#define VCC_QUEUE_DEVICE	  0x30

#define VIRTIO_RESET_SPINS 1000000

/* One virtio_pci_cap: the BAR, offset and length it names, as an address. */
static volatile u8 *cap_window(const struct pci_func *f, u8 pos, u32 min_len)
{
	u32 bar = pci_read32(f, pos + 4) & 0xFF;
	u32 offset = pci_read32(f, pos + 8), length = pci_read32(f, pos + 12);
	const struct pci_bar *b;

	if (bar >= PCI_NR_BARS)
		return NULL;
	b = &f->bar[bar];
	if (!b->base || b->io || length < min_len || (u64)offset + length > b->size)
		return NULL;
	return (volatile u8 *)(uintptr_t)(b->base + offset);
}

int virtio_pci_probe(struct virtio_dev *vd, const struct pci_func *f, const char **why)
{
	u8 pos = 0;

	*vd = (struct virtio_dev){ .pci = f };
	if (pci_read16(f, PCI_STATUS) & PCI_STATUS_CAP_LIST)
		pos = pci_read8(f, PCI_CAP_PTR) & 0xFC;
	for (int guard = 0; pos && guard < 48; guard++) {
		u32 hdr = pci_read32(f, pos);
		u8 type = (u8)(hdr >> 24);

		/* 4.1.4.1: the first capability of each type is the one to use */
		if ((u8)hdr == PCI_CAP_ID_VNDR) {
			if (type == VIRTIO_PCI_CAP_COMMON_CFG && !vd->common)
				vd->common = cap_window(f, pos, 0x38);
			else if (type == VIRTIO_PCI_CAP_DEVICE_CFG && !vd->device)
				vd->device = cap_window(f, pos, 16);
			else if (type == VIRTIO_PCI_CAP_NOTIFY_CFG && !vd->notify_base) {
				vd->notify_base = cap_window(f, pos, 2);
				vd->notify_mult = pci_read32(f, pos + 16);
			}
		}
		pos = (u8)(hdr >> 8) & 0xFC;
	}
	if (!vd->common || !vd->notify_base || !vd->device) {
		*why = "no usable virtio 1.x common, notify and device configuration capabilities "
		       "(a legacy-only device, or BARs not assigned)";
		return -FW_ENODEV;
	}
	return 0;
}

static u8 status_get(struct virtio_dev *vd)
{
	return mmio_read8(vd->common + VCC_DEVICE_STATUS);
}

static void status_set(struct virtio_dev *vd, u8 s)
{
	mmio_write8(vd->common + VCC_DEVICE_STATUS, s);
}

void virtio_reset(struct virtio_dev *vd)
{
	status_set(vd, 0);
	for (int i = 0; i < VIRTIO_RESET_SPINS && status_get(vd); i++)
		cpu_relax();
}

void virtio_fail(struct virtio_dev *vd)
{
	status_set(vd, status_get(vd) | VIRTIO_STATUS_FAILED);
}

void virtio_driver_ok(struct virtio_dev *vd)
{
	status_set(vd, status_get(vd) | VIRTIO_STATUS_DRIVER_OK);
}

static u64 features_get(struct virtio_dev *vd)
{
	u64 f;

	mmio_write32(vd->common + VCC_DEVICE_FEATURE_SELECT, 0);
	f = mmio_read32(vd->common + VCC_DEVICE_FEATURE);
	mmio_write32(vd->common + VCC_DEVICE_FEATURE_SELECT, 1);
	return f | (u64)mmio_read32(vd->common + VCC_DEVICE_FEATURE) << 32;
}

static void features_set(struct virtio_dev *vd, u64 f)
{
	mmio_write32(vd->common + VCC_DRIVER_FEATURE_SELECT, 0);
	mmio_write32(vd->common + VCC_DRIVER_FEATURE, (u32)f);
	mmio_write32(vd->common + VCC_DRIVER_FEATURE_SELECT, 1);
	mmio_write32(vd->common + VCC_DRIVER_FEATURE, (u32)(f >> 32));
}

int virtio_negotiate(struct virtio_dev *vd, u64 wanted, u64 required, const char **why)
{
	u64 offered;

	virtio_reset(vd);
	if (status_get(vd)) {
		*why = "the device did not reset (device_status never read back 0)";
		return -FW_EIO;
	}
	status_set(vd, VIRTIO_STATUS_ACKNOWLEDGE);
	status_set(vd, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	offered = features_get(vd);
	if ((offered & required) != required) {
		*why = "the device does not offer VIRTIO_F_VERSION_1";
		virtio_fail(vd);
		return -FW_ENOTSUP;
	}
	vd->features = offered & (wanted | required);
	features_set(vd, vd->features);
	status_set(vd,
		   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	if (!(status_get(vd) & VIRTIO_STATUS_FEATURES_OK)) {
		*why = "the device did not accept the features (FEATURES_OK cleared)";
		virtio_fail(vd);
		return -FW_ENOTSUP;
	}
	return 0;
}

/* 2.7: descriptor table, then the driver area, then the device area, each aligned. */
static void queue_layout(struct virtq *q, u8 *mem)
{
	u64 avail = (u64)q->size * sizeof(struct virtq_desc);
	u64 used = ALIGN_UP(avail + sizeof(struct virtq_avail) + 2 * (u64)q->size + 2, 4);

	memset(mem, 0, VIRTQ_MEM_SIZE);
	q->desc = (struct virtq_desc *)mem;
	q->avail = (struct virtq_avail *)(mem + avail);
	q->used = (struct virtq_used *)(mem + used);
	q->avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
	q->avail_idx = q->used_idx = 0;
}

int virtio_queue_setup(struct virtio_dev *vd, struct virtq *q, u16 index, u16 max_size, void *mem,
		       const char **why)
{
	volatile u8 *c = vd->common;
	u16 size;

	mmio_write16(c + VCC_QUEUE_SELECT, index);
	size = mmio_read16(c + VCC_QUEUE_SIZE);
	if (!size) {
		*why = "the request queue does not exist (queue_size 0)";
		return -FW_ENODEV;
	}
	size = MIN(size, MIN(max_size, VIRTQ_MAX_SIZE));
	while (size & (size - 1)) /* a power of two: the device side may insist */
		size &= size - 1;
	q->index = index;
	q->size = size;
	queue_layout(q, mem);
	mmio_write16(c + VCC_QUEUE_SIZE, size);
	mmio_write16(c + VCC_QUEUE_MSIX_VECTOR, VIRTIO_MSI_NO_VECTOR);
	mmio_write64(c + VCC_QUEUE_DESC, (u64)(uintptr_t)q->desc);
	mmio_write64(c + VCC_QUEUE_DRIVER, (u64)(uintptr_t)q->avail);
	mmio_write64(c + VCC_QUEUE_DEVICE, (u64)(uintptr_t)q->used);
	q->notify = vd->notify_base + (u64)mmio_read16(c + VCC_QUEUE_NOTIFY_OFF) * vd->notify_mult;
	mmio_write16(c + VCC_MSIX_CONFIG, VIRTIO_MSI_NO_VECTOR);
	mmio_write16(c + VCC_QUEUE_ENABLE, 1);
	return 0;
}

void virtq_push(struct virtq *q, u16 head)
{
	q->avail->ring[q->avail_idx % q->size] = head;
	barrier(); /* the ring entry before the index (2.7.13) */
	q->avail_idx++;
	*(volatile u16 *)&q->avail->idx = q->avail_idx;
}

void virtq_notify(struct virtq *q)
{
	mb(); /* the index before the notification (2.7.13.4) */
	mmio_write16(q->notify, q->index);
}

bool virtq_pop_used(struct virtq *q, struct virtq_used_elem *e)
{
	if (*(volatile u16 *)&q->used->idx == q->used_idx)
		return false;
	barrier(); /* the index before the element */
	*e = q->used->ring[q->used_idx % q->size];
	q->used_idx++;
	return true;
}

/* Device configuration reads, retried until config_generation is stable (4.1.4.3.1). */
u32 virtio_config_read32(struct virtio_dev *vd, u32 off)
{
	u8 gen;
	u32 v;

	do {
		gen = mmio_read8(vd->common + VCC_CONFIG_GENERATION);
		v = mmio_read32(vd->device + off);
	} while (gen != mmio_read8(vd->common + VCC_CONFIG_GENERATION));
	return v;
}

u64 virtio_config_read64(struct virtio_dev *vd, u32 off)
{
	u8 gen;
	u64 v;

	do {
		gen = mmio_read8(vd->common + VCC_CONFIG_GENERATION);
		v = mmio_read32(vd->device + off);
		v |= (u64)mmio_read32(vd->device + off + 4) << 32;
	} while (gen != mmio_read8(vd->common + VCC_CONFIG_GENERATION));
	return v;
}

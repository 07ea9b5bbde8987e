/*
 * libFuzzer target: the driver side of virtio-PCI against a hostile device.
 * Input: 256 bytes of configuration space (the capability walk runs over
 * them with BAR4 a 16 KiB 64-bit BAR), two bytes of device queue size, then
 * a script of used-ring updates: per record a new used idx (2 bytes) and one
 * element (id 4, len 4 bytes) written at the slot the driver reads next.
 * Checked: every structure found lies inside its BAR, the queue size is a
 * power of two within the limits, and the ring never hands back an id it did
 * not hold nor more buffers than were posted.
 */
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include <hv/errno.h>
#include <virtio/virtio_drv.h>

#define CHECK(cond)                       \
	do {                              \
		if (!(cond))              \
			__builtin_trap(); \
	} while (0)

#define BAR_BASE 0xfe000000ULL
#define BAR_SIZE 0x4000
#define QSZ	 16

static u8 space[PCI_CONFIG_SIZE];

static u32 fake_read32(void *ctx, u32 bdf, u16 off)
{
	u32 v;

	(void)ctx;
	(void)bdf;
	memcpy(&v, space + (off & 0xfc), 4);
	return v;
}

static void fake_write32(void *ctx, u32 bdf, u16 off, u32 v)
{
	(void)ctx;
	(void)bdf;
	(void)off;
	(void)v;
}

static const struct pci_config fake_cfg = { fake_read32, fake_write32, NULL };

static void check_region(u64 addr, u64 len)
{
	if (addr)
		CHECK(addr >= BAR_BASE && addr - BAR_BASE + len <= BAR_SIZE);
}

static void fuzz_caps(const u8 *data)
{
	struct pci_dev d = { .cfg = &fake_cfg, .nr_bars = 6 };
	struct virtio_drv_caps c;
	const char *why = NULL;

	memcpy(space, data, PCI_CONFIG_SIZE);
	d.bar[4] = (struct pci_bar){ .kind = PCI_BAR_MEM64, .base = BAR_BASE, .size = BAR_SIZE };
	if (virtio_drv_find_caps(&d, &c, &why)) {
		CHECK(why);
		return;
	}
	check_region(c.common, VIRTIO_PCI_COMMON_LEN);
	check_region(c.notify, c.notify_len);
	check_region(c.device, c.device_len);
	CHECK(c.bars == (1 << 4));
}

static void fuzz_ring(const u8 *data, size_t size)
{
	static struct virtq_desc desc[QSZ];
	static u16 avail[2 + QSZ + 1];
	static struct {
		u16 flags, idx;
		struct virtq_used_elem ring[QSZ];
		u16 avail_event;
	} used;
	struct vring_drv r;
	u16 id, held = 0;
	u32 len;
	int t = 0;

	memset(&used, 0, sizeof(used));
	CHECK(vring_drv_init(&r, QSZ, desc, avail, &used) == 0);
	for (u16 i = 0; i < QSZ; i++) {
		CHECK(vring_drv_post(&r, i) == 0);
		held++;
	}
	for (; size >= 10; data += 10, size -= 10) {
		memcpy(&used.idx, data, 2);
		memcpy(&used.ring[r.used_idx % QSZ], data + 2, 8);
		while ((t = vring_drv_take(&r, &id, &len)) > 0) {
			CHECK(id < QSZ && held > 0);
			held--;
			CHECK(vring_drv_post(&r, id) == 0); /* straight back, as the driver does */
			held++;
		}
		if (t < 0) {
			CHECK(r.broken && vring_drv_take(&r, &id, &len) == -EIO);
			return;
		}
		CHECK(r.nr_out == held);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *why = NULL;
	u16 dev_max, n = 0;

	if (size < PCI_CONFIG_SIZE + 2)
		return 0;
	fuzz_caps(data);
	memcpy(&dev_max, data + PCI_CONFIG_SIZE, 2);
	if (!virtio_drv_queue_size(dev_max, 256, 16, &n, &why))
		CHECK(n >= 16 && n <= 256 && !(n & (n - 1)) && n <= dev_max);
	fuzz_ring(data + PCI_CONFIG_SIZE + 2, size - PCI_CONFIG_SIZE - 2);
	return 0;
}

/*
 * The portable driver side of virtio-PCI (drivers/virtio/virtio_drv.c)
 * against hostile devices: capability lists that are missing (legacy-only),
 * loop, are too short or point outside their BAR; feature sets without
 * VERSION_1; absurd queue sizes; and a used ring whose index runs ahead or
 * returns ids the driver never gave out.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <hv/errno.h>
#include <virtio/virtio_drv.h>
#include "host_log.h"

/* --- a fake function: 256 bytes of configuration space, BAR4 64-bit 16 KiB -- */

static u8 space[PCI_CONFIG_SIZE];

static u32 fake_read32(void *ctx, u32 bdf, u16 off)
{
	u32 v;

	(void)ctx;
	(void)bdf;
	memcpy(&v, space + off, 4);
	return v;
}

static void fake_write32(void *ctx, u32 bdf, u16 off, u32 v)
{
	(void)ctx;
	(void)bdf;
	memcpy(space + off, &v, 4);
}

static const struct pci_config fake_cfg = { fake_read32, fake_write32, NULL };

#define BAR_BASE 0xfe000000ULL
#define BAR_SIZE 0x4000

static struct pci_dev fake_dev(void)
{
	struct pci_dev d = { .cfg = &fake_cfg, .vendor = 0x1af4, .device = 0x1000, .nr_bars = 6 };

	d.bar[4] = (struct pci_bar){ .kind = PCI_BAR_MEM64, .base = BAR_BASE, .size = BAR_SIZE };
	return d;
}

/* A virtio capability at pos of the given type and length, linked to next. */
static void put_cap(u8 pos, u8 next, u8 type, u8 cap_len, u8 bar, u32 off, u32 len)
{
	space[pos] = PCI_CAP_ID_VNDR;
	space[pos + 1] = next;
	space[pos + 2] = cap_len;
	space[pos + 3] = type;
	space[pos + VIRTIO_PCI_CAP_BAR] = bar;
	memcpy(space + pos + VIRTIO_PCI_CAP_OFFSET, &off, 4);
	memcpy(space + pos + VIRTIO_PCI_CAP_LENGTH, &len, 4);
}

/* QEMU's modern layout: common 0x0, ISR 0x1000, device 0x2000, notify 0x3000 (mult 4). */
static void qemu_caps(void)
{
	u32 mult = 4;

	memset(space, 0, sizeof(space));
	space[PCI_STATUS] = PCI_STATUS_CAP_LIST_BIT;
	space[PCI_CAP_PTR] = 0x84;
	put_cap(0x84, 0x74, VIRTIO_PCI_CAP_COMMON, 16, 4, 0x0000, 0x1000);
	put_cap(0x74, 0x64, VIRTIO_PCI_CAP_ISR, 16, 4, 0x1000, 0x1000);
	put_cap(0x64, 0x50, VIRTIO_PCI_CAP_DEVICE, 16, 4, 0x2000, 0x1000);
	put_cap(0x50, 0x40, VIRTIO_PCI_CAP_NOTIFY, 20, 4, 0x3000, 0x1000);
	memcpy(space + 0x50 + VIRTIO_PCI_NOTIFY_CAP_MULT, &mult, 4);
	space[0x40] = 0x11; /* MSI-X, the end of the list */
	space[0x41] = 0;
}

static void test_caps_qemu(void **state)
{
	struct pci_dev d = fake_dev();
	struct virtio_drv_caps c;
	const char *why = NULL;

	(void)state;
	qemu_caps();
	assert_int_equal(virtio_drv_find_caps(&d, &c, &why), 0);
	assert_int_equal(c.common, BAR_BASE);
	assert_int_equal(c.isr, BAR_BASE + 0x1000);
	assert_int_equal(c.device, BAR_BASE + 0x2000);
	assert_int_equal(c.notify, BAR_BASE + 0x3000);
	assert_int_equal(c.notify_mult, 4);
	assert_int_equal(c.notify_len, 0x1000);
	assert_int_equal(c.device_len, 0x1000);
	assert_int_equal(c.bars, 1 << 4);
}

static void test_caps_legacy_only(void **state)
{
	struct pci_dev d = fake_dev();
	struct virtio_drv_caps c;
	const char *why = NULL;

	(void)state;
	memset(space, 0, sizeof(space)); /* no capability list at all */
	assert_int_equal(virtio_drv_find_caps(&d, &c, &why), -ENODEV);
	assert_non_null(strstr(why, "legacy-only"));
	/* A list with only MSI-X in it. */
	space[PCI_STATUS] = PCI_STATUS_CAP_LIST_BIT;
	space[PCI_CAP_PTR] = 0x40;
	space[0x40] = 0x11;
	assert_int_equal(virtio_drv_find_caps(&d, &c, &why), -ENODEV);
}

/* Each broken variant of one capability makes the whole set unusable. */
static void test_caps_hostile(void **state)
{
	struct pci_dev d = fake_dev();
	struct virtio_drv_caps c;
	const char *why = NULL;

	(void)state;
	qemu_caps(); /* common beyond the BAR's end */
	put_cap(0x84, 0x74, VIRTIO_PCI_CAP_COMMON, 16, 4, 0x3f00, 0x1000);
	assert_int_equal(virtio_drv_find_caps(&d, &c, &why), -ENODEV);
	qemu_caps(); /* offset + length wrapping 32 bits */
	put_cap(0x84, 0x74, VIRTIO_PCI_CAP_COMMON, 16, 4, 0xfffff000, 0x2000);
	assert_int_equal(virtio_drv_find_caps(&d, &c, &why), -ENODEV);
	qemu_caps(); /* common shorter than its structure */
	put_cap(0x84, 0x74, VIRTIO_PCI_CAP_COMMON, 16, 4, 0, 0x10);
	assert_int_equal(virtio_drv_find_caps(&d, &c, &why), -ENODEV);
	qemu_caps(); /* BAR index out of range */
	put_cap(0x84, 0x74, VIRTIO_PCI_CAP_COMMON, 16, 9, 0, 0x1000);
	assert_int_equal(virtio_drv_find_caps(&d, &c, &why), -ENODEV);
	qemu_caps(); /* a BAR that is not assigned */
	put_cap(0x84, 0x74, VIRTIO_PCI_CAP_COMMON, 16, 0, 0, 0x1000);
	assert_int_equal(virtio_drv_find_caps(&d, &c, &why), -ENODEV);
	qemu_caps(); /* notify capability too short for its multiplier */
	put_cap(0x50, 0x40, VIRTIO_PCI_CAP_NOTIFY, 16, 4, 0x3000, 0x1000);
	assert_int_equal(virtio_drv_find_caps(&d, &c, &why), -ENODEV);
	qemu_caps(); /* an I/O BAR */
	d.bar[4].kind = PCI_BAR_IO;
	assert_int_equal(virtio_drv_find_caps(&d, &c, &why), -ENODEV);
}

static void test_caps_loop(void **state)
{
	struct pci_dev d = fake_dev();
	struct virtio_drv_caps c;
	const char *why = NULL;

	(void)state;
	qemu_caps();
	space[0x41] = 0x84; /* MSI-X links back to the first: the walk must end */
	assert_int_equal(virtio_drv_find_caps(&d, &c, &why), 0);
	memset(space, 0, sizeof(space));
	space[PCI_STATUS] = PCI_STATUS_CAP_LIST_BIT;
	space[PCI_CAP_PTR] = 0x44;
	put_cap(0x44, 0x44, 7, 16, 4, 0, 0x10); /* links to itself, never the right types */
	assert_int_equal(virtio_drv_find_caps(&d, &c, &why), -ENODEV);
	space[PCI_CAP_PTR] = 0x08; /* into the header */
	assert_int_equal(virtio_drv_find_caps(&d, &c, &why), -ENODEV);
}

static void test_features(void **state)
{
	u64 v1 = BIT(VIRTIO_F_VERSION_1), mac = BIT(5), status = BIT(16), acc = 0;
	const char *why = NULL;

	(void)state;
	assert_int_equal(virtio_drv_features(v1 | mac | status | BIT(0), v1 | mac | status,
					     v1 | mac, &acc, &why),
			 0);
	assert_int_equal(acc, v1 | mac | status); /* never a bit it did not ask for */
	assert_int_equal(virtio_drv_features(v1 | mac, v1 | mac | status, v1 | mac, &acc, &why), 0);
	assert_int_equal(acc, v1 | mac);
	/* A device without VERSION_1 is refused, and named legacy-only. */
	assert_int_equal(virtio_drv_features(mac | status, v1 | mac, v1 | mac, &acc, &why),
			 -ENOTSUP);
	assert_non_null(strstr(why, "VIRTIO_F_VERSION_1"));
	assert_int_equal(virtio_drv_features(v1 | status, v1 | mac, v1 | mac, &acc, &why),
			 -ENOTSUP);
	assert_int_equal(virtio_drv_features(0, v1, v1, &acc, &why), -ENOTSUP);
}

static void test_queue_size(void **state)
{
	const char *why = NULL;
	u16 n = 0;

	(void)state;
	assert_int_equal(virtio_drv_queue_size(256, 256, 16, &n, &why), 0);
	assert_int_equal(n, 256);
	assert_int_equal(virtio_drv_queue_size(1024, 256, 16, &n, &why), 0);
	assert_int_equal(n, 256);
	assert_int_equal(virtio_drv_queue_size(32768, 256, 16, &n, &why), 0);
	assert_int_equal(n, 256);
	assert_int_equal(virtio_drv_queue_size(64, 256, 16, &n, &why), 0);
	assert_int_equal(n, 64);
	assert_int_equal(virtio_drv_queue_size(256, 200, 16, &n, &why), 0);
	assert_int_equal(n, 128); /* a power of two below our limit */
	/* Absurd sizes: refused with a reason. */
	assert_int_equal(virtio_drv_queue_size(0, 256, 16, &n, &why), -ENODEV);
	assert_int_equal(virtio_drv_queue_size(0xffff, 256, 16, &n, &why), -EINVAL);
	assert_non_null(strstr(why, "absurd"));
	assert_int_equal(virtio_drv_queue_size(0x8001, 256, 16, &n, &why), -EINVAL);
	assert_int_equal(virtio_drv_queue_size(0xc000, 256, 16, &n, &why), -EINVAL);
	assert_int_equal(virtio_drv_queue_size(300, 256, 16, &n, &why), -EINVAL);
	assert_int_equal(virtio_drv_queue_size(3, 256, 16, &n, &why), -EINVAL);
	assert_int_equal(virtio_drv_queue_size(8, 256, 16, &n, &why), -EINVAL); /* below min */
	assert_int_equal(virtio_drv_queue_size(1, 256, 1, &n, &why), 0);
	assert_int_equal(n, 1);
}

/* --- the driver-side ring, with the test playing the device --------------- */

#define QSZ 8

static struct virtq_desc desc[QSZ];
static u16 avail_mem[2 + QSZ + 1];
static struct {
	u16 flags, idx;
	struct virtq_used_elem ring[QSZ];
	u16 avail_event;
} used_mem;

static void ring_setup(struct vring_drv *r)
{
	memset(desc, 0, sizeof(desc));
	memset(avail_mem, 0, sizeof(avail_mem));
	memset(&used_mem, 0, sizeof(used_mem));
	assert_int_equal(vring_drv_init(r, QSZ, desc, avail_mem, &used_mem), 0);
}

/* The device returns id with len written. */
static void device_use(u32 id, u32 len)
{
	used_mem.ring[used_mem.idx % QSZ] = (struct virtq_used_elem){ id, len };
	used_mem.idx++;
}

static void test_ring_init(void **state)
{
	struct vring_drv r;

	(void)state;
	assert_int_equal(vring_drv_init(&r, 0, desc, avail_mem, &used_mem), -EINVAL);
	assert_int_equal(vring_drv_init(&r, 6, desc, avail_mem, &used_mem), -EINVAL);
	assert_int_equal(vring_drv_init(&r, 512, desc, avail_mem, &used_mem), -EINVAL);
	ring_setup(&r);
	assert_int_equal(avail_mem[0], VIRTQ_AVAIL_F_NO_INTERRUPT);
}

static void test_ring_round_trip(void **state)
{
	struct vring_drv r;
	u16 id;
	u32 len;

	(void)state;
	ring_setup(&r);
	vring_drv_set(&r, 3, 0x1000, 2048, VIRTQ_DESC_F_WRITE);
	assert_int_equal(desc[3].addr, 0x1000);
	assert_int_equal(desc[3].flags, VIRTQ_DESC_F_WRITE);
	assert_int_equal(vring_drv_post(&r, 3), 0);
	assert_int_equal(vring_drv_post(&r, 3), -EINVAL); /* already the device's */
	assert_int_equal(vring_drv_post(&r, QSZ), -EINVAL);
	assert_int_equal(avail_mem[1], 1);
	assert_int_equal(avail_mem[2], 3);
	assert_int_equal(vring_drv_take(&r, &id, &len), 0);
	device_use(3, 60);
	assert_int_equal(vring_drv_take(&r, &id, &len), 1);
	assert_int_equal(id, 3);
	assert_int_equal(len, 60);
	assert_int_equal(vring_drv_take(&r, &id, &len), 0);
	/* Many laps: the 16-bit indices wrap and the ring keeps working. */
	for (u32 i = 0; i < 70000; i++) {
		assert_int_equal(vring_drv_post(&r, i % QSZ), 0);
		device_use(i % QSZ, 1);
		assert_int_equal(vring_drv_take(&r, &id, &len), 1);
		assert_int_equal(id, i % QSZ);
	}
	assert_false(r.broken);
}

static void test_ring_kick(void **state)
{
	struct vring_drv r;

	(void)state;
	ring_setup(&r);
	assert_int_equal(vring_drv_post(&r, 0), 0);
	assert_true(vring_drv_needs_kick(&r));
	used_mem.flags = VIRTQ_USED_F_NO_NOTIFY; /* the device polls the ring for now */
	assert_false(vring_drv_needs_kick(&r));
	used_mem.flags = 0xfffe; /* other bits mean nothing here */
	assert_true(vring_drv_needs_kick(&r));
}

static void test_ring_hostile(void **state)
{
	struct vring_drv r;
	u16 id;
	u32 len;

	(void)state;
	ring_setup(&r); /* an id never given out */
	assert_int_equal(vring_drv_post(&r, 1), 0);
	device_use(2, 60);
	assert_int_equal(vring_drv_take(&r, &id, &len), -EIO);
	assert_true(r.broken);
	assert_int_equal(vring_drv_post(&r, 4), -EINVAL); /* broken stays broken */
	ring_setup(&r);					  /* an id beyond the ring */
	assert_int_equal(vring_drv_post(&r, 1), 0);
	device_use(0xffffffff, 60);
	assert_int_equal(vring_drv_take(&r, &id, &len), -EIO);
	ring_setup(&r); /* the same id twice */
	assert_int_equal(vring_drv_post(&r, 1), 0);
	device_use(1, 60);
	device_use(1, 60);
	assert_int_equal(vring_drv_take(&r, &id, &len), -EIO); /* more used than held */
	ring_setup(&r);					       /* the index jumps far ahead */
	assert_int_equal(vring_drv_post(&r, 1), 0);
	used_mem.ring[0] = (struct virtq_used_elem){ 1, 60 };
	used_mem.idx = 0x8000;
	assert_int_equal(vring_drv_take(&r, &id, &len), -EIO);
	assert_int_equal(vring_drv_take(&r, &id, &len), -EIO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_caps_qemu),    cmocka_unit_test(test_caps_legacy_only),
		cmocka_unit_test(test_caps_hostile), cmocka_unit_test(test_caps_loop),
		cmocka_unit_test(test_features),     cmocka_unit_test(test_queue_size),
		cmocka_unit_test(test_ring_init),    cmocka_unit_test(test_ring_round_trip),
		cmocka_unit_test(test_ring_kick),    cmocka_unit_test(test_ring_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

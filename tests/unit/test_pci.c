/*
 * PCI BAR decoding on probe values, and enumeration against a fake
 * configuration space that behaves like hardware: BAR address bits below the
 * size are hardwired to 0, flag bits are read-only, command bits can be
 * hardwired, absent functions read all-ones, and a single-function device
 * may answer on every function number (it ignores the function bits).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <hv/errno.h>
#include <pci/pci.h>
#include "host_log.h"

/* --- BAR decoding -------------------------------------------------------- */

static void test_bar_kind(void **state)
{
	(void)state;
	assert_int_equal(pci_bar_kind(0xc041), PCI_BAR_IO);
	assert_int_equal(pci_bar_kind(0xfebc0000), PCI_BAR_MEM32);
	assert_int_equal(pci_bar_kind(0x000c0002), PCI_BAR_MEM32); /* "below 1 MiB" type */
	assert_int_equal(pci_bar_kind(0xfe00000c), PCI_BAR_MEM64);
	assert_int_equal(pci_bar_kind(0xfe000006), PCI_BAR_NONE); /* reserved type 11b */
}

static void test_bar_mem32(void **state)
{
	struct pci_bar b;

	(void)state;
	/* The 82540EM's BAR0: 128 KiB, not prefetchable. */
	pci_bar_decode(0xfebc0000, 0, 0xfffe0000, 0, &b);
	assert_int_equal(b.kind, PCI_BAR_MEM32);
	assert_false(b.prefetchable);
	assert_int_equal(b.base, 0xfebc0000);
	assert_int_equal(b.size, 128 * 1024);
	/* A 16 MiB prefetchable framebuffer. */
	pci_bar_decode(0xc0000008, 0, 0xff000008, 0, &b);
	assert_int_equal(b.kind, PCI_BAR_MEM32);
	assert_true(b.prefetchable);
	assert_int_equal(b.size, 16 * 1024 * 1024);
	/* The smallest memory BAR: 16 bytes, every address bit writable. */
	pci_bar_decode(0xfeb00010, 0, 0xfffffff0, 0, &b);
	assert_int_equal(b.size, 16);
	/* Legacy "below 1 MiB" type decodes like a 32-bit BAR. */
	pci_bar_decode(0x000c0002, 0, 0xfffe0002, 0, &b);
	assert_int_equal(b.kind, PCI_BAR_MEM32);
	assert_int_equal(b.base, 0xc0000);
	assert_int_equal(b.size, 128 * 1024);
}

static void test_bar_io(void **state)
{
	struct pci_bar b;

	(void)state;
	/* Bits 31:16 hardwired to 0, as many I/O BARs have them. */
	pci_bar_decode(0xc041, 0, 0x0000ffc1, 0, &b);
	assert_int_equal(b.kind, PCI_BAR_IO);
	assert_false(b.prefetchable);
	assert_int_equal(b.base, 0xc040);
	assert_int_equal(b.size, 64);
	/* All 32 bits implemented: the same size. */
	pci_bar_decode(0xc041, 0, 0xffffffc1, 0, &b);
	assert_int_equal(b.size, 64);
	/* Bit 1 is reserved in an I/O BAR: not part of the address. */
	pci_bar_decode(0x6003, 0, 0xfffffffd, 0, &b);
	assert_int_equal(b.base, 0x6000);
	assert_int_equal(b.size, 4);
}

static void test_bar_mem64(void **state)
{
	struct pci_bar b;

	(void)state;
	/* 16 KiB below 4 GiB: the upper half reads all-ones after the probe. */
	pci_bar_decode(0xfe00000c, 0, 0xffffc00c, 0xffffffff, &b);
	assert_int_equal(b.kind, PCI_BAR_MEM64);
	assert_true(b.prefetchable);
	assert_int_equal(b.base, 0xfe000000);
	assert_int_equal(b.size, 16 * 1024);
	/* 8 GiB at 32 GiB: no writable bit in the low half at all. */
	pci_bar_decode(0x0000000c, 0x8, 0x0000000c, 0xfffffffe, &b);
	assert_int_equal(b.kind, PCI_BAR_MEM64);
	assert_int_equal(b.base, 0x800000000ULL);
	assert_int_equal(b.size, 8ULL << 30);
	/* The upper half is ignored for a 32-bit BAR. */
	pci_bar_decode(0xfebc0000, 0x1234, 0xfffe0000, 0xffffffff, &b);
	assert_int_equal(b.base, 0xfebc0000);
	assert_int_equal(b.size, 128 * 1024);
}

static void test_bar_unimplemented(void **state)
{
	struct pci_bar b;

	(void)state;
	pci_bar_decode(0, 0, 0, 0, &b); /* hardwired to 0 */
	assert_int_equal(b.kind, PCI_BAR_NONE);
	assert_int_equal(b.size, 0);
	pci_bar_decode(0x1, 0, 0x1, 0, &b); /* I/O with no writable address bit */
	assert_int_equal(b.kind, PCI_BAR_NONE);
	pci_bar_decode(0x6, 0, 0xfffffff6, 0, &b); /* reserved memory type */
	assert_int_equal(b.kind, PCI_BAR_NONE);
	assert_int_equal(b.size, 0);
}

/* --- a fake configuration space ------------------------------------------ */

#define FAKE_MAX 512

struct fake_fn {
	u32 bdf;
	u32 alias_of; /* answers with another function's registers (ignores function bits) */
	bool alias;
	u8 cfg[PCI_CONFIG_SIZE];
	u32 bar_mask[PCI_BARS_MAX]; /* writable bits of each BAR register */
	u16 cmd_mask;		    /* writable command bits */
	unsigned cmd_writes;
	unsigned bar_writes_decoding; /* BAR writes while memory or I/O decoding was on */
};

static struct fake_fn *fns;
static unsigned nr_fns;
static unsigned reads;

static struct fake_fn *fake_find(u32 bdf)
{
	for (unsigned i = 0; i < nr_fns; i++)
		if (fns[i].bdf == bdf)
			return fns[i].alias ? fake_find(fns[i].alias_of) : &fns[i];
	return NULL;
}

static u32 get32(const struct fake_fn *f, u16 off)
{
	u32 v;

	memcpy(&v, &f->cfg[off], 4);
	return v;
}

static void put32(struct fake_fn *f, u16 off, u32 v)
{
	memcpy(&f->cfg[off], &v, 4);
}

static u32 fake_read32(void *ctx, u32 bdf, u16 off)
{
	struct fake_fn *f = fake_find(bdf);

	(void)ctx;
	reads++;
	assert_true(off % 4 == 0 && off < PCI_CONFIG_SIZE);
	return f ? get32(f, off) : 0xffffffff;
}

static unsigned bar_slots(const struct fake_fn *f)
{
	switch (f->cfg[PCI_HEADER_TYPE] & PCI_HEADER_TYPE_MASK) {
	case PCI_HEADER_TYPE_NORMAL:
		return PCI_BARS_NORMAL;
	case PCI_HEADER_TYPE_BRIDGE:
		return PCI_BARS_BRIDGE;
	default:
		return 0;
	}
}

static void fake_write32(void *ctx, u32 bdf, u16 off, u32 v)
{
	struct fake_fn *f = fake_find(bdf);
	u32 old;

	(void)ctx;
	assert_non_null(f); /* nothing writes to an absent function */
	assert_true(off % 4 == 0 && off < PCI_CONFIG_SIZE);
	old = get32(f, off);
	if (off == PCI_COMMAND) {
		u16 cmd = (u16)old;

		f->cmd_writes++;
		cmd = (cmd & ~f->cmd_mask) | (v & f->cmd_mask);
		put32(f, off,
		      (old & 0xffff0000) | cmd); /* status: write-1-to-clear, not modelled */
		return;
	}
	if (off >= PCI_BASE_ADDRESS0 && off < PCI_BASE_ADDRESS0 + 4 * bar_slots(f)) {
		u32 mask = f->bar_mask[(off - PCI_BASE_ADDRESS0) / 4];

		if (get32(f, PCI_COMMAND) & (PCI_COMMAND_IO_BIT | PCI_COMMAND_MEMORY_BIT))
			f->bar_writes_decoding++;
		put32(f, off, (old & ~mask) | (v & mask));
	}
	/* everything else is read-only here */
}

static const struct pci_config fake_cfg = { fake_read32, fake_write32, NULL };

static struct fake_fn *add_fn(u32 bdf, u16 vendor, u16 device, u32 class_rev, u8 header)
{
	struct fake_fn *f;

	assert_true(nr_fns < FAKE_MAX);
	f = &fns[nr_fns++];
	memset(f, 0, sizeof(*f));
	f->bdf = bdf;
	put32(f, PCI_VENDOR_ID, (u32)device << 16 | vendor);
	put32(f, PCI_REVISION_ID, class_rev);
	f->cfg[PCI_HEADER_TYPE] = header;
	f->cmd_mask = PCI_COMMAND_IO_BIT | PCI_COMMAND_MEMORY_BIT | PCI_COMMAND_MASTER_BIT |
		      PCI_COMMAND_INTX_DISABLE_BIT;
	put32(f, PCI_COMMAND,
	      PCI_COMMAND_IO_BIT | PCI_COMMAND_MEMORY_BIT); /* firmware left it on */
	return f;
}

/* A BAR register holding value; mask: its writable bits. */
static void set_bar(struct fake_fn *f, unsigned slot, u32 value, u32 mask)
{
	put32(f, PCI_BASE_ADDRESS0 + 4 * slot, value);
	f->bar_mask[slot] = mask;
}

static void alias_fn(u32 bdf, u32 of)
{
	struct fake_fn *f = &fns[nr_fns++];

	memset(f, 0, sizeof(*f));
	f->bdf = bdf;
	f->alias = true;
	f->alias_of = of;
}

static int setup(void **state)
{
	(void)state;
	fns = calloc(FAKE_MAX, sizeof(*fns));
	nr_fns = 0;
	reads = 0;
	host_log_clear();
	return fns ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(fns);
	return 0;
}

/*
 * A small machine: host bridge, an e1000, a multi-function device with a gap,
 * a single-function device that answers on every function number, a device
 * with a 64-bit BAR above 4 GiB and one whose 64-bit BAR sits in the last
 * slot, a PCI bridge to bus 2 with a device behind it, and a device on a root
 * bus 5 that no bridge leads to.
 */
static void build_machine(void)
{
	struct fake_fn *f;

	f = add_fn(PCI_BDF(0, 0, 0), 0x8086, 0x29c0, 0x06000002, 0x00);
	f->cmd_mask = 0; /* a host bridge that keeps its decoding */
	put32(f, PCI_COMMAND, PCI_COMMAND_MEMORY_BIT);

	f = add_fn(PCI_BDF(0, 2, 0), 0x8086, 0x100e, 0x02000003, 0x00);
	set_bar(f, 0, 0xfebc0000, 0xfffe0000);
	set_bar(f, 1, 0x0000c041, 0x0000ffc0);

	add_fn(PCI_BDF(0, 3, 0), 0x1af4, 0x1000, 0x02000000, 0x80);
	add_fn(PCI_BDF(0, 3, 3), 0x1af4, 0x1001, 0x01000000, 0x00);

	add_fn(PCI_BDF(0, 4, 0), 0x10ec, 0x8139, 0x02000020, 0x00);
	for (u32 fn = 1; fn < 8; fn++)
		alias_fn(PCI_BDF(0, 4, fn), PCI_BDF(0, 4, 0));

	f = add_fn(PCI_BDF(0, 5, 0), 0x10de, 0x1234, 0x03000000, 0x00);
	set_bar(f, 0, 0x0000000c, 0x00000000); /* 8 GiB, prefetchable, at 32 GiB */
	set_bar(f, 1, 0x00000008, 0xfffffffe);
	set_bar(f, 2, 0xfd000000, 0xff000000); /* 16 MiB */

	f = add_fn(PCI_BDF(0, 6, 0), 0x1234, 0x5678, 0xff000000, 0x00);
	set_bar(f, 5, 0xfc00000c, 0xfffff000); /* 64-bit, but no register for its upper half */

	f = add_fn(PCI_BDF(0, 0x1e, 0), 0x8086, 0x244e, 0x06040000, 0x01);
	set_bar(f, 0, 0xfe100000, 0xfffff000);
	f->cfg[PCI_SECONDARY_BUS] = 2;

	add_fn(PCI_BDF(2, 0, 0), 0x8086, 0x10d3, 0x02000000, 0x00);
	add_fn(PCI_BDF(5, 7, 0), 0x8086, 0x1533, 0x02000003, 0x00);
}

static void test_scan_machine(void **state)
{
	static struct pci_list list;
	const struct pci_dev *d;
	static const u32 want[] = { PCI_BDF(0, 0, 0), PCI_BDF(0, 2, 0),	   PCI_BDF(0, 3, 0),
				    PCI_BDF(0, 3, 3), PCI_BDF(0, 4, 0),	   PCI_BDF(0, 5, 0),
				    PCI_BDF(0, 6, 0), PCI_BDF(0, 0x1e, 0), PCI_BDF(2, 0, 0),
				    PCI_BDF(5, 7, 0) };

	(void)state;
	build_machine();
	assert_int_equal(pci_scan(&fake_cfg, &list), ARRAY_SIZE(want));
	assert_int_equal(list.nr, ARRAY_SIZE(want));
	assert_int_equal(list.missed, 0);
	assert_int_equal(list.nr_buses, 3);
	assert_int_equal(list.first_bus, 0);
	for (unsigned i = 0; i < ARRAY_SIZE(want); i++) {
		assert_int_equal(list.dev[i].bdf, want[i]);
		assert_ptr_equal(list.dev[i].cfg, &fake_cfg);
	}

	d = &list.dev[1]; /* the e1000 */
	assert_int_equal(d->vendor, 0x8086);
	assert_int_equal(d->device, 0x100e);
	assert_int_equal(d->class_code, PCI_CLASS_NETWORK);
	assert_int_equal(d->subclass, 0);
	assert_int_equal(d->revision, 3);
	assert_int_equal(d->nr_bars, PCI_BARS_NORMAL);
	assert_int_equal(d->bar[0].kind, PCI_BAR_MEM32);
	assert_int_equal(d->bar[0].base, 0xfebc0000);
	assert_int_equal(d->bar[0].size, 128 * 1024);
	assert_int_equal(d->bar[1].kind, PCI_BAR_IO);
	assert_int_equal(d->bar[1].base, 0xc040);
	assert_int_equal(d->bar[1].size, 64);
	for (unsigned i = 2; i < PCI_BARS_MAX; i++)
		assert_int_equal(d->bar[i].kind, PCI_BAR_NONE);

	d = &list.dev[5]; /* 64-bit BAR: slot 1 is its upper half */
	assert_int_equal(d->bar[0].kind, PCI_BAR_MEM64);
	assert_true(d->bar[0].prefetchable);
	assert_int_equal(d->bar[0].base, 0x800000000ULL);
	assert_int_equal(d->bar[0].size, 8ULL << 30);
	assert_int_equal(d->bar[1].kind, PCI_BAR_NONE);
	assert_int_equal(d->bar[2].kind, PCI_BAR_MEM32);
	assert_int_equal(d->bar[2].size, 16 * 1024 * 1024);

	d = &list.dev[6]; /* 64-bit BAR in the last slot: unusable */
	assert_int_equal(d->bar[5].kind, PCI_BAR_NONE);

	d = &list.dev[7]; /* the bridge: two BAR slots */
	assert_int_equal(d->header_type, PCI_HEADER_TYPE_BRIDGE);
	assert_int_equal(d->nr_bars, PCI_BARS_BRIDGE);
	assert_int_equal(d->bar[0].size, 4096);
}

/*
 * Every BAR and command register is as the firmware left it; no BAR was
 * written while decoding, except the host bridge's (its decoding stays on).
 */
static void test_scan_restores_state(void **state)
{
	static struct pci_list list;
	static u8 before[FAKE_MAX][PCI_CONFIG_SIZE];

	(void)state;
	build_machine();
	for (unsigned i = 0; i < nr_fns; i++)
		memcpy(before[i], fns[i].cfg, PCI_CONFIG_SIZE);
	pci_scan(&fake_cfg, &list);
	for (unsigned i = 0; i < nr_fns; i++) {
		assert_memory_equal(before[i], fns[i].cfg, PCI_CONFIG_SIZE);
		if (i > 0)
			assert_int_equal(fns[i].bar_writes_decoding, 0);
	}
	/* The host bridge: command register never written, each BAR probed and restored. */
	assert_int_equal(fns[0].cmd_writes, 0);
	assert_int_equal(fns[0].bar_writes_decoding, 2 * PCI_BARS_NORMAL);
}

static void test_scan_bounded(void **state)
{
	static struct pci_list list;

	(void)state;
	pci_scan(&fake_cfg, &list); /* nothing there at all */
	assert_int_equal(list.nr, 0);
	assert_int_equal(list.nr_buses, 0);
	/* Function 0 of each device on each bus, nothing more. */
	assert_int_equal(reads, PCI_BUSES * PCI_DEVS_PER_BUS);
}

static void test_scan_table_full(void **state)
{
	static struct pci_list list;

	(void)state;
	/* 16 buses x 32 devices, every one present: more than the table holds. */
	for (u32 bus = 0; bus < 16; bus++)
		for (u32 dev = 0; dev < PCI_DEVS_PER_BUS; dev++)
			add_fn(PCI_BDF(bus, dev, 0), 0x8086, 0x1000 + dev, 0x02000000, 0x00);
	assert_int_equal(pci_scan(&fake_cfg, &list), -ENOSPC);
	assert_int_equal(list.nr, PCI_LIST_MAX);
	assert_int_equal(list.missed, 16 * PCI_DEVS_PER_BUS - PCI_LIST_MAX);
	assert_int_equal(list.nr_buses, 16);
	assert_int_equal(list.dev[PCI_LIST_MAX - 1].bdf, PCI_BDF(7, 31, 0));
}

static void test_enable_disable(void **state)
{
	static struct pci_list list;
	struct fake_fn *f;

	(void)state;
	f = add_fn(PCI_BDF(0, 2, 0), 0x8086, 0x100e, 0x02000000, 0x00);
	f = add_fn(PCI_BDF(0, 3, 0), 0x1234, 0x0001, 0x02000000, 0x00);
	f->cmd_mask &= ~PCI_COMMAND_MASTER_BIT; /* cannot master the bus */
	assert_int_equal(pci_scan(&fake_cfg, &list), 2);

	assert_int_equal(pci_enable(&list.dev[0], PCI_COMMAND_MEMORY_BIT | PCI_COMMAND_MASTER_BIT),
			 0);
	assert_int_equal(get32(&fns[0], PCI_COMMAND) & 0xffff,
			 PCI_COMMAND_IO_BIT | PCI_COMMAND_MEMORY_BIT | PCI_COMMAND_MASTER_BIT);
	pci_disable(&list.dev[0], PCI_COMMAND_MASTER_BIT | PCI_COMMAND_IO_BIT);
	assert_int_equal(get32(&fns[0], PCI_COMMAND) & 0xffff, PCI_COMMAND_MEMORY_BIT);

	assert_int_equal(pci_enable(&list.dev[0], 1u << 5), -EINVAL); /* not a bit we set */
	assert_int_equal(pci_enable(&list.dev[1], PCI_COMMAND_MASTER_BIT), -EIO);
}

static void test_describe(void **state)
{
	static struct pci_list list;
	char line[256];

	(void)state;
	build_machine();
	pci_scan(&fake_cfg, &list);
	pci_describe(&list.dev[1], line, sizeof(line));
	assert_string_equal(line, "00:02.0 8086:100e class 02.00.00 bar0 mem32 0xfebc0000 128K "
				  "bar1 io 0xc040 64");
	pci_describe(&list.dev[5], line, sizeof(line));
	assert_string_equal(line, "00:05.0 10de:1234 class 03.00.00 bar0 mem64-pf 0x800000000 8G "
				  "bar2 mem32 0xfd000000 16M");
	pci_describe(&list.dev[0], line, sizeof(line));
	assert_string_equal(line, "00:00.0 8086:29c0 class 06.00.00");
	pci_describe(&list.dev[1], line, 20); /* truncated, still terminated */
	assert_int_equal(strlen(line), 19);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bar_kind),
		cmocka_unit_test(test_bar_mem32),
		cmocka_unit_test(test_bar_io),
		cmocka_unit_test(test_bar_mem64),
		cmocka_unit_test(test_bar_unimplemented),
		T(test_scan_machine),
		T(test_scan_restores_state),
		T(test_scan_bounded),
		T(test_scan_table_full),
		T(test_enable_disable),
		T(test_describe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

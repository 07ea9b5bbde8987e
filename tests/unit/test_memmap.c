/*
 * memmap_normalize(): firmware maps in every shape they come in, against
 * exact expected maps.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <cmocka.h>

#include <hv/errno.h>
#include <hv/memmap.h>
#include "host_log.h"

#define LAST_PAGE 0xfffffffffffff000ULL /* regions end here at the latest */

struct want {
	u64 base, end;
	u32 type;
};

static void dump(const char *what, const struct memmap *m)
{
	fprintf(stderr, "%s (%u regions):\n", what, m->nr);
	for (u32 i = 0; i < m->nr; i++)
		fprintf(stderr, "  [%#llx, %#llx) %s\n", (unsigned long long)m->r[i].base,
			(unsigned long long)(m->r[i].base + m->r[i].size),
			memmap_type_name(m->r[i].type));
}

/* Assert that m is exactly want[0..n). */
static void expect_map(const struct memmap *m, const struct want *want, u32 n)
{
	bool same = m->nr == n;

	for (u32 i = 0; same && i < n; i++)
		same = m->r[i].base == want[i].base && m->r[i].base + m->r[i].size == want[i].end &&
		       m->r[i].type == want[i].type;
	if (!same) {
		struct memmap w = { .nr = n };
		for (u32 i = 0; i < n; i++) {
			w.r[i].base = want[i].base;
			w.r[i].size = want[i].end - want[i].base;
			w.r[i].type = want[i].type;
		}
		dump("got", m);
		dump("want", &w);
	}
	assert_true(same);
}

/* Add regions [base, end) given as a want table, in table order. */
static void add_all(struct memmap *m, const struct want *r, u32 n)
{
	for (u32 i = 0; i < n; i++)
		assert_int_equal(memmap_add(m, r[i].base, r[i].end - r[i].base, r[i].type), 0);
}

static struct memmap map;

static int setup(void **state)
{
	(void)state;
	map.nr = 0;
	host_log_clear();
	return 0;
}

static void test_unsorted(void **state)
{
	static const struct want in[] = {
		{ 0x40000000, 0x80000000, MEM_USABLE }, { 0x1000, 0x9f000, MEM_USABLE },
		{ 0xfec00000, 0xfec01000, MEM_MMIO },	{ 0x100000, 0x200000, MEM_ACPI },
		{ 0xe0000, 0x100000, MEM_RESERVED },
	};
	static const struct want out[] = {
		{ 0x1000, 0x9f000, MEM_USABLE },      { 0xe0000, 0x100000, MEM_RESERVED },
		{ 0x100000, 0x200000, MEM_ACPI },     { 0x40000000, 0x80000000, MEM_USABLE },
		{ 0xfec00000, 0xfec01000, MEM_MMIO },
	};
	(void)state;
	add_all(&map, in, ARRAY_SIZE(in));
	assert_int_equal(memmap_normalize(&map), 0);
	expect_map(&map, out, ARRAY_SIZE(out));
}

static void test_usable_inside_reserved(void **state)
{
	static const struct want in[] = {
		{ 0x10000, 0x20000, MEM_USABLE },
		{ 0x0, 0x100000, MEM_RESERVED },
	};
	static const struct want out[] = { { 0x0, 0x100000, MEM_RESERVED } };
	(void)state;
	add_all(&map, in, ARRAY_SIZE(in));
	assert_int_equal(memmap_normalize(&map), 0);
	expect_map(&map, out, ARRAY_SIZE(out));
}

static void test_reserved_splits_usable(void **state)
{
	static const struct want in[] = {
		{ 0x100000, 0x1000000, MEM_USABLE },
		{ 0x400000, 0x500000, MEM_RESERVED },
	};
	static const struct want out[] = {
		{ 0x100000, 0x400000, MEM_USABLE },
		{ 0x400000, 0x500000, MEM_RESERVED },
		{ 0x500000, 0x1000000, MEM_USABLE },
	};
	(void)state;
	add_all(&map, in, ARRAY_SIZE(in));
	assert_int_equal(memmap_normalize(&map), 0);
	expect_map(&map, out, ARRAY_SIZE(out));
}

static void test_partial_overlaps(void **state)
{
	static const struct want in[] = {
		{ 0x100000, 0x200000, MEM_USABLE },
		{ 0x80000, 0x110000, MEM_RESERVED },  /* covers the start */
		{ 0x1f0000, 0x300000, MEM_RESERVED }, /* covers the end */
	};
	static const struct want out[] = {
		{ 0x80000, 0x110000, MEM_RESERVED },
		{ 0x110000, 0x1f0000, MEM_USABLE },
		{ 0x1f0000, 0x300000, MEM_RESERVED },
	};
	(void)state;
	add_all(&map, in, ARRAY_SIZE(in));
	assert_int_equal(memmap_normalize(&map), 0);
	expect_map(&map, out, ARRAY_SIZE(out));
}

static void test_duplicates(void **state)
{
	static const struct want in[] = {
		{ 0x100000, 0x200000, MEM_USABLE },
		{ 0x100000, 0x200000, MEM_USABLE },
		{ 0x300000, 0x400000, MEM_USABLE },
		{ 0x300000, 0x400000, MEM_ACPI }, /* same range, higher rank wins */
		{ 0x300000, 0x400000, MEM_USABLE },
	};
	static const struct want out[] = {
		{ 0x100000, 0x200000, MEM_USABLE },
		{ 0x300000, 0x400000, MEM_ACPI },
	};
	(void)state;
	add_all(&map, in, ARRAY_SIZE(in));
	assert_int_equal(memmap_normalize(&map), 0);
	expect_map(&map, out, ARRAY_SIZE(out));
}

/* usable < acpi < reserved < mmio, whatever the order they are listed in */
static void test_precedence(void **state)
{
	static const struct want in[] = {
		{ 0xfed01000, 0xfed03000, MEM_MMIO },	{ 0xfed00000, 0xfed02000, MEM_ACPI },
		{ 0x7000000, 0x8000000, MEM_ACPI },	{ 0x7800000, 0x8800000, MEM_USABLE },
		{ 0x9000000, 0xa000000, MEM_RESERVED }, { 0x9800000, 0xa800000, MEM_ACPI },
	};
	static const struct want out[] = {
		{ 0x7000000, 0x8000000, MEM_ACPI },	{ 0x8000000, 0x8800000, MEM_USABLE },
		{ 0x9000000, 0xa000000, MEM_RESERVED }, { 0xa000000, 0xa800000, MEM_ACPI },
		{ 0xfed00000, 0xfed01000, MEM_ACPI },	{ 0xfed01000, 0xfed03000, MEM_MMIO },
	};
	(void)state;
	add_all(&map, in, ARRAY_SIZE(in));
	assert_int_equal(memmap_normalize(&map), 0);
	expect_map(&map, out, ARRAY_SIZE(out));
}

static void test_adjacent_merge(void **state)
{
	static const struct want in[] = {
		{ 0x3000, 0x5000, MEM_USABLE }, { 0x1000, 0x3000, MEM_USABLE },
		{ 0x5000, 0x8000, MEM_ACPI },	{ 0x8000, 0x9000, MEM_ACPI },
		{ 0x9000, 0xa000, MEM_USABLE }, /* touches, but another type */
		{ 0xb000, 0xc000, MEM_USABLE }, /* a hole before it: not merged */
	};
	static const struct want out[] = {
		{ 0x1000, 0x5000, MEM_USABLE },
		{ 0x5000, 0x9000, MEM_ACPI },
		{ 0x9000, 0xa000, MEM_USABLE },
		{ 0xb000, 0xc000, MEM_USABLE },
	};
	(void)state;
	add_all(&map, in, ARRAY_SIZE(in));
	assert_int_equal(memmap_normalize(&map), 0);
	expect_map(&map, out, ARRAY_SIZE(out));
}

static void test_unaligned_usable_trimmed(void **state)
{
	static const struct want in[] = {
		{ 0x1234, 0x5678, MEM_USABLE },
		{ 0x10100, 0x10f00, MEM_USABLE },   /* no whole page inside: dropped */
		{ 0x20800, 0x20c00, MEM_RESERVED }, /* non-usable regions are kept exactly */
	};
	static const struct want out[] = {
		{ 0x2000, 0x5000, MEM_USABLE },
		{ 0x20800, 0x20c00, MEM_RESERVED },
	};
	(void)state;
	add_all(&map, in, ARRAY_SIZE(in));
	assert_int_equal(memmap_normalize(&map), 0);
	expect_map(&map, out, ARRAY_SIZE(out));
}

/* Usable pieces meeting at an unaligned address form one run: no page is lost. */
static void test_usable_unaligned_seam(void **state)
{
	static const struct want in[] = {
		{ 0x1000, 0x2800, MEM_USABLE },
		{ 0x2800, 0x5000, MEM_USABLE },
		{ 0x10000, 0x20000, MEM_USABLE },
		{ 0x14800, 0x15000, MEM_USABLE }, /* usable inside usable */
	};
	static const struct want out[] = {
		{ 0x1000, 0x5000, MEM_USABLE },
		{ 0x10000, 0x20000, MEM_USABLE },
	};
	(void)state;
	add_all(&map, in, ARRAY_SIZE(in));
	assert_int_equal(memmap_normalize(&map), 0);
	expect_map(&map, out, ARRAY_SIZE(out));
}

static void test_zero_size(void **state)
{
	static const struct want out[] = { { 0x1000, 0x2000, MEM_USABLE } };
	(void)state;
	assert_int_equal(memmap_add(&map, 0x5000, 0, MEM_RESERVED), 0);
	assert_int_equal(map.nr, 0);
	assert_int_equal(memmap_add(&map, 0x1000, 0x1000, MEM_USABLE), 0);
	/* a producer filling the array by hand may leave empty entries */
	map.r[1] = (struct mem_region){ .base = 0x1800, .size = 0, .type = MEM_MMIO };
	map.nr = 2;
	assert_int_equal(memmap_normalize(&map), 0);
	expect_map(&map, out, ARRAY_SIZE(out));
}

/* Region at physical address 0, the first entry of every real map. */
static void test_region_at_zero(void **state)
{
	static const struct want out[] = {
		{ 0x0, 0x9f000, MEM_USABLE },
		{ 0x9fc00, 0xa0000, MEM_RESERVED },
	};
	(void)state;
	assert_int_equal(memmap_add(&map, 0x9fc00, 0x400, MEM_RESERVED), 0);
	assert_int_equal(memmap_add(&map, 0x0, 0x9fc00, MEM_USABLE), 0);
	assert_int_equal(memmap_normalize(&map), 0);
	expect_map(&map, out, ARRAY_SIZE(out));
}

/*
 * Nothing reaches into the last page of the 64-bit space (MAXPHYADDR is at
 * most 52 anyway): memmap_add() clips there, so base + size never wraps.
 */
static void test_top_of_address_space(void **state)
{
	static const struct want out[] = {
		{ 0x0, 0x1000, MEM_RESERVED },
		{ 0xffffffff00000000ULL, 0xfffffffff0000000ULL, MEM_USABLE },
		{ 0xfffffffff0000000ULL, LAST_PAGE, MEM_RESERVED },
	};
	(void)state;
	/* wraps past 2^64 */
	assert_int_equal(memmap_add(&map, 0xfffffffff0000000ULL, 0x20000000ULL, MEM_RESERVED), 0);
	assert_int_equal(map.r[0].size, LAST_PAGE - 0xfffffffff0000000ULL);
	/* ends exactly at 2^64 */
	assert_int_equal(memmap_add(&map, 0xffffffff00000000ULL, 0x100000000ULL, MEM_USABLE), 0);
	assert_int_equal(map.r[1].size, LAST_PAGE - 0xffffffff00000000ULL);
	assert_int_equal(memmap_add(&map, 0x0, 0x1000, MEM_RESERVED), 0);
	assert_int_equal(memmap_normalize(&map), 0);
	expect_map(&map, out, ARRAY_SIZE(out));
}

static void test_usable_to_top(void **state)
{
	static const struct want out[] = {
		{ 0x1000, 0x2000, MEM_USABLE },
		{ 0xfffffffffff00000ULL, LAST_PAGE, MEM_USABLE },
	};
	(void)state;
	assert_int_equal(memmap_add(&map, 0xfffffffffff00000ULL, 0x100000, MEM_USABLE), 0);
	/* inside the last page: nothing is added */
	assert_int_equal(memmap_add(&map, 0xfffffffffffff800ULL, 0x800, MEM_USABLE), 0);
	assert_int_equal(map.nr, 1);
	assert_int_equal(memmap_add(&map, 0x1000, 0x1000, MEM_USABLE), 0);
	assert_int_equal(memmap_normalize(&map), 0);
	expect_map(&map, out, ARRAY_SIZE(out));
}

/*
 * Entries written by hand (not through memmap_add) may wrap or reach 2^64;
 * they are read as reaching 2^64 and come out clipped like any other, and
 * a usable one in the last page does not turn into a region at 0.
 */
static void test_wrapping_raw_entry(void **state)
{
	static const struct want out[] = {
		{ 0x0, 0x2000, MEM_USABLE },
		{ 0xffff000000000000ULL, LAST_PAGE, MEM_MMIO },
	};
	(void)state;
	map.r[0] =
	    (struct mem_region){ .base = 0xffff000000000000ULL, .size = ~0ULL, .type = MEM_MMIO };
	map.r[1] = (struct mem_region){ .base = 0x0, .size = 0x2000, .type = MEM_USABLE };
	map.r[2] =
	    (struct mem_region){ .base = 0xfffffffffffff800ULL, .size = 0x800, .type = MEM_USABLE };
	map.nr = 3;
	assert_int_equal(memmap_normalize(&map), 0);
	expect_map(&map, out, ARRAY_SIZE(out));

	/* a usable entry reaching 2^64 is kept up to the last page */
	map.r[0] =
	    (struct mem_region){ .base = 0x100000, .size = 0 - 0x100000ULL, .type = MEM_USABLE };
	map.nr = 1;
	assert_int_equal(memmap_normalize(&map), 0);
	assert_int_equal(map.nr, 1);
	assert_int_equal(map.r[0].base, 0x100000);
	assert_int_equal(map.r[0].size, LAST_PAGE - 0x100000);
}

static void test_add_overflow(void **state)
{
	(void)state;
	for (u32 i = 0; i < MEMMAP_MAX; i++)
		assert_int_equal(memmap_add(&map, (u64)i * 0x2000, 0x1000, MEM_USABLE), 0);
	assert_int_equal(memmap_add(&map, 0x10000000, 0x1000, MEM_USABLE), -ENOSPC);
	assert_int_equal(map.nr, MEMMAP_MAX);
	assert_int_equal(memmap_normalize(&map), 0);
	assert_int_equal(map.nr, MEMMAP_MAX);
	assert_int_equal(memmap_total(&map, MEM_USABLE), MEMMAP_MAX * 0x1000ULL);
}

/* Splitting can need more than MEMMAP_MAX regions: -ENOSPC, and the input is left intact. */
static void test_normalize_overflow(void **state)
{
	struct memmap before;
	(void)state;
	assert_int_equal(memmap_add(&map, 0, 0x10000000, MEM_USABLE), 0);
	for (u32 i = 0; i < MEMMAP_MAX - 1; i++)
		assert_int_equal(
		    memmap_add(&map, 0x100000 + (u64)i * 0x10000, 0x1000, MEM_RESERVED), 0);
	before = map;
	assert_int_equal(memmap_normalize(&map), -ENOSPC);
	assert_int_equal(map.nr, before.nr);
	for (u32 i = 0; i < map.nr; i++) {
		assert_int_equal(map.r[i].base, before.r[i].base);
		assert_int_equal(map.r[i].size, before.r[i].size);
		assert_int_equal(map.r[i].type, before.r[i].type);
	}
}

/* Exactly MEMMAP_MAX output regions still fit. */
static void test_normalize_exactly_full(void **state)
{
	(void)state;
	assert_int_equal(memmap_add(&map, 0, 0x10000000, MEM_USABLE), 0);
	/* 127 holes cut 128 usable pieces: 255 regions, plus one MMIO above */
	for (u32 i = 0; i < 127; i++)
		assert_int_equal(
		    memmap_add(&map, 0x100000 + (u64)i * 0x10000, 0x1000, MEM_RESERVED), 0);
	assert_int_equal(memmap_add(&map, 0xfec00000, 0x1000, MEM_MMIO), 0);
	assert_int_equal(memmap_normalize(&map), 0);
	assert_int_equal(map.nr, MEMMAP_MAX);
	assert_int_equal(memmap_total(&map, MEM_RESERVED), 127 * 0x1000ULL);
	assert_int_equal(memmap_total(&map, MEM_USABLE), 0x10000000ULL - 127 * 0x1000ULL);
}

/* E820 from SeaBIOS (QEMU, 6 GiB), listed out of order, with an overlapping duplicate. */
static void test_bios_e820(void **state)
{
	static const struct want in[] = {
		{ 0x100000000ULL, 0x180000000ULL, MEM_USABLE },
		{ 0x9fc00, 0xa0000, MEM_RESERVED }, /* EBDA */
		{ 0x0, 0x9fc00, MEM_USABLE },
		{ 0xf0000, 0x100000, MEM_RESERVED }, /* BIOS ROM shadow */
		{ 0x100000, 0x7ffe0000, MEM_USABLE },
		{ 0x7ffe0000, 0x80000000, MEM_RESERVED },
		{ 0xfeffc000, 0xff000000, MEM_RESERVED },
		{ 0xfffc0000, 0x100000000ULL, MEM_RESERVED },
		{ 0x0, 0xa0000, MEM_USABLE },		  /* some loaders repeat low memory whole */
		{ 0xb0000000, 0xc0000000, MEM_RESERVED }, /* PCIe ECAM */
	};
	static const struct want out[] = {
		{ 0x0, 0x9f000, MEM_USABLE },
		{ 0x9fc00, 0xa0000, MEM_RESERVED },
		{ 0xf0000, 0x100000, MEM_RESERVED },
		{ 0x100000, 0x7ffe0000, MEM_USABLE },
		{ 0x7ffe0000, 0x80000000, MEM_RESERVED },
		{ 0xb0000000, 0xc0000000, MEM_RESERVED },
		{ 0xfeffc000, 0xff000000, MEM_RESERVED },
		{ 0xfffc0000, 0x100000000ULL, MEM_RESERVED },
		{ 0x100000000ULL, 0x180000000ULL, MEM_USABLE },
	};
	(void)state;
	add_all(&map, in, ARRAY_SIZE(in));
	assert_int_equal(memmap_normalize(&map), 0);
	expect_map(&map, out, ARRAY_SIZE(out));
	assert_int_equal(memmap_total(&map, MEM_USABLE),
			 0x9f000ULL + (0x7ffe0000ULL - 0x100000) + 0x80000000ULL);
	assert_int_equal(memmap_total(&map, MEM_RESERVED),
			 0x400ULL + 0x10000 + 0x20000 + 0x10000000 + 0x4000 + 0x40000);
	assert_int_equal(memmap_total(&map, MEM_ACPI), 0);
	assert_int_equal(memmap_total(&map, MEM_MMIO), 0);
}

/* EFI memory types, as the UEFI loader maps them to enum mem_type. */
enum efi_type {
	EFI_LOADER_CODE = MEM_USABLE,
	EFI_LOADER_DATA = MEM_USABLE,
	EFI_BOOT_SERVICES_CODE = MEM_USABLE,
	EFI_BOOT_SERVICES_DATA = MEM_USABLE,
	EFI_CONVENTIONAL = MEM_USABLE,
	EFI_RUNTIME_SERVICES_CODE = MEM_RESERVED,
	EFI_RUNTIME_SERVICES_DATA = MEM_RESERVED,
	EFI_ACPI_RECLAIM = MEM_ACPI,
	EFI_ACPI_NVS = MEM_RESERVED,
	EFI_MMIO = MEM_MMIO,
};

/*
 * A UEFI-like map (OVMF-style layout): page-granular, 136 descriptors,
 * 120 of them small usable pieces of alternating EFI types that must merge.
 */
static void test_uefi_map(void **state)
{
	static const u32 usable_kinds[] = { EFI_CONVENTIONAL, EFI_LOADER_CODE, EFI_LOADER_DATA,
					    EFI_BOOT_SERVICES_CODE, EFI_BOOT_SERVICES_DATA };
	static const struct want head[] = {
		{ 0x0, 0x1000, EFI_BOOT_SERVICES_DATA },  { 0x1000, 0xa0000, EFI_CONVENTIONAL },
		{ 0x100000, 0x800000, EFI_CONVENTIONAL }, { 0x800000, 0x808000, EFI_ACPI_NVS },
		{ 0x808000, 0x80b000, EFI_CONVENTIONAL }, { 0x80b000, 0x80c000, EFI_ACPI_NVS },
		{ 0x80c000, 0x810000, EFI_CONVENTIONAL }, { 0x810000, 0x900000, EFI_ACPI_NVS },
	};
	const u64 R = 0x9ea000, X = 0xae0000; /* see the generator below */
	const struct want tail[] = {
		{ X, X + 0x8000, EFI_ACPI_RECLAIM },
		{ X + 0x8000, X + 0x58000, EFI_ACPI_NVS },
		{ X + 0x58000, X + 0x60000, EFI_RUNTIME_SERVICES_CODE },
		{ X + 0x60000, 0x7f000000, EFI_CONVENTIONAL },
		{ 0xb0000000, 0xc0000000, EFI_MMIO },
		{ 0xffc00000, 0x100000000ULL, EFI_MMIO },
		{ 0x100000000ULL, 0x280000000ULL, EFI_CONVENTIONAL },
	};
	const struct want out[] = {
		{ 0x0, 0xa0000, MEM_USABLE },
		{ 0x100000, 0x800000, MEM_USABLE },
		{ 0x800000, 0x808000, MEM_RESERVED },
		{ 0x808000, 0x80b000, MEM_USABLE },
		{ 0x80b000, 0x80c000, MEM_RESERVED },
		{ 0x80c000, 0x810000, MEM_USABLE },
		{ 0x810000, 0x900000, MEM_RESERVED },
		{ 0x900000, R, MEM_USABLE },
		{ R, R + 0x3000, MEM_RESERVED },
		{ R + 0x3000, X, MEM_USABLE },
		{ X, X + 0x8000, MEM_ACPI },
		{ X + 0x8000, X + 0x60000, MEM_RESERVED },
		{ X + 0x60000, 0x7f000000, MEM_USABLE },
		{ 0xb0000000, 0xc0000000, MEM_MMIO },
		{ 0xffc00000, 0x100000000ULL, MEM_MMIO },
		{ 0x100000000ULL, 0x280000000ULL, MEM_USABLE },
	};
	u64 at = 0x900000;
	(void)state;

	add_all(&map, head, ARRAY_SIZE(head));
	for (u32 i = 0; i < 120; i++) {
		u64 size = (i % 7 + 1) * 0x1000ULL;
		if (i == 60) { /* runtime services data in the middle of the run */
			assert_int_equal(at, R);
			assert_int_equal(memmap_add(&map, at, 0x3000, EFI_RUNTIME_SERVICES_DATA),
					 0);
			at += 0x3000;
		}
		assert_int_equal(memmap_add(&map, at, size, usable_kinds[i % 5]), 0);
		at += size;
	}
	assert_int_equal(at, X);
	add_all(&map, tail, ARRAY_SIZE(tail));
	assert_int_equal(map.nr, 136);
	assert_int_equal(memmap_normalize(&map), 0);
	expect_map(&map, out, ARRAY_SIZE(out));
	assert_int_equal(memmap_total(&map, MEM_ACPI), 0x8000);
	assert_int_equal(memmap_total(&map, MEM_MMIO), 0x10000000ULL + 0x400000);
}

/* Normalising a normalised map changes nothing. */
static void test_idempotent(void **state)
{
	static const struct want in[] = {
		{ 0x0, 0x9fc00, MEM_USABLE },	      { 0x9fc00, 0xa0000, MEM_RESERVED },
		{ 0x100000, 0x7ffe0000, MEM_USABLE }, { 0x7ffe0000, 0x80000000, MEM_ACPI },
		{ 0x200000, 0x280000, MEM_RESERVED }, { 0xfec00000, 0xfec01000, MEM_MMIO },
	};
	struct memmap once;
	(void)state;
	add_all(&map, in, ARRAY_SIZE(in));
	assert_int_equal(memmap_normalize(&map), 0);
	once = map;
	assert_int_equal(memmap_normalize(&map), 0);
	assert_int_equal(map.nr, once.nr);
	for (u32 i = 0; i < map.nr; i++) {
		assert_int_equal(map.r[i].base, once.r[i].base);
		assert_int_equal(map.r[i].size, once.r[i].size);
		assert_int_equal(map.r[i].type, once.r[i].type);
	}
}

static void test_type_names(void **state)
{
	(void)state;
	assert_string_equal(memmap_type_name(MEM_USABLE), "usable");
	assert_string_equal(memmap_type_name(MEM_ACPI), "acpi");
	assert_string_equal(memmap_type_name(MEM_RESERVED), "reserved");
	assert_string_equal(memmap_type_name(MEM_MMIO), "mmio");
	assert_string_equal(memmap_type_name(0), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_unsorted, setup),
		cmocka_unit_test_setup(test_usable_inside_reserved, setup),
		cmocka_unit_test_setup(test_reserved_splits_usable, setup),
		cmocka_unit_test_setup(test_partial_overlaps, setup),
		cmocka_unit_test_setup(test_duplicates, setup),
		cmocka_unit_test_setup(test_precedence, setup),
		cmocka_unit_test_setup(test_adjacent_merge, setup),
		cmocka_unit_test_setup(test_unaligned_usable_trimmed, setup),
		cmocka_unit_test_setup(test_usable_unaligned_seam, setup),
		cmocka_unit_test_setup(test_zero_size, setup),
		cmocka_unit_test_setup(test_region_at_zero, setup),
		cmocka_unit_test_setup(test_top_of_address_space, setup),
		cmocka_unit_test_setup(test_usable_to_top, setup),
		cmocka_unit_test_setup(test_wrapping_raw_entry, setup),
		cmocka_unit_test_setup(test_add_overflow, setup),
		cmocka_unit_test_setup(test_normalize_overflow, setup),
		cmocka_unit_test_setup(test_normalize_exactly_full, setup),
		cmocka_unit_test_setup(test_bios_e820, setup),
		cmocka_unit_test_setup(test_uefi_map, setup),
		cmocka_unit_test_setup(test_idempotent, setup),
		cmocka_unit_test_setup(test_type_names, setup),
	};

	return cmocka_run_group_tests_name("memmap", tests, NULL, NULL);
}

/*
 * Frame allocator: exact extent sets after every operation, and exhaustive
 * page-by-page checks that nothing reserved or non-usable is handed out.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include <hv/errno.h>
#include <hv/frame.h>
#include <hv/memmap.h>
#include "host_log.h"

struct range {
	u64 base, end;
	u32 type; /* maps only; 0 for pool extents and reservations */
};

static struct frame_alloc fa;
static struct memmap map;

static int setup(void **state)
{
	(void)state;
	map.nr = 0;
	fa.nr = 0;
	host_log_clear();
	return 0;
}

static void dump(const struct frame_alloc *f)
{
	fprintf(stderr, "pool (%u extents):\n", f->nr);
	for (u32 i = 0; i < f->nr; i++)
		fprintf(stderr, "  [%#llx, %#llx)\n", (unsigned long long)f->ext[i].base,
			(unsigned long long)f->ext[i].end);
}

/* Assert the pool is exactly want[0..n). */
static void expect_pool(const struct frame_alloc *f, const struct range *want, u32 n)
{
	bool same = f->nr == n;

	for (u32 i = 0; same && i < n; i++)
		same = f->ext[i].base == want[i].base && f->ext[i].end == want[i].end;
	if (!same) {
		dump(f);
		fprintf(stderr, "want:\n");
		for (u32 i = 0; i < n; i++)
			fprintf(stderr, "  [%#llx, %#llx)\n", (unsigned long long)want[i].base,
				(unsigned long long)want[i].end);
	}
	assert_true(same);
}

static void build_map(const struct range *r, u32 n)
{
	for (u32 i = 0; i < n; i++)
		assert_int_equal(memmap_add(&map, r[i].base, r[i].end - r[i].base, r[i].type), 0);
	assert_int_equal(memmap_normalize(&map), 0);
}

/* A BIOS-like map: low memory with the EBDA and ROM holes, RAM to 256 MiB with an ACPI hole. */
static const struct range bios_map[] = {
	{ 0x0, 0x9fc00, MEM_USABLE },	      { 0x9fc00, 0xa0000, MEM_RESERVED },
	{ 0xf0000, 0x100000, MEM_RESERVED },  { 0x100000, 0x8000000, MEM_USABLE },
	{ 0x8000000, 0x8010000, MEM_ACPI },   { 0x8010000, 0x10000000, MEM_USABLE },
	{ 0xfec00000, 0xfec01000, MEM_MMIO },
};

static void init_bios(void)
{
	build_map(bios_map, ARRAY_SIZE(bios_map));
	assert_int_equal(frame_alloc_init(&fa, &map), 0);
}

static void test_init(void **state)
{
	static const struct range want[] = {
		{ 0x1000, 0x9f000, 0 }, /* frame 0 and the partial page below the EBDA left out */
		{ 0x100000, 0x8000000, 0 },
		{ 0x8010000, 0x10000000, 0 },
	};
	(void)state;
	init_bios();
	expect_pool(&fa, want, ARRAY_SIZE(want));
	assert_int_equal(frame_free_bytes(&fa), 0x9e000ULL + 0x7f00000 + 0x7ff0000);
}

/* The kernel image and modules carve holes; partly free or non-free ranges are fine. */
static void test_reserve(void **state)
{
	static const struct range want[] = {
		{ 0x1000, 0x8000, 0 },	     { 0x9000, 0x90000, 0 },
		{ 0x110000, 0x200000, 0 },   { 0x324000, 0x1000000, 0 },
		{ 0x1001000, 0x8000000, 0 }, { 0x8010000, 0xfff0000, 0 },
	};
	(void)state;
	init_bios();
	/* boot_info: one page, unaligned inside it */
	assert_int_equal(frame_reserve(&fa, 0x8010, 0x100), 0);
	/* spans the end of one extent, the EBDA/ROM hole and the start of the next */
	assert_int_equal(frame_reserve(&fa, 0x90000, 0x80000), 0);
	/* kernel image at 2 MiB, unaligned end: rounded outward */
	assert_int_equal(frame_reserve(&fa, 0x200000, 0x123456), 0);
	/* a module */
	assert_int_equal(frame_reserve(&fa, 0x1000000, 0x1000), 0);
	/* entirely outside the pool */
	assert_int_equal(frame_reserve(&fa, 0xfec00000, 0x1000), 0);
	/* overlapping the ACPI hole and the last 64 KiB of RAM */
	assert_int_equal(frame_reserve(&fa, 0x8000000, 0x10000), 0);
	assert_int_equal(frame_reserve(&fa, 0xfff0000, 0x20000), 0);
	/* nothing */
	assert_int_equal(frame_reserve(&fa, 0x5000, 0), 0);
	expect_pool(&fa, want, ARRAY_SIZE(want));
}

static void test_reserve_whole_extents(void **state)
{
	static const struct range want[] = { { 0x8010000, 0x10000000, 0 } };
	(void)state;
	init_bios();
	assert_int_equal(frame_reserve(&fa, 0, 0x8000000), 0);
	expect_pool(&fa, want, ARRAY_SIZE(want));
	assert_int_equal(frame_reserve(&fa, 0, ~0ULL), 0); /* wraps: up to the top */
	assert_int_equal(fa.nr, 0);
	assert_int_equal(frame_free_bytes(&fa), 0);
	assert_int_equal(frame_alloc(&fa, PAGE_SIZE, 0, 0), 0);
}

/* A page allocation takes the lowest free page, and the first 2 MiB-aligned one is 2 MiB. */
static void test_alloc_first_fit_and_align(void **state)
{
	static const struct range want[] = {
		{ 0x2000, 0x9f000, 0 },
		{ 0x100000, 0x200000, 0 },
		{ 0x400000, 0x8000000, 0 },
		{ 0x8010000, 0x10000000, 0 },
	};
	(void)state;
	init_bios();
	assert_int_equal(frame_alloc(&fa, 1, 0, 0), 0x1000);
	assert_int_equal(frame_alloc(&fa, 2 * MiB, 2 * MiB, 0), 0x200000);
	expect_pool(&fa, want, ARRAY_SIZE(want));
	/* 1 GiB alignment: nothing in 256 MiB of RAM but address 0, which is never in the pool */
	assert_int_equal(frame_alloc(&fa, PAGE_SIZE, 1 * GiB, 0), 0);
	/* odd sizes round up to pages */
	assert_int_equal(frame_alloc(&fa, 0x1001, PAGE_SIZE, 0), 0x2000);
	assert_int_equal(frame_alloc(&fa, 1, 0, 0), 0x4000);
	/* an alignment below a page means a page */
	assert_int_equal(frame_alloc(&fa, 1, 16, 0), 0x5000);
}

static void test_alloc_limit(void **state)
{
	static const struct range ram[] = {
		{ 0x0, 0x9fc00, MEM_USABLE },
		{ 0x100000, 0x80000000, MEM_USABLE },
		{ 0x100000000ULL, 0x140000000ULL, MEM_USABLE },
	};
	u64 pa;
	(void)state;
	build_map(ram, ARRAY_SIZE(ram));
	assert_int_equal(frame_alloc_init(&fa, &map), 0);

	/* below 1 MiB (SMP trampoline): only low memory qualifies */
	assert_int_equal(frame_alloc(&fa, PAGE_SIZE, PAGE_SIZE, 1 * MiB), 0x1000);
	assert_int_equal(frame_alloc(&fa, 1 * MiB, PAGE_SIZE, 1 * MiB), 0);
	/* a block may end exactly at the limit */
	assert_int_equal(frame_alloc(&fa, 0x9d000, PAGE_SIZE, 0x9f000), 0x2000);
	assert_int_equal(frame_alloc(&fa, PAGE_SIZE, PAGE_SIZE, 1 * MiB), 0);
	/* the block must end below the limit, not only start below it */
	assert_int_equal(frame_alloc(&fa, 2 * MiB, PAGE_SIZE, 2 * MiB), 0);
	assert_int_equal(frame_alloc(&fa, 1 * MiB, PAGE_SIZE, 2 * MiB), 0x100000);
	assert_int_equal(frame_free(&fa, 0x100000, 1 * MiB), 0);

	/* below 4 GiB: take all of it, then the next one fails there but not without limit */
	pa = frame_alloc(&fa, 0x80000000 - 0x200000, 2 * MiB, 4 * GiB);
	assert_int_equal(pa, 0x200000); /* 2 MiB aligned: [1 MiB, 2 MiB) left over */
	assert_int_equal(frame_alloc(&fa, 2 * MiB, 2 * MiB, 4 * GiB), 0);
	assert_int_equal(frame_alloc(&fa, 1 * MiB, PAGE_SIZE, 4 * GiB), 0x100000);
	assert_int_equal(frame_alloc(&fa, PAGE_SIZE, PAGE_SIZE, 4 * GiB), 0);
	assert_int_equal(frame_alloc(&fa, 2 * MiB, 2 * MiB, 0), 0x100000000ULL);
	assert_int_equal(frame_alloc(&fa, 1 * GiB, 1 * GiB, 0), 0);
	assert_int_equal(frame_free_bytes(&fa), 1 * GiB - 2 * MiB);
}

static void test_alloc_nothing_fits(void **state)
{
	(void)state;
	init_bios();
	assert_int_equal(frame_alloc(&fa, 0x10000000, PAGE_SIZE, 0),
			 0); /* bigger than any extent */
	assert_int_equal(frame_alloc(&fa, 0, PAGE_SIZE, 0), 0);
	assert_int_equal(frame_alloc(&fa, ~0ULL, PAGE_SIZE, 0), 0);
	assert_int_equal(frame_alloc(&fa, PAGE_SIZE, 3 * PAGE_SIZE, 0), 0); /* not a power of two */
	assert_true(host_log_contains("not a power of two"));
	assert_int_equal(frame_alloc(&fa, PAGE_SIZE, PAGE_SIZE, PAGE_SIZE), 0); /* below frame 1 */
	assert_int_equal(frame_alloc(&fa, PAGE_SIZE, 1ULL << 63, 0), 0);
	assert_int_equal(frame_free_bytes(&fa), 0x9e000ULL + 0x7f00000 + 0x7ff0000);
}

/* Allocations in any order, freed in another, give back exactly the original extents. */
static void test_free_merges_back(void **state)
{
	static const struct range orig[] = {
		{ 0x1000, 0x9f000, 0 },
		{ 0x100000, 0x8000000, 0 },
		{ 0x8010000, 0x10000000, 0 },
	};
	static const struct {
		u64 size, align;
	} req[] = {
		{ 0x1000, 0 },	{ 0x3000, 0 },	       { 2 * MiB, 2 * MiB }, { 0x5000, 0x4000 },
		{ 0x9d000, 0 }, { 64 * MiB, 2 * MiB }, { 0x1000, 0x100000 }, { 100 * MiB, 0 },
		{ 0x7000, 0 },	{ 0x10000, 0x10000 },  { 4 * MiB, 4 * MiB }, { 0x1000, 0 },
	};
	static const u32 free_order[] = { 5, 0, 11, 3, 8, 1, 10, 7, 2, 9, 4, 6 };
	u64 got[ARRAY_SIZE(req)];
	(void)state;
	init_bios();
	for (u32 i = 0; i < ARRAY_SIZE(req); i++) {
		got[i] = frame_alloc(&fa, req[i].size, req[i].align, 0);
		assert_int_not_equal(got[i], 0);
		if (req[i].align)
			assert_int_equal(got[i] % req[i].align, 0);
	}
	for (u32 i = 0; i < ARRAY_SIZE(free_order); i++) {
		u32 k = free_order[i];
		assert_int_equal(frame_free(&fa, got[k], ALIGN_UP(req[k].size, PAGE_SIZE)), 0);
	}
	expect_pool(&fa, orig, ARRAY_SIZE(orig));
}

static void test_free_errors(void **state)
{
	static const struct range orig[] = {
		{ 0x1000, 0x9f000, 0 },
		{ 0x100000, 0x8000000, 0 },
		{ 0x8010000, 0x10000000, 0 },
	};
	u64 a;
	(void)state;
	init_bios();
	a = frame_alloc(&fa, 4 * PAGE_SIZE, PAGE_SIZE, 0);
	assert_int_equal(a, 0x1000);

	assert_int_equal(frame_free(&fa, a + 0x10, PAGE_SIZE), -EINVAL); /* unaligned base */
	assert_int_equal(frame_free(&fa, a, 0x800), -EINVAL);		 /* unaligned size */
	assert_int_equal(frame_free(&fa, a, 0), -EINVAL);		 /* empty */
	assert_int_equal(frame_free(&fa, 0, PAGE_SIZE), -EINVAL);	 /* frame 0 */
	assert_int_equal(frame_free(&fa, 0xfffffffffffff000ULL, PAGE_SIZE),
			 -EINVAL); /* last page */
	assert_int_equal(frame_free(&fa, 0xffffffff00000000ULL, 0x200000000ULL),
			 -EINVAL);					 /* wraps */
	assert_int_equal(frame_free(&fa, 0x200000, PAGE_SIZE), -EINVAL); /* double free */
	assert_true(host_log_contains("double free"));
	assert_int_equal(frame_free(&fa, a + 3 * PAGE_SIZE, 2 * PAGE_SIZE),
			 -EINVAL);						  /* half free */
	assert_int_equal(frame_free(&fa, a - PAGE_SIZE, 2 * PAGE_SIZE), -EINVAL); /* frame 0 + 1 */

	assert_int_equal(frame_free(&fa, a + PAGE_SIZE, PAGE_SIZE), 0); /* a hole in the middle */
	assert_int_equal(frame_free(&fa, a + PAGE_SIZE, PAGE_SIZE), -EINVAL);
	assert_int_equal(frame_free(&fa, a, 4 * PAGE_SIZE), -EINVAL);
	assert_int_equal(frame_free(&fa, a, PAGE_SIZE), 0);
	assert_int_equal(frame_free(&fa, a + 2 * PAGE_SIZE, 2 * PAGE_SIZE), 0);
	expect_pool(&fa, orig, ARRAY_SIZE(orig));

	/* freeing memory never in the pool (a module no longer needed) is allowed */
	assert_int_equal(frame_free(&fa, 0x9f000, PAGE_SIZE), 0);
	assert_int_equal(fa.ext[0].end, 0xa0000);
}

/*
 * Page state from first principles: frame p is allocatable iff it is not
 * frame 0, some usable region covers all of it, no non-usable region touches
 * it and no reservation touches it. Compare with what the allocator gives.
 */
static bool page_ok(u64 p, const struct range *raw, u32 nraw, const struct range *resv, u32 nresv)
{
	bool usable = false;

	if (p == 0)
		return false;
	for (u32 i = 0; i < nraw; i++) {
		bool touches = raw[i].base < p + PAGE_SIZE && raw[i].end > p;
		if (raw[i].type != MEM_USABLE && touches)
			return false;
		if (raw[i].type == MEM_USABLE && raw[i].base <= p && raw[i].end >= p + PAGE_SIZE)
			usable = true;
	}
	for (u32 i = 0; i < nresv; i++)
		if (resv[i].base < p + PAGE_SIZE && resv[i].end > p)
			return false;
	return usable;
}

/* Normalise raw, reserve resv, allocate page by page until empty, check every page. */
static void exhaust(const struct range *raw, u32 nraw, const struct range *resv, u32 nresv,
		    u64 span)
{
	u32 npages = (u32)(span / PAGE_SIZE), expected = 0, got = 0;
	unsigned char *seen = calloc(npages, 1);
	u64 p;

	assert_non_null(seen);
	build_map(raw, nraw);
	assert_int_equal(frame_alloc_init(&fa, &map), 0);
	for (u32 i = 0; i < nresv; i++)
		assert_int_equal(frame_reserve(&fa, resv[i].base, resv[i].end - resv[i].base), 0);
	for (u32 i = 0; i < npages; i++)
		expected += page_ok((u64)i * PAGE_SIZE, raw, nraw, resv, nresv);
	assert_int_equal(frame_free_bytes(&fa), (u64)expected * PAGE_SIZE);

	while ((p = frame_alloc(&fa, PAGE_SIZE, PAGE_SIZE, 0)) != 0) {
		assert_true(p < span);
		assert_int_equal(p % PAGE_SIZE, 0);
		if (!page_ok(p, raw, nraw, resv, nresv))
			fail_msg("page %#llx handed out", (unsigned long long)p);
		assert_int_equal(seen[p / PAGE_SIZE], 0);
		seen[p / PAGE_SIZE] = 1;
		got++;
	}
	assert_int_equal(got, expected);
	assert_int_equal(fa.nr, 0);
	free(seen);
}

static void test_exhaustive_bios(void **state)
{
	static const struct range resv[] = {
		{ 0x8000, 0x8100, 0 },	     /* boot_info */
		{ 0x200000, 0x323456, 0 },   /* kernel image */
		{ 0x1000000, 0x1004321, 0 }, /* module */
		{ 0x7fff000, 0x8003000, 0 }, /* across the ACPI hole */
		{ 0x9000000, 0x9000001, 0 },
	};
	(void)state;
	exhaust(bios_map, ARRAY_SIZE(bios_map), resv, ARRAY_SIZE(resv), 0x10000000);
}

/* Unsorted, overlapping, unaligned: normalised first, still nothing reserved leaks. */
static void test_exhaustive_messy_firmware(void **state)
{
	static const struct range raw[] = {
		{ 0x100000, 0x4000000, MEM_USABLE },
		{ 0x0, 0xa0000, MEM_USABLE },
		{ 0x9fc00, 0xa0000, MEM_RESERVED }, /* EBDA inside usable */
		{ 0x3f00000, 0x4100000, MEM_ACPI }, /* overlaps the end of usable */
		{ 0x4100000, 0x8000000, MEM_USABLE },
		{ 0x2000800, 0x2001800, MEM_RESERVED }, /* unaligned, straddles 3 pages */
		{ 0x5000000, 0x5000000, MEM_RESERVED }, /* empty */
		{ 0x6000000, 0x6400000, MEM_USABLE },	/* duplicate inside usable */
		{ 0x6100000, 0x6200000, MEM_MMIO },
		{ 0x7ffffff, 0x9000000, MEM_RESERVED }, /* one byte into the last usable page */
		{ 0x80000, 0x90000, MEM_ACPI },
		{ 0x12345, 0x23456, MEM_USABLE }, /* usable inside usable, unaligned */
	};
	static const struct range resv[] = {
		{ 0x3000000, 0x3000001, 0 },
		{ 0x4100000, 0x4200000, 0 },
	};
	(void)state;
	exhaust(raw, ARRAY_SIZE(raw), resv, ARRAY_SIZE(resv), 0x9000000);
}

#define PG(n) (0x100000 + (u64)(n)*PAGE_SIZE)

/*
 * Fill the extent array: RAM of npages from 1 MiB with every odd page up to
 * 1021 reserved leaves 511 single-page extents and one tail from page 1022.
 */
static void fill_extents(u32 npages)
{
	const struct range ram[] = { { PG(0), PG(npages), MEM_USABLE } };

	build_map(ram, ARRAY_SIZE(ram));
	assert_int_equal(frame_alloc_init(&fa, &map), 0);
	for (u32 i = 1; i <= 1021; i += 2)
		assert_int_equal(frame_reserve(&fa, PG(i), PAGE_SIZE), 0);
	assert_int_equal(fa.nr, FRAME_EXT_MAX);
	assert_int_equal(fa.ext[FRAME_EXT_MAX - 1].base, PG(1022));
}

static void expect_same(const struct frame_alloc *a, const struct frame_alloc *b)
{
	assert_int_equal(a->nr, b->nr);
	for (u32 i = 0; i < a->nr; i++) {
		assert_int_equal(a->ext[i].base, b->ext[i].base);
		assert_int_equal(a->ext[i].end, b->ext[i].end);
	}
}

/* With all 512 extents in use, whatever needs no new extent still works. */
static void test_full_array_no_split(void **state)
{
	static struct frame_alloc before;
	(void)state;
	fill_extents(1024);
	before = fa;

	/* trimming the start of an extent, removing a whole one, merging three into one */
	assert_int_equal(frame_reserve(&fa, PG(1022) + 0x10, 1), 0);
	assert_int_equal(fa.nr, FRAME_EXT_MAX);
	assert_int_equal(fa.ext[FRAME_EXT_MAX - 1].base, PG(1023));
	assert_int_equal(frame_reserve(&fa, PG(0), PAGE_SIZE), 0);
	assert_int_equal(fa.nr, FRAME_EXT_MAX - 1);
	assert_int_equal(frame_free(&fa, PG(3), PAGE_SIZE), 0); /* joins pages 2, 3 and 4 */
	assert_int_equal(fa.nr, FRAME_EXT_MAX - 2);
	assert_int_equal(fa.ext[0].base, PG(2));
	assert_int_equal(fa.ext[0].end, PG(5));

	/* a free that needs an extent of its own: -ENOSPC, nothing changed */
	fa = before;
	assert_int_equal(frame_free(&fa, 0x10000000, PAGE_SIZE), -ENOSPC);
	assert_true(host_log_contains("too many extents"));
	expect_same(&fa, &before);
	/* but one that touches an extent merges */
	assert_int_equal(frame_free(&fa, PG(1024), PAGE_SIZE), 0);
	assert_int_equal(fa.ext[FRAME_EXT_MAX - 1].end, PG(1025));
}

/* With all 512 extents in use, a split fails cleanly and allocation avoids splitting. */
static void test_full_array_split(void **state)
{
	static struct frame_alloc before;
	(void)state;
	fill_extents(2048);
	before = fa;

	assert_int_equal(frame_reserve(&fa, PG(1500), PAGE_SIZE), -ENOSPC);
	assert_true(host_log_contains("too many extents"));
	expect_same(&fa, &before);

	/* two pages fit only in the tail, taken from its start: no split */
	assert_int_equal(frame_alloc(&fa, 2 * PAGE_SIZE, 0, 0), PG(1022));
	assert_int_equal(fa.nr, FRAME_EXT_MAX);
	assert_int_equal(fa.ext[FRAME_EXT_MAX - 1].base, PG(1024));

	/* 1 MiB-aligned page: the single-page extent at 1 MiB */
	fa = before;
	assert_int_equal(frame_alloc(&fa, PAGE_SIZE, 1 * MiB, 0), PG(0));
	assert_int_equal(fa.nr, FRAME_EXT_MAX - 1);

	/* 1 MiB-aligned pair: only inside the tail, which would split: nothing */
	fa = before;
	assert_int_equal(frame_alloc(&fa, 2 * PAGE_SIZE, 1 * MiB, 0), 0);
	expect_same(&fa, &before);
}

/* A usable region reaching 2^64 stops at the last page; so does a reservation. */
static void test_top_of_address_space(void **state)
{
	(void)state;
	map.r[0] = (struct mem_region){ .base = 0xffffffff00000000ULL,
					.size = 0x100000000ULL,
					.type = MEM_USABLE };
	map.nr = 1;
	assert_int_equal(frame_alloc_init(&fa, &map), 0);
	assert_int_equal(fa.nr, 1);
	assert_int_equal(fa.ext[0].base, 0xffffffff00000000ULL);
	assert_int_equal(fa.ext[0].end, 0xfffffffffffff000ULL);
	assert_int_equal(frame_reserve(&fa, 0xfffffffffff00000ULL, 0x200000), 0);
	assert_int_equal(fa.ext[0].end, 0xfffffffffff00000ULL);
	assert_int_equal(frame_alloc(&fa, 1 * GiB, 1 * GiB, 0), 0xffffffff00000000ULL);
	assert_int_equal(frame_alloc(&fa, PAGE_SIZE, 1ULL << 63, 0), 0);
}

/* Overlapping usable regions (a map that was not normalised) are refused. */
static void test_init_rejects_overlap(void **state)
{
	(void)state;
	map.r[0] = (struct mem_region){ .base = 0x100000, .size = 0x100000, .type = MEM_USABLE };
	map.r[1] = (struct mem_region){ .base = 0x180000, .size = 0x100000, .type = MEM_USABLE };
	map.nr = 2;
	assert_int_equal(frame_alloc_init(&fa, &map), -EINVAL);
	assert_true(host_log_contains("overlaps"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_init, setup),
		cmocka_unit_test_setup(test_reserve, setup),
		cmocka_unit_test_setup(test_reserve_whole_extents, setup),
		cmocka_unit_test_setup(test_alloc_first_fit_and_align, setup),
		cmocka_unit_test_setup(test_alloc_limit, setup),
		cmocka_unit_test_setup(test_alloc_nothing_fits, setup),
		cmocka_unit_test_setup(test_free_merges_back, setup),
		cmocka_unit_test_setup(test_free_errors, setup),
		cmocka_unit_test_setup(test_exhaustive_bios, setup),
		cmocka_unit_test_setup(test_exhaustive_messy_firmware, setup),
		cmocka_unit_test_setup(test_full_array_no_split, setup),
		cmocka_unit_test_setup(test_full_array_split, setup),
		cmocka_unit_test_setup(test_top_of_address_space, setup),
		cmocka_unit_test_setup(test_init_rejects_overlap, setup),
	};

	return cmocka_run_group_tests_name("frame", tests, NULL, NULL);
}

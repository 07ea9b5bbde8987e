/*
 * EPT builder: every check decodes the raw paging structures itself (never
 * through ept_lookup) and compares each leaf with the requested regions:
 * addresses, permissions, memory type, page size and reserved bits, and that
 * nothing else is reachable. Table pages come from a counting pool that can
 * be told to fail, so roll-back and leaks are checked page by page.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <hv/errno.h>
#include <asm/ept.h>

/* The raw format, written out here again so the walker does not trust ept.h. */
#define RAW_PERMS      0x7ULL
#define RAW_R	       0x1ULL
#define RAW_W	       0x2ULL
#define RAW_X	       0x4ULL
#define RAW_LARGE      (1ULL << 7)
#define RAW_ADDR       0x000ffffffffff000ULL
#define RAW_TABLE_RSVD 0xff8ULL /* non-leaf bits 7:3 reserved; 11:8 never set by software */
#define RAW_LEAF_LOW   0xfc0ULL /* IPAT, bit 7 (in a PTE), A, D, 11:10: never set by the builder */
#define RAW_HIGH       (~0ULL << 52)
#define GPA_TOP	       (1ULL << 48)
#define HPA_TOP	       (1ULL << 52)

/* Paging-structure pages sit high so that address bits 51:12 must survive. */
#define POOL_BASE  (1ULL << 51)
#define POOL_PAGES 4096

struct pool {
	void *page[POOL_PAGES];
	u32 live;    /* pages handed out and not freed */
	u32 allocs;  /* successful allocations so far */
	long budget; /* allocations left before failing; negative: unlimited */
};

static struct pool pool;

static u64 pool_alloc(void *ctx)
{
	struct pool *p = ctx;

	if (p->budget == 0)
		return 0;
	if (p->budget > 0)
		p->budget--;
	for (u32 i = 0; i < POOL_PAGES; i++) {
		if (p->page[i])
			continue;
		p->page[i] = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
		assert_non_null(p->page[i]);
		memset(p->page[i], 0, PAGE_SIZE);
		p->live++;
		p->allocs++;
		return POOL_BASE + i * PAGE_SIZE;
	}
	fail_msg("table pool exhausted");
	return 0;
}

static u32 pool_slot(const struct pool *p, u64 pa)
{
	u64 i = (pa - POOL_BASE) / PAGE_SIZE;

	if (pa < POOL_BASE || !IS_ALIGNED(pa, PAGE_SIZE) || i >= POOL_PAGES || !p->page[i])
		fail_msg("%#llx is not a live table page", (unsigned long long)pa);
	return (u32)i;
}

static void pool_free(void *ctx, u64 pa)
{
	struct pool *p = ctx;
	u32 i = pool_slot(p, pa);

	free(p->page[i]);
	p->page[i] = NULL;
	p->live--;
}

static void *pool_virt(void *ctx, u64 pa)
{
	struct pool *p = ctx;

	return p->page[pool_slot(p, pa)];
}

static const struct ept_mem pool_mem = {
	.alloc_page = pool_alloc,
	.free_page = pool_free,
	.virt = pool_virt,
	.ctx = &pool,
};

static int setup(void **state)
{
	(void)state;
	memset(&pool, 0, sizeof(pool));
	pool.budget = -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (u32 i = 0; i < POOL_PAGES; i++)
		free(pool.page[i]);
	memset(&pool, 0, sizeof(pool));
	return 0;
}

struct leaf {
	u64 gpa, hpa, size;
	u32 perms, mt;
};

struct leaves {
	struct leaf *v;
	u32 nr, cap;
	u32 tables;
	u32 n4k, n2m, n1g;
};

struct region {
	u64 gpa, hpa, size;
	u32 perms, mt;
};

#define RWX (EPT_READ_BIT | EPT_WRITE_BIT | EPT_EXEC_BIT)
#define RX  (EPT_READ_BIT | EPT_EXEC_BIT)

static void push_leaf(struct leaves *l, struct leaf f)
{
	if (l->nr == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 256;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		assert_non_null(l->v);
	}
	l->v[l->nr++] = f;
	if (f.size == 4 * KiB)
		l->n4k++;
	else if (f.size == 2 * MiB)
		l->n2m++;
	else
		l->n1g++;
}

static bool memtype_valid(u32 mt)
{
	return mt == 0 || mt == 1 || mt == 4 || mt == 5 || mt == 6;
}

/* Decode and check one leaf; span is the page size its level implies. */
static void check_leaf(u64 pte, int level, u64 gpa, u64 span, bool exec_only, struct leaves *l)
{
	u64 hpa = pte & RAW_ADDR;
	u32 perms = pte & RAW_PERMS, mt = (pte >> 3) & 7;

	assert_int_equal(hpa & (span - 1), 0); /* reserved: bits 29:12 or 20:12 */
	assert_int_equal(pte & RAW_LEAF_LOW & ~(level > 1 ? RAW_LARGE : 0), 0);
	assert_true(memtype_valid(mt));
	assert_false((perms & RAW_W) && !(perms & RAW_R));
	assert_true(perms != RAW_X || exec_only);
	push_leaf(l, (struct leaf){ gpa, hpa, span, perms, mt });
}

/* Walk a table at level (4 = PML4 .. 1 = PT) covering guest-physical base. */
static void walk_table(u64 pa, int level, u64 base, bool exec_only, struct leaves *l)
{
	const u64 *t = pool_virt(&pool, pa);
	u64 span = 1ULL << (12 + 9 * (level - 1));
	u32 present = 0;

	l->tables++;
	for (u32 i = 0; i < 512; i++) {
		u64 pte = t[i], gpa = base + i * span;

		if (pte == 0)
			continue;
		present++;
		assert_int_not_equal(pte & RAW_PERMS, 0); /* not present, yet not zero */
		assert_int_equal(pte & RAW_HIGH, 0);
		if (level == 1 || (level < 4 && (pte & RAW_LARGE))) {
			check_leaf(pte, level, gpa, span, exec_only, l);
			continue;
		}
		assert_int_equal(pte & RAW_TABLE_RSVD, 0);
		assert_int_equal(pte & RAW_PERMS, RAW_PERMS);
		walk_table(pte & RAW_ADDR, level - 1, gpa, exec_only, l);
	}
	/* An empty table below the PML4 is a leaked page. */
	assert_true(level == 4 || present > 0);
}

/* Every leaf of e, checked, with every table accounted for. */
static void collect(const struct ept *e, struct leaves *l)
{
	memset(l, 0, sizeof(*l));
	walk_table(e->root, 4, 0, e->exec_only, l);
	assert_int_equal(l->tables, e->nr_tables);
	assert_int_equal(l->tables, pool.live);
}

static int cb_collect(void *arg, u64 gpa, u64 hpa, u64 size, u32 perms, u32 mt)
{
	struct leaves *l = arg;

	push_leaf(l, (struct leaf){ gpa, hpa, size, perms, mt });
	return 0;
}

/* ept_lookup (on up to a few thousand leaves) and ept_for_each must agree with the raw walk. */
static void cross_check(const struct ept *e, const struct leaves *l)
{
	struct leaves f = { 0 };
	u32 stride = 1 + l->nr / 4096;

	for (u32 i = 0; i < l->nr; i += stride) {
		const struct leaf *v = &l->v[i];
		u64 probe[3] = { 0, v->size / 2 + 0x123, v->size - 1 };

		for (u32 k = 0; k < 3; k++) {
			u64 hpa, ps;
			u32 perms, mt;

			assert_int_equal(ept_lookup(e, v->gpa + probe[k], &hpa, &perms, &mt, &ps),
					 0);
			assert_int_equal(hpa, v->hpa + probe[k]);
			assert_int_equal(perms, v->perms);
			assert_int_equal(mt, v->mt);
			assert_int_equal(ps, v->size);
		}
	}
	assert_int_equal(ept_for_each(e, cb_collect, &f), 0);
	assert_int_equal(f.nr, l->nr);
	assert_memory_equal(f.v, l->v, l->nr * sizeof(*l->v));
	free(f.v);
}

static void dump_leaves(const struct leaves *l)
{
	for (u32 i = 0; i < l->nr && i < 64; i++)
		fprintf(stderr, "  leaf gpa %#llx hpa %#llx size %#llx perms %u mt %u\n",
			(unsigned long long)l->v[i].gpa, (unsigned long long)l->v[i].hpa,
			(unsigned long long)l->v[i].size, l->v[i].perms, l->v[i].mt);
}

/*
 * The tables map exactly r[0..n) (disjoint): every leaf inside one region
 * with its translation and attributes, every region fully covered, nothing
 * else. Returns the leaves (caller frees l->v) for page-size checks.
 */
static void expect_regions(const struct ept *e, const struct region *r, u32 n, struct leaves *l)
{
	u64 covered[256] = { 0 };

	assert_true(n <= ARRAY_SIZE(covered));
	collect(e, l);
	for (u32 i = 0; i < l->nr; i++) {
		const struct leaf *v = &l->v[i];
		u32 j;

		if (i > 0)
			assert_true(v->gpa >= l->v[i - 1].gpa + l->v[i - 1].size);
		for (j = 0; j < n; j++)
			if (v->gpa >= r[j].gpa && v->gpa + v->size <= r[j].gpa + r[j].size)
				break;
		if (j == n) {
			dump_leaves(l);
			fail_msg("leaf at gpa %#llx size %#llx maps nothing requested",
				 (unsigned long long)v->gpa, (unsigned long long)v->size);
		}
		assert_int_equal(v->hpa, r[j].hpa + (v->gpa - r[j].gpa));
		assert_int_equal(v->perms, r[j].perms);
		assert_int_equal(v->mt, r[j].mt);
		covered[j] += v->size;
	}
	for (u32 j = 0; j < n; j++)
		assert_int_equal(covered[j], r[j].size);
	cross_check(e, l);
}

/* expect_regions() with the number of 4 KiB, 2 MiB and 1 GiB leaves. */
static void expect_layout(const struct ept *e, const struct region *r, u32 n, u32 n4k, u32 n2m,
			  u32 n1g)
{
	struct leaves l;

	expect_regions(e, r, n, &l);
	if (l.n4k != n4k || l.n2m != n2m || l.n1g != n1g)
		dump_leaves(&l);
	assert_int_equal(l.n4k, n4k);
	assert_int_equal(l.n2m, n2m);
	assert_int_equal(l.n1g, n1g);
	free(l.v);
}

static void map_all(struct ept *e, const struct region *r, u32 n)
{
	for (u32 i = 0; i < n; i++)
		assert_int_equal(ept_map(e, r[i].gpa, r[i].hpa, r[i].size, r[i].perms, r[i].mt), 0);
}

/* Raw contents of every reachable table, in walk order, to prove "nothing changed". */
struct snap {
	u64 *v;
	u32 nr, cap;
	u32 nr_tables, live;
};

static void snap_push(struct snap *s, u64 x)
{
	if (s->nr == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 1024;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		assert_non_null(s->v);
	}
	s->v[s->nr++] = x;
}

static void snap_table(u64 pa, int level, struct snap *s)
{
	const u64 *t = pool_virt(&pool, pa);

	snap_push(s, pa);
	for (u32 i = 0; i < 512; i++) {
		if (!t[i])
			continue;
		snap_push(s, i);
		snap_push(s, t[i]);
		if (level > 1 && (level == 4 || !(t[i] & RAW_LARGE)))
			snap_table(t[i] & RAW_ADDR, level - 1, s);
	}
}

static struct snap snapshot(const struct ept *e)
{
	struct snap s = { .nr_tables = e->nr_tables, .live = pool.live };

	snap_table(e->root, 4, &s);
	return s;
}

static void expect_unchanged(const struct ept *e, struct snap *before)
{
	struct snap now = snapshot(e);

	assert_int_equal(now.nr_tables, before->nr_tables);
	assert_int_equal(now.live, before->live);
	assert_int_equal(now.nr, before->nr);
	assert_memory_equal(now.v, before->v, now.nr * sizeof(u64));
	free(now.v);
}

static void init(struct ept *e, bool use_2m, bool use_1g)
{
	assert_int_equal(ept_init(e, &pool_mem, use_2m, use_1g), 0);
}

static void destroy(struct ept *e)
{
	ept_destroy(e);
	assert_int_equal(pool.live, 0);
}

static void test_init_pointer(void **state)
{
	struct ept e;
	struct ept_mem broken = pool_mem;
	u64 hpa = 1;

	(void)state;
	init(&e, true, true);
	assert_int_equal(e.nr_tables, 1);
	assert_int_equal(pool.live, 1);
	assert_true(e.root >= POOL_BASE && IS_ALIGNED(e.root, PAGE_SIZE));
	/* SDM 24.6.11: WB (6), page-walk length 4 - 1 in bits 5:3, A/D in bit 6 */
	assert_int_equal(ept_pointer(&e, false), e.root | 0x1e);
	assert_int_equal(ept_pointer(&e, true), e.root | 0x5e);
	assert_int_equal(ept_lookup(&e, 0, &hpa, NULL, NULL, NULL), -ENOENT);
	assert_int_equal(hpa, 1);
	assert_int_equal(ept_lookup(&e, GPA_TOP, NULL, NULL, NULL, NULL), -ENOENT);
	destroy(&e);

	broken.virt = NULL;
	assert_int_equal(ept_init(&e, &broken, true, true), -EINVAL);
	assert_int_equal(ept_init(&e, NULL, true, true), -EINVAL);
	pool.budget = 0;
	assert_int_equal(ept_init(&e, &pool_mem, true, true), -ENOMEM);
	assert_int_equal(pool.live, 0);

	/* 1 GiB pages only together with 2 MiB ones */
	pool.budget = -1;
	init(&e, false, true);
	assert_false(e.use_1g);
	destroy(&e);
}

/* 64 MiB of RAM at 0 on a 2 MiB-aligned (not 1 GiB-aligned) host range: 2 MiB pages. */
static void test_ram_64m_2m(void **state)
{
	static const struct region r[] = { { 0, 0x12600000, 64 * MiB, RWX, EPT_MT_WB } };
	struct ept e;

	(void)state;
	init(&e, true, true);
	map_all(&e, r, 1);
	expect_layout(&e, r, 1, 0, 32, 0);
	assert_int_equal(e.nr_tables, 3);
	destroy(&e);
}

/* 2 GiB at 0 on a 1 GiB-aligned host range: 1 GiB pages when allowed, else 2 MiB. */
static void test_ram_2g_1g(void **state)
{
	static const struct region r[] = { { 0, 9 * GiB, 2 * GiB, RWX, EPT_MT_WB } };
	struct ept e;

	(void)state;
	init(&e, true, true);
	map_all(&e, r, 1);
	expect_layout(&e, r, 1, 0, 0, 2);
	assert_int_equal(e.nr_tables, 2);
	destroy(&e);

	init(&e, true, false);
	map_all(&e, r, 1);
	expect_layout(&e, r, 1, 0, 1024, 0);
	assert_int_equal(e.nr_tables, 4);
	destroy(&e);
}

/* A host range only 4 KiB-aligned, or large pages not allowed: 4 KiB pages throughout. */
static void test_hpa_4k_aligned(void **state)
{
	static const struct region r[] = { { 0, 0x12601000, 64 * MiB, RWX, EPT_MT_WB } };
	static const struct region r2[] = { { 0, 0x12600000, 64 * MiB, RWX, EPT_MT_WB } };
	/* gpa 2 MiB-aligned, hpa 1 MiB off: both must be aligned */
	static const struct region r3[] = { { 2 * MiB, 3 * MiB, 4 * MiB, RWX, EPT_MT_WB } };
	struct ept e;

	(void)state;
	init(&e, true, true);
	map_all(&e, r, 1);
	expect_layout(&e, r, 1, 16384, 0, 0);
	assert_int_equal(e.nr_tables, 3 + 32);
	destroy(&e);

	init(&e, false, true);
	map_all(&e, r2, 1);
	expect_layout(&e, r2, 1, 16384, 0, 0);
	destroy(&e);

	init(&e, true, true);
	map_all(&e, r3, 1);
	expect_layout(&e, r3, 1, 1024, 0, 0);
	destroy(&e);
}

/* Sizes and starts that are not multiples of the large pages: 4 KiB heads and tails. */
static void test_unaligned_sizes(void **state)
{
	static const struct region r[] = { { 0, 0x12600000, 64 * MiB + 12 * KiB, RWX, EPT_MT_WB } };
	/* a 4 KiB head, a 1 GiB page, a 2 MiB page, a 4 KiB tail */
	static const struct region r2[] = {
		{ 1 * GiB - 4 * KiB, 2 * GiB - 4 * KiB, 1 * GiB + 2 * MiB + 8 * KiB, RWX,
		  EPT_MT_WB },
	};
	/* 2 MiB-aligned start, 1 MiB head then 2 MiB pages, 1 MiB tail */
	static const struct region r3[] = { { 1 * MiB, 0x40100000, 8 * MiB, RX, EPT_MT_UC } };
	struct ept e;

	(void)state;
	init(&e, true, true);
	map_all(&e, r, 1);
	expect_layout(&e, r, 1, 3, 32, 0);
	destroy(&e);

	init(&e, true, true);
	map_all(&e, r2, 1);
	expect_layout(&e, r2, 1, 2, 1, 1);
	destroy(&e);

	init(&e, true, true);
	map_all(&e, r3, 1);
	expect_layout(&e, r3, 1, 512, 3, 0);
	destroy(&e);
}

/*
 * The VSI layout of docs/vsi-platform.md: RAM from 0 with the 128 KiB ROM
 * alias at 0xE0000 hiding RAM, and a 256 KiB ROM ending at 4 GiB.
 */
#define RAM_HPA (5 * GiB)
#define ROM_HPA 0x3fe40000ULL
static const struct region vsi[] = {
	{ 0, RAM_HPA, 0xe0000, RWX, EPT_MT_WB },
	{ 0xe0000, ROM_HPA + 128 * KiB, 128 * KiB, RX, EPT_MT_WB },
	{ 0x100000, RAM_HPA + 0x100000, 64 * MiB - 0x100000, RWX, EPT_MT_WB },
	{ 4 * GiB - 256 * KiB, ROM_HPA, 256 * KiB, RX, EPT_MT_WB },
};

static void test_vsi_layout(void **state)
{
	struct ept e;
	u64 hpa, ps;
	u32 perms;

	(void)state;
	init(&e, true, true);
	map_all(&e, vsi, ARRAY_SIZE(vsi));
	/* 224 + 32 + 256 + 64 small pages, 31 large ones from 2 MiB */
	expect_layout(&e, vsi, ARRAY_SIZE(vsi), 224 + 32 + 256 + 64, 31, 0);

	/* the reset vector: the ROM's last 16 bytes */
	assert_int_equal(ept_lookup(&e, 0xfffffff0, &hpa, &perms, NULL, &ps), 0);
	assert_int_equal(hpa, ROM_HPA + 256 * KiB - 16);
	assert_int_equal(perms, RX);
	assert_int_equal(ps, 4 * KiB);
	/* the alias shows the ROM's last 128 KiB */
	assert_int_equal(ept_lookup(&e, 0xffff0, &hpa, NULL, NULL, NULL), 0);
	assert_int_equal(hpa, ROM_HPA + 256 * KiB - 16);
	/* holes */
	assert_int_equal(ept_lookup(&e, 64 * MiB, NULL, NULL, NULL, NULL), -ENOENT);
	assert_int_equal(ept_lookup(&e, 4 * GiB - 256 * KiB - 1, NULL, NULL, NULL, NULL), -ENOENT);
	assert_int_equal(ept_lookup(&e, 4 * GiB, NULL, NULL, NULL, NULL), -ENOENT);
	assert_int_equal(ept_lookup(&e, 2 * GiB, NULL, NULL, NULL, NULL), -ENOENT);
	destroy(&e);
}

struct hrange {
	u64 base, size;
};

static int cb_host_inside(void *arg, u64 gpa, u64 hpa, u64 size, u32 perms, u32 mt)
{
	const struct hrange *h = arg;

	(void)gpa, (void)perms, (void)mt;
	for (; h->size; h++)
		if (hpa >= h->base && hpa + size <= h->base + h->size)
			return 0;
	fprintf(stderr, "host range %#llx+%#llx outside every requested one\n",
		(unsigned long long)hpa, (unsigned long long)size);
	return -1;
}

/* No leaf, walked raw or through ept_for_each, reaches host memory that was not requested. */
static void test_host_ranges_contained(void **state)
{
	static const struct hrange host[] = {
		{ RAM_HPA, 64 * MiB },
		{ ROM_HPA, 256 * KiB },
		{ 9 * GiB, 2 * GiB },
		{ 0x12601000, 6 * MiB + 4 * KiB },
		{ 0, 0 },
	};
	struct ept e;
	struct leaves l;

	(void)state;
	init(&e, true, true);
	map_all(&e, vsi, ARRAY_SIZE(vsi));
	assert_int_equal(ept_map(&e, 8 * GiB, 9 * GiB, 2 * GiB, RWX, EPT_MT_WB), 0);
	assert_int_equal(
	    ept_map(&e, 16 * GiB + 4 * KiB, 0x12601000, 6 * MiB + 4 * KiB, RWX, EPT_MT_UC), 0);
	collect(&e, &l);
	for (u32 i = 0; i < l.nr; i++)
		assert_int_equal(cb_host_inside((void *)host, l.v[i].gpa, l.v[i].hpa, l.v[i].size,
						l.v[i].perms, l.v[i].mt),
				 0);
	assert_int_equal(ept_for_each(&e, cb_host_inside, (void *)host), 0);
	free(l.v);
	destroy(&e);
}

/* Any overlap with an existing mapping is refused before anything is touched. */
static void test_overlap_rejected(void **state)
{
	static const struct region bad[] = {
		{ 0xe0000, 0x1000000, 128 * KiB, RX, EPT_MT_WB }, /* the alias again */
		{ 0xdf000, 0x1000000, 4 * KiB, RWX, EPT_MT_WB },  /* last RAM page below it */
		{ 63 * MiB, 0x2000000, 2 * MiB, RWX, EPT_MT_WB }, /* head overlaps, tail free */
		{ 4 * GiB - 512 * KiB, 0x2000000, 260 * KiB, RX, EPT_MT_WB }, /* tail overlaps */
		{ 0, 0x40000000, 4 * GiB, RWX, EPT_MT_WB },	  /* covers everything */
		{ 32 * MiB, 0x2000000, 2 * MiB, RWX, EPT_MT_WB }, /* exactly a 2 MiB page */
		{ 32 * MiB + 4 * KiB, 0x2001000, 4 * KiB, RWX, EPT_MT_WB }, /* inside one */
		{ 1 * GiB + 4 * KiB, 0x2000000, 4 * KiB, RWX,
		  EPT_MT_WB }, /* inside the 1 GiB page */
		{ 1 * GiB - 4 * KiB, 0x2000000, 8 * KiB, RWX, EPT_MT_WB }, /* straddles its start */
	};
	struct ept e;
	struct snap before;

	(void)state;
	init(&e, true, true);
	map_all(&e, vsi, ARRAY_SIZE(vsi));
	assert_int_equal(ept_map(&e, 1 * GiB, 9 * GiB, 1 * GiB, RWX, EPT_MT_WB), 0);
	before = snapshot(&e);
	for (u32 i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(
		    ept_map(&e, bad[i].gpa, bad[i].hpa, bad[i].size, bad[i].perms, bad[i].mt),
		    -EEXIST);
	expect_unchanged(&e, &before);
	free(before.v);
	destroy(&e);
}

static void test_bad_args(void **state)
{
	static const struct {
		u64 gpa, hpa, size;
		u32 perms, mt;
	} bad[] = {
		{ 0x800, 0, 4 * KiB, RWX, EPT_MT_WB },		   /* gpa unaligned */
		{ 0, 0x800, 4 * KiB, RWX, EPT_MT_WB },		   /* hpa unaligned */
		{ 0, 0, 4 * KiB + 1, RWX, EPT_MT_WB },		   /* size unaligned */
		{ 0, 0, 0, RWX, EPT_MT_WB },			   /* empty */
		{ ~0xfffULL, 0, 8 * KiB, RWX, EPT_MT_WB },	   /* gpa wraps */
		{ 0, ~0xfffULL, 8 * KiB, RWX, EPT_MT_WB },	   /* hpa wraps */
		{ GPA_TOP, 0, 4 * KiB, RWX, EPT_MT_WB },	   /* beyond 48 bits */
		{ GPA_TOP - 4 * KiB, 0, 8 * KiB, RWX, EPT_MT_WB }, /* ends beyond 48 bits */
		{ 0, HPA_TOP, 4 * KiB, RWX, EPT_MT_WB },	   /* beyond 52 bits */
		{ 0, HPA_TOP - 4 * KiB, 8 * KiB, RWX, EPT_MT_WB }, /* ends beyond 52 bits */
		{ 0, 0, 4 * KiB, 0, EPT_MT_WB },		   /* no access */
		{ 0, 0, 4 * KiB, EPT_WRITE_BIT, EPT_MT_WB },	   /* write-only */
		{ 0, 0, 4 * KiB, EPT_WRITE_BIT | EPT_EXEC_BIT, EPT_MT_WB }, /* write without read */
		{ 0, 0, 4 * KiB, EPT_EXEC_BIT, EPT_MT_WB }, /* execute-only, not allowed */
		{ 0, 0, 4 * KiB, RWX | 8, EPT_MT_WB },	    /* not a permission */
		{ 0, 0, 4 * KiB, RWX, 2 },		    /* reserved memory types */
		{ 0, 0, 4 * KiB, RWX, 3 },
		{ 0, 0, 4 * KiB, RWX, 7 },
		{ 0, 0, 4 * KiB, RWX, 8 },
	};
	struct ept e;

	(void)state;
	init(&e, true, true);
	for (u32 i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(
		    ept_map(&e, bad[i].gpa, bad[i].hpa, bad[i].size, bad[i].perms, bad[i].mt),
		    -EINVAL);
	assert_int_equal(ept_unmap(&e, 0x800, 4 * KiB), -EINVAL);
	assert_int_equal(ept_unmap(&e, 0, 0), -EINVAL);
	assert_int_equal(ept_unmap(&e, 0, 0x1800), -EINVAL);
	assert_int_equal(ept_unmap(&e, GPA_TOP - 4 * KiB, 8 * KiB), -EINVAL);
	assert_int_equal(ept_unmap(&e, ~0xfffULL, 8 * KiB), -EINVAL);
	assert_int_equal(e.nr_tables, 1);
	assert_int_equal(pool.allocs, 1);
	destroy(&e);
}

/* Every valid memory type lands in bits 5:3; execute-only only where the CPU has it. */
static void test_memtypes_exec_only(void **state)
{
	static const struct region r[] = {
		{ 0, 0x100000, 4 * KiB, EPT_READ_BIT, EPT_MT_UC },
		{ 4 * KiB, 0x100000, 4 * KiB, RX, EPT_MT_WC },
		{ 2 * MiB, 4 * MiB, 2 * MiB, EPT_READ_BIT | EPT_WRITE_BIT, EPT_MT_WT },
		{ 1 * GiB, 1 * GiB, 1 * GiB, RWX, EPT_MT_WP },
		{ 3 * GiB, 2 * GiB, 8 * KiB, RWX, EPT_MT_WB },
		{ 4 * GiB, 2 * GiB, 4 * KiB, EPT_EXEC_BIT, EPT_MT_WB },
	};
	struct ept e;

	(void)state;
	init(&e, true, true);
	e.exec_only = true;
	map_all(&e, r, ARRAY_SIZE(r));
	expect_layout(&e, r, ARRAY_SIZE(r), 5, 1, 1);
	destroy(&e);
}

/* The top of the guest-physical and host-physical spaces. */
static void test_address_limits(void **state)
{
	static const struct region r[] = {
		{ GPA_TOP - 1 * GiB, HPA_TOP - 1 * GiB, 1 * GiB, RWX, EPT_MT_WB },
	};
	static const struct region r2[] = {
		{ GPA_TOP - 1 * GiB, HPA_TOP - 1 * GiB, 1 * GiB - 4 * KiB, RWX, EPT_MT_WB },
	};
	struct ept e;

	(void)state;
	init(&e, true, true);
	map_all(&e, r, 1);
	expect_layout(&e, r, 1, 0, 0, 1);
	/* cuts the 1 GiB page at its last 4 KiB: the range ends at 2^48 */
	assert_int_equal(ept_unmap(&e, GPA_TOP - 4 * KiB, 4 * KiB), 0);
	expect_layout(&e, r2, 1, 511, 511, 0);
	assert_int_equal(ept_unmap(&e, GPA_TOP - 1 * GiB, 1 * GiB - 4 * KiB), 0);
	assert_int_equal(e.nr_tables, 1);
	destroy(&e);
}

/* Unmapping 8 KiB from the middle of a 1 GiB page splits it twice. */
static void test_unmap_split_1g(void **state)
{
	static const struct region after[] = {
		{ 0, 9 * GiB, 1 * GiB + 2 * MiB + 4 * KiB, RWX, EPT_MT_WB },
		{ 1 * GiB + 2 * MiB + 12 * KiB, 10 * GiB + 2 * MiB + 12 * KiB,
		  1 * GiB - 2 * MiB - 12 * KiB, RWX, EPT_MT_WB },
	};
	static const struct region r[] = { { 0, 9 * GiB, 2 * GiB, RWX, EPT_MT_WB } };
	struct ept e;

	(void)state;
	init(&e, true, true);
	map_all(&e, r, 1);
	assert_int_equal(ept_unmap(&e, 1 * GiB + 2 * MiB + 4 * KiB, 8 * KiB), 0);
	/* 1 GiB page at 0; 2 MiB + 510 x 2 MiB around the split one; 1 + 509 x 4 KiB */
	expect_layout(&e, after, 2, 510, 511, 1);
	assert_int_equal(e.nr_tables, 4);
	assert_int_equal(ept_lookup(&e, 1 * GiB + 2 * MiB + 4 * KiB, NULL, NULL, NULL, NULL),
			 -ENOENT);

	/* taking away the rest frees every table but the PML4 */
	assert_int_equal(ept_unmap(&e, 0, 1 * GiB + 2 * MiB + 4 * KiB), 0);
	assert_int_equal(ept_unmap(&e, after[1].gpa, after[1].size), 0);
	assert_int_equal(e.nr_tables, 1);
	expect_layout(&e, NULL, 0, 0, 0, 0);
	destroy(&e);
}

/* Unmapping something not (entirely) mapped changes nothing. */
static void test_unmap_enoent(void **state)
{
	struct ept e;
	struct snap before;

	(void)state;
	init(&e, true, true);
	map_all(&e, vsi, ARRAY_SIZE(vsi));
	before = snapshot(&e);
	assert_int_equal(ept_unmap(&e, 64 * MiB - 4 * KiB, 8 * KiB), -ENOENT);
	assert_int_equal(ept_unmap(&e, 4 * GiB - 260 * KiB, 8 * KiB), -ENOENT);
	assert_int_equal(ept_unmap(&e, 0, 4 * GiB), -ENOENT);
	assert_int_equal(ept_unmap(&e, 1 * GiB, 4 * KiB), -ENOENT);
	expect_unchanged(&e, &before);
	free(before.v);

	/* whole mappings and parts of them, in any order, until nothing is left */
	assert_int_equal(ept_unmap(&e, 0xe0000, 128 * KiB), 0);
	assert_int_equal(ept_unmap(&e, 4 * MiB, 8 * MiB + 4 * KiB), 0);
	assert_int_equal(ept_unmap(&e, 0, 0xe0000), 0);
	assert_int_equal(ept_unmap(&e, 0x100000, 3 * MiB), 0);
	assert_int_equal(ept_unmap(&e, 12 * MiB + 4 * KiB, 52 * MiB - 4 * KiB), 0);
	assert_int_equal(ept_unmap(&e, 4 * GiB - 256 * KiB, 256 * KiB), 0);
	assert_int_equal(e.nr_tables, 1);
	assert_int_equal(pool.live, 1);
	destroy(&e);
}

/*
 * A map that runs out of pages after every possible number of them leaves
 * the tables exactly as they were, pre-existing shared tables included.
 */
static void enomem_sweep(struct ept *e, const struct region *r, u32 need)
{
	struct snap before = snapshot(e);

	for (u32 n = 0; n < need; n++) {
		pool.budget = n;
		assert_int_equal(ept_map(e, r->gpa, r->hpa, r->size, r->perms, r->mt), -ENOMEM);
		expect_unchanged(e, &before);
	}
	pool.budget = need;
	assert_int_equal(ept_map(e, r->gpa, r->hpa, r->size, r->perms, r->mt), 0);
	assert_int_equal(pool.budget, 0);
	pool.budget = -1;
	free(before.v);
}

static void test_enomem_rollback(void **state)
{
	/* 4 KiB pages only (gpa and hpa never both 2 MiB-aligned): new PDPT, PD and 5 PTs */
	static const struct region far = { 512 * GiB + 4 * KiB, 0x12602000, 8 * MiB, RWX,
					   EPT_MT_WB };
	/* 4 KiB pages under the existing PDPT and PD of the RAM: 4 new PTs */
	static const struct region near = { 64 * MiB + 4 * KiB, 0x22602000, 6 * MiB, RWX,
					    EPT_MT_WB };
	struct region all[ARRAY_SIZE(vsi) + 2];
	struct ept e;
	struct leaves l;

	(void)state;
	init(&e, true, true);
	map_all(&e, vsi, ARRAY_SIZE(vsi));
	enomem_sweep(&e, &far, 7);
	enomem_sweep(&e, &near, 4);
	memcpy(all, vsi, sizeof(vsi));
	all[ARRAY_SIZE(vsi)] = near;
	all[ARRAY_SIZE(vsi) + 1] = far;
	expect_regions(&e, all, ARRAY_SIZE(all), &l);
	free(l.v);
	destroy(&e);
}

struct merged {
	struct leaf v[16];
	u32 nr;
};

static int cb_merge(void *arg, u64 gpa, u64 hpa, u64 size, u32 perms, u32 mt)
{
	struct merged *m = arg;
	struct leaf *p = m->nr ? &m->v[m->nr - 1] : NULL;

	if (p && p->gpa + p->size == gpa && p->hpa + p->size == hpa && p->perms == perms &&
	    p->mt == mt) {
		p->size += size;
		return 0;
	}
	assert_true(m->nr < ARRAY_SIZE(m->v));
	m->v[m->nr++] = (struct leaf){ gpa, hpa, size, perms, mt };
	return 0;
}

/* A split that runs out of pages keeps every translation. */
static void test_enomem_split(void **state)
{
	static const struct region r[] = { { 1 * GiB, 9 * GiB, 1 * GiB, RWX, EPT_MT_WB } };
	struct merged m0 = { .nr = 0 }, m1 = { .nr = 0 };
	struct ept e;
	struct leaves l;

	(void)state;
	init(&e, true, true);
	map_all(&e, r, 1);
	assert_int_equal(ept_for_each(&e, cb_merge, &m0), 0);
	for (long n = 0; n < 2; n++) {
		pool.budget = n;
		assert_int_equal(ept_unmap(&e, 1 * GiB + 4 * KiB, 4 * KiB), -ENOMEM);
		m1.nr = 0;
		assert_int_equal(ept_for_each(&e, cb_merge, &m1), 0);
		assert_int_equal(m1.nr, m0.nr);
		assert_memory_equal(m1.v, m0.v, m0.nr * sizeof(m0.v[0]));
		expect_regions(&e, r, 1, &l);
		free(l.v);
	}
	pool.budget = -1;
	assert_int_equal(ept_unmap(&e, 1 * GiB + 4 * KiB, 4 * KiB), 0);
	destroy(&e);
}

static int cb_count_stop(void *arg, u64 gpa, u64 hpa, u64 size, u32 perms, u32 mt)
{
	u32 *n = arg;

	(void)gpa, (void)hpa, (void)size, (void)perms, (void)mt;
	return ++*n == 3 ? 42 : 0;
}

static void test_for_each_stops(void **state)
{
	struct ept e;
	u32 n = 0;

	(void)state;
	init(&e, true, true);
	map_all(&e, vsi, ARRAY_SIZE(vsi));
	assert_int_equal(ept_for_each(&e, cb_count_stop, &n), 42);
	assert_int_equal(n, 3);
	destroy(&e);
}

/* A reference model: a sorted list of disjoint regions. */
struct model {
	struct region r[256];
	u32 nr;
};

static bool model_overlaps(const struct model *m, u64 gpa, u64 size)
{
	for (u32 i = 0; i < m->nr; i++)
		if (gpa < m->r[i].gpa + m->r[i].size && m->r[i].gpa < gpa + size)
			return true;
	return false;
}

static bool model_covers(const struct model *m, u64 gpa, u64 size)
{
	u64 end = gpa + size;

	/* regions are sorted and disjoint: walk them across [gpa, end) */
	for (u32 i = 0; i < m->nr && gpa < end; i++)
		if (m->r[i].gpa <= gpa && gpa < m->r[i].gpa + m->r[i].size)
			gpa = m->r[i].gpa + m->r[i].size;
	return gpa >= end;
}

static void model_insert(struct model *m, struct region r)
{
	u32 i = 0;

	assert_true(m->nr < ARRAY_SIZE(m->r));
	while (i < m->nr && m->r[i].gpa < r.gpa)
		i++;
	memmove(&m->r[i + 1], &m->r[i], (m->nr - i) * sizeof(r));
	m->r[i] = r;
	m->nr++;
}

static void model_remove(struct model *m, u64 gpa, u64 size)
{
	struct model out = { .nr = 0 };

	for (u32 i = 0; i < m->nr; i++) {
		struct region r = m->r[i], tail = r;
		u64 end = r.gpa + r.size;

		if (end <= gpa || r.gpa >= gpa + size) {
			model_insert(&out, r);
			continue;
		}
		if (r.gpa < gpa) {
			r.size = gpa - r.gpa;
			model_insert(&out, r);
		}
		if (end > gpa + size) {
			tail.gpa = gpa + size;
			tail.hpa = r.hpa + (tail.gpa - r.gpa);
			tail.size = end - tail.gpa;
			model_insert(&out, tail);
		}
	}
	*m = out;
}

static u64 rnd(u64 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * A random range: 4 KiB, 2 MiB or 1 GiB granular, sometimes with 4 KiB ragged
 * ends, and hpa - gpa aligned to 4 KiB, 2 MiB or 1 GiB.
 */
static void random_range(u64 *s, u64 *gpa, u64 *hpa, u64 *size, u64 small_max)
{
	static const u64 gran[] = { 4 * KiB, 2 * MiB, 1 * GiB };
	u64 g = gran[rnd(s) % 3], delta = gran[rnd(s) % 3];
	u64 units = g == 1 * GiB ? 1 + rnd(s) % 2 : 1 + rnd(s) % 16;

	*gpa = (rnd(s) % (8 * GiB / g)) * g;
	*size = units * g;
	if (rnd(s) % 2) {
		*gpa += (rnd(s) % 4) * 4 * KiB;
		*size += (rnd(s) % 4) * 4 * KiB;
	}
	/* keep 4 KiB-page translations small enough to walk quickly */
	if (delta == 4 * KiB)
		*size = MIN(*size, 16 * MiB);
	*size = MIN(*size, small_max);
	*hpa = 64 * GiB + ALIGN_DOWN(rnd(s) % (64 * GiB), delta) + (*gpa & (delta - 1));
}

/* A random 4 KiB-granular part of r, to unmap. */
static void inside(u64 *s, const struct region *r, u64 *gpa, u64 *size)
{
	u64 pages = r->size / PAGE_SIZE, first = rnd(s) % pages;

	*gpa = r->gpa + first * PAGE_SIZE;
	*size = (1 + rnd(s) % (pages - first)) * PAGE_SIZE;
}

/*
 * Random maps and unmaps against the model, with a full raw walk after each;
 * maps stop while the model holds max_regions regions.
 */
static void random_run(bool use_2m, bool use_1g, u64 seed, u64 max_size, u32 max_regions)
{
	struct model m = { .nr = 0 };
	struct ept e;
	struct leaves l;
	u64 s = seed;

	init(&e, use_2m, use_1g);
	for (u32 op = 0; op < 250; op++) {
		u64 gpa, hpa, size;
		int err;

		random_range(&s, &gpa, &hpa, &size, max_size);
		if (rnd(&s) % 3) {
			u32 perms = rnd(&s) % 2 ? RWX : RX,
			    mt = rnd(&s) % 2 ? EPT_MT_WB : EPT_MT_UC;

			if (m.nr >= max_regions)
				continue;
			err = ept_map(&e, gpa, hpa, size, perms, mt);
			assert_int_equal(err, model_overlaps(&m, gpa, size) ? -EEXIST : 0);
			if (!err)
				model_insert(&m, (struct region){ gpa, hpa, size, perms, mt });
		} else {
			if (m.nr && rnd(&s) % 2)
				inside(&s, &m.r[rnd(&s) % m.nr], &gpa, &size);
			err = ept_unmap(&e, gpa, size);
			assert_int_equal(err, model_covers(&m, gpa, size) ? 0 : -ENOENT);
			if (!err)
				model_remove(&m, gpa, size);
		}
		expect_regions(&e, m.r, m.nr, &l);
		free(l.v);
	}
	destroy(&e);
}

static void test_random_vs_model(void **state)
{
	(void)state;
	random_run(true, true, 0x9e3779b97f4a7c15ULL, ~0ULL, 64);
	random_run(true, false, 0x2545f4914f6cdd1dULL, ~0ULL, 64);
	random_run(false, false, 0x5851f42d4c957f2dULL, 16 * MiB, 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_init_pointer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ram_64m_2m, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ram_2g_1g, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hpa_4k_aligned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unaligned_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vsi_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_ranges_contained, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlap_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_args, setup, teardown),
		cmocka_unit_test_setup_teardown(test_memtypes_exec_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_address_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unmap_split_1g, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unmap_enoent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enomem_rollback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enomem_split, setup, teardown),
		cmocka_unit_test_setup_teardown(test_for_each_stops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_vs_model, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Extended page tables (see asm/ept.h). Levels are numbered as the SDM walks
 * them: 4 = PML4, 3 = PDPT, 2 = PD, 1 = PT. Invariant: every paging-structure
 * page except the PML4 holds at least one present entry, so unmapping and the
 * roll-back of a failed map can free exactly the tables they leave empty.
 */
#include <hv/errno.h>
#include <asm/ept.h>

#define EPT_GPA_LIMIT (1ULL << EPT_GPA_BITS)
#define EPT_HPA_LIMIT (1ULL << EPT_HPA_BITS)

/* Leaf bits a split large page hands down to its smaller pages. */
#define EPT_LEAF_ATTRS                                                                         \
	(EPT_PERM_MASK | EPT_MT_MASK | EPT_IGNORE_PAT_BIT | EPT_ACCESSED_BIT | EPT_DIRTY_BIT | \
	 EPT_USER_EXEC_BIT | EPT_SUPPRESS_VE_BIT)

static unsigned int level_shift(int level)
{
	return PAGE_SHIFT + 9 * (level - 1);
}

static u64 level_span(int level)
{
	return 1ULL << level_shift(level);
}

static unsigned int pt_index(u64 gpa, int level)
{
	return (gpa >> level_shift(level)) & (EPT_ENTRIES - 1);
}

/* End of the entry holding gpa, clipped to end. */
static u64 entry_end(u64 gpa, int level, u64 end)
{
	return MIN(ALIGN_DOWN(gpa, level_span(level)) + level_span(level), end);
}

/* SDM 28.3.2: an entry with bits 2:0 clear is not present. */
static bool pte_present(u64 pte)
{
	return pte & EPT_PERM_MASK;
}

/* A PTE always maps a page; a PDE or PDPTE does when bit 7 is set (SDM 28.3.2). */
static bool pte_leaf(u64 pte, int level)
{
	return level == 1 || (level <= 3 && (pte & EPT_LARGE_BIT));
}

static u64 *table(const struct ept *e, u64 pa)
{
	return e->mem.virt(e->mem.ctx, pa);
}

static u64 alloc_table(struct ept *e)
{
	u64 pa = e->mem.alloc_page(e->mem.ctx);

	if (pa)
		e->nr_tables++;
	return pa;
}

static void free_table(struct ept *e, u64 pa)
{
	e->mem.free_page(e->mem.ctx, pa);
	e->nr_tables--;
}

static bool table_empty(const u64 *t)
{
	for (unsigned int i = 0; i < EPT_ENTRIES; i++)
		if (t[i])
			return false;
	return true;
}

/* a + b <= limit, without overflow. */
static bool fits(u64 a, u64 b, u64 limit)
{
	return a <= limit && b <= limit - a;
}

static bool range_ok(u64 addr, u64 size, u64 limit)
{
	return size && IS_ALIGNED(addr | size, PAGE_SIZE) && fits(addr, size, limit);
}

/* SDM 28.3.7: memory types 2, 3 and 7 are reserved. */
static bool memtype_ok(u32 memtype)
{
	return memtype == EPT_MT_UC || memtype == EPT_MT_WC || memtype == EPT_MT_WT ||
	       memtype == EPT_MT_WP || memtype == EPT_MT_WB;
}

/*
 * Arguments of ept_map(). SDM 28.3.3.1: write permission without read is a
 * misconfiguration, and so is execute-only unless the CPU supports it.
 */
static int check_map_args(const struct ept *e, u64 gpa, u64 hpa, u64 size, u32 perms, u32 memtype)
{
	if (!range_ok(gpa, size, EPT_GPA_LIMIT) || !range_ok(hpa, size, EPT_HPA_LIMIT))
		return -EINVAL;
	if (!perms || (perms & ~EPT_PERM_MASK))
		return -EINVAL;
	if ((perms & EPT_WRITE_BIT) && !(perms & EPT_READ_BIT))
		return -EINVAL;
	if (perms == EPT_EXEC_BIT && !e->exec_only)
		return -EINVAL;
	return memtype_ok(memtype) ? 0 : -EINVAL;
}

/*
 * 0 if every part of [gpa, end) under the table at tpa is mapped (mapped) or
 * unmapped (!mapped); else -ENOENT or -EEXIST.
 */
static int check_level(const struct ept *e, u64 tpa, int level, u64 gpa, u64 end, bool mapped)
{
	const u64 *t = table(e, tpa);

	while (gpa < end) {
		u64 next = entry_end(gpa, level, end);
		u64 pte = t[pt_index(gpa, level)];
		int err;

		if (!pte_present(pte))
			err = mapped ? -ENOENT : 0;
		else if (pte_leaf(pte, level))
			err = mapped ? 0 : -EEXIST;
		else
			err = check_level(e, pte & EPT_ADDR_MASK, level - 1, gpa, next, mapped);
		if (err)
			return err;
		gpa = next;
	}
	return 0;
}

/* Can the entry for gpa at this level be a leaf mapping hpa, with [gpa, end) left to map? */
static bool can_leaf(const struct ept *e, int level, u64 gpa, u64 hpa, u64 end)
{
	if (level == 1)
		return true;
	if ((level == 2 && !e->use_2m) || (level == 3 && !e->use_1g) || level == 4)
		return false;
	return IS_ALIGNED(gpa | hpa, level_span(level)) && end - gpa >= level_span(level);
}

/*
 * Map [gpa, end) to hpa.. under the table at tpa with the leaf bits leaf.
 * The range must be unmapped; on -ENOMEM the caller clears it.
 */
static int map_level(struct ept *e, u64 tpa, int level, u64 gpa, u64 end, u64 hpa, u64 leaf)
{
	u64 *t = table(e, tpa);

	while (gpa < end) {
		u64 next = entry_end(gpa, level, end);
		u64 *pte = &t[pt_index(gpa, level)];
		int err;

		if (can_leaf(e, level, gpa, hpa, end)) {
			*pte = hpa | leaf | (level > 1 ? EPT_LARGE_BIT : 0);
		} else {
			if (!pte_present(*pte)) {
				u64 child = alloc_table(e);

				if (!child)
					return -ENOMEM;
				/* SDM 28.3.2: access is the AND over all levels; the leaf decides */
				*pte = child | EPT_PERM_MASK;
			}
			err = map_level(e, *pte & EPT_ADDR_MASK, level - 1, gpa, next, hpa, leaf);
			if (err)
				return err;
		}
		hpa += next - gpa;
		gpa = next;
	}
	return 0;
}

/*
 * Clear every leaf in [gpa, end) under the table at tpa (none may straddle
 * the range's ends) and free the tables that become empty.
 */
static void clear_level(struct ept *e, u64 tpa, int level, u64 gpa, u64 end)
{
	u64 *t = table(e, tpa);

	while (gpa < end) {
		u64 next = entry_end(gpa, level, end);
		u64 *pte = &t[pt_index(gpa, level)];

		if (pte_present(*pte) && !pte_leaf(*pte, level)) {
			u64 child = *pte & EPT_ADDR_MASK;

			clear_level(e, child, level - 1, gpa, next);
			if (table_empty(table(e, child))) {
				*pte = 0;
				free_table(e, child);
			}
		} else {
			*pte = 0;
		}
		gpa = next;
	}
}

/*
 * Replace the large leaf *pte at level by a table of 512 leaves of the next
 * size down with the same address range, permissions and memory type.
 */
static int split_leaf(struct ept *e, u64 *pte, int level)
{
	u64 child = alloc_table(e);
	u64 base = *pte & EPT_ADDR_MASK;
	u64 attrs = *pte & EPT_LEAF_ATTRS;
	u64 span = level_span(level - 1);
	u64 *t;

	if (!child)
		return -ENOMEM;
	if (level - 1 > 1)
		attrs |= EPT_LARGE_BIT;
	t = table(e, child);
	for (unsigned int i = 0; i < EPT_ENTRIES; i++)
		t[i] = (base + i * span) | attrs;
	*pte = child | EPT_PERM_MASK;
	return 0;
}

/* Make addr a page boundary by splitting the large pages that straddle it. */
static int split_at(struct ept *e, u64 addr)
{
	u64 tpa = e->root;

	if (addr >= EPT_GPA_LIMIT)
		return 0;
	for (int level = EPT_LEVELS; level > 1; level--) {
		u64 *pte = &table(e, tpa)[pt_index(addr, level)];
		int err;

		if (!pte_present(*pte))
			return 0;
		if (pte_leaf(*pte, level)) {
			if (IS_ALIGNED(addr, level_span(level)))
				return 0;
			err = split_leaf(e, pte, level);
			if (err)
				return err;
		}
		tpa = *pte & EPT_ADDR_MASK;
	}
	return 0;
}

int ept_init(struct ept *e, const struct ept_mem *mem, bool use_2m, bool use_1g)
{
	if (!mem || !mem->alloc_page || !mem->free_page || !mem->virt)
		return -EINVAL;
	*e = (struct ept){ .use_2m = use_2m, .use_1g = use_1g && use_2m, .mem = *mem };
	e->root = alloc_table(e);
	return e->root ? 0 : -ENOMEM;
}

int ept_map(struct ept *e, u64 gpa, u64 hpa, u64 size, u32 perms, u32 memtype)
{
	u64 leaf = perms | ((u64)memtype << EPT_MT_SHIFT);
	int err;

	err = check_map_args(e, gpa, hpa, size, perms, memtype);
	if (err)
		return err;
	err = check_level(e, e->root, EPT_LEVELS, gpa, gpa + size, false);
	if (err)
		return err;
	err = map_level(e, e->root, EPT_LEVELS, gpa, gpa + size, hpa, leaf);
	/* The range was unmapped, so everything in it now is this call's. */
	if (err)
		clear_level(e, e->root, EPT_LEVELS, gpa, gpa + size);
	return err;
}

int ept_unmap(struct ept *e, u64 gpa, u64 size)
{
	int err;

	if (!range_ok(gpa, size, EPT_GPA_LIMIT))
		return -EINVAL;
	err = check_level(e, e->root, EPT_LEVELS, gpa, gpa + size, true);
	if (err)
		return err;
	/* A split keeps every translation, so a failure here changes none. */
	err = split_at(e, gpa);
	if (!err)
		err = split_at(e, gpa + size);
	if (err)
		return err;
	clear_level(e, e->root, EPT_LEVELS, gpa, gpa + size);
	return 0;
}

int ept_lookup(const struct ept *e, u64 gpa, u64 *hpa, u32 *perms, u32 *memtype, u64 *page_size)
{
	u64 tpa = e->root;

	if (gpa >= EPT_GPA_LIMIT)
		return -ENOENT;
	for (int level = EPT_LEVELS; level >= 1; level--) {
		u64 pte = table(e, tpa)[pt_index(gpa, level)];
		u64 span = level_span(level);

		if (!pte_present(pte))
			return -ENOENT;
		if (!pte_leaf(pte, level)) {
			tpa = pte & EPT_ADDR_MASK;
			continue;
		}
		if (hpa)
			*hpa = (pte & EPT_ADDR_MASK) + (gpa & (span - 1));
		if (perms)
			*perms = pte & EPT_PERM_MASK;
		if (memtype)
			*memtype = (pte & EPT_MT_MASK) >> EPT_MT_SHIFT;
		if (page_size)
			*page_size = span;
		return 0;
	}
	return -ENOENT;
}

u64 ept_pointer(const struct ept *e, bool ad)
{
	return (e->root & EPTP_ADDR_MASK) | EPTP_PWL_4 | ((u64)EPT_MT_WB << EPTP_MT_SHIFT) |
	       (ad ? EPTP_AD_BIT : 0);
}

static void free_level(struct ept *e, u64 tpa, int level)
{
	const u64 *t = table(e, tpa);

	for (unsigned int i = 0; level > 1 && i < EPT_ENTRIES; i++)
		if (pte_present(t[i]) && !pte_leaf(t[i], level))
			free_level(e, t[i] & EPT_ADDR_MASK, level - 1);
	free_table(e, tpa);
}

void ept_destroy(struct ept *e)
{
	if (e->root)
		free_level(e, e->root, EPT_LEVELS);
	e->root = 0;
}

static int walk_level(const struct ept *e, u64 tpa, int level, u64 base,
		      int (*fn)(void *arg, u64 gpa, u64 hpa, u64 size, u32 perms, u32 memtype),
		      void *arg)
{
	const u64 *t = table(e, tpa);

	for (unsigned int i = 0; i < EPT_ENTRIES; i++) {
		u64 pte = t[i];
		u64 gpa = base + ((u64)i << level_shift(level));
		int err;

		if (!pte_present(pte))
			continue;
		if (pte_leaf(pte, level))
			err = fn(arg, gpa, pte & EPT_ADDR_MASK, level_span(level),
				 pte & EPT_PERM_MASK, (pte & EPT_MT_MASK) >> EPT_MT_SHIFT);
		else
			err = walk_level(e, pte & EPT_ADDR_MASK, level - 1, gpa, fn, arg);
		if (err)
			return err;
	}
	return 0;
}

int ept_for_each(const struct ept *e,
		 int (*fn)(void *arg, u64 gpa, u64 hpa, u64 size, u32 perms, u32 memtype),
		 void *arg)
{
	return walk_level(e, e->root, EPT_LEVELS, 0, fn, arg);
}

/*
 * Physical frame allocator (see hv/frame.h): a sorted array of free extents.
 * Invariant: ext[0..nr) are page-aligned, non-empty, sorted by base, and
 * neither overlap nor touch (touching extents are merged). The last page of
 * the address space never enters the pool, so an extent's end always fits
 * in a u64. Portable: built into the kernel and the host tests.
 */
#include <hv/errno.h>
#include <hv/frame.h>
#include <hv/log.h>

#define FRAME_TOP (0 - PAGE_SIZE) /* highest end an extent may have */

/* Index of the first extent ending above addr (nr if none). */
static u32 ext_find(const struct frame_alloc *fa, u64 addr)
{
	u32 lo = 0, hi = fa->nr;

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;
		if (fa->ext[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Open a slot at index i; the caller has checked nr < FRAME_EXT_MAX. */
static void ext_insert(struct frame_alloc *fa, u32 i, u64 base, u64 end)
{
	for (u32 j = fa->nr; j > i; j--)
		fa->ext[j] = fa->ext[j - 1];
	fa->ext[i].base = base;
	fa->ext[i].end = end;
	fa->nr++;
}

static void ext_remove(struct frame_alloc *fa, u32 i, u32 n)
{
	for (u32 j = i; j + n < fa->nr; j++)
		fa->ext[j] = fa->ext[j + n];
	fa->nr -= n;
}

/*
 * Put the page-aligned range [base, end) into the pool, merging with the
 * neighbours it touches. -EINVAL if any of it is already there, -ENOSPC if a
 * new extent is needed and the array is full.
 */
static int add_range(struct frame_alloc *fa, u64 base, u64 end)
{
	u32 i = ext_find(fa, base);
	bool merge_prev, merge_next;

	if (i < fa->nr && fa->ext[i].base < end)
		return -EINVAL;
	merge_prev = i > 0 && fa->ext[i - 1].end == base;
	merge_next = i < fa->nr && fa->ext[i].base == end;
	if (merge_prev && merge_next) {
		fa->ext[i - 1].end = fa->ext[i].end;
		ext_remove(fa, i, 1);
	} else if (merge_prev) {
		fa->ext[i - 1].end = end;
	} else if (merge_next) {
		fa->ext[i].base = base;
	} else {
		if (fa->nr >= FRAME_EXT_MAX)
			return -ENOSPC;
		ext_insert(fa, i, base, end);
	}
	return 0;
}

/*
 * Take the page-aligned range [start, end) out of the pool, whatever part of
 * it is there. -ENOSPC, with the pool unchanged, if that would split an
 * extent in two and the array is full.
 */
static int remove_range(struct frame_alloc *fa, u64 start, u64 end)
{
	u32 i = ext_find(fa, start), j;

	if (i == fa->nr || fa->ext[i].base >= end)
		return 0;
	if (fa->ext[i].base < start && fa->ext[i].end > end) {
		if (fa->nr >= FRAME_EXT_MAX)
			return -ENOSPC;
		ext_insert(fa, i + 1, end, fa->ext[i].end);
		fa->ext[i].end = start;
		return 0;
	}
	if (fa->ext[i].base < start)
		fa->ext[i++].end = start;
	for (j = i; j < fa->nr && fa->ext[j].end <= end; j++)
		;
	ext_remove(fa, i, j - i);
	if (i < fa->nr && fa->ext[i].base < end)
		fa->ext[i].base = end;
	return 0;
}

int frame_alloc_init(struct frame_alloc *fa, const struct memmap *m)
{
	fa->nr = 0;
	for (u32 i = 0; i < m->nr; i++) {
		const struct mem_region *r = &m->r[i];
		u64 last = r->base + r->size; /* 0: the region reaches 2^64 */
		u64 base, end;
		int err;

		if (r->type != MEM_USABLE || r->size == 0 || r->base > FRAME_TOP)
			continue;
		base = MAX(ALIGN_UP(r->base, PAGE_SIZE), PAGE_SIZE); /* never frame 0 */
		end = (last == 0 || last > FRAME_TOP) ? FRAME_TOP : ALIGN_DOWN(last, PAGE_SIZE);
		if (base >= end)
			continue;
		err = add_range(fa, base, end);
		if (err) {
			pr_err("frame: usable region [0x%llx, 0x%llx): %s\n",
			       (unsigned long long)r->base, (unsigned long long)last,
			       err == -EINVAL ? "overlaps another" : "too many extents");
			return err;
		}
	}
	return 0;
}

int frame_reserve(struct frame_alloc *fa, u64 base, u64 size)
{
	u64 last = base + size;
	u64 start = ALIGN_DOWN(base, PAGE_SIZE);
	u64 end = (last < base || last > FRAME_TOP) ? FRAME_TOP : ALIGN_UP(last, PAGE_SIZE);
	int err;

	if (size == 0 || start >= end)
		return 0;
	err = remove_range(fa, start, end);
	if (err)
		pr_err("frame: reserving [0x%llx, 0x%llx): too many extents\n",
		       (unsigned long long)start, (unsigned long long)end);
	return err;
}

u64 frame_alloc(struct frame_alloc *fa, u64 size, u64 align, u64 limit)
{
	if (size == 0 || size > FRAME_TOP)
		return 0;
	size = ALIGN_UP(size, PAGE_SIZE);
	if (align < PAGE_SIZE)
		align = PAGE_SIZE;
	if (align & (align - 1)) {
		pr_err("frame: alignment 0x%llx is not a power of two\n",
		       (unsigned long long)align);
		return 0;
	}
	for (u32 i = 0; i < fa->nr; i++) {
		u64 b = fa->ext[i].base + (align - 1);

		if (b < fa->ext[i].base)
			break; /* aligning wraps: so would every later extent */
		b &= ~(align - 1);
		if (b >= fa->ext[i].end || fa->ext[i].end - b < size)
			continue;
		if (limit && (b >= limit || limit - b < size))
			break; /* extents are sorted: later ones lie higher */
		if (remove_range(fa, b, b + size))
			continue; /* would split a full array; try a later extent */
		return b;
	}
	return 0;
}

int frame_free(struct frame_alloc *fa, u64 base, u64 size)
{
	u64 end = base + size;
	int err;

	if (!IS_ALIGNED(base, PAGE_SIZE) || !IS_ALIGNED(size, PAGE_SIZE) || size == 0 ||
	    base == 0 || end < base || end > FRAME_TOP) {
		pr_err("frame: bad free of 0x%llx bytes at 0x%llx\n", (unsigned long long)size,
		       (unsigned long long)base);
		return -EINVAL;
	}
	err = add_range(fa, base, end);
	if (err == -EINVAL)
		pr_err("frame: double free in [0x%llx, 0x%llx)\n", (unsigned long long)base,
		       (unsigned long long)end);
	else if (err)
		pr_err("frame: freeing [0x%llx, 0x%llx): too many extents\n",
		       (unsigned long long)base, (unsigned long long)end);
	return err;
}

u64 frame_free_bytes(const struct frame_alloc *fa)
{
	u64 total = 0;

	for (u32 i = 0; i < fa->nr; i++)
		total += fa->ext[i].end - fa->ext[i].base;
	return total;
}

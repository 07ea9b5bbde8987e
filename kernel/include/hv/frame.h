/*
 * Physical frame allocator. Static partitioning makes few, large allocations
 * (VSI RAM in 2 MiB-aligned chunks, page tables, VMCS pages), so the free
 * pool is a sorted array of disjoint, non-adjacent page-aligned extents
 * rather than a bitmap. Only usable RAM from the normalised memory map ever
 * enters the pool, never frame 0; the kernel carves out its image, the
 * modules and boot_info with frame_reserve() before the first allocation.
 * No locking: the caller serialises.
 */
#ifndef HV_FRAME_H
#define HV_FRAME_H

#include <hv/types.h>
#include <hv/memmap.h>

#define FRAME_EXT_MAX 512

struct frame_alloc {
	u32 nr;
	struct frame_extent {
		u64 base; /* page-aligned */
		u64 end;  /* exclusive, page-aligned, > base */
	} ext[FRAME_EXT_MAX];
};

/*
 * Fill the pool with the usable regions of m (normalised or not, as long as
 * usable regions do not overlap), page-aligned inward, frame 0 excluded.
 * -EINVAL on overlapping usable regions, -ENOSPC if they do not fit.
 */
int frame_alloc_init(struct frame_alloc *fa, const struct memmap *m);
/*
 * Take [base, base + size), page-aligned outward, out of the pool. Parts that
 * are not free are fine. -ENOSPC (pool unchanged) if a split would overflow.
 */
int frame_reserve(struct frame_alloc *fa, u64 base, u64 size);
/*
 * Allocate size bytes (rounded up to pages) at a multiple of align (a power
 * of two; less than PAGE_SIZE means PAGE_SIZE), lying entirely below limit
 * (0: no limit). First fit from low addresses. Returns the physical base, or
 * 0 when nothing fits or the arguments are invalid.
 */
u64 frame_alloc(struct frame_alloc *fa, u64 size, u64 align, u64 limit);
/*
 * Give [base, base + size) back, merging with neighbours. -EINVAL if base or
 * size is not page-aligned, size is 0, the range wraps or includes frame 0,
 * or any part of it is already free; -ENOSPC if the extent array is full.
 */
int frame_free(struct frame_alloc *fa, u64 base, u64 size);
/* Bytes currently in the pool. */
u64 frame_free_bytes(const struct frame_alloc *fa);

#endif

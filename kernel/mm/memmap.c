/*
 * Memory map normalisation (see hv/memmap.h). Portable: built into the
 * kernel, the UEFI loader and the host tests.
 */
#include <hv/errno.h>
#include <hv/memmap.h>

/*
 * Regions are clipped below MEMMAP_TOP (the last page of the 64-bit space is
 * never RAM), so an end address never wraps to 0 and edges sort plainly.
 */
#define MEMMAP_TOP (0 - PAGE_SIZE)

int memmap_add(struct memmap *m, u64 base, u64 size, u32 type)
{
	if (base >= MEMMAP_TOP)
		return 0;
	if (size > MEMMAP_TOP - base)
		size = MEMMAP_TOP - base;
	if (size == 0)
		return 0;
	if (m->nr >= MEMMAP_MAX)
		return -ENOSPC;
	m->r[m->nr].base = base;
	m->r[m->nr].size = size;
	m->r[m->nr].type = type;
	m->r[m->nr].reserved = 0;
	m->nr++;
	return 0;
}

/* Type of the byte range starting at addr: the highest-ranked region covering it. */
static u32 type_at(const struct mem_region *raw, u32 nr, u64 addr)
{
	u32 t = 0;

	for (u32 i = 0; i < nr; i++)
		if (addr >= raw[i].base && addr - raw[i].base < raw[i].size && raw[i].type > t)
			t = raw[i].type;
	return t;
}

/*
 * Every region start and end, sorted and deduplicated, is a candidate
 * boundary. An end of 2^64 does not fit in a u64: *top tells whether some
 * region reaches it. Regions must be clipped (base + size <= 2^64).
 */
static u32 collect_edges(const struct mem_region *raw, u32 nr, u64 *edge, bool *top)
{
	u32 n = 0, u = 0;

	*top = false;
	for (u32 i = 0; i < nr; i++) {
		if (raw[i].size == 0)
			continue;
		edge[n++] = raw[i].base;
		if (raw[i].base + raw[i].size == 0)
			*top = true;
		else
			edge[n++] = raw[i].base + raw[i].size;
	}
	for (u32 i = 1; i < n; i++) /* insertion sort: n <= 2 * MEMMAP_MAX */
		for (u32 j = i; j > 0 && edge[j - 1] > edge[j]; j--) {
			u64 t = edge[j];
			edge[j] = edge[j - 1];
			edge[j - 1] = t;
		}
	for (u32 i = 0; i < n; i++)
		if (u == 0 || edge[u - 1] != edge[i])
			edge[u++] = edge[i];
	return u;
}

/*
 * Append the maximal run [base, end) of one type (end 0 means 2^64, possible
 * only for entries filled in by hand). Usable runs are trimmed to whole
 * pages; memmap_add() clips every run at MEMMAP_TOP.
 */
static int emit(struct memmap *m, u64 base, u64 end, u32 type)
{
	if (type == MEM_USABLE) {
		if (base > MEMMAP_TOP)
			return 0;
		base = ALIGN_UP(base, PAGE_SIZE);
		end = end ? ALIGN_DOWN(end, PAGE_SIZE) : MEMMAP_TOP;
		if (end <= base)
			return 0;
	}
	return memmap_add(m, base, end - base, type);
}

/*
 * Cut the address space at every edge, give each piece the type of the
 * highest-ranked region covering it, and emit maximal runs of one type.
 * Usable pieces are merged before they are trimmed to pages, so pieces that
 * meet at an unaligned address lose no page. On -ENOSPC the input is left
 * as it was.
 */
int memmap_normalize(struct memmap *m)
{
	struct mem_region raw[MEMMAP_MAX]; /* 10 KiB of stack in all */
	u64 edge[2 * MEMMAP_MAX];
	u32 nr = m->nr, ne, run_type = 0;
	u64 run_base = 0, run_end = 0;
	bool top;
	int err = 0;

	for (u32 i = 0; i < nr; i++) {
		raw[i] = m->r[i];
		if (raw[i].base + raw[i].size < raw[i].base) /* wraps: clip at 2^64 */
			raw[i].size = 0 - raw[i].base;
	}
	ne = collect_edges(raw, nr, edge, &top);
	m->nr = 0;
	for (u32 i = 0; i < ne && !err; i++) {
		u64 base = edge[i], end = i + 1 < ne ? edge[i + 1] : 0;
		u32 t;

		if (i + 1 == ne && !top)
			break; /* the last edge ends the last region */
		t = type_at(raw, nr, base);
		if (t == run_type) {
			run_end = end; /* pieces are contiguous: extend the run (or the hole) */
			continue;
		}
		if (run_type)
			err = emit(m, run_base, run_end, run_type);
		run_type = t;
		run_base = base;
		run_end = end;
	}
	if (!err && run_type)
		err = emit(m, run_base, run_end, run_type);
	if (err) {
		for (u32 i = 0; i < nr; i++)
			m->r[i] = raw[i];
		m->nr = nr;
	}
	return err;
}

u64 memmap_total(const struct memmap *m, u32 type)
{
	u64 total = 0;

	for (u32 i = 0; i < m->nr; i++)
		if (m->r[i].type == type)
			total += m->r[i].size;
	return total;
}

const char *memmap_type_name(u32 type)
{
	switch (type) {
	case MEM_USABLE:
		return "usable";
	case MEM_ACPI:
		return "acpi";
	case MEM_RESERVED:
		return "reserved";
	case MEM_MMIO:
		return "mmio";
	}
	return "unknown";
}

/*
 * Physical memory map, normalised: sorted by base, no overlaps, adjacent
 * regions of one type merged, usable regions page-aligned inward. Firmware
 * maps (E820 through Multiboot2, the UEFI memory map) are often unsorted and
 * overlapping; memmap_normalize() is the one place that fixes that.
 */
#ifndef HV_MEMMAP_H
#define HV_MEMMAP_H

#include <hv/types.h>

/*
 * Region types. On overlap the higher value wins: memory any firmware
 * structure calls reserved is never treated as usable.
 */
enum mem_type {
	MEM_USABLE = 1,	  /* free RAM once the hypervisor owns the machine */
	MEM_ACPI = 2,	  /* ACPI tables (reclaimable, but we keep reading them) */
	MEM_RESERVED = 3, /* firmware, ACPI NVS, runtime services, bad RAM */
	MEM_MMIO = 4,	  /* device memory */
};

#define MEMMAP_MAX 256

struct mem_region {
	u64 base;
	u64 size;
	u32 type; /* enum mem_type */
	u32 reserved;
};

struct memmap {
	u32 nr;
	u32 reserved;
	struct mem_region r[MEMMAP_MAX];
};

/* Append a raw region (any order, may overlap). -ENOSPC when full. */
int memmap_add(struct memmap *m, u64 base, u64 size, u32 type);
/* Normalise in place (see above). -ENOSPC if splitting overflows. */
int memmap_normalize(struct memmap *m);
/* Total bytes of one type. */
u64 memmap_total(const struct memmap *m, u32 type);
/* Name of a type for logs ("usable", "acpi", ...). */
const char *memmap_type_name(u32 type);

#endif

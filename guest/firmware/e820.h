/*
 * The memory map: the platform's "etc/e820" fw_cfg file is the source of
 * truth for RAM; the map handed to the OS is that map with the firmware's
 * own reservations carved out (e820_set). Entries are kept sorted, disjoint
 * and merged.
 */
#ifndef FW_E820_H
#define FW_E820_H

#include "fwtypes.h"

/* ACPI 6.5 15.1 address range types (also PVH's XEN_HVM_MEMMAP_TYPE_* and Multiboot's). */
#define E820_RAM      1
#define E820_RESERVED 2
#define E820_ACPI     3
#define E820_NVS      4
#define E820_UNUSABLE 5

#define E820_MAX 64

/* The layout of etc/e820 and of boot_params.e820_table. */
struct e820_entry {
	u64 addr, size;
	u32 type;
} __packed;
_Static_assert(sizeof(struct e820_entry) == 20, "e820 entries are 20 bytes");

struct e820_map {
	u32 nr;
	struct e820_entry e[E820_MAX];
};

/* Reads etc/e820 into m; 0, or -FW_ENOENT / -FW_EINVAL with *why. */
int e820_from_fwcfg(struct e820_map *m, const char **why);

/* Makes [addr, addr+size) one entry of the given type, splitting what it overlaps. */
int e820_set(struct e820_map *m, u64 addr, u64 size, u32 type);

/* Bytes of RAM in m, and the end of the RAM range that contains addr (0 if none). */
u64 e820_ram_total(const struct e820_map *m);
u64 e820_ram_end_from(const struct e820_map *m, u64 addr);

void e820_print(const struct e820_map *m);

#endif

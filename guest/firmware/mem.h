/*
 * Guest-physical memory the firmware hands out: ranges of the platform's RAM
 * below 4 GiB that nothing else has claimed. Each claim has a name for error
 * messages and the e820 type it takes in the map handed over (E820_RAM for
 * what the OS finds by other means: the kernel, the initrd).
 */
#ifndef FW_MEM_H
#define FW_MEM_H

#include "e820.h"

#define MEM_MAX_CLAIMS 32

/* Starts from the platform's map; nothing is claimed yet. */
void mem_init(const struct e820_map *platform);

/*
 * Claims [base, base+size). 0, or -FW_EFAULT if part of it is not RAM below
 * 4 GiB, -FW_ENOSPC if it overlaps a claim (named by *conflict), or
 * -FW_ENOMEM if the table of claims is full.
 */
int mem_claim(u64 base, u64 size, u32 type, const char *what, const char **conflict);

/*
 * Like mem_claim(), for the final place of a kernel segment: the firmware's
 * own movable claims do not conflict, because the firmware gets out of the
 * way before the jump (mem_overlaps_movable() tells the caller to stage).
 */
int mem_claim_final(u64 base, u64 size, u32 type, const char *what, const char **conflict);

/* Whether [base, base+size) overlaps a movable claim; or a claim that is not movable. */
bool mem_overlaps_movable(u64 base, u64 size);
bool mem_overlaps_fixed(u64 base, u64 size);

/* Claims a fixed range whether or not it is RAM (page 0, the legacy hole). */
int mem_reserve(u64 base, u64 size, u32 type, const char *what);

/* The same for the firmware's own memory, which a kernel segment may take over. */
int mem_reserve_movable(u64 base, u64 size, u32 type, const char *what);

/* Drops the claim that is exactly [base, base+size). */
void mem_release(u64 base, u64 size);

/*
 * Finds and claims size bytes aligned to align within [min, max): the
 * highest such address if top, else the lowest. Returns the address, or 0 if
 * nothing fits.
 */
u64 mem_alloc(u64 size, u64 align, u64 min, u64 max, bool top, u32 type, const char *what);

/* The platform map with every claim whose type is not E820_RAM carved out. */
int mem_handover_map(struct e820_map *out);

/* The platform map (for RAM sizes). */
const struct e820_map *mem_platform_map(void);

#endif

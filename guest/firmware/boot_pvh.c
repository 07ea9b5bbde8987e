/*
 * Xen PVH direct boot (xen/include/public/arch-x86/hvm/start_info.h,
 * docs/misc/pvh.pandoc): 32-bit protected mode with paging off, EBX =
 * struct hvm_start_info. Linux reads only the first module, so the initrds
 * go back to back as one.
 */
#include "boot.h"
#include "console.h"
#include "e820.h"
#include "handoff.h"
#include "layout.h"
#include "mem.h"

#define XEN_HVM_START_MAGIC_VALUE 0x336ec578
#define HVM_START_INFO_VERSION	  1

struct hvm_start_info {
	u32 magic;
	u32 version;
	u32 flags;
	u32 nr_modules;
	u64 modlist_paddr;
	u64 cmdline_paddr;
	u64 rsdp_paddr;
	u64 memmap_paddr; /* version 1 */
	u32 memmap_entries;
	u32 reserved;
};
_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info is 56 bytes");

struct hvm_modlist_entry {
	u64 paddr;
	u64 size;
	u64 cmdline_paddr;
	u64 reserved;
};

/* XEN_HVM_MEMMAP_TYPE_* are the e820 types. */
struct hvm_memmap_table_entry {
	u64 addr;
	u64 size;
	u32 type;
	u32 reserved;
};

static void pvh_memmap(struct hvm_start_info *si)
{
	static struct e820_map map;
	struct hvm_memmap_table_entry *t;

	if (mem_handover_map(&map))
		fw_fatal("the memory map handed over has too many entries");
	t = handoff_alloc(map.nr * sizeof(*t), 8);
	for (u32 i = 0; i < map.nr; i++)
		t[i] = (struct hvm_memmap_table_entry){ map.e[i].addr, map.e[i].size, map.e[i].type,
							0 };
	si->memmap_paddr = (u64)(uintptr_t)t;
	si->memmap_entries = map.nr;
}

_Noreturn void boot_pvh(struct boot_plan *bp)
{
	struct hvm_start_info *si;

	boot_load_initrds(bp, false, FW_LOW_4G);
	si = handoff_alloc(sizeof(*si), 8);
	si->magic = XEN_HVM_START_MAGIC_VALUE;
	si->version = HVM_START_INFO_VERSION;
	si->cmdline_paddr = (u64)(uintptr_t)handoff_strdup(bp->entry.options);
	si->rsdp_paddr = bp->pf->rsdp;
	if (bp->initrd_size) {
		struct hvm_modlist_entry *m = handoff_alloc(sizeof(*m), 8);

		m->paddr = bp->initrd_addr;
		m->size = bp->initrd_size;
		m->cmdline_paddr = (u64)(uintptr_t)handoff_strdup(bp->entry.initrd[0]);
		si->nr_modules = 1;
		si->modlist_paddr = (u64)(uintptr_t)m;
	}
	pvh_memmap(si);
	boot_report(bp, "PVH", bp->ki.entry);
	handoff_enter32((u32)bp->ki.entry, 0, (u32)(uintptr_t)si);
}

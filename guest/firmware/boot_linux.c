/*
 * Linux x86 64-bit boot protocol (Documentation/arch/x86/boot.rst, "64-bit
 * Boot Protocol"; zero-page.rst for boot_params): a zeroed boot_params with
 * the kernel's setup header copied in, the protected-mode kernel at its load
 * address, entry at load address + 0x200 in long mode with RSI =
 * boot_params.
 */
#include "boot.h"
#include "console.h"
#include "handoff.h"
#include "layout.h"
#include "mem.h"

/* struct boot_params offsets (zero-page.rst) */
#define BP_SIZE		     4096
#define BP_ACPI_RSDP_ADDR    0x070
#define BP_EXT_RAMDISK_IMAGE 0x0C0
#define BP_EXT_RAMDISK_SIZE  0x0C4
#define BP_EXT_CMD_LINE_PTR  0x0C8
#define BP_E820_ENTRIES	     0x1E8
#define BP_SETUP_HEADER	     0x1F1
#define BP_TYPE_OF_LOADER    0x210
#define BP_LOADFLAGS	     0x211
#define BP_RAMDISK_IMAGE     0x218
#define BP_RAMDISK_SIZE	     0x21C
#define BP_HEAP_END_PTR	     0x224
#define BP_CMD_LINE_PTR	     0x228
#define BP_E820_TABLE	     0x2D0
#define BP_E820_MAX	     128

#define LOADER_TYPE_UNDEFINED	   0xFF
#define LOADFLAGS_CAN_USE_HEAP	   0x80
#define HEAP_END_PTR		   0xFE00 /* the customary value; unused on the 64-bit path */
#define XLF_KERNEL_64		   (1U << 0)
#define XLF_CAN_BE_LOADED_ABOVE_4G (1U << 1)
#define BOOT_PROTO_ACPI_RSDP	   0x020E /* 2.14 added acpi_rsdp_addr */

static void put32(u8 *bp, u32 off, u32 v)
{
	memcpy(bp + off, &v, sizeof(v));
}

static void put64(u8 *bp, u32 off, u64 v)
{
	memcpy(bp + off, &v, sizeof(v));
}

static void linux_e820(u8 *bp)
{
	static struct e820_map map;

	if (mem_handover_map(&map) || map.nr > BP_E820_MAX)
		fw_fatal("the memory map handed over has too many entries for boot_params");
	memcpy(bp + BP_E820_TABLE, map.e, map.nr * sizeof(map.e[0]));
	bp[BP_E820_ENTRIES] = (u8)map.nr;
}

static void linux_cmdline(u8 *bp, const struct boot_plan *bp_plan)
{
	const char *opts = bp_plan->entry.options;
	u64 p;

	if (strlen(opts) > bp_plan->ki.bz.cmdline_size)
		fw_fatal("kernel %s: the command line is %zu bytes, the kernel takes at most %u",
			 bp_plan->entry.linux_path, strlen(opts), bp_plan->ki.bz.cmdline_size);
	p = (u64)(uintptr_t)handoff_strdup(opts);
	put32(bp, BP_CMD_LINE_PTR, (u32)p);
	put32(bp, BP_EXT_CMD_LINE_PTR, (u32)(p >> 32));
}

_Noreturn void boot_linux(struct boot_plan *plan)
{
	const struct kfmt_bzimage *bz = &plan->ki.bz;
	u8 *bp;
	u64 limit = FW_LOW_4G, hdr_end;

	if (!(bz->xloadflags & XLF_KERNEL_64))
		fw_fatal("kernel %s: the bzImage has no 64-bit entry (XLF_KERNEL_64)",
			 plan->entry.linux_path);
	if (!(bz->xloadflags & XLF_CAN_BE_LOADED_ABOVE_4G))
		limit = (u64)bz->initrd_addr_max + 1;
	boot_load_initrds(plan, false, limit);

	bp = handoff_alloc(BP_SIZE, 4096);
	hdr_end = MIN((u64)bz->hdr_end, MIN((u64)plan->head_len, (u64)BP_SIZE));
	if (hdr_end > BP_SETUP_HEADER)
		memcpy(bp + BP_SETUP_HEADER, plan->head + BP_SETUP_HEADER,
		       hdr_end - BP_SETUP_HEADER);
	linux_cmdline(bp, plan);
	bp[BP_TYPE_OF_LOADER] = LOADER_TYPE_UNDEFINED;
	bp[BP_LOADFLAGS] |= LOADFLAGS_CAN_USE_HEAP;
	bp[BP_HEAP_END_PTR] = (u8)HEAP_END_PTR;
	bp[BP_HEAP_END_PTR + 1] = (u8)(HEAP_END_PTR >> 8);
	put32(bp, BP_RAMDISK_IMAGE, (u32)plan->initrd_addr);
	put32(bp, BP_RAMDISK_SIZE, (u32)plan->initrd_size);
	put32(bp, BP_EXT_RAMDISK_IMAGE, (u32)(plan->initrd_addr >> 32));
	put32(bp, BP_EXT_RAMDISK_SIZE, (u32)(plan->initrd_size >> 32));
	if (bz->version >= BOOT_PROTO_ACPI_RSDP)
		put64(bp, BP_ACPI_RSDP_ADDR, plan->pf->rsdp);
	linux_e820(bp);
	boot_report(plan, "Linux 64-bit", plan->ki.entry);
	handoff_enter64(plan->ki.entry, (u64)(uintptr_t)bp);
}

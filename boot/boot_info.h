/*
 * The one hand-off structure. The Multiboot2 entry (boot/multiboot2) and the
 * UEFI loader (boot/efi) both fill it in; nothing after kernel_main() knows
 * which of them ran, except for loader_name, which is only logged.
 *
 * Contract of the 64-bit kernel entry (hv_entry64, the ELF entry point):
 * long mode, paging on with an identity map covering the kernel image and
 * every byte boot_info points to, interrupts off, %rdi = &boot_info. All of
 * it (boot_info, modules, command line) lies below 4 GiB and is in memory
 * the map marks usable; the kernel copies boot_info and reserves the modules
 * before it allocates anything.
 */
#ifndef BOOT_INFO_H
#define BOOT_INFO_H

#include <hv/types.h>
#include <hv/memmap.h>

#define BOOT_INFO_MAGIC	  0x48564249544f4f42ULL /* "BOOTIBVH" */
#define BOOT_INFO_VERSION 1

#define BOOT_CMDLINE_MAX 512
#define BOOT_MODNAME_MAX 64
#define BOOT_MODULES_MAX 32
#define BOOT_LOADER_MAX	 32

struct boot_module {
	u64 base;		     /* physical, page-aligned */
	u64 size;		     /* bytes */
	char name[BOOT_MODNAME_MAX]; /* NUL-terminated, e.g. "hv.cfg" */
};

struct boot_info {
	u64 magic;   /* BOOT_INFO_MAGIC */
	u32 version; /* BOOT_INFO_VERSION */
	u32 nr_modules;
	u64 rsdp; /* physical address of the ACPI RSDP, 0 if none */
	char loader_name[BOOT_LOADER_MAX];
	char cmdline[BOOT_CMDLINE_MAX];
	struct boot_module modules[BOOT_MODULES_MAX];
	struct memmap mem; /* normalised (memmap_normalize) by the producer */
};

#endif

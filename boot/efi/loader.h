/*
 * The UEFI loader (BOOTX64.EFI). It reads \hv\ on the volume it was started
 * from: hv.elf (the kernel, loaded at its physical addresses), cmdline.txt
 * (optional) and every other file as a boot module. It fills struct
 * boot_info below 4 GiB, exits boot services and jumps to the kernel entry
 * with the firmware's identity map still in place.
 *
 * Every function that can fail before ExitBootServices() prints
 * "hv-loader: error: <what> (<status>)" itself and returns the EFI status.
 */
#ifndef EFI_LOADER_H
#define EFI_LOADER_H

#include <efi.h>
#include <efilib.h>
#include <boot_info.h>
#include "elf64.h"

#define LOADER_NAME "uefi"
#define MAX_ADDR_4G 0xFFFFFFFFULL

/* Room for EFI_FILE_INFO and a 255-character name, 8-byte aligned. */
union file_info_buf {
	EFI_FILE_INFO info;
	u64 raw[(offsetof(EFI_FILE_INFO, FileName) + 256 * sizeof(CHAR16) + 7) / 8];
};

/* loader.c: print "hv-loader: error: <fmt...> (<status name>)", return st. */
EFI_STATUS loader_error(EFI_STATUS st, const CHAR16 *fmt, ...);

/* fs.c: files on the loader's own volume. */
EFI_STATUS fs_open_hv_dir(EFI_HANDLE image, EFI_FILE_HANDLE *dir);
EFI_STATUS fs_open(EFI_FILE_HANDLE dir, CHAR16 *name, EFI_FILE_HANDLE *file);
EFI_STATUS fs_size(EFI_FILE_HANDLE file, CHAR16 *name, UINT64 *size);
EFI_STATUS fs_read(EFI_FILE_HANDLE file, CHAR16 *name, void *buf, UINT64 size);
EFI_STATUS fs_read_pool(EFI_FILE_HANDLE dir, CHAR16 *name, void **buf, UINT64 *size);

/* kernel.c: hv.elf, validated and loaded at its physical addresses. */
struct kernel_image {
	struct elf_layout layout;
	u32 nr_ranges;
	struct {
		u64 base;
		u64 pages;
	} range[ELF_MAX_LOAD];
};

EFI_STATUS kernel_load(EFI_FILE_HANDLE dir, struct kernel_image *k);
void kernel_unload(struct kernel_image *k);

/* modules.c: cmdline.txt and the boot modules. */
EFI_STATUS cmdline_read(EFI_FILE_HANDLE dir, struct boot_info *bi);
EFI_STATUS modules_load(EFI_FILE_HANDLE dir, struct boot_info *bi);
void modules_free(struct boot_info *bi);

/* memmap_efi.c: allocations and the UEFI memory map. */
struct efi_map {
	EFI_MEMORY_DESCRIPTOR *buf;
	UINTN alloc_size; /* bytes allocated at buf */
	UINTN size;	  /* bytes GetMemoryMap() filled in */
	UINTN key;
	UINTN desc_size; /* firmware's descriptor stride, not sizeof() */
	UINT32 desc_version;
};

EFI_STATUS efi_alloc_low(UINT64 bytes, UINT64 *addr);
void efi_free_pages(UINT64 addr, UINT64 bytes);
EFI_STATUS efi_map_alloc(struct efi_map *m);
EFI_STATUS efi_map_get(struct efi_map *m);
void efi_map_free(struct efi_map *m);
void efi_map_explain(u64 start, u64 end);
int efi_map_convert(const struct efi_map *m, struct memmap *out);

/* com1.c: the only output left after ExitBootServices(). */
__noreturn void loader_halt(const char *msg, u64 code);

#endif

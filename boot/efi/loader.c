/*
 * BOOTX64.EFI entry: load \hv from the boot volume, fill struct boot_info,
 * exit boot services and enter the kernel (see loader.h and boot_info.h).
 */
#include "loader.h"

/* The kernel entry contract: System V ABI, %rdi = &boot_info, never returns. */
typedef void __attribute__((sysv_abi, noreturn)) (*kernel_entry_t)(struct boot_info *bi);

#define ERROR_STALL_US (3 * 1000 * 1000)
/* ExitBootServices() attempts before giving up on a map key that keeps changing. */
#define EXIT_TRIES 8

static EFI_GUID acpi20_guid = ACPI_20_TABLE_GUID;
static EFI_GUID acpi10_guid = ACPI_TABLE_GUID;

/* See loader.h; %r is gnu-efi's EFI_STATUS name conversion. */
EFI_STATUS loader_error(EFI_STATUS st, const CHAR16 *fmt, ...)
{
	va_list ap;

	Print(L"hv-loader: error: ");
	va_start(ap, fmt);
	VPrint(fmt, ap);
	va_end(ap);
	Print(L" (%r)\n", st);
	return st;
}

/* Physical address of the ACPI RSDP, from the 2.0 table entry if any, else 1.0; 0 if none. */
static u64 find_rsdp(EFI_SYSTEM_TABLE *systab)
{
	u64 rsdp10 = 0;

	for (UINTN i = 0; i < systab->NumberOfTableEntries; i++) {
		EFI_CONFIGURATION_TABLE *t = &systab->ConfigurationTable[i];

		if (CompareGuid(&t->VendorGuid, &acpi20_guid) == 0)
			return (u64)t->VendorTable;
		if (CompareGuid(&t->VendorGuid, &acpi10_guid) == 0)
			rsdp10 = (u64)t->VendorTable;
	}
	return rsdp10;
}

/* Allocate a zeroed struct boot_info below 4 GiB with its header filled in. */
static EFI_STATUS boot_info_alloc(struct boot_info **out)
{
	struct boot_info *bi;
	UINT64 addr;
	EFI_STATUS st;

	st = efi_alloc_low(sizeof(*bi), &addr);
	if (EFI_ERROR(st))
		return loader_error(st, L"no memory below 4 GiB for boot_info (%d bytes)",
				    (int)sizeof(*bi));
	bi = (struct boot_info *)addr;
	ZeroMem(bi, sizeof(*bi));
	bi->magic = BOOT_INFO_MAGIC;
	bi->version = BOOT_INFO_VERSION;
	CopyMem(bi->loader_name, LOADER_NAME, sizeof(LOADER_NAME));
	*out = bi;
	return EFI_SUCCESS;
}

/* What is about to be handed over, on ConOut, while it still exists. */
static void print_summary(const struct kernel_image *k, const struct boot_info *bi,
			  const struct efi_map *m)
{
	Print(L"hv-loader: kernel 0x%lx-0x%lx entry 0x%lx, %d modules, RSDP 0x%lx\n", k->layout.lo,
	      k->layout.hi, k->layout.entry, bi->nr_modules, bi->rsdp);
	for (u32 i = 0; i < bi->nr_modules; i++)
		Print(L"hv-loader: module %a at 0x%lx, %ld bytes\n", bi->modules[i].name,
		      bi->modules[i].base, bi->modules[i].size);
	Print(L"hv-loader: cmdline \"%a\", boot_info at 0x%lx\n", bi->cmdline, (u64)bi);
	Print(L"hv-loader: memory map %ld descriptors of %ld bytes\n", m->size / m->desc_size,
	      m->desc_size);
	if (!bi->rsdp)
		Print(L"hv-loader: warning: no ACPI RSDP in the configuration table\n");
}

/*
 * ExitBootServices() with a fresh map key, retried while the key is stale.
 * Returns only failures from before the first attempt, when printing is
 * still allowed; after it only GetMemoryMap() may be called (UEFI spec 7.4.6),
 * so later failures halt with a COM1 message.
 */
static EFI_STATUS exit_boot_services(EFI_HANDLE image, struct efi_map *m)
{
	EFI_STATUS st;

	st = efi_map_get(m);
	if (EFI_ERROR(st))
		return loader_error(st, L"GetMemoryMap before ExitBootServices");
	for (int tries = 0; tries < EXIT_TRIES; tries++) {
		st = uefi_call_wrapper(BS->ExitBootServices, 2, image, m->key);
		if (st == EFI_SUCCESS)
			return st;
		if (st != EFI_INVALID_PARAMETER)
			loader_halt("ExitBootServices failed", st);
		st = efi_map_get(m);
		if (EFI_ERROR(st))
			loader_halt("GetMemoryMap after a stale-key ExitBootServices failed", st);
	}
	loader_halt("ExitBootServices: map key still stale after retries", EFI_INVALID_PARAMETER);
}

/* After ExitBootServices(): build boot_info->mem and jump to the kernel. */
static __noreturn void enter_kernel(struct boot_info *bi, const struct efi_map *m, u64 entry)
{
	kernel_entry_t kernel = (kernel_entry_t)entry;
	int err;

	err = efi_map_convert(m, &bi->mem);
	if (err)
		loader_halt("UEFI memory map does not fit struct memmap, errno", (u64)-err);
	kernel(bi);
}

/* UEFI image entry. Returns only on failure: the error printed, then a pause to read it. */
EFI_STATUS EFIAPI efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	struct kernel_image kernel;
	struct boot_info *bi = NULL;
	struct efi_map map;
	EFI_FILE_HANDLE dir;
	EFI_STATUS st;

	InitializeLib(image, systab);
	st = fs_open_hv_dir(image, &dir);
	if (EFI_ERROR(st))
		goto err;
	st = boot_info_alloc(&bi);
	if (EFI_ERROR(st))
		goto err_dir;
	st = kernel_load(dir, &kernel);
	if (EFI_ERROR(st))
		goto err_bi;
	st = cmdline_read(dir, bi);
	if (EFI_ERROR(st))
		goto err_kernel;
	st = modules_load(dir, bi);
	if (EFI_ERROR(st))
		goto err_kernel;
	uefi_call_wrapper(dir->Close, 1, dir);
	dir = NULL;
	bi->rsdp = find_rsdp(systab);
	st = efi_map_alloc(&map);
	if (EFI_ERROR(st))
		goto err_modules;
	print_summary(&kernel, bi, &map);
	st = exit_boot_services(image, &map);
	if (EFI_ERROR(st))
		goto err_map;
	__asm__ volatile("cli");
	enter_kernel(bi, &map, kernel.layout.entry);

err_map:
	efi_map_free(&map);
err_modules:
	modules_free(bi);
err_kernel:
	kernel_unload(&kernel);
err_bi:
	efi_free_pages((UINT64)bi, sizeof(*bi));
err_dir:
	if (dir)
		uefi_call_wrapper(dir->Close, 1, dir);
err:
	uefi_call_wrapper(BS->Stall, 1, ERROR_STALL_US);
	return st;
}

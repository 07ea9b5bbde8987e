/*
 * Loader allocations and the UEFI memory map (UEFI spec 7.2.3 GetMemoryMap):
 * the map buffer is sized before ExitBootServices(); after it the map is
 * converted into struct memmap without any boot service.
 */
#include <hv/errno.h>
#include "loader.h"

/* Spare descriptors in the map buffer: its own allocation and later calls split ranges. */
#define MAP_SLACK_DESCS 64

/* Names of the EFI_MEMORY_TYPE values, for error messages. */
static const char *const efi_type_names[] = {
	"EfiReservedMemoryType",
	"EfiLoaderCode",
	"EfiLoaderData",
	"EfiBootServicesCode",
	"EfiBootServicesData",
	"EfiRuntimeServicesCode",
	"EfiRuntimeServicesData",
	"EfiConventionalMemory",
	"EfiUnusableMemory",
	"EfiACPIReclaimMemory",
	"EfiACPIMemoryNVS",
	"EfiMemoryMappedIO",
	"EfiMemoryMappedIOPortSpace",
	"EfiPalCode",
	"EfiPersistentMemory",
	"EfiUnacceptedMemoryType",
};

/* Allocate EfiLoaderData pages (not zeroed) for bytes, anywhere below 4 GiB. */
EFI_STATUS efi_alloc_low(UINT64 bytes, UINT64 *addr)
{
	EFI_PHYSICAL_ADDRESS a = MAX_ADDR_4G;
	EFI_STATUS st;

	st = uefi_call_wrapper(BS->AllocatePages, 4, AllocateMaxAddress, EfiLoaderData,
			       ALIGN_UP(bytes, PAGE_SIZE) / PAGE_SIZE, &a);
	if (!EFI_ERROR(st))
		*addr = a;
	return st;
}

/* Free what efi_alloc_low(bytes) returned. */
void efi_free_pages(UINT64 addr, UINT64 bytes)
{
	uefi_call_wrapper(BS->FreePages, 2, addr, ALIGN_UP(bytes, PAGE_SIZE) / PAGE_SIZE);
}

/* Fill m->buf with the current map and key. Silent: it also runs after ExitBootServices(). */
EFI_STATUS efi_map_get(struct efi_map *m)
{
	m->size = m->alloc_size;
	return uefi_call_wrapper(BS->GetMemoryMap, 5, &m->size, m->buf, &m->key, &m->desc_size,
				 &m->desc_version);
}

/* Ask the firmware how big the map is, allocate that with slack, and fill it once. */
EFI_STATUS efi_map_alloc(struct efi_map *m)
{
	EFI_STATUS st;

	m->buf = NULL;
	m->size = 0;
	st = uefi_call_wrapper(BS->GetMemoryMap, 5, &m->size, NULL, &m->key, &m->desc_size,
			       &m->desc_version);
	if (st != EFI_BUFFER_TOO_SMALL)
		return loader_error(EFI_ERROR(st) ? st : EFI_PROTOCOL_ERROR,
				    L"GetMemoryMap did not report the map size");
	m->alloc_size = m->size + MAP_SLACK_DESCS * m->desc_size;
	st = uefi_call_wrapper(BS->AllocatePool, 3, EfiLoaderData, m->alloc_size, &m->buf);
	if (EFI_ERROR(st))
		return loader_error(st, L"no memory for the memory map (%ld bytes)", m->alloc_size);
	st = efi_map_get(m);
	if (EFI_ERROR(st)) {
		efi_map_free(m);
		return loader_error(st, L"GetMemoryMap");
	}
	return EFI_SUCCESS;
}

/* Free the buffer efi_map_alloc() made; safe to call twice. */
void efi_map_free(struct efi_map *m)
{
	if (m->buf)
		uefi_call_wrapper(BS->FreePool, 1, m->buf);
	m->buf = NULL;
}

static const EFI_MEMORY_DESCRIPTOR *map_desc(const struct efi_map *m, UINTN i)
{
	return (const void *)((const u8 *)m->buf + i * m->desc_size);
}

static UINTN map_count(const struct efi_map *m)
{
	return m->size / m->desc_size;
}

/* Print the firmware map entries overlapping [start, end): who holds a range we wanted. */
void efi_map_explain(u64 start, u64 end)
{
	struct efi_map m;
	bool any = false;

	if (EFI_ERROR(efi_map_alloc(&m)))
		return;
	for (UINTN i = 0; i < map_count(&m); i++) {
		const EFI_MEMORY_DESCRIPTOR *d = map_desc(&m, i);
		u64 d_end = d->PhysicalStart + d->NumberOfPages * PAGE_SIZE;

		if (d_end <= start || d->PhysicalStart >= end)
			continue;
		Print(L"hv-loader:   in use there: 0x%lx-0x%lx %a\n", d->PhysicalStart, d_end,
		      d->Type < ARRAY_SIZE(efi_type_names) ? efi_type_names[d->Type]
							   : "(unknown type)");
		any = true;
	}
	if (!any)
		Print(L"hv-loader:   the memory map has no RAM at 0x%lx-0x%lx\n", start, end);
	efi_map_free(&m);
}

/* The memmap class of an EFI memory type (see boot_info.h for why loader memory is usable). */
static u32 mem_type(UINT32 efi_type)
{
	switch (efi_type) {
	case EfiConventionalMemory:
	case EfiBootServicesCode:
	case EfiBootServicesData:
	case EfiLoaderCode:
	case EfiLoaderData:
		return MEM_USABLE;
	case EfiACPIReclaimMemory:
		return MEM_ACPI;
	case EfiMemoryMappedIO:
	case EfiMemoryMappedIOPortSpace:
		return MEM_MMIO;
	default: /* runtime services, ACPI NVS, unusable, PAL, persistent, unknown */
		return MEM_RESERVED;
	}
}

/*
 * Convert a map fetched by efi_map_get() into a normalised struct memmap.
 * No boot services: runs after ExitBootServices(). -ENOSPC if it overflows.
 */
int efi_map_convert(const struct efi_map *m, struct memmap *out)
{
	u64 base = 0, size = 0;
	u32 type = 0;
	int err;

	out->nr = 0;
	for (UINTN i = 0; i < map_count(m); i++) {
		const EFI_MEMORY_DESCRIPTOR *d = map_desc(m, i);
		u64 pages = MIN(d->NumberOfPages, ~0ULL >> PAGE_SHIFT);
		u32 t = mem_type(d->Type);

		/* Firmware maps are full of small neighbours of one class: merge them early. */
		if (size && t == type && base + size == d->PhysicalStart) {
			size += pages * PAGE_SIZE;
			continue;
		}
		err = memmap_add(out, base, size, type);
		if (err)
			return err;
		base = d->PhysicalStart;
		size = pages * PAGE_SIZE;
		type = t;
	}
	err = memmap_add(out, base, size, type);
	if (err)
		return err;
	return memmap_normalize(out);
}

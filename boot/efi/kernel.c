/*
 * The kernel image \hv\hv.elf: read whole, validated completely (elf.c), then
 * every PT_LOAD copied to its p_paddr in pages allocated at that address.
 */
#include "loader.h"

/* Print why elf_validate() rejected the image. */
static EFI_STATUS report_fault(const struct elf_fault *f)
{
	if (f->phdr >= 0)
		return loader_error(EFI_LOAD_ERROR, L"\\hv\\hv.elf: %a (program header %d)", f->why,
				    f->phdr);
	return loader_error(EFI_LOAD_ERROR, L"\\hv\\hv.elf: %a", f->why);
}

/*
 * Allocate the pages of [start, end) not already taken by the previous
 * segment (two segments may share a page), zeroed.
 */
static EFI_STATUS alloc_segment(struct kernel_image *k, u64 start, u64 end, UINT32 type)
{
	EFI_PHYSICAL_ADDRESS addr;
	EFI_STATUS st;

	if (k->nr_ranges > 0) {
		u64 prev =
		    k->range[k->nr_ranges - 1].base + k->range[k->nr_ranges - 1].pages * PAGE_SIZE;
		start = MAX(start, prev);
	}
	if (start >= end)
		return EFI_SUCCESS;
	addr = start;
	st = uefi_call_wrapper(BS->AllocatePages, 4, AllocateAddress, type,
			       (end - start) / PAGE_SIZE, &addr);
	if (EFI_ERROR(st)) {
		loader_error(st, L"cannot allocate kernel range 0x%lx-0x%lx at its p_paddr", start,
			     end);
		efi_map_explain(start, end);
		return st;
	}
	ZeroMem((void *)start, end - start);
	k->range[k->nr_ranges].base = start;
	k->range[k->nr_ranges].pages = (end - start) / PAGE_SIZE;
	k->nr_ranges++;
	return EFI_SUCCESS;
}

/*
 * Copy every PT_LOAD of a validated image to p_paddr and zero its bss tail.
 * Executable segments go in EfiLoaderCode so firmware with a DXE NX policy
 * does not map them non-executable; the rest in EfiLoaderData.
 */
static EFI_STATUS load_segments(const void *img, struct kernel_image *k)
{
	const Elf64_Ehdr *eh = img;

	for (u32 i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = elf_phdr(img, i);
		UINT32 type = (ph->p_flags & PF_X) ? EfiLoaderCode : EfiLoaderData;
		EFI_STATUS st;

		if (ph->p_type != PT_LOAD || ph->p_memsz == 0)
			continue;
		st = alloc_segment(k, ALIGN_DOWN(ph->p_paddr, PAGE_SIZE),
				   ALIGN_UP(ph->p_paddr + ph->p_memsz, PAGE_SIZE), type);
		if (EFI_ERROR(st))
			return st;
		CopyMem((void *)ph->p_paddr, (const u8 *)img + ph->p_offset, ph->p_filesz);
		ZeroMem((void *)(ph->p_paddr + ph->p_filesz), ph->p_memsz - ph->p_filesz);
	}
	return EFI_SUCCESS;
}

/* Read, validate and load \hv\hv.elf; kernel_unload() undoes it. */
EFI_STATUS kernel_load(EFI_FILE_HANDLE dir, struct kernel_image *k)
{
	struct elf_fault fault;
	void *img;
	UINT64 size;
	EFI_STATUS st;

	k->nr_ranges = 0;
	st = fs_read_pool(dir, L"hv.elf", &img, &size);
	if (st == EFI_NOT_FOUND)
		return loader_error(st, L"kernel \\hv\\hv.elf missing");
	if (EFI_ERROR(st))
		return st;
	if (elf_validate(img, size, &k->layout, &fault))
		st = report_fault(&fault);
	else
		st = load_segments(img, k);
	if (EFI_ERROR(st))
		kernel_unload(k);
	uefi_call_wrapper(BS->FreePool, 1, img);
	return st;
}

/* Give back every page range kernel_load() allocated. */
void kernel_unload(struct kernel_image *k)
{
	for (u32 i = 0; i < k->nr_ranges; i++)
		uefi_call_wrapper(BS->FreePages, 2, k->range[i].base, k->range[i].pages);
	k->nr_ranges = 0;
}

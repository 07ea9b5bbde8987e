/*
 * ELF64 kernel image validation (see elf64.h). Every offset and size comes
 * from the file, so every sum is checked for overflow before it is used.
 */
#include <hv/errno.h>
#include "elf64.h"

#define LIMIT_4G (4 * GiB)

static int fail(struct elf_fault *fault, int err, const char *why, int phdr)
{
	fault->why = why;
	fault->phdr = phdr;
	return err;
}

/* a + b <= limit, without overflow. */
static bool fits(u64 a, u64 b, u64 limit)
{
	return a <= limit && b <= limit - a;
}

/* The ELF header alone: identification, type, machine, program header table bounds. */
static int check_ehdr(const Elf64_Ehdr *eh, u64 size, struct elf_fault *fault)
{
	const u8 *id = eh->e_ident;

	if (size < sizeof(*eh))
		return fail(fault, -EINVAL, "file too small for an ELF header", -1);
	if (id[0] != ELFMAG[0] || id[1] != ELFMAG[1] || id[2] != ELFMAG[2] || id[3] != ELFMAG[3])
		return fail(fault, -EINVAL, "bad ELF magic (not an ELF file)", -1);
	if (id[EI_CLASS] != ELFCLASS64)
		return fail(fault, -ENOTSUP, "not ELFCLASS64", -1);
	if (id[EI_DATA] != ELFDATA2LSB)
		return fail(fault, -ENOTSUP, "not little-endian (ELFDATA2LSB)", -1);
	if (id[EI_VERSION] != EV_CURRENT || eh->e_version != EV_CURRENT)
		return fail(fault, -EINVAL, "ELF version is not EV_CURRENT", -1);
	if (eh->e_machine != EM_X86_64)
		return fail(fault, -ENOTSUP, "e_machine is not EM_X86_64", -1);
	if (eh->e_type != ET_EXEC)
		return fail(fault, -ENOTSUP, "e_type is not ET_EXEC", -1);
	if (eh->e_phentsize != sizeof(Elf64_Phdr))
		return fail(fault, -EINVAL, "e_phentsize is not sizeof(Elf64_Phdr)", -1);
	if (eh->e_phnum == 0)
		return fail(fault, -EINVAL, "no program headers", -1);
	if (!IS_ALIGNED(eh->e_phoff, 8))
		return fail(fault, -EINVAL, "program header table misaligned", -1);
	if (!fits(eh->e_phoff, (u64)eh->e_phnum * sizeof(Elf64_Phdr), size))
		return fail(fault, -EINVAL, "program header table extends past end of file", -1);
	return 0;
}

/* One PT_LOAD segment: inside the file, inside 4 GiB, after the previous one. */
static int check_load(const Elf64_Phdr *ph, int i, u64 size, u64 prev_end, struct elf_fault *fault)
{
	if (ph->p_filesz > ph->p_memsz)
		return fail(fault, -EINVAL, "PT_LOAD p_filesz > p_memsz", i);
	if (!fits(ph->p_offset, ph->p_filesz, size))
		return fail(fault, -EINVAL, "PT_LOAD p_offset + p_filesz past end of file", i);
	if (!fits(ph->p_paddr, ph->p_memsz, LIMIT_4G))
		return fail(fault, -ERANGE, "PT_LOAD segment not inside 4 GiB", i);
	if (!fits(ph->p_vaddr, ph->p_memsz, ~0ULL))
		return fail(fault, -EINVAL, "PT_LOAD p_vaddr + p_memsz overflows", i);
	if (ph->p_paddr < prev_end)
		return fail(fault, -EINVAL, "PT_LOAD segments unsorted or overlapping", i);
	return 0;
}

/* Physical address of virtual address va, if an executable PT_LOAD holds it. */
static bool entry_phys(const void *img, u32 phnum, u64 va, u64 *pa)
{
	for (u32 i = 0; i < phnum; i++) {
		const Elf64_Phdr *ph = elf_phdr(img, i);

		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		if (va >= ph->p_vaddr && va - ph->p_vaddr < ph->p_memsz) {
			*pa = va - ph->p_vaddr + ph->p_paddr;
			return true;
		}
	}
	return false;
}

const Elf64_Phdr *elf_phdr(const void *img, u32 i)
{
	const Elf64_Ehdr *eh = img;

	return (const Elf64_Phdr *)((const u8 *)img + eh->e_phoff) + i;
}

int elf_validate(const void *img, u64 size, struct elf_layout *layout, struct elf_fault *fault)
{
	const Elf64_Ehdr *eh = img;
	u64 prev_end = 0;
	int err;

	err = check_ehdr(eh, size, fault);
	if (err)
		return err;
	layout->lo = ~0ULL;
	layout->hi = 0;
	layout->nr_load = 0;
	for (u32 i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = elf_phdr(img, i);

		if (ph->p_type != PT_LOAD || ph->p_memsz == 0)
			continue;
		err = check_load(ph, i, size, prev_end, fault);
		if (err)
			return err;
		if (++layout->nr_load > ELF_MAX_LOAD)
			return fail(fault, -E2BIG, "more PT_LOAD segments than the loader takes",
				    i);
		prev_end = ph->p_paddr + ph->p_memsz;
		layout->lo = MIN(layout->lo, ph->p_paddr);
		layout->hi = MAX(layout->hi, prev_end);
	}
	if (layout->nr_load == 0)
		return fail(fault, -EINVAL, "no PT_LOAD segment with p_memsz > 0", -1);
	if (!entry_phys(img, eh->e_phnum, eh->e_entry, &layout->entry))
		return fail(fault, -EINVAL, "e_entry not inside an executable PT_LOAD segment", -1);
	return 0;
}

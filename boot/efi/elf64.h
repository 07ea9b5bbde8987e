/*
 * The subset of ELF64 (System V gABI, x86-64 psABI) the loader needs, and a
 * validator that checks a whole kernel image before anything is allocated.
 * Portable: no UEFI types, so host tests can build elf.c as is.
 */
#ifndef EFI_ELF64_H
#define EFI_ELF64_H

#include <hv/types.h>

#define EI_MAG0	    0
#define EI_CLASS    4
#define EI_DATA	    5
#define EI_VERSION  6
#define EI_NIDENT   16
#define ELFMAG	    "\177ELF"
#define ELFCLASS64  2
#define ELFDATA2LSB 1
#define EV_CURRENT  1
#define ET_EXEC	    2
#define EM_X86_64   62
#define PT_LOAD	    1
#define PF_X	    BIT(0)

/* At most this many PT_LOAD segments: a kernel has text, rodata, data. */
#define ELF_MAX_LOAD 16

typedef struct {
	u8 e_ident[EI_NIDENT];
	u16 e_type;
	u16 e_machine;
	u32 e_version;
	u64 e_entry;
	u64 e_phoff;
	u64 e_shoff;
	u32 e_flags;
	u16 e_ehsize;
	u16 e_phentsize;
	u16 e_phnum;
	u16 e_shentsize;
	u16 e_shnum;
	u16 e_shstrndx;
} Elf64_Ehdr;

typedef struct {
	u32 p_type;
	u32 p_flags;
	u64 p_offset;
	u64 p_vaddr;
	u64 p_paddr;
	u64 p_filesz;
	u64 p_memsz;
	u64 p_align;
} Elf64_Phdr;

_Static_assert(sizeof(Elf64_Ehdr) == 64, "ELF64 header is 64 bytes");
_Static_assert(sizeof(Elf64_Phdr) == 56, "ELF64 program header is 56 bytes");

/* Where a validated image goes: physical bytes [lo, hi) and the entry. */
struct elf_layout {
	u64 lo;
	u64 hi;
	u64 entry; /* physical address of e_entry */
	u32 nr_load;
};

/* Why an image was rejected: a fixed message and the program header index, or -1. */
struct elf_fault {
	const char *why;
	int phdr;
};

/*
 * Check that img[0..size) is an x86-64 ET_EXEC image whose PT_LOAD segments
 * all lie in the file and below 4 GiB, sorted and disjoint. Returns 0 with
 * *layout filled in, or with *fault set: -EINVAL (malformed), -ENOTSUP (not
 * x86-64 ET_EXEC), -ERANGE (above 4 GiB), -E2BIG (too many segments).
 */
int elf_validate(const void *img, u64 size, struct elf_layout *layout, struct elf_fault *fault);

/* Program header i of an image elf_validate() accepted. */
const Elf64_Phdr *elf_phdr(const void *img, u32 i);

#endif

/*
 * The UEFI loader's ELF validator (boot/efi/elf.c) on images built here: a
 * realistic 3-segment kernel shaped like the linker script's output, then one
 * defect at a time, each with its exact error, message and program header
 * index. Every image is handed over in a heap buffer of exactly its size, so
 * AddressSanitizer catches any read past the end of the "file".
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <hv/errno.h>
#include <efi/elf64.h>

#ifndef PF_W
#define PF_W BIT(1)
#endif
#ifndef PF_R
#define PF_R BIT(2)
#endif
#define PT_NOTE	     4
#define PT_GNU_STACK 0x6474e551
#define EM_386	     3
#define ET_DYN	     3
#define ELFCLASS32   1
#define ELFDATA2MSB  2

#define IMG_MAX	   (256 * KiB)
#define KERNEL_END 0x20000ULL /* file size of the kernel image */

struct image {
	u8 buf[IMG_MAX] __aligned(8);
	u64 size;
};

static struct image im;

static Elf64_Ehdr *ehdr(struct image *m)
{
	return (Elf64_Ehdr *)m->buf;
}

static Elf64_Phdr *phdr(struct image *m, u32 i)
{
	return (Elf64_Phdr *)(m->buf + ehdr(m)->e_phoff) + i;
}

static void set_load(struct image *m, u32 i, u64 off, u64 addr, u64 filesz, u64 memsz, u32 flags)
{
	*phdr(m, i) = (Elf64_Phdr){
		.p_type = PT_LOAD,
		.p_flags = flags,
		.p_offset = off,
		.p_vaddr = addr,
		.p_paddr = addr,
		.p_filesz = filesz,
		.p_memsz = memsz,
		.p_align = 0x1000,
	};
}

/*
 * What ld makes of linker.ld: text RX at 2 MiB, rodata R, data RW with a
 * bss tail, each page-aligned in the file; the section headers at the end.
 */
static void build_kernel(struct image *m)
{
	Elf64_Ehdr *h = ehdr(m);

	memset(m, 0, sizeof(*m));
	memcpy(h->e_ident, ELFMAG, 4);
	h->e_ident[EI_CLASS] = ELFCLASS64;
	h->e_ident[EI_DATA] = ELFDATA2LSB;
	h->e_ident[EI_VERSION] = EV_CURRENT;
	h->e_type = ET_EXEC;
	h->e_machine = EM_X86_64;
	h->e_version = EV_CURRENT;
	h->e_entry = 0x2000cb;
	h->e_phoff = sizeof(Elf64_Ehdr);
	h->e_shoff = KERNEL_END - 17 * 64;
	h->e_ehsize = sizeof(Elf64_Ehdr);
	h->e_phentsize = sizeof(Elf64_Phdr);
	h->e_phnum = 3;
	h->e_shentsize = 64;
	h->e_shnum = 17;
	h->e_shstrndx = 16;
	set_load(m, 0, 0x1000, 0x200000, 0xe000, 0xe000, PF_R | PF_X);
	set_load(m, 1, 0xf000, 0x20e000, 0x9000, 0x9000, PF_R);
	set_load(m, 2, 0x18000, 0x217000, 0x8000, 0x23000, PF_R | PF_W);
	for (u64 i = 0x1000; i < 0x20000 - 17 * 64; i++)
		m->buf[i] = (u8)(i * 7);
	m->size = KERNEL_END;
}

/* elf_validate() on an exact-size heap copy of the first size bytes of m. */
static int validate(const struct image *m, u64 size, struct elf_layout *lay, struct elf_fault *f)
{
	void *file = malloc(size ? size : 1);
	int err;

	assert_non_null(file);
	memcpy(file, m->buf, size);
	*f = (struct elf_fault){ .why = NULL, .phdr = -2 };
	err = elf_validate(file, size, lay, f);
	free(file);
	return err;
}

static void expect_ok(const struct image *m, u64 lo, u64 hi, u64 entry, u32 nr_load)
{
	struct elf_layout lay;
	struct elf_fault f;
	int err = validate(m, m->size, &lay, &f);

	if (err)
		fprintf(stderr, "rejected: %s (phdr %d)\n", f.why, f.phdr);
	assert_int_equal(err, 0);
	assert_int_equal(lay.lo, lo);
	assert_int_equal(lay.hi, hi);
	assert_int_equal(lay.entry, entry);
	assert_int_equal(lay.nr_load, nr_load);
}

/* Rejected with exactly this error, message and program header index; name says which case. */
static void expect_reject(const struct image *m, const char *name, int want, const char *why,
			  int phdr)
{
	struct elf_layout lay;
	struct elf_fault f;
	int err = validate(m, m->size, &lay, &f);

	if (err != want || !f.why || strcmp(f.why, why) || f.phdr != phdr)
		fprintf(stderr, "case \"%s\": got %d \"%s\" (phdr %d)\n", name, err,
			f.why ? f.why : "(none)", f.phdr);
	assert_int_equal(err, want);
	assert_non_null(f.why);
	assert_string_equal(f.why, why);
	assert_int_equal(f.phdr, phdr);
}

static int setup(void **state)
{
	(void)state;
	build_kernel(&im);
	return 0;
}

static void test_kernel_accepted(void **state)
{
	struct elf_layout lay;
	struct elf_fault f;
	const u8 *file;

	(void)state;
	expect_ok(&im, 0x200000, 0x23a000, 0x2000cb, 3);

	/* elf_phdr() indexes the table in the image as given */
	file = im.buf;
	assert_int_equal(validate(&im, im.size, &lay, &f), 0);
	assert_ptr_equal(elf_phdr(file, 0), file + 64);
	assert_ptr_equal(elf_phdr(file, 2), file + 64 + 2 * 56);
	assert_int_equal(elf_phdr(file, 1)->p_paddr, 0x20e000);
}

/* A higher-half link: e_entry is virtual, the layout physical. */
static void test_higher_half(void **state)
{
	(void)state;
	for (u32 i = 0; i < 3; i++)
		phdr(&im, i)->p_vaddr += 0xffffffff80000000ULL;
	ehdr(&im)->e_entry = 0xffffffff802000cbULL;
	expect_ok(&im, 0x200000, 0x23a000, 0x2000cb, 3);
}

/* Limits that are still fine. */
static void test_edges_accepted(void **state)
{
	(void)state;
	/* the entry on the last byte of text */
	ehdr(&im)->e_entry = 0x20dfff;
	expect_ok(&im, 0x200000, 0x23a000, 0x20dfff, 3);

	/* data ending exactly at 4 GiB */
	build_kernel(&im);
	phdr(&im, 2)->p_paddr = 4 * GiB - 0x23000;
	expect_ok(&im, 0x200000, 4 * GiB, 0x2000cb, 3);

	/* a segment that is all file data up to EOF */
	build_kernel(&im);
	phdr(&im, 1)->p_filesz = phdr(&im, 1)->p_memsz = KERNEL_END - 0xf000;
	phdr(&im, 2)->p_paddr = 0x20e000 + KERNEL_END - 0xf000;
	expect_ok(&im, 0x200000, 0x20e000 + KERNEL_END - 0xf000 + 0x23000, 0x2000cb, 3);

	/* the program header table ending exactly at EOF */
	build_kernel(&im);
	memmove(im.buf + KERNEL_END - 3 * 56, phdr(&im, 0), 3 * 56);
	ehdr(&im)->e_phoff = KERNEL_END - 3 * 56;
	expect_ok(&im, 0x200000, 0x23a000, 0x2000cb, 3);
}

/* Non-PT_LOAD headers and empty PT_LOADs are skipped, whatever their fields say. */
static void test_other_headers_ignored(void **state)
{
	Elf64_Phdr junk = {
		.p_offset = ~0ULL, .p_paddr = ~0ULL, .p_filesz = ~0ULL, .p_memsz = ~0ULL
	};

	(void)state;
	ehdr(&im)->e_phnum = 6;
	*phdr(&im, 3) = junk;
	phdr(&im, 3)->p_type = PT_GNU_STACK;
	*phdr(&im, 4) = junk;
	phdr(&im, 4)->p_type = PT_NOTE;
	*phdr(&im, 5) = junk;
	phdr(&im, 5)->p_memsz = 0;
	phdr(&im, 5)->p_type = PT_LOAD;
	phdr(&im, 5)->p_flags = PF_X;
	expect_ok(&im, 0x200000, 0x23a000, 0x2000cb, 3);
}

/* ELF_MAX_LOAD segments are taken, one more is not. */
static void test_too_many_loads(void **state)
{
	const u32 max = ELF_MAX_LOAD;

	(void)state;
	ehdr(&im)->e_phnum = max;
	for (u32 i = 3; i < max; i++)
		set_load(&im, i, 0x18000, 0x300000 + i * 0x1000, 0x1000, 0x1000, PF_R);
	expect_ok(&im, 0x200000, 0x300000 + max * 0x1000, 0x2000cb, max);

	ehdr(&im)->e_phnum = max + 1;
	set_load(&im, max, 0x18000, 0x300000 + max * 0x1000, 0x1000, 0x1000, PF_R);
	expect_reject(&im, "17 PT_LOAD", -E2BIG, "more PT_LOAD segments than the loader takes",
		      (int)max);
}

static void test_truncated_header(void **state)
{
	struct elf_layout lay;
	struct elf_fault f;

	(void)state;
	/* 0, 9, .. 63 bytes */
	for (u64 size = 0; size < sizeof(Elf64_Ehdr); size += 9) {
		assert_int_equal(validate(&im, size, &lay, &f), -EINVAL);
		assert_string_equal(f.why, "file too small for an ELF header");
		assert_int_equal(f.phdr, -1);
	}
}

/* One defect in the ELF header per case. */
struct header_case {
	const char *name;
	void (*mutate)(Elf64_Ehdr *h);
	int err;
	const char *why;
};

static void bad_magic(Elf64_Ehdr *h)
{
	h->e_ident[3] = 'f';
}

static void bad_magic0(Elf64_Ehdr *h)
{
	h->e_ident[EI_MAG0] = 0x7e;
}

static void class32(Elf64_Ehdr *h)
{
	h->e_ident[EI_CLASS] = ELFCLASS32;
}

static void big_endian(Elf64_Ehdr *h)
{
	h->e_ident[EI_DATA] = ELFDATA2MSB;
}

static void ident_version(Elf64_Ehdr *h)
{
	h->e_ident[EI_VERSION] = 0;
}

static void e_version(Elf64_Ehdr *h)
{
	h->e_version = 2;
}

static void machine_386(Elf64_Ehdr *h)
{
	h->e_machine = EM_386;
}

static void type_dyn(Elf64_Ehdr *h)
{
	h->e_type = ET_DYN;
}

static void phentsize_small(Elf64_Ehdr *h)
{
	h->e_phentsize = 32; /* an ELF32 program header */
}

static void phentsize_big(Elf64_Ehdr *h)
{
	h->e_phentsize = 64;
}

static void phnum_zero(Elf64_Ehdr *h)
{
	h->e_phnum = 0;
}

static void phoff_odd(Elf64_Ehdr *h)
{
	h->e_phoff = 65;
}

static void table_past_eof(Elf64_Ehdr *h)
{
	h->e_phoff = KERNEL_END - 3 * 56 + 8;
}

static void phoff_past_eof(Elf64_Ehdr *h)
{
	h->e_phoff = KERNEL_END + 64;
}

static void phnum_past_eof(Elf64_Ehdr *h)
{
	h->e_phnum = 0xffff;
}

/* e_phoff + e_phnum * e_phentsize wraps around to a small number */
static void table_wraps(Elf64_Ehdr *h)
{
	h->e_phoff = ~0ULL - 7;
}

static const struct header_case header_cases[] = {
	{ "magic", bad_magic, -EINVAL, "bad ELF magic (not an ELF file)" },
	{ "magic0", bad_magic0, -EINVAL, "bad ELF magic (not an ELF file)" },
	{ "ELFCLASS32", class32, -ENOTSUP, "not ELFCLASS64" },
	{ "big-endian", big_endian, -ENOTSUP, "not little-endian (ELFDATA2LSB)" },
	{ "EI_VERSION", ident_version, -EINVAL, "ELF version is not EV_CURRENT" },
	{ "e_version", e_version, -EINVAL, "ELF version is not EV_CURRENT" },
	{ "EM_386", machine_386, -ENOTSUP, "e_machine is not EM_X86_64" },
	{ "ET_DYN", type_dyn, -ENOTSUP, "e_type is not ET_EXEC" },
	{ "phentsize 32", phentsize_small, -EINVAL, "e_phentsize is not sizeof(Elf64_Phdr)" },
	{ "phentsize 64", phentsize_big, -EINVAL, "e_phentsize is not sizeof(Elf64_Phdr)" },
	{ "phnum 0", phnum_zero, -EINVAL, "no program headers" },
	{ "phoff odd", phoff_odd, -EINVAL, "program header table misaligned" },
	{ "table past EOF", table_past_eof, -EINVAL,
	  "program header table extends past end of file" },
	{ "phoff past EOF", phoff_past_eof, -EINVAL,
	  "program header table extends past end of file" },
	{ "phnum past EOF", phnum_past_eof, -EINVAL,
	  "program header table extends past end of file" },
	{ "table wraps", table_wraps, -EINVAL, "program header table extends past end of file" },
};

static void test_header_rejected(void **state)
{
	(void)state;
	for (u32 i = 0; i < ARRAY_SIZE(header_cases); i++) {
		const struct header_case *c = &header_cases[i];

		build_kernel(&im);
		c->mutate(ehdr(&im));
		expect_reject(&im, c->name, c->err, c->why, -1);
	}
}

/* One defect in the PT_LOAD segments per case; phdr is the index reported. */
struct segment_case {
	const char *name;
	void (*mutate)(struct image *m);
	int err;
	const char *why;
	int phdr;
};

static void filesz_gt_memsz(struct image *m)
{
	phdr(m, 2)->p_filesz = 0x23001;
}

static void file_past_eof(struct image *m)
{
	phdr(m, 1)->p_offset = KERNEL_END - 0x100;
}

static void file_one_past_eof(struct image *m)
{
	phdr(m, 2)->p_filesz = KERNEL_END - 0x18000 + 1;
}

static void offset_wraps(struct image *m)
{
	phdr(m, 1)->p_offset = ~0ULL - 0xff;
}

static void above_4g(struct image *m)
{
	phdr(m, 2)->p_paddr = 4 * GiB;
}

static void crosses_4g(struct image *m)
{
	phdr(m, 2)->p_paddr = 4 * GiB - 0x22000;
}

static void paddr_wraps(struct image *m)
{
	phdr(m, 2)->p_paddr = ~0ULL - 0xfff;
}

static void memsz_huge(struct image *m)
{
	phdr(m, 0)->p_memsz = ~0ULL;
}

static void vaddr_wraps(struct image *m)
{
	phdr(m, 1)->p_vaddr = ~0ULL - 0x1000;
}

static void overlap_prev(struct image *m)
{
	phdr(m, 1)->p_paddr = 0x20d000;
}

static void overlap_inside(struct image *m)
{
	phdr(m, 2)->p_paddr = 0x210000;
}

static void unsorted(struct image *m)
{
	Elf64_Phdr t = *phdr(m, 0);

	*phdr(m, 0) = *phdr(m, 1);
	*phdr(m, 1) = t;
}

static void entry_in_rodata(struct image *m)
{
	ehdr(m)->e_entry = 0x20e010;
}

static void entry_past_text(struct image *m)
{
	ehdr(m)->e_entry = 0x20e000;
}

static void entry_below_text(struct image *m)
{
	ehdr(m)->e_entry = 0x1fffff;
}

static void entry_physical(struct image *m)
{
	/* virtual addresses moved up: the physical entry is no longer inside */
	for (u32 i = 0; i < 3; i++)
		phdr(m, i)->p_vaddr += 0xffffffff80000000ULL;
}

static void text_not_exec(struct image *m)
{
	phdr(m, 0)->p_flags = PF_R;
}

static void no_load(struct image *m)
{
	for (u32 i = 0; i < 3; i++)
		phdr(m, i)->p_type = PT_NOTE;
}

static void loads_empty(struct image *m)
{
	for (u32 i = 0; i < 3; i++)
		phdr(m, i)->p_memsz = phdr(m, i)->p_filesz = 0;
}

static const struct segment_case segment_cases[] = {
	{ "filesz > memsz", filesz_gt_memsz, -EINVAL, "PT_LOAD p_filesz > p_memsz", 2 },
	{ "file past EOF", file_past_eof, -EINVAL, "PT_LOAD p_offset + p_filesz past end of file",
	  1 },
	{ "file 1 byte past EOF", file_one_past_eof, -EINVAL,
	  "PT_LOAD p_offset + p_filesz past end of file", 2 },
	{ "offset wraps", offset_wraps, -EINVAL, "PT_LOAD p_offset + p_filesz past end of file",
	  1 },
	{ "above 4 GiB", above_4g, -ERANGE, "PT_LOAD segment not inside 4 GiB", 2 },
	{ "crosses 4 GiB", crosses_4g, -ERANGE, "PT_LOAD segment not inside 4 GiB", 2 },
	{ "paddr wraps", paddr_wraps, -ERANGE, "PT_LOAD segment not inside 4 GiB", 2 },
	{ "memsz huge", memsz_huge, -ERANGE, "PT_LOAD segment not inside 4 GiB", 0 },
	{ "vaddr wraps", vaddr_wraps, -EINVAL, "PT_LOAD p_vaddr + p_memsz overflows", 1 },
	{ "overlaps previous", overlap_prev, -EINVAL, "PT_LOAD segments unsorted or overlapping",
	  1 },
	{ "inside previous", overlap_inside, -EINVAL, "PT_LOAD segments unsorted or overlapping",
	  2 },
	{ "unsorted", unsorted, -EINVAL, "PT_LOAD segments unsorted or overlapping", 1 },
	{ "entry in rodata", entry_in_rodata, -EINVAL,
	  "e_entry not inside an executable PT_LOAD segment", -1 },
	{ "entry past text", entry_past_text, -EINVAL,
	  "e_entry not inside an executable PT_LOAD segment", -1 },
	{ "entry below text", entry_below_text, -EINVAL,
	  "e_entry not inside an executable PT_LOAD segment", -1 },
	{ "entry physical", entry_physical, -EINVAL,
	  "e_entry not inside an executable PT_LOAD segment", -1 },
	{ "no executable segment", text_not_exec, -EINVAL,
	  "e_entry not inside an executable PT_LOAD segment", -1 },
	{ "no PT_LOAD", no_load, -EINVAL, "no PT_LOAD segment with p_memsz > 0", -1 },
	{ "only empty PT_LOADs", loads_empty, -EINVAL, "no PT_LOAD segment with p_memsz > 0", -1 },
};

static void test_segment_rejected(void **state)
{
	(void)state;
	for (u32 i = 0; i < ARRAY_SIZE(segment_cases); i++) {
		const struct segment_case *c = &segment_cases[i];

		build_kernel(&im);
		c->mutate(&im);
		expect_reject(&im, c->name, c->err, c->why, c->phdr);
	}
}

/* Every truncation of the kernel image is rejected, without reading past the end. */
static void test_every_truncation(void **state)
{
	struct elf_layout lay;
	struct elf_fault f;

	(void)state;
	for (u64 size = 0; size < KERNEL_END; size += size < 0x400 ? 1 : 0x3ff) {
		int err = validate(&im, size, &lay, &f);

		assert_int_not_equal(err, 0);
		assert_non_null(f.why);
	}
	assert_int_equal(validate(&im, KERNEL_END, &lay, &f), 0);
}

#define T(fn) cmocka_unit_test_setup(fn, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_kernel_accepted),       T(test_higher_half),	 T(test_edges_accepted),
		T(test_other_headers_ignored), T(test_too_many_loads),	 T(test_truncated_header),
		T(test_header_rejected),       T(test_segment_rejected), T(test_every_truncation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Kernel format probes: the bzImage setup header (boot.rst), Multiboot 1
 * and 2 headers, ELF program headers and the Xen PVH entry note, turned
 * into a list of segments to copy and an entry point.
 */
#include "kernel_fmt.h"

/* bzImage setup header, file offsets (boot.rst, "The real-mode kernel header"). */
#define BZ_SETUP_SECTS	    0x1f1
#define BZ_BOOT_FLAG	    0x1fe
#define BZ_JUMP_OFFSET	    0x201 /* the jump's displacement: the header ends at 0x202 + it */
#define BZ_HEADER	    0x202
#define BZ_VERSION	    0x206
#define BZ_LOADFLAGS	    0x211
#define BZ_CODE32_START	    0x214
#define BZ_INITRD_ADDR_MAX  0x22c
#define BZ_KERNEL_ALIGNMENT 0x230
#define BZ_RELOCATABLE	    0x234
#define BZ_XLOADFLAGS	    0x236
#define BZ_CMDLINE_SIZE	    0x238
#define BZ_PREF_ADDRESS	    0x258
#define BZ_INIT_SIZE	    0x260
#define BZ_HDR_MIN_END	    0x268 /* protocol 2.12 has fields up to handover_offset */
#define BZ_HDR_MAX_END	    0x290 /* struct boot_params has room up to here */
#define BZ_BOOT_FLAG_MAGIC  0xaa55
#define BZ_HEADER_MAGIC	    0x53726448 /* "HdrS" */
#define BZ_MIN_VERSION	    0x020c
#define BZ_LOADED_HIGH	    (1u << 0)
#define XLF_KERNEL_64	    (1u << 0)

/* Multiboot 0.6.96 section 3.1. */
#define MB1_MAGIC	  0x1badb002
#define MB1_SEARCH	  8192
#define MB1_ALIGN	  4
#define MB1_PAGE_ALIGN	  (1u << 0)
#define MB1_MEMORY_INFO	  (1u << 1)
#define MB1_VIDEO_MODE	  (1u << 2)
#define MB1_AOUT_KLUDGE	  (1u << 16)
#define MB1_REQUIRED_MASK 0xffffu /* bits a loader must understand */
#define MB1_HDR_SIZE	  12
#define MB1_HDR_AOUT_SIZE 32

/* Multiboot2 2.0 section 3.1. */
#define MB2_MAGIC	     0xe85250d6
#define MB2_SEARCH	     32768
#define MB2_ALIGN	     8
#define MB2_ARCH_I386	     0
#define MB2_HDR_SIZE	     16
#define MB2_TAG_OPTIONAL     (1u << 0)
#define MB2_TAG_END	     0
#define MB2_TAG_INFO_REQUEST 1
#define MB2_TAG_ADDRESS	     2
#define MB2_TAG_ENTRY	     3
#define MB2_TAG_CONSOLE	     4
#define MB2_TAG_FRAMEBUFFER  5
#define MB2_TAG_MODULE_ALIGN 6
#define MB2_TAG_EFI_BS	     7
#define MB2_TAG_ENTRY_EFI32  8
#define MB2_TAG_ENTRY_EFI64  9
#define MB2_TAG_RELOCATABLE  10
#define MB2_LOAD_FROM_START  0xffffffffu /* address tag load_addr: load from file offset 0 */

/* ELF (System V gABI). */
#define ELFCLASS32		 1
#define ELFCLASS64		 2
#define ELFDATA2LSB		 1
#define ET_EXEC			 2
#define EM_386			 3
#define EM_X86_64		 62
#define PT_LOAD			 1
#define PT_NOTE			 4
#define ELF32_EHDR_SIZE		 52
#define ELF64_EHDR_SIZE		 64
#define ELF32_PHDR_SIZE		 32
#define ELF64_PHDR_SIZE		 56
#define XEN_ELFNOTE_PHYS32_ENTRY 18

#define ENTRY32_LIMIT (4 * GiB) /* PVH and multiboot enter in 32-bit mode, paging off */
#define BZ_LOAD_MIN   (1 * MiB) /* a bzImage's protected-mode kernel is "loaded high" (boot.rst) */

enum kfmt_stage {
	STAGE_DONE,
	STAGE_PHDRS,
	STAGE_NOTES
};

static u16 rd16(const u8 *p)
{
	return (u16)(p[0] | p[1] << 8);
}

static u32 rd32(const u8 *p)
{
	return p[0] | p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

static u64 rd64(const u8 *p)
{
	return rd32(p) | (u64)rd32(p + 4) << 32;
}

static int fail(const char **why, const char *reason, int err)
{
	*why = reason;
	return err;
}

/* [a, a + size) inside the RAM window, without wrapping. */
static bool kfmt_fits(const struct kfmt_info *ki, u64 a, u64 size)
{
	return a >= ki->ram_lo && a <= ki->ram_hi && size <= ki->ram_hi - a;
}

/* Segments inside the window, apart from each other; for 32-bit entries, below 4 GiB with the entry inside one. */
static int kfmt_check_plan(struct kfmt_info *ki, const char **why)
{
	bool entry_ok = ki->kind == KFMT_BZIMAGE;

	for (u32 i = 0; i < ki->nr_segs; i++) {
		const struct kfmt_seg *s = &ki->seg[i];

		if (!kfmt_fits(ki, s->dest, s->mem_size))
			return fail(why, "a segment lies outside the RAM window", -FW_ERANGE);
		if (ki->kind != KFMT_BZIMAGE && s->dest + s->mem_size > ENTRY32_LIMIT)
			return fail(why, "a segment lies above 4 GiB for a 32-bit entry",
				    -FW_ENOEXEC);
		for (u32 j = 0; j < i; j++)
			if (s->dest < ki->seg[j].dest + ki->seg[j].mem_size &&
			    ki->seg[j].dest < s->dest + s->mem_size)
				return fail(why, "segments overlap", -FW_ENOEXEC);
		if (ki->entry >= s->dest && ki->entry - s->dest < s->mem_size)
			entry_ok = true;
	}
	if (!entry_ok)
		return fail(why, "entry point outside the loaded image", -FW_ENOEXEC);
	ki->stage = STAGE_DONE;
	return 0;
}

static bool is_pow2(u64 x)
{
	return x && !(x & (x - 1));
}

/* Load address of the protected-mode kernel: pref_address if it fits, else the lowest aligned one. */
static int kfmt_bz_place(struct kfmt_info *ki, const char **why)
{
	struct kfmt_bzimage *bz = &ki->bz;
	u64 mem = MAX((u64)bz->init_size, bz->kernel_size), a = bz->pref_address;
	u64 lo = MAX(ki->ram_lo, (u64)BZ_LOAD_MIN);

	if (a < lo || !kfmt_fits(ki, a, mem)) {
		if (!bz->relocatable)
			return fail(why, "non-relocatable kernel's address outside the RAM window",
				    -FW_ERANGE);
		if (!is_pow2(bz->kernel_alignment))
			return fail(why, "bzImage kernel_alignment is not a power of two",
				    -FW_ENOEXEC);
		a = ALIGN_UP(lo, (u64)bz->kernel_alignment);
		if (a < lo || !kfmt_fits(ki, a, mem))
			return fail(why, "kernel does not fit the RAM window", -FW_ERANGE);
	}
	ki->seg[0] = (struct kfmt_seg){ bz->kernel_off, bz->kernel_size, a, mem };
	ki->nr_segs = 1;
	ki->entry = a + KFMT_BZ_ENTRY_64;
	ki->kind = KFMT_BZIMAGE;
	return kfmt_check_plan(ki, why);
}

static int kfmt_bzimage(struct kfmt_info *ki, const u8 *h, size_t n, const char **why)
{
	struct kfmt_bzimage *bz = &ki->bz;
	u32 setup_sects;

	if (n < BZ_HDR_MIN_END)
		return fail(why, "bzImage header truncated", -FW_ENOEXEC);
	bz->version = rd16(h + BZ_VERSION);
	bz->loadflags = h[BZ_LOADFLAGS];
	bz->xloadflags = rd16(h + BZ_XLOADFLAGS);
	if (bz->version < BZ_MIN_VERSION)
		return fail(why, "Linux boot protocol older than 2.12", -FW_ENOEXEC);
	if (!(bz->loadflags & BZ_LOADED_HIGH))
		return fail(why, "zImage (loaded low) is not supported", -FW_ENOEXEC);
	if (!(bz->xloadflags & XLF_KERNEL_64))
		return fail(why, "kernel has no 64-bit entry point (32-bit only)", -FW_ENOEXEC);
	bz->hdr_end = BZ_HEADER + h[BZ_JUMP_OFFSET];
	if (bz->hdr_end < BZ_HDR_MIN_END || bz->hdr_end > BZ_HDR_MAX_END || bz->hdr_end > n)
		return fail(why, "bzImage setup header length out of range", -FW_ENOEXEC);
	setup_sects = h[BZ_SETUP_SECTS] ? h[BZ_SETUP_SECTS] : 4;
	bz->setup_sects = (u8)setup_sects;
	bz->kernel_off = (u64)(setup_sects + 1) * 512;
	if (bz->kernel_off >= ki->file_size)
		return fail(why, "bzImage has no protected-mode kernel", -FW_ENOEXEC);
	bz->kernel_size = ki->file_size - bz->kernel_off;
	bz->code32_start = rd32(h + BZ_CODE32_START);
	bz->initrd_addr_max = rd32(h + BZ_INITRD_ADDR_MAX);
	bz->kernel_alignment = rd32(h + BZ_KERNEL_ALIGNMENT);
	bz->relocatable = h[BZ_RELOCATABLE] != 0;
	bz->cmdline_size = rd32(h + BZ_CMDLINE_SIZE);
	bz->pref_address = rd64(h + BZ_PREF_ADDRESS);
	bz->init_size = rd32(h + BZ_INIT_SIZE);
	return kfmt_bz_place(ki, why);
}

/* Multiboot 1: 1 if a header was found (and parsed), 0 if none, -errno. */
static int kfmt_mb1(struct kfmt_info *ki, const u8 *h, size_t n, const char **why)
{
	struct kfmt_multiboot *mb = &ki->mb;
	size_t lim = MIN(n, (size_t)MB1_SEARCH);

	for (size_t off = 0; off + MB1_HDR_SIZE <= lim; off += MB1_ALIGN) {
		u32 flags = rd32(h + off + 4);

		if (rd32(h + off) != MB1_MAGIC || (u32)(MB1_MAGIC + flags + rd32(h + off + 8)))
			continue;
		if (flags & MB1_REQUIRED_MASK &
		    ~(MB1_PAGE_ALIGN | MB1_MEMORY_INFO | MB1_VIDEO_MODE))
			return fail(why, "multiboot header requires unsupported features",
				    -FW_ENOEXEC);
		mb->header_off = (u32)off;
		mb->flags = flags;
		mb->page_align_modules = flags & MB1_PAGE_ALIGN;
		mb->want_mem_info = flags & MB1_MEMORY_INFO;
		mb->want_video = flags & MB1_VIDEO_MODE;
		if (flags & MB1_AOUT_KLUDGE) {
			if (off + MB1_HDR_AOUT_SIZE > lim)
				return fail(why, "multiboot address fields truncated", -FW_ENOEXEC);
			mb->has_addr = mb->has_entry = true;
			mb->header_addr = rd32(h + off + 12);
			mb->load_addr = rd32(h + off + 16);
			mb->load_end_addr = rd32(h + off + 20);
			mb->bss_end_addr = rd32(h + off + 24);
			mb->entry_addr = rd32(h + off + 28);
		}
		return 1;
	}
	return 0;
}

static int kfmt_mb2_info_request(struct kfmt_multiboot *mb, const u8 *t, u32 size, bool optional,
				 const char **why)
{
	if ((size - 8) % 4)
		return fail(why, "bad multiboot2 information request tag", -FW_ENOEXEC);
	for (u32 off = 8; off < size; off += 4) {
		if (mb->nr_req == KFMT_MB2_MAX_REQ)
			return fail(why, "too many multiboot2 information requests", -FW_ENOEXEC);
		mb->req[mb->nr_req++] = (struct kfmt_mb2_req){ rd32(t + off), optional };
	}
	return 0;
}

/* One Multiboot2 header tag of size bytes (>= 8, inside the header). */
static int kfmt_mb2_tag(struct kfmt_multiboot *mb, const u8 *t, u32 size, const char **why)
{
	u16 type = rd16(t), flags = rd16(t + 2);
	static const u8 min_size[] = {
		[MB2_TAG_INFO_REQUEST] = 8, [MB2_TAG_ADDRESS] = 24,	[MB2_TAG_ENTRY] = 12,
		[MB2_TAG_CONSOLE] = 12,	    [MB2_TAG_FRAMEBUFFER] = 20, [MB2_TAG_MODULE_ALIGN] = 8,
		[MB2_TAG_EFI_BS] = 8,	    [MB2_TAG_ENTRY_EFI32] = 12, [MB2_TAG_ENTRY_EFI64] = 12,
		[MB2_TAG_RELOCATABLE] = 24,
	};

	if (type >= ARRAY_SIZE(min_size)) {
		if (flags & MB2_TAG_OPTIONAL)
			return 0;
		return fail(why, "unsupported required multiboot2 tag", -FW_ENOEXEC);
	}
	if (size < min_size[type])
		return fail(why, "multiboot2 tag too short", -FW_ENOEXEC);
	switch (type) {
	case MB2_TAG_INFO_REQUEST:
		return kfmt_mb2_info_request(mb, t, size, flags & MB2_TAG_OPTIONAL, why);
	case MB2_TAG_ADDRESS:
		mb->has_addr = true;
		mb->header_addr = rd32(t + 8);
		mb->load_addr = rd32(t + 12);
		mb->load_end_addr = rd32(t + 16);
		mb->bss_end_addr = rd32(t + 20);
		break;
	case MB2_TAG_ENTRY:
		mb->has_entry = true;
		mb->entry_addr = rd32(t + 8);
		break;
	case MB2_TAG_CONSOLE:
		mb->has_console_flags = true;
		mb->console_flags = rd32(t + 8);
		break;
	case MB2_TAG_FRAMEBUFFER:
		mb->want_video = true;
		break;
	case MB2_TAG_MODULE_ALIGN:
		mb->page_align_modules = true;
		break;
	case MB2_TAG_RELOCATABLE:
		mb->relocatable = true;
		mb->reloc_min = rd32(t + 8);
		mb->reloc_max = rd32(t + 12);
		mb->reloc_align = rd32(t + 16);
		mb->reloc_pref = rd32(t + 20);
		break;
	default: /* EFI boot services and EFI entry points: not an EFI firmware */
		break;
	}
	return 0;
}

/* The tags of a Multiboot2 header of len bytes (>= 24), up to the end tag. */
static int kfmt_mb2_tags(struct kfmt_multiboot *mb, const u8 *hdr, u32 len, const char **why)
{
	u32 pos = MB2_HDR_SIZE;
	int rc;

	for (;;) {
		u32 size;

		if (pos > len - 8)
			return fail(why, "multiboot2 tags run past the header", -FW_ENOEXEC);
		size = rd32(hdr + pos + 4);
		if (size < 8 || size > len - pos)
			return fail(why, "bad multiboot2 tag size", -FW_ENOEXEC);
		if (rd16(hdr + pos) == MB2_TAG_END)
			return 0;
		rc = kfmt_mb2_tag(mb, hdr + pos, size, why);
		if (rc)
			return rc;
		pos += (u32)ALIGN_UP(size, MB2_ALIGN);
	}
}

/* Multiboot2: 1 if a header was found (and parsed), 0 if none, -errno. */
static int kfmt_mb2(struct kfmt_info *ki, const u8 *h, size_t n, const char **why)
{
	size_t lim = MIN(n, (size_t)MB2_SEARCH);

	for (size_t off = 0; off + MB2_HDR_SIZE <= lim; off += MB2_ALIGN) {
		u32 arch = rd32(h + off + 4), len = rd32(h + off + 8);
		int rc;

		if (rd32(h + off) != MB2_MAGIC ||
		    (u32)(MB2_MAGIC + arch + len + rd32(h + off + 12)))
			continue;
		if (arch != MB2_ARCH_I386)
			return fail(why, "multiboot2 header for another architecture", -FW_ENOEXEC);
		if (len < MB2_HDR_SIZE + 8 || len > lim - off)
			return fail(why, "multiboot2 header length out of range", -FW_ENOEXEC);
		rc = kfmt_mb2_tags(&ki->mb, h + off, len, why);
		if (rc)
			return rc;
		ki->mb.header_off = (u32)off;
		return 1;
	}
	return 0;
}

/* A multiboot kernel loaded by its address fields (MB1 flag 16, MB2 address tag). */
static int kfmt_mb_addr_plan(struct kfmt_info *ki, const char **why)
{
	const struct kfmt_multiboot *mb = &ki->mb;
	u64 load_off, load_addr = mb->load_addr, size, mem_end;

	if (!mb->has_entry)
		return fail(why, "multiboot address tag without an entry address", -FW_ENOEXEC);
	if (ki->mb_version == 2 && mb->load_addr == MB2_LOAD_FROM_START) {
		if (mb->header_addr < mb->header_off)
			return fail(why, "multiboot header_addr below the image", -FW_ENOEXEC);
		load_off = 0;
		load_addr = mb->header_addr - mb->header_off;
	} else {
		if (load_addr > mb->header_addr || mb->header_addr - load_addr > mb->header_off)
			return fail(why, "multiboot load_addr inconsistent with header_addr",
				    -FW_ENOEXEC);
		load_off = mb->header_off - (mb->header_addr - load_addr);
	}
	size = ki->file_size - load_off;
	if (mb->load_end_addr) {
		if (mb->load_end_addr < load_addr || mb->load_end_addr - load_addr > size)
			return fail(why, "multiboot load_end_addr outside the file", -FW_ENOEXEC);
		size = mb->load_end_addr - load_addr;
	}
	mem_end = mb->bss_end_addr ? mb->bss_end_addr : load_addr + size;
	if (mem_end < load_addr + size)
		return fail(why, "multiboot bss_end_addr below load_end_addr", -FW_ENOEXEC);
	ki->seg[0] = (struct kfmt_seg){ load_off, size, load_addr, mem_end - load_addr };
	ki->nr_segs = 1;
	ki->entry = mb->entry_addr;
	ki->kind = ki->mb_version == 2 ? KFMT_MULTIBOOT2 : KFMT_MULTIBOOT1;
	return kfmt_check_plan(ki, why);
}

/* The ELF header of a file starting with the ELF magic: 0 if usable, -FW_ENOEXEC. */
static int kfmt_elf_header(struct kfmt_info *ki, const u8 *h, size_t n, const char **why)
{
	struct kfmt_elf *e = &ki->elf;
	bool is64;

	if (n < ELF32_EHDR_SIZE || (h[4] == ELFCLASS64 && n < ELF64_EHDR_SIZE))
		return fail(why, "ELF header truncated", -FW_ENOEXEC);
	if (h[4] != ELFCLASS32 && h[4] != ELFCLASS64)
		return fail(why, "bad ELF class", -FW_ENOEXEC);
	if (h[5] != ELFDATA2LSB)
		return fail(why, "big-endian ELF", -FW_ENOEXEC);
	is64 = h[4] == ELFCLASS64;
	if (rd16(h + 16) != ET_EXEC)
		return fail(why, "ELF file is not an executable", -FW_ENOEXEC);
	if (rd16(h + 18) != (is64 ? EM_X86_64 : EM_386))
		return fail(why, "ELF file for another machine", -FW_ENOEXEC);
	e->cls = is64 ? 64 : 32;
	e->entry = is64 ? rd64(h + 24) : rd32(h + 24);
	e->phoff = is64 ? rd64(h + 32) : rd32(h + 28);
	e->phentsize = rd16(h + (is64 ? 54 : 42));
	e->phnum = rd16(h + (is64 ? 56 : 44));
	if (e->phentsize != (is64 ? ELF64_PHDR_SIZE : ELF32_PHDR_SIZE))
		return fail(why, "bad ELF program header size", -FW_ENOEXEC);
	if (!e->phnum || e->phnum > KFMT_MAX_PHDRS)
		return fail(why, "ELF program header count out of range", -FW_ENOEXEC);
	if (e->phoff > ki->file_size || (u64)e->phnum * e->phentsize > ki->file_size - e->phoff)
		return fail(why, "ELF program headers outside the file", -FW_ENOEXEC);
	ki->is_elf = true;
	ki->stage = STAGE_PHDRS;
	return 0;
}

struct kfmt_phdr {
	u32 type;
	u64 offset, vaddr, paddr, filesz, memsz, align;
};

static void kfmt_phdr_read(const struct kfmt_info *ki, const u8 *p, struct kfmt_phdr *ph)
{
	ph->type = rd32(p);
	if (ki->elf.cls == 64) {
		ph->offset = rd64(p + 8);
		ph->vaddr = rd64(p + 16);
		ph->paddr = rd64(p + 24);
		ph->filesz = rd64(p + 32);
		ph->memsz = rd64(p + 40);
		ph->align = rd64(p + 48);
	} else {
		ph->offset = rd32(p + 4);
		ph->vaddr = rd32(p + 8);
		ph->paddr = rd32(p + 12);
		ph->filesz = rd32(p + 16);
		ph->memsz = rd32(p + 20);
		ph->align = rd32(p + 28);
	}
}

/* The program header table: PT_LOAD becomes a segment (by p_paddr), PT_NOTE a note to read. */
static int kfmt_phdrs(struct kfmt_info *ki, const u8 *p, const char **why)
{
	for (u32 i = 0; i < ki->elf.phnum; i++) {
		struct kfmt_phdr ph;

		kfmt_phdr_read(ki, p + (size_t)i * ki->elf.phentsize, &ph);
		if (ph.type != PT_LOAD && ph.type != PT_NOTE)
			continue;
		if (!ph.filesz)
			ph.offset = 0; /* nothing to read: where it would be does not matter */
		if (ph.offset > ki->file_size || ph.filesz > ki->file_size - ph.offset)
			return fail(why, "ELF segment outside the file", -FW_ENOEXEC);
		if (ph.type == PT_NOTE) {
			if (ph.filesz && ki->nr_notes < KFMT_MAX_NOTES)
				ki->notes[ki->nr_notes++] =
				    (struct kfmt_note){ ph.offset,
							MIN(ph.filesz, (u64)KFMT_NEED_MAX),
							ph.align == 8 ? 8 : 4 };
			continue;
		}
		if (ph.filesz > ph.memsz)
			return fail(why, "ELF segment file size above its memory size",
				    -FW_ENOEXEC);
		if (!ph.memsz)
			continue;
		if (ki->nr_segs == KFMT_MAX_SEGS)
			return fail(why, "too many ELF loadable segments", -FW_ENOEXEC);
		ki->seg_vaddr[ki->nr_segs] = ph.vaddr;
		ki->seg[ki->nr_segs++] =
		    (struct kfmt_seg){ ph.offset, ph.filesz, ph.paddr, ph.memsz };
	}
	return 0;
}

/* Looks for the Xen PHYS32_ENTRY note in len bytes of a PT_NOTE segment; stops at any malformation. */
static void kfmt_notes(struct kfmt_info *ki, const u8 *p, u64 len, u32 align)
{
	u64 pos = 0;

	while (len - pos >= 12) {
		u64 namesz = rd32(p + pos), descsz = rd32(p + pos + 4);
		u32 type = rd32(p + pos + 8);
		u64 name = pos + 12, desc = name + ALIGN_UP(namesz, align);

		if (desc > len || descsz > len - desc)
			return;
		if (type == XEN_ELFNOTE_PHYS32_ENTRY && namesz == 4 &&
		    !memcmp(p + name, "Xen", 4) && (descsz == 4 || descsz == 8)) {
			ki->elf.has_pvh = true;
			ki->elf.pvh_entry = descsz == 4 ? rd32(p + desc) : rd64(p + desc);
			return;
		}
		if (ALIGN_UP(descsz, align) > len - desc)
			return;
		pos = desc + ALIGN_UP(descsz, align);
	}
}

/* e_entry as a physical address: through the PT_LOAD whose p_vaddr range holds it. */
static u64 kfmt_elf_entry(const struct kfmt_info *ki)
{
	u64 e = ki->elf.entry;

	for (u32 i = 0; i < ki->nr_segs; i++)
		if (e >= ki->seg_vaddr[i] && e - ki->seg_vaddr[i] < ki->seg[i].mem_size)
			return e - ki->seg_vaddr[i] + ki->seg[i].dest;
	return e;
}

static int kfmt_elf_finish(struct kfmt_info *ki, const char **why)
{
	if (ki->elf.has_pvh) {
		ki->kind = KFMT_PVH;
		ki->entry = ki->elf.pvh_entry;
	} else if (ki->mb_version) {
		ki->kind = ki->mb_version == 2 ? KFMT_MULTIBOOT2 : KFMT_MULTIBOOT1;
		ki->entry = ki->mb.has_entry ? ki->mb.entry_addr : kfmt_elf_entry(ki);
	} else if (ki->mb_err) {
		return fail(why, ki->mb_why, ki->mb_err);
	} else {
		return fail(why, "ELF file without a PVH entry note or a multiboot header",
			    -FW_ENOEXEC);
	}
	if (!ki->nr_segs)
		return fail(why, "ELF file without loadable segments", -FW_ENOEXEC);
	return kfmt_check_plan(ki, why);
}

/* Consumes what the current stage asked for. */
static int kfmt_consume(struct kfmt_info *ki, const u8 *p, const char **why)
{
	if (ki->stage == STAGE_PHDRS) {
		ki->stage = STAGE_NOTES;
		return kfmt_phdrs(ki, p, why);
	}
	kfmt_notes(ki, p, ki->notes[ki->note_idx].size, ki->notes[ki->note_idx].align);
	ki->note_idx++;
	return 0;
}

/* Advances the ELF stages, taking what lies inside head, until a read is needed or all is known. */
static int kfmt_elf_run(struct kfmt_info *ki, const u8 *head, size_t head_len, const char **why)
{
	int rc;

	for (;;) {
		u64 off;
		u32 len;

		if (ki->stage == STAGE_PHDRS) {
			off = ki->elf.phoff;
			len = (u32)ki->elf.phnum * ki->elf.phentsize;
		} else if (!ki->elf.has_pvh && ki->note_idx < ki->nr_notes) {
			off = ki->notes[ki->note_idx].off;
			len = (u32)ki->notes[ki->note_idx].size;
		} else {
			return kfmt_elf_finish(ki, why);
		}
		if (off > head_len || len > head_len - off) {
			ki->need_off = off;
			ki->need_len = len;
			return KFMT_MORE;
		}
		rc = kfmt_consume(ki, head + off, why);
		if (rc)
			return rc;
	}
}

/* Multiboot2, else Multiboot 1: 1 if a header was found (and parsed), 0 if none, -errno. */
static int kfmt_multiboot(struct kfmt_info *ki, const u8 *h, size_t n, const char **why)
{
	int rc = kfmt_mb2(ki, h, n, why);

	if (rc) {
		ki->mb_version = rc > 0 ? 2 : 0;
		return rc;
	}
	rc = kfmt_mb1(ki, h, n, why);
	ki->mb_version = rc > 0 ? 1 : 0;
	return rc;
}

static int kfmt_detect(struct kfmt_info *ki, const u8 *h, size_t n, const char **why)
{
	bool elf = n >= 4 && !memcmp(h, "\177ELF", 4);
	int rc;

	if (n >= BZ_HEADER + 4 && rd16(h + BZ_BOOT_FLAG) == BZ_BOOT_FLAG_MAGIC &&
	    rd32(h + BZ_HEADER) == BZ_HEADER_MAGIC)
		return kfmt_bzimage(ki, h, n, why);
	rc = kfmt_multiboot(ki, h, n, why);
	if (rc < 0) {
		if (!elf)
			return rc;
		/* An ELF kernel may still have a PVH note: the broken header counts only if not. */
		ki->mb_err = rc;
		ki->mb_why = *why;
		memset(&ki->mb, 0, sizeof(ki->mb));
	}
	if (ki->mb.has_addr)
		return kfmt_mb_addr_plan(ki, why);
	if (!elf)
		return fail(why,
			    ki->mb_version ? "multiboot kernel neither ELF nor with address fields"
					   : "unknown kernel format",
			    -FW_ENOEXEC);
	rc = kfmt_elf_header(ki, h, n, why);
	return rc ? rc : kfmt_elf_run(ki, h, n, why);
}

int kfmt_probe(struct kfmt_info *ki, const void *head, size_t head_len, u64 file_size, u64 ram_lo,
	       u64 ram_hi, const char **why)
{
	const char *dummy;
	int rc;

	if (!why)
		why = &dummy;
	*why = NULL;
	memset(ki, 0, sizeof(*ki));
	if (!head || head_len > file_size || ram_lo >= ram_hi)
		return fail(why, "bad arguments", -FW_EINVAL);
	ki->file_size = file_size;
	ki->ram_lo = ram_lo;
	ki->ram_hi = ram_hi;
	rc = kfmt_detect(ki, head, head_len, why);
	if (rc < 0) {
		ki->stage = STAGE_DONE;
		ki->kind = KFMT_UNKNOWN;
	}
	return rc;
}

int kfmt_feed(struct kfmt_info *ki, const void *buf, size_t len, const char **why)
{
	const char *dummy;
	int rc;

	if (!why)
		why = &dummy;
	*why = NULL;
	if (ki->stage == STAGE_DONE || !buf || len != ki->need_len)
		return fail(why, "kfmt_feed() without a pending read", -FW_EINVAL);
	rc = kfmt_consume(ki, buf, why);
	if (!rc)
		rc = kfmt_elf_run(ki, NULL, 0, why);
	if (rc < 0) {
		ki->stage = STAGE_DONE;
		ki->kind = KFMT_UNKNOWN;
	}
	return rc;
}

const char *kfmt_kind_name(enum kfmt_kind kind)
{
	switch (kind) {
	case KFMT_BZIMAGE:
		return "bzImage";
	case KFMT_PVH:
		return "PVH ELF";
	case KFMT_MULTIBOOT1:
		return "Multiboot";
	case KFMT_MULTIBOOT2:
		return "Multiboot2";
	default:
		return "unknown";
	}
}

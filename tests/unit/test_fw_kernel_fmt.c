/*
 * The firmware's kernel format probes (guest/firmware/kernel_fmt.c):
 * synthetic bzImage setup headers (boot.rst fields one at a time), a real
 * bzImage when one is found (/boot/vmlinuz-* or the linux-image package in
 * build/debs), ELF kernels with a Xen PVH note and with multiboot headers
 * built by the host's as and ld, and ELF, Multiboot 1 and Multiboot2 images
 * crafted byte by byte to reach every check: overlapping, out-of-file and
 * out-of-window segments, wrapping arithmetic, bad counts and sizes, tags.
 * The caller's side is played as the firmware would: the head, then each
 * read kfmt asks for, each in a heap buffer of exactly the asked size.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glob.h>
#include <cmocka.h>

#include "kernel_fmt.h"

#define RAM_LO	(1 * MiB)
#define RAM_HI	(1 * GiB)
#define IMG_MAX (512 * KiB)

static u8 img[IMG_MAX];
static struct kfmt_info ki;
static u32 nr_feeds;
static char tmpdir[] = "/tmp/fw_kfmt_XXXXXX";

/* Probes the first size bytes of file as the firmware would; returns the final result. */
static int probe_win(const u8 *file, size_t size, u64 lo, u64 hi, const char **why)
{
	size_t n = MIN(size, (size_t)KFMT_HEAD_SIZE);
	u8 *head = malloc(n ? n : 1);
	int rc;

	memcpy(head, file, n);
	rc = kfmt_probe(&ki, head, n, size, lo, hi, why);
	free(head);
	nr_feeds = 0;
	while (rc == KFMT_MORE) {
		u8 *buf;

		assert_true(ki.need_len > 0 && ki.need_len <= KFMT_NEED_MAX);
		assert_true(ki.need_off <= size && ki.need_len <= size - ki.need_off);
		assert_true(++nr_feeds < 20);
		buf = malloc(ki.need_len);
		memcpy(buf, file + ki.need_off, ki.need_len);
		rc = kfmt_feed(&ki, buf, ki.need_len, why);
		free(buf);
	}
	return rc;
}

static int probe(size_t size, const char **why)
{
	return probe_win(img, size, RAM_LO, RAM_HI, why);
}

static void put16(u8 *p, u16 v)
{
	p[0] = (u8)v;
	p[1] = (u8)(v >> 8);
}

static void put32(u8 *p, u32 v)
{
	put16(p, (u16)v);
	put16(p + 2, (u16)(v >> 16));
}

static void put64(u8 *p, u64 v)
{
	put32(p, (u32)v);
	put32(p + 4, (u32)(v >> 32));
}

/* Expects rc and, for failures, the reason. */
static void expect(int rc, int want, const char *why, const char *want_why, const char *what)
{
	if (rc != want || (want_why && (!why || strcmp(why, want_why))))
		fail_msg("%s: got %d \"%s\", want %d \"%s\"", what, rc, why ? why : "(none)", want,
			 want_why ? want_why : "");
}

/* Runs call (which sets why), then checks its result: why must be read after the call. */
#define EXPECT(call, want, why, want_why, what)         \
	do {                                            \
		int rc_ = (call);                       \
		expect(rc_, want, why, want_why, what); \
	} while (0)

/* ---- bzImage ---- */

#define BZ_SIZE (200 * KiB)

/* A plausible 64-bit bzImage header (protocol 2.15, 27 setup sectors). */
static void bz_build(void)
{
	memset(img, 0, sizeof(img));
	img[0x1f1] = 27;
	put16(img + 0x1fe, 0xaa55);
	img[0x200] = 0xeb;
	img[0x201] = 0x6a; /* header ends at 0x26c */
	put32(img + 0x202, 0x53726448);
	put16(img + 0x206, 0x020f);
	img[0x211] = 0x01; /* LOADED_HIGH */
	put32(img + 0x214, 0x100000);
	put32(img + 0x22c, 0x7fffffff);
	put32(img + 0x230, 0x200000);
	img[0x234] = 1;
	put16(img + 0x236, 0x7f);
	put32(img + 0x238, 2047);
	put64(img + 0x258, 0x1000000);
	put32(img + 0x260, 0x2000000);
}

static void test_bzimage(void **state)
{
	const char *why;

	(void)state;
	bz_build();
	EXPECT(probe(BZ_SIZE, &why), 0, why, NULL, "bzImage");
	assert_int_equal(ki.kind, KFMT_BZIMAGE);
	assert_string_equal(kfmt_kind_name(ki.kind), "bzImage");
	assert_int_equal(ki.bz.setup_sects, 27);
	assert_int_equal(ki.bz.version, 0x020f);
	assert_int_equal(ki.bz.hdr_end, 0x26c);
	assert_int_equal(ki.bz.kernel_off, 28 * 512);
	assert_int_equal(ki.bz.kernel_size, BZ_SIZE - 28 * 512);
	assert_int_equal(ki.bz.pref_address, 0x1000000);
	assert_int_equal(ki.bz.kernel_alignment, 0x200000);
	assert_true(ki.bz.relocatable);
	assert_int_equal(ki.bz.init_size, 0x2000000);
	assert_int_equal(ki.bz.initrd_addr_max, 0x7fffffff);
	assert_int_equal(ki.bz.cmdline_size, 2047);
	assert_int_equal(ki.bz.xloadflags, 0x7f);
	assert_int_equal(ki.bz.code32_start, 0x100000);
	assert_int_equal(ki.nr_segs, 1);
	assert_int_equal(ki.seg[0].file_off, 28 * 512);
	assert_int_equal(ki.seg[0].file_size, BZ_SIZE - 28 * 512);
	assert_int_equal(ki.seg[0].dest, 0x1000000);
	assert_int_equal(ki.seg[0].mem_size, 0x2000000);
	assert_int_equal(ki.entry, 0x1000200);

	/* pref_address outside the window: the lowest aligned address in it. */
	EXPECT(probe_win(img, BZ_SIZE, 64 * MiB + 1, RAM_HI, &why), 0, why, NULL, "relocated");
	assert_int_equal(ki.seg[0].dest, 66 * MiB);
	assert_int_equal(ki.entry, 66 * MiB + 0x200);
	/* Just enough room, and one byte short. */
	EXPECT(probe_win(img, BZ_SIZE, 64 * MiB, 96 * MiB, &why), 0, why, NULL, "exact fit");
	EXPECT(probe_win(img, BZ_SIZE, 64 * MiB, 96 * MiB - 1, &why), -FW_ERANGE, why,
	       "kernel does not fit the RAM window", "too small");
	/* init_size below the file's kernel: the file size counts. */
	put32(img + 0x260, 4096);
	EXPECT(probe(BZ_SIZE, &why), 0, why, NULL, "small init_size");
	assert_int_equal(ki.seg[0].mem_size, BZ_SIZE - 28 * 512);
	/* setup_sects 0 means 4. */
	img[0x1f1] = 0;
	EXPECT(probe(BZ_SIZE, &why), 0, why, NULL, "setup_sects 0");
	assert_int_equal(ki.bz.kernel_off, 5 * 512);
	/* A pref_address that would wrap: relocated instead. */
	put64(img + 0x258, ~0ULL - 4095);
	EXPECT(probe(BZ_SIZE, &why), 0, why, NULL, "wrapping pref_address");
	assert_int_equal(ki.seg[0].dest, 2 * MiB);
	/* A window from 0, as the firmware gives it so that Multiboot kernels may
	 * load low: a bzImage still goes at 1 MiB or above ("loaded high"). */
	put64(img + 0x258, 0x10000);
	EXPECT(probe_win(img, BZ_SIZE, 0, RAM_HI, &why), 0, why, NULL, "pref_address below 1 MiB");
	assert_int_equal(ki.seg[0].dest, 2 * MiB);
}

struct bz_defect {
	const char *name;
	u32 off, size;
	u64 value;
	int rc;
	const char *why;
};

static const struct bz_defect bz_defects[] = {
	{ "protocol 2.11", 0x206, 2, 0x020b, -FW_ENOEXEC, "Linux boot protocol older than 2.12" },
	{ "protocol 1.0", 0x206, 2, 0x0100, -FW_ENOEXEC, "Linux boot protocol older than 2.12" },
	{ "zImage", 0x211, 1, 0, -FW_ENOEXEC, "zImage (loaded low) is not supported" },
	{ "32-bit only", 0x236, 2, 0x02, -FW_ENOEXEC,
	  "kernel has no 64-bit entry point (32-bit only)" },
	{ "header too short", 0x201, 1, 0x10, -FW_ENOEXEC,
	  "bzImage setup header length out of range" },
	{ "header too long", 0x201, 1, 0xff, -FW_ENOEXEC,
	  "bzImage setup header length out of range" },
	{ "setup past the file", 0x1f1, 1, 255, -FW_ENOEXEC,
	  "bzImage has no protected-mode kernel" },
	{ "not relocatable", 0x234, 1, 0, -FW_ERANGE,
	  "non-relocatable kernel's address outside the RAM window" },
	{ "alignment 0", 0x230, 4, 0, -FW_ENOEXEC,
	  "bzImage kernel_alignment is not a power of two" },
	{ "alignment 3 MiB", 0x230, 4, 0x300000, -FW_ENOEXEC,
	  "bzImage kernel_alignment is not a power of two" },
	{ "init_size 4 GiB", 0x260, 4, 0xffffffff, -FW_ERANGE,
	  "kernel does not fit the RAM window" },
};

static void test_bzimage_defects(void **state)
{
	const char *why;

	(void)state;
	for (u32 i = 0; i < ARRAY_SIZE(bz_defects); i++) {
		const struct bz_defect *d = &bz_defects[i];

		bz_build();
		put64(img + 0x258, 0); /* no pref_address: placement relies on the other fields */
		for (u32 b = 0; b < d->size; b++)
			img[d->off + b] = (u8)(d->value >> (8 * b));
		EXPECT(probe_win(img, 64 * KiB, RAM_LO, RAM_HI, &why), d->rc, why, d->why, d->name);
		assert_int_equal(ki.kind, KFMT_UNKNOWN);
	}
	bz_build();
	EXPECT(probe(0x250, &why), -FW_ENOEXEC, why, "bzImage header truncated", "truncated");
}

/* The first vmlinuz found, or one extracted from the kernel package in build/debs. */
static u8 *real_bzimage(size_t *size, char *name, size_t name_cap)
{
	glob_t g;
	char cmd[1024], path[600] = "";
	FILE *f;
	u8 *buf;
	long n;

	if (!glob("/boot/vmlinuz-*", 0, NULL, &g) && g.gl_pathc) {
		snprintf(path, sizeof(path), "%s", g.gl_pathv[0]);
		globfree(&g);
	} else if (!glob(HV_TEST_DATA "/../../../build/debs/linux-image-*.deb", 0, NULL, &g) &&
		   g.gl_pathc) {
		snprintf(path, sizeof(path), "%s/vmlinuz", tmpdir);
		snprintf(
		    cmd, sizeof(cmd),
		    "dpkg-deb --fsys-tarfile '%s' | tar -xO --wildcards './boot/vmlinuz-*' > %s",
		    g.gl_pathv[0], path);
		globfree(&g);
		if (system(cmd))
			return NULL;
	} else {
		return NULL;
	}
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(n);
	if (n <= 0 || fread(buf, 1, n, f) != (size_t)n) {
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	*size = n;
	snprintf(name, name_cap, "%s", path);
	return buf;
}

static void test_real_bzimage(void **state)
{
	char name[600];
	size_t size;
	const char *why;
	u8 *k = real_bzimage(&size, name, sizeof(name));

	(void)state;
	if (!k) {
		fprintf(stderr, "test_real_bzimage: no /boot/vmlinuz-* and no "
				"build/debs/linux-image-*.deb here: skipped\n");
		skip();
	}
	EXPECT(probe_win(k, size, RAM_LO, 4 * GiB, &why), 0, why, NULL, name);
	assert_int_equal(ki.kind, KFMT_BZIMAGE);
	assert_true(ki.bz.version >= 0x020c);
	assert_true(ki.bz.relocatable);
	assert_true(ki.bz.xloadflags & 1);
	assert_int_equal(ki.bz.kernel_alignment & (ki.bz.kernel_alignment - 1), 0);
	assert_true(ki.bz.init_size > ki.bz.kernel_size);
	assert_int_equal(ki.bz.kernel_off + ki.bz.kernel_size, size);
	assert_int_equal(ki.seg[0].dest % ki.bz.kernel_alignment, 0);
	assert_int_equal(ki.entry, ki.seg[0].dest + 0x200);
	assert_int_equal(nr_feeds, 0);
	fprintf(stderr, "test_real_bzimage: %s: protocol %x.%02x, %zu bytes, at 0x%llx\n", name,
		ki.bz.version >> 8, ki.bz.version & 0xff, size, (unsigned long long)ki.seg[0].dest);
	free(k);
}

/* ---- ELF, crafted ---- */

#define PT_LOAD 1
#define PT_NOTE 4

static void elf_header(int cls, u16 type, u16 machine, u64 entry, u64 phoff, u16 phnum)
{
	memcpy(img, "\177ELF", 4);
	img[4] = cls == 64 ? 2 : 1;
	img[5] = 1;
	img[6] = 1;
	put16(img + 16, type);
	put16(img + 18, machine);
	put32(img + 20, 1);
	if (cls == 64) {
		put64(img + 24, entry);
		put64(img + 32, phoff);
		put16(img + 52, 64);
		put16(img + 54, 56);
		put16(img + 56, phnum);
	} else {
		put32(img + 24, (u32)entry);
		put32(img + 28, (u32)phoff);
		put16(img + 40, 52);
		put16(img + 42, 32);
		put16(img + 44, phnum);
	}
}

static void elf_phdr(int cls, u64 phoff, u32 i, u32 type, u64 off, u64 vaddr, u64 paddr, u64 filesz,
		     u64 memsz, u64 align)
{
	u8 *p = img + phoff + i * (cls == 64 ? 56 : 32);

	put32(p, type);
	if (cls == 64) {
		put32(p + 4, 5);
		put64(p + 8, off);
		put64(p + 16, vaddr);
		put64(p + 24, paddr);
		put64(p + 32, filesz);
		put64(p + 40, memsz);
		put64(p + 48, align);
	} else {
		put32(p + 4, (u32)off);
		put32(p + 8, (u32)vaddr);
		put32(p + 12, (u32)paddr);
		put32(p + 16, (u32)filesz);
		put32(p + 20, (u32)memsz);
		put32(p + 24, 5);
		put32(p + 28, (u32)align);
	}
}

/* A note at off; returns its size. */
static u32 put_note(u32 off, const char *name, u32 type, u64 desc, u32 descsz)
{
	u32 namesz = (u32)strlen(name) + 1, n = 12;

	put32(img + off, namesz);
	put32(img + off + 4, descsz);
	put32(img + off + 8, type);
	memcpy(img + off + n, name, namesz);
	n += (namesz + 3) & ~3u;
	if (descsz == 8)
		put64(img + off + n, desc);
	else
		put32(img + off + n, (u32)desc);
	return n + ((descsz + 3) & ~3u);
}

#define ELF_SIZE (64 * KiB)
#define WIN_HI	 (8 * GiB) /* the window of the defect table, above 4 GiB */

#define XEN_NOTE 0x814 /* after the 20-byte GNU note at 0x800 */

/*
 * An ELF64 PVH kernel: text at 1 MiB (file 0x1000..0x3000), data at 2 MiB
 * with a bss tail, a PT_NOTE holding a GNU note and then the PVH note.
 */
static void pvh_build(void)
{
	u32 n;

	memset(img, 0, sizeof(img));
	elf_header(64, 2, 62, 0xffffffff81000000ULL, 64, 3);
	elf_phdr(64, 64, 0, PT_LOAD, 0x1000, 0xffffffff81000000ULL, 0x100000, 0x2000, 0x2000,
		 0x1000);
	elf_phdr(64, 64, 1, PT_LOAD, 0x3000, 0xffffffff81200000ULL, 0x200000, 0x1000, 0x9000,
		 0x1000);
	n = put_note(0x800, "GNU", 3, 0x12345678, 4);
	n += put_note(0x800 + n, "Xen", 18, 0x100040, 4);
	elf_phdr(64, 64, 2, PT_NOTE, 0x800, 0, 0, n, n, 4);
}

static void test_elf_pvh(void **state)
{
	const char *why;

	(void)state;
	pvh_build();
	EXPECT(probe(ELF_SIZE, &why), 0, why, NULL, "pvh");
	assert_int_equal(ki.kind, KFMT_PVH);
	assert_int_equal(ki.entry, 0x100040);
	assert_int_equal(ki.nr_segs, 2);
	assert_int_equal(ki.seg[0].file_off, 0x1000);
	assert_int_equal(ki.seg[0].dest, 0x100000);
	assert_int_equal(ki.seg[1].file_size, 0x1000);
	assert_int_equal(ki.seg[1].mem_size, 0x9000);
	assert_int_equal(nr_feeds, 0); /* everything was inside the head */

	/* An 8-byte descriptor works too, and so does ELF32. */
	put_note(XEN_NOTE, "Xen", 18, 0x100080, 8);
	elf_phdr(64, 64, 2, PT_NOTE, 0x800, 0, 0, 20 + 24, 20 + 24, 4);
	EXPECT(probe(ELF_SIZE, &why), 0, why, NULL, "pvh desc 8");
	assert_int_equal(ki.entry, 0x100080);

	memset(img, 0, sizeof(img));
	elf_header(32, 2, 3, 0x100000, 52, 2);
	elf_phdr(32, 52, 0, PT_LOAD, 0x1000, 0x100000, 0x100000, 0x1000, 0x1000, 0x1000);
	elf_phdr(32, 52, 1, PT_NOTE, 0x200, 0, 0, 20, 20, 4);
	put_note(0x200, "Xen", 18, 0x100010, 4);
	EXPECT(probe(ELF_SIZE, &why), 0, why, NULL, "pvh elf32");
	assert_int_equal(ki.entry, 0x100010);
}

/* Program headers and notes beyond the head: asked for, one read each. */
static void test_elf_reads_beyond_head(void **state)
{
	const char *why;
	u32 n;

	(void)state;
	memset(img, 0, sizeof(img));
	elf_header(64, 2, 62, 0x100000, 0x30000, 2);
	elf_phdr(64, 0x30000, 0, PT_LOAD, 0x1000, 0x100000, 0x100000, 0x1000, 0x1000, 0x1000);
	n = put_note(0x40000, "Xen", 18, 0x100000, 4);
	elf_phdr(64, 0x30000, 1, PT_NOTE, 0x40000, 0, 0, n, n, 4);
	EXPECT(probe(0x50000, &why), 0, why, NULL, "far phdrs");
	assert_int_equal(nr_feeds, 2);
	assert_int_equal(ki.kind, KFMT_PVH);

	/* The sequence seen from the caller, with misuse in between. */
	{
		u8 head[KFMT_HEAD_SIZE], buf[KFMT_NEED_MAX];

		memcpy(head, img, sizeof(head));
		assert_int_equal(kfmt_probe(&ki, head, sizeof(head), 0x50000, RAM_LO, RAM_HI, &why),
				 KFMT_MORE);
		assert_int_equal(ki.need_off, 0x30000);
		assert_int_equal(ki.need_len, 2 * 56);
		assert_int_equal(kfmt_feed(&ki, buf, 10, &why), -FW_EINVAL);
		assert_int_equal(kfmt_probe(&ki, head, sizeof(head), 0x50000, RAM_LO, RAM_HI, &why),
				 KFMT_MORE);
		memcpy(buf, img + ki.need_off, ki.need_len);
		assert_int_equal(kfmt_feed(&ki, buf, ki.need_len, &why), KFMT_MORE);
		assert_int_equal(ki.need_off, 0x40000);
		assert_int_equal(ki.need_len, n);
		memcpy(buf, img + ki.need_off, ki.need_len);
		assert_int_equal(kfmt_feed(&ki, buf, ki.need_len, NULL), 0);
		assert_int_equal(kfmt_feed(&ki, buf, ki.need_len, &why), -FW_EINVAL);
	}

	/* A huge note segment is read only up to KFMT_NEED_MAX. */
	elf_phdr(64, 0x30000, 1, PT_NOTE, 0x40000, 0, 0, 0x20000, 0x20000, 4);
	EXPECT(probe(0x60000, &why), 0, why, NULL, "huge note");
}

struct elf_defect {
	const char *name;
	void (*apply)(void);
	int rc;
	const char *why;
};

static void d_overlap(void)
{
	elf_phdr(64, 64, 1, PT_LOAD, 0x3000, 0, 0x101000, 0x1000, 0x9000, 0x1000);
}
static void d_overlap_bss(void)
{
	elf_phdr(64, 64, 0, PT_LOAD, 0x1000, 0, 0x100000, 0x2000, 0x100001, 0x1000);
}
static void d_below_window(void)
{
	elf_phdr(64, 64, 1, PT_LOAD, 0x3000, 0, 0xff000, 0x1000, 0x1000, 0x1000);
}
static void d_above_window(void)
{
	elf_phdr(64, 64, 1, PT_LOAD, 0x3000, 0, WIN_HI - 0x1000, 0x1000, 0x1001, 0x1000);
}
static void d_paddr_wraps(void)
{
	elf_phdr(64, 64, 1, PT_LOAD, 0x3000, 0, ~0ULL - 0xfff, 0x1000, 0x2000, 0x1000);
}
static void d_memsz_huge(void)
{
	elf_phdr(64, 64, 1, PT_LOAD, 0x3000, 0, 0x200000, 0x1000, ~0ULL, 0x1000);
}
static void d_past_file(void)
{
	elf_phdr(64, 64, 1, PT_LOAD, 0x3000, 0, 0x200000, ELF_SIZE, ELF_SIZE, 0x1000);
}
static void d_offset_wraps(void)
{
	elf_phdr(64, 64, 1, PT_LOAD, ~0ULL - 10, 0, 0x200000, 0x1000, 0x1000, 0x1000);
}
static void d_filesz_gt_memsz(void)
{
	elf_phdr(64, 64, 1, PT_LOAD, 0x3000, 0, 0x200000, 0x2000, 0x1000, 0x1000);
}
static void d_note_past_file(void)
{
	elf_phdr(64, 64, 2, PT_NOTE, ELF_SIZE - 4, 0, 0, 8, 8, 4);
}
static void d_no_note(void)
{
	put32(img + 64 + 2 * 56, 6); /* PT_NOTE becomes PT_PHDR */
}
static void d_wrong_note_name(void)
{
	memcpy(img + XEN_NOTE + 12, "Xem", 3);
}
static void d_bad_note_size(void)
{
	put32(img + 0x800, 0xfffffff0); /* the GNU note's namesz: the scan stops there */
}
static void d_entry_outside(void)
{
	put32(img + XEN_NOTE + 16, 0x300000);
}
static void d_entry_high(void)
{
	put_note(XEN_NOTE, "Xen", 18, 0x100100000ULL, 8);
	elf_phdr(64, 64, 2, PT_NOTE, 0x800, 0, 0, 20 + 24, 20 + 24, 4);
}
static void d_above_4g(void)
{
	elf_phdr(64, 64, 1, PT_LOAD, 0x3000, 0, 0x100000000ULL, 0x1000, 0x1000, 0x1000);
}
static void d_phnum_0(void)
{
	put16(img + 56, 0);
}
static void d_phnum_65(void)
{
	put16(img + 56, 65);
}
static void d_phnum_xnum(void)
{
	put16(img + 56, 0xffff);
}
static void d_phentsize(void)
{
	put16(img + 54, 64);
}
static void d_phoff_past(void)
{
	put64(img + 32, ELF_SIZE - 100);
}
static void d_phoff_wraps(void)
{
	put64(img + 32, ~0ULL - 50);
}
static void d_dyn(void)
{
	put16(img + 16, 3);
}
static void d_machine(void)
{
	put16(img + 18, 3);
}
static void d_big_endian(void)
{
	img[5] = 2;
}
static void d_class(void)
{
	img[4] = 3;
}
static void d_too_many_loads(void)
{
	put16(img + 56, 20);
	for (u32 i = 0; i < 20; i++)
		elf_phdr(64, 64, i, PT_LOAD, 0x1000, 0, 0x100000 + i * 0x1000, 0x10, 0x10, 0x1000);
}
static void d_no_loads(void)
{
	put32(img + 64, 6);
	put32(img + 64 + 56, 6);
}

static const struct elf_defect elf_defects[] = {
	{ "overlap", d_overlap, -FW_ENOEXEC, "segments overlap" },
	{ "overlap through bss", d_overlap_bss, -FW_ENOEXEC, "segments overlap" },
	{ "below window", d_below_window, -FW_ERANGE, "a segment lies outside the RAM window" },
	{ "above window", d_above_window, -FW_ERANGE, "a segment lies outside the RAM window" },
	{ "paddr wraps", d_paddr_wraps, -FW_ERANGE, "a segment lies outside the RAM window" },
	{ "memsz huge", d_memsz_huge, -FW_ERANGE, "a segment lies outside the RAM window" },
	{ "past the file", d_past_file, -FW_ENOEXEC, "ELF segment outside the file" },
	{ "offset wraps", d_offset_wraps, -FW_ENOEXEC, "ELF segment outside the file" },
	{ "filesz > memsz", d_filesz_gt_memsz, -FW_ENOEXEC,
	  "ELF segment file size above its memory size" },
	{ "note past the file", d_note_past_file, -FW_ENOEXEC, "ELF segment outside the file" },
	{ "no note", d_no_note, -FW_ENOEXEC,
	  "ELF file without a PVH entry note or a multiboot header" },
	{ "note name", d_wrong_note_name, -FW_ENOEXEC,
	  "ELF file without a PVH entry note or a multiboot header" },
	{ "note size", d_bad_note_size, -FW_ENOEXEC,
	  "ELF file without a PVH entry note or a multiboot header" },
	{ "entry outside", d_entry_outside, -FW_ENOEXEC, "entry point outside the loaded image" },
	{ "entry above 4 GiB", d_entry_high, -FW_ENOEXEC, "entry point outside the loaded image" },
	{ "segment above 4 GiB", d_above_4g, -FW_ENOEXEC,
	  "a segment lies above 4 GiB for a 32-bit entry" },
	{ "phnum 0", d_phnum_0, -FW_ENOEXEC, "ELF program header count out of range" },
	{ "phnum 65", d_phnum_65, -FW_ENOEXEC, "ELF program header count out of range" },
	{ "phnum PN_XNUM", d_phnum_xnum, -FW_ENOEXEC, "ELF program header count out of range" },
	{ "phentsize", d_phentsize, -FW_ENOEXEC, "bad ELF program header size" },
	{ "phoff past the file", d_phoff_past, -FW_ENOEXEC,
	  "ELF program headers outside the file" },
	{ "phoff wraps", d_phoff_wraps, -FW_ENOEXEC, "ELF program headers outside the file" },
	{ "ET_DYN", d_dyn, -FW_ENOEXEC, "ELF file is not an executable" },
	{ "EM_386 in ELF64", d_machine, -FW_ENOEXEC, "ELF file for another machine" },
	{ "big-endian", d_big_endian, -FW_ENOEXEC, "big-endian ELF" },
	{ "class", d_class, -FW_ENOEXEC, "bad ELF class" },
	{ "too many PT_LOAD", d_too_many_loads, -FW_ENOEXEC, "too many ELF loadable segments" },
	{ "no PT_LOAD", d_no_loads, -FW_ENOEXEC, "ELF file without loadable segments" },
};

static void test_elf_defects(void **state)
{
	const char *why;

	(void)state;
	for (u32 i = 0; i < ARRAY_SIZE(elf_defects); i++) {
		const struct elf_defect *d = &elf_defects[i];

		pvh_build();
		d->apply();
		EXPECT(probe_win(img, ELF_SIZE, RAM_LO, WIN_HI, &why), d->rc, why, d->why, d->name);
	}
	/* The window given above was 8 GiB; the default one rejects the high segment earlier. */
	pvh_build();
	d_above_4g();
	EXPECT(probe(ELF_SIZE, &why), -FW_ERANGE, why, "a segment lies outside the RAM window",
	       "above 4 GiB, 1 GiB window");
	pvh_build();
	EXPECT(probe(40, &why), -FW_ENOEXEC, why, "ELF header truncated", "truncated ELF32");
	EXPECT(probe(60, &why), -FW_ENOEXEC, why, "ELF header truncated", "truncated ELF64");
	memset(img, 0, 4096);
	EXPECT(probe(4096, &why), -FW_ENOEXEC, why, "unknown kernel format", "zeros");
	EXPECT(probe(3, &why), -FW_ENOEXEC, why, "unknown kernel format", "3 bytes");
	EXPECT(probe(0, &why), -FW_ENOEXEC, why, "unknown kernel format", "empty");
}

/* Closes a Multiboot2 header at off whose tags end at pos. */
static void mb2_close(u32 off, u32 pos, u32 arch);
static void tag(u32 *pos, u16 type, u16 flags, const u32 *body, u32 nbody);

/* A broken multiboot header in an ELF file matters only when there is no PVH note. */
static void test_elf_broken_multiboot(void **state)
{
	const char *why;
	u32 pos = 0x400 + 16;

	(void)state;
	pvh_build();
	tag(&pos, 42, 0, NULL, 0);
	mb2_close(0x400, pos, 0);
	EXPECT(probe(ELF_SIZE, &why), 0, why, NULL, "PVH despite a broken multiboot2 header");
	assert_int_equal(ki.kind, KFMT_PVH);
	assert_int_equal(ki.mb_version, 0);
	d_no_note();
	EXPECT(probe(ELF_SIZE, &why), -FW_ENOEXEC, why, "unsupported required multiboot2 tag",
	       "broken multiboot2 header, no PVH note");

	/* A bss-only segment: its p_offset is irrelevant, even past the end of the file. */
	pvh_build();
	elf_phdr(64, 64, 1, PT_LOAD, ~0ULL, 0, 0x200000, 0, 0x9000, 0x1000);
	EXPECT(probe(ELF_SIZE, &why), 0, why, NULL, "bss-only segment");
	assert_int_equal(ki.seg[1].file_off, 0);
	assert_int_equal(ki.seg[1].file_size, 0);
	assert_int_equal(ki.seg[1].mem_size, 0x9000);
}

static void test_bad_arguments(void **state)
{
	const char *why;

	(void)state;
	pvh_build();
	assert_int_equal(kfmt_probe(&ki, img, 100, 99, RAM_LO, RAM_HI, &why), -FW_EINVAL);
	assert_int_equal(kfmt_probe(&ki, img, 100, 100, RAM_HI, RAM_HI, &why), -FW_EINVAL);
	assert_int_equal(kfmt_probe(&ki, NULL, 0, 100, RAM_LO, RAM_HI, NULL), -FW_EINVAL);
	assert_int_equal(kfmt_feed(&ki, img, 0, &why), -FW_EINVAL);
	assert_string_equal(kfmt_kind_name(KFMT_PVH), "PVH ELF");
	assert_string_equal(kfmt_kind_name(KFMT_MULTIBOOT1), "Multiboot");
	assert_string_equal(kfmt_kind_name(KFMT_MULTIBOOT2), "Multiboot2");
	assert_string_equal(kfmt_kind_name(KFMT_UNKNOWN), "unknown");
	assert_string_equal(kfmt_kind_name((enum kfmt_kind)77), "unknown");
}

/* ---- Multiboot 1 ---- */

#define MB_SIZE (64 * KiB)

/* A Multiboot 1 header with address fields at off: the image loads at 1 MiB from file offset 0. */
static void mb1_build(u32 off, u32 flags)
{
	memset(img, 0, sizeof(img));
	put32(img + off, 0x1badb002);
	put32(img + off + 4, flags);
	put32(img + off + 8, -(0x1badb002 + flags));
	put32(img + off + 12, 0x100000 + off); /* header_addr */
	put32(img + off + 16, 0x100000);       /* load_addr */
	put32(img + off + 20, 0x100000 + 0x8000);
	put32(img + off + 24, 0x120000);
	put32(img + off + 28, 0x100020);
}

static void mb1_sum(u32 off)
{
	put32(img + off + 8, -(0x1badb002 + (img[off + 4] | img[off + 5] << 8 |
					     (u32)img[off + 6] << 16 | (u32)img[off + 7] << 24)));
}

static void test_multiboot1(void **state)
{
	const char *why;

	(void)state;
	mb1_build(0x1000, 0x10003);
	EXPECT(probe(MB_SIZE, &why), 0, why, NULL, "mb1");
	assert_int_equal(ki.kind, KFMT_MULTIBOOT1);
	assert_int_equal(ki.mb_version, 1);
	assert_int_equal(ki.mb.header_off, 0x1000);
	assert_true(ki.mb.page_align_modules);
	assert_true(ki.mb.want_mem_info);
	assert_false(ki.mb.want_video);
	assert_int_equal(ki.nr_segs, 1);
	assert_int_equal(ki.seg[0].file_off, 0);
	assert_int_equal(ki.seg[0].file_size, 0x8000);
	assert_int_equal(ki.seg[0].dest, 0x100000);
	assert_int_equal(ki.seg[0].mem_size, 0x20000);
	assert_int_equal(ki.entry, 0x100020);

	/* load_addr above the file start; load_end 0 (to the end of file); no bss. */
	mb1_build(0x1000, 0x10004);
	put32(img + 0x1000 + 16, 0x100800);
	put32(img + 0x1000 + 20, 0);
	put32(img + 0x1000 + 24, 0);
	put32(img + 0x1000 + 28, 0x100900);
	EXPECT(probe(MB_SIZE, &why), 0, why, NULL, "mb1 to the end");
	assert_true(ki.mb.want_video);
	assert_int_equal(ki.seg[0].file_off, 0x800);
	assert_int_equal(ki.seg[0].file_size, MB_SIZE - 0x800);
	assert_int_equal(ki.seg[0].mem_size, MB_SIZE - 0x800);

	/* At the last aligned place of the 8 KiB search window. */
	mb1_build(8192 - 32, 0x10000);
	EXPECT(probe(MB_SIZE, &why), 0, why, NULL, "mb1 at the window's end");
}

struct mb_defect {
	const char *name;
	u32 off, value;
	bool resum;
	int rc;
	const char *why;
};

static const struct mb_defect mb1_defects[] = {
	{ "checksum", 8, 0, false, -FW_ENOEXEC, "unknown kernel format" },
	{ "required flag 3", 4, 0x10008, true, -FW_ENOEXEC,
	  "multiboot header requires unsupported features" },
	{ "required flag 15", 4, 0x18000, true, -FW_ENOEXEC,
	  "multiboot header requires unsupported features" },
	{ "no address fields, not ELF", 4, 0, true, -FW_ENOEXEC,
	  "multiboot kernel neither ELF nor with address fields" },
	{ "load_addr above header_addr", 16, 0x101001, false, -FW_ENOEXEC,
	  "multiboot load_addr inconsistent with header_addr" },
	{ "load_addr before the file", 16, 0xfefff, false, -FW_ENOEXEC,
	  "multiboot load_addr inconsistent with header_addr" },
	{ "load_end below load_addr", 20, 0xfffff, false, -FW_ENOEXEC,
	  "multiboot load_end_addr outside the file" },
	{ "load_end past the file", 20, 0x100000 + MB_SIZE + 1, false, -FW_ENOEXEC,
	  "multiboot load_end_addr outside the file" },
	{ "bss_end below load_end", 24, 0x107fff, false, -FW_ENOEXEC,
	  "multiboot bss_end_addr below load_end_addr" },
	{ "entry outside", 28, 0x120000, false, -FW_ENOEXEC,
	  "entry point outside the loaded image" },
	{ "bss beyond the window", 24, RAM_HI + 1, false, -FW_ERANGE,
	  "a segment lies outside the RAM window" },
	{ "header_addr 4 GiB", 12, 0xffffffff, false, -FW_ENOEXEC,
	  "multiboot load_addr inconsistent with header_addr" },
};

static void test_multiboot1_defects(void **state)
{
	const char *why;

	(void)state;
	for (u32 i = 0; i < ARRAY_SIZE(mb1_defects); i++) {
		const struct mb_defect *d = &mb1_defects[i];

		mb1_build(0x1000, 0x10000);
		put32(img + 0x1000 + d->off, d->value);
		if (d->resum)
			mb1_sum(0x1000);
		EXPECT(probe(MB_SIZE, &why), d->rc, why, d->why, d->name);
	}
	mb1_build(0x1002, 0x10000); /* not 4-aligned */
	EXPECT(probe(MB_SIZE, &why), -FW_ENOEXEC, why, "unknown kernel format", "misaligned");
	mb1_build(8192, 0x10000); /* outside the first 8 KiB */
	EXPECT(probe(MB_SIZE, &why), -FW_ENOEXEC, why, "unknown kernel format", "too far");
	mb1_build(8192 - 16, 0x10000); /* address fields cut by the window */
	EXPECT(probe(MB_SIZE, &why), -FW_ENOEXEC, why, "multiboot address fields truncated", "cut");
	mb1_build(0x1000, 0x10000);
	EXPECT(probe(0x1000 + 20, &why), -FW_ENOEXEC, why, "multiboot address fields truncated",
	       "file ends");
}

/* ---- Multiboot2 ---- */

/* Appends a tag at *pos (8-aligned afterwards). */
static void tag(u32 *pos, u16 type, u16 flags, const u32 *body, u32 nbody)
{
	put16(img + *pos, type);
	put16(img + *pos + 2, flags);
	put32(img + *pos + 4, 8 + 4 * nbody);
	for (u32 i = 0; i < nbody; i++)
		put32(img + *pos + 8 + 4 * i, body[i]);
	*pos += (8 + 4 * nbody + 7) & ~7u;
}

/* Closes a Multiboot2 header at off whose tags end at pos. */
static void mb2_close(u32 off, u32 pos, u32 arch)
{
	tag(&pos, 0, 0, NULL, 0);
	put32(img + off, 0xe85250d6);
	put32(img + off + 4, arch);
	put32(img + off + 8, pos - off);
	put32(img + off + 12, -(0xe85250d6 + arch + (pos - off)));
}

static u32 mb2_addr_tag; /* where mb2_build() put the address tag */

/* Every tag type, loaded by the address tag from file offset 0 to 1 MiB. */
static void mb2_build(u32 off)
{
	static const u32 req[] = { 1, 6, 8 }, req_opt[] = { 14 };
	u32 pos = off + 16;

	memset(img, 0, sizeof(img));
	tag(&pos, 1, 0, req, 3);
	tag(&pos, 1, 1, req_opt, 1);
	mb2_addr_tag = pos;
	tag(&pos, 2, 0, (const u32[]){ 0x100000 + off, 0x100000, 0x100000 + 0x9000, 0x130000 }, 4);
	tag(&pos, 3, 0, (const u32[]){ 0x100100 }, 1);
	tag(&pos, 4, 0, (const u32[]){ 3 }, 1);
	tag(&pos, 5, 1, (const u32[]){ 1024, 768, 32 }, 3);
	tag(&pos, 6, 0, NULL, 0);
	tag(&pos, 7, 1, NULL, 0);
	tag(&pos, 8, 1, (const u32[]){ 0x100200 }, 1);
	tag(&pos, 9, 1, (const u32[]){ 0x100300 }, 1);
	tag(&pos, 10, 1, (const u32[]){ 0x100000, 0x1000000, 0x200000, 1 }, 4);
	tag(&pos, 42, 1, (const u32[]){ 0xdead }, 1); /* unknown, optional */
	mb2_close(off, pos, 0);
}

static void test_multiboot2(void **state)
{
	const char *why;

	(void)state;
	mb2_build(0x800);
	EXPECT(probe(MB_SIZE, &why), 0, why, NULL, "mb2");
	assert_int_equal(ki.kind, KFMT_MULTIBOOT2);
	assert_int_equal(ki.mb.header_off, 0x800);
	assert_int_equal(ki.mb.nr_req, 4);
	assert_int_equal(ki.mb.req[1].type, 6);
	assert_false(ki.mb.req[2].optional);
	assert_int_equal(ki.mb.req[3].type, 14);
	assert_true(ki.mb.req[3].optional);
	assert_true(ki.mb.has_console_flags);
	assert_int_equal(ki.mb.console_flags, 3);
	assert_true(ki.mb.want_video);
	assert_true(ki.mb.page_align_modules);
	assert_true(ki.mb.relocatable);
	assert_int_equal(ki.mb.reloc_align, 0x200000);
	assert_int_equal(ki.seg[0].file_off, 0);
	assert_int_equal(ki.seg[0].file_size, 0x9000);
	assert_int_equal(ki.seg[0].mem_size, 0x30000);
	assert_int_equal(ki.entry, 0x100100);

	/* load_addr -1: the file from its start, header_addr deciding where. */
	put32(img + mb2_addr_tag + 12, 0xffffffff); /* load_addr */
	put32(img + mb2_addr_tag + 16, 0);	    /* load_end_addr */
	put32(img + mb2_addr_tag + 20, 0);	    /* bss_end_addr */
	EXPECT(probe(MB_SIZE, &why), 0, why, NULL, "mb2 load from start");
	assert_int_equal(ki.seg[0].file_off, 0);
	assert_int_equal(ki.seg[0].dest, 0x100000);
	assert_int_equal(ki.seg[0].file_size, MB_SIZE);

	/* Multiboot 1 and 2 in one file: Multiboot2 is preferred. */
	mb2_build(0x800);
	put32(img + 0x100, 0x1badb002);
	put32(img + 0x104, 0);
	put32(img + 0x108, -0x1badb002);
	EXPECT(probe(MB_SIZE, &why), 0, why, NULL, "mb1 and mb2");
	assert_int_equal(ki.kind, KFMT_MULTIBOOT2);
}

/* Headers with one broken tag each. */
static void test_multiboot2_defects(void **state)
{
	const char *why;
	u32 pos;

	(void)state;
	mb2_build(0x800);
	put32(img + 0x80c, 0);
	EXPECT(probe(MB_SIZE, &why), -FW_ENOEXEC, why, "unknown kernel format", "checksum");
	mb2_build(0x800);
	mb2_close(0x800, 0x800 + 16 + 16 + 8, 4);
	EXPECT(probe(MB_SIZE, &why), -FW_ENOEXEC, why, "multiboot2 header for another architecture",
	       "mips");
	mb2_build(0x804); /* not 8-aligned */
	EXPECT(probe(MB_SIZE, &why), -FW_ENOEXEC, why, "unknown kernel format", "misaligned");
	mb2_build(32768);
	EXPECT(probe(MB_SIZE, &why), -FW_ENOEXEC, why, "unknown kernel format", "too far");

	struct {
		const char *name;
		u16 type, flags;
		const u32 *body;
		u32 n;
		const char *why;
	} cases[] = {
		{ "required unknown tag", 42, 0, NULL, 0, "unsupported required multiboot2 tag" },
		{ "short address tag", 2, 0, (const u32[]){ 1, 2 }, 2, "multiboot2 tag too short" },
		{ "short entry tag", 3, 0, NULL, 0, "multiboot2 tag too short" },
		{ "short relocatable tag", 10, 1, (const u32[]){ 1 }, 1,
		  "multiboot2 tag too short" },
	};
	for (u32 i = 0; i < ARRAY_SIZE(cases); i++) {
		memset(img, 0, sizeof(img));
		pos = 0x800 + 16;
		tag(&pos, 3, 0, (const u32[]){ 0x100100 }, 1);
		tag(&pos, cases[i].type, cases[i].flags, cases[i].body, cases[i].n);
		mb2_close(0x800, pos, 0);
		EXPECT(probe(MB_SIZE, &why), -FW_ENOEXEC, why, cases[i].why, cases[i].name);
	}

	/* An information request of 33 types, and one of a size not made of whole u32s. */
	{
		u32 many[33];

		for (u32 i = 0; i < 33; i++)
			many[i] = i;
		memset(img, 0, sizeof(img));
		pos = 0x800 + 16;
		tag(&pos, 1, 0, many, 33);
		mb2_close(0x800, pos, 0);
		EXPECT(probe(MB_SIZE, &why), -FW_ENOEXEC, why,
		       "too many multiboot2 information requests", "33 requests");
		put32(img + 0x800 + 16 + 4, 8 + 4 * 33 - 2);
		EXPECT(probe(MB_SIZE, &why), -FW_ENOEXEC, why,
		       "bad multiboot2 information request tag", "odd request size");
	}

	/* Tag sizes that lie. */
	memset(img, 0, sizeof(img));
	pos = 0x800 + 16;
	tag(&pos, 6, 0, NULL, 0);
	mb2_close(0x800, pos, 0);
	put32(img + 0x800 + 16 + 4, 4);
	EXPECT(probe(MB_SIZE, &why), -FW_ENOEXEC, why, "bad multiboot2 tag size", "size 4");
	put32(img + 0x800 + 16 + 4, 0x1000);
	EXPECT(probe(MB_SIZE, &why), -FW_ENOEXEC, why, "bad multiboot2 tag size", "size past");
	put32(img + 0x800 + 16 + 4, 8);
	put32(img + 0x800 + 16 + 8 + 4, 0xfffffff8); /* the end tag's size */
	EXPECT(probe(MB_SIZE, &why), -FW_ENOEXEC, why, "bad multiboot2 tag size", "end tag size");
	/* No end tag within header_length. */
	memset(img, 0, sizeof(img));
	put32(img + 0x800, 0xe85250d6);
	put32(img + 0x808, 32);
	put32(img + 0x80c, -(0xe85250d6 + 32));
	tag(&(u32){ 0x810 }, 6, 0, NULL, 0);
	tag(&(u32){ 0x818 }, 6, 0, NULL, 0);
	EXPECT(probe(MB_SIZE, &why), -FW_ENOEXEC, why, "multiboot2 tags run past the header",
	       "no end tag");
	/* header_length out of range. */
	put32(img + 0x808, 16);
	put32(img + 0x80c, -(0xe85250d6 + 16));
	EXPECT(probe(MB_SIZE, &why), -FW_ENOEXEC, why, "multiboot2 header length out of range",
	       "length 16");
	put32(img + 0x808, 0x10000);
	put32(img + 0x80c, -(0xe85250d6 + 0x10000));
	EXPECT(probe(MB_SIZE, &why), -FW_ENOEXEC, why, "multiboot2 header length out of range",
	       "length 64 KiB");
	/* An address tag with no entry address. */
	memset(img, 0, sizeof(img));
	pos = 0x800 + 16;
	tag(&pos, 2, 0, (const u32[]){ 0x100800, 0x100000, 0, 0 }, 4);
	mb2_close(0x800, pos, 0);
	EXPECT(probe(MB_SIZE, &why), -FW_ENOEXEC, why,
	       "multiboot address tag without an entry address", "no entry");
	/* load_addr -1 with a header_addr below the header's own offset. */
	memset(img, 0, sizeof(img));
	pos = 0x800 + 16;
	tag(&pos, 2, 0, (const u32[]){ 0x700, 0xffffffff, 0, 0 }, 4);
	tag(&pos, 3, 0, (const u32[]){ 0x100100 }, 1);
	mb2_close(0x800, pos, 0);
	EXPECT(probe(MB_SIZE, &why), -FW_ENOEXEC, why, "multiboot header_addr below the image",
	       "header_addr low");
}

/* ---- ELF kernels built by as and ld ---- */

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	if (rc)
		fail_msg("command failed (%d): %s", rc, cmd);
}

static size_t load_file(const char *name)
{
	char path[600];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	n = fread(img, 1, sizeof(img), f);
	assert_true(n > 0 && n < sizeof(img));
	fclose(f);
	return n;
}

/* Assembles src and links it with ld_args in the temporary directory. */
static void build(const char *name, const char *as_args, const char *ld_args, const char *src)
{
	char path[600];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.S", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(src, f);
	fclose(f);
	sh("cd %s && as %s -o %s.o %s.S && ld %s --build-id=none -z noexecstack "
	   "-z max-page-size=0x1000 -o %s %s.o",
	   tmpdir, as_args, name, name, ld_args, name, name);
}

/* Linux's layout: code at 16 MiB, Xen notes in a PT_NOTE, data and bss. */
static const char pvh_src[] = ".code32\n"
			      ".text\n"
			      ".globl _start\n"
			      "_start: hlt\n"
			      "        jmp _start\n"
			      "pvh_start: cli\n"
			      "        hlt\n"
			      ".section .note.Xen, \"a\", @note\n"
			      ".balign 4\n"
			      ".long 4, 4, 6\n" /* XEN_ELFNOTE_LOADER */
			      ".asciz \"Xen\"\n"
			      ".ascii \"gen\\0\"\n"
			      ".long 4, 4, 18\n" /* XEN_ELFNOTE_PHYS32_ENTRY */
			      ".asciz \"Xen\"\n"
			      ".long pvh_start\n"
			      ".data\n"
			      ".long 0x12345678\n"
			      ".bss\n"
			      ".space 65536\n";

/* A 32-bit Multiboot kernel, loaded by its ELF program headers. */
static const char mb1_src[] = ".text\n"
			      ".globl _start\n"
			      ".balign 4\n"
			      "mbh: .long 0x1badb002, 3, -(0x1badb002 + 3)\n"
			      "_start: hlt\n"
			      ".data\n"
			      ".long 1\n";

/* A higher-half ELF64 Multiboot2 kernel: e_entry virtual, p_paddr physical. */
static const char mb2_src[] = ".section .mb2, \"a\"\n"
			      ".balign 8\n"
			      "h: .long 0xe85250d6, 0, he - h, -(0xe85250d6 + (he - h))\n"
			      ".short 0, 0\n"
			      ".long 8\n"
			      "he:\n"
			      ".text\n"
			      ".globl _start\n"
			      "_start: hlt\n";

static const char mb2_lds[] =
    "ENTRY(_start)\n"
    "SECTIONS {\n"
    "  . = 0xffffffff80100000;\n"
    "  .text : AT(0x100000) { *(.mb2) *(.text) }\n"
    "  . = ALIGN(0x1000);\n"
    "  .data : AT(ADDR(.data) - 0xffffffff80000000) { *(.data) *(.bss) }\n"
    "}\n";

static void test_elf_built(void **state)
{
	char path[600];
	const char *why;
	size_t n;
	FILE *f;

	(void)state;
	build("pvh", "--64", "-m elf_x86_64 -Ttext=0x1000000", pvh_src);
	n = load_file("pvh");
	EXPECT(probe_win(img, n, RAM_LO, RAM_HI, &why), 0, why, NULL, "as/ld PVH");
	assert_int_equal(ki.kind, KFMT_PVH);
	assert_int_equal(ki.entry, 0x1000003); /* pvh_start, after hlt and a 2-byte jmp */
	assert_true(ki.nr_segs >= 2);
	for (u32 i = 0; i < ki.nr_segs; i++)
		assert_true(ki.seg[i].file_off + ki.seg[i].file_size <= n);
	/* The bss is in the plan: some segment's memory reaches 64 KiB past its file part. */
	{
		bool bss = false;

		for (u32 i = 0; i < ki.nr_segs; i++)
			bss |= ki.seg[i].mem_size - ki.seg[i].file_size >= 65536;
		assert_true(bss);
	}

	build("mb1", "--32", "-m elf_i386 -Ttext=0x200000", mb1_src);
	n = load_file("mb1");
	EXPECT(probe_win(img, n, RAM_LO, RAM_HI, &why), 0, why, NULL, "as/ld Multiboot");
	assert_int_equal(ki.kind, KFMT_MULTIBOOT1);
	assert_int_equal(ki.entry, 0x20000c);
	assert_false(ki.mb.has_addr);

	snprintf(path, sizeof(path), "%s/mb2.lds", tmpdir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(mb2_lds, f);
	fclose(f);
	build("mb2", "--64", "-m elf_x86_64 -T mb2.lds", mb2_src);
	n = load_file("mb2");
	EXPECT(probe_win(img, n, RAM_LO, RAM_HI, &why), 0, why, NULL, "as/ld Multiboot2");
	assert_int_equal(ki.kind, KFMT_MULTIBOOT2);
	assert_int_equal(ki.entry, 0x100018); /* e_entry 0xffffffff80100018 through p_paddr */
	assert_int_equal(ki.seg[0].dest, 0x100000);

	/* A PVH note beats a multiboot header in the same ELF. */
	build("both", "--64", "-m elf_x86_64 -Ttext=0x1000000",
	      ".text\n"
	      ".balign 8\n"
	      "h: .long 0xe85250d6, 0, he - h, -(0xe85250d6 + (he - h))\n"
	      ".short 0, 0\n"
	      ".long 8\n"
	      "he:\n"
	      ".globl _start\n"
	      "_start: hlt\n"
	      ".section .note.Xen, \"a\", @note\n.balign 4\n"
	      ".long 4, 4, 18\n.asciz \"Xen\"\n.long _start\n");
	n = load_file("both");
	EXPECT(probe_win(img, n, RAM_LO, RAM_HI, &why), 0, why, NULL, "PVH and Multiboot2");
	assert_int_equal(ki.kind, KFMT_PVH);
	assert_int_equal(ki.mb_version, 2);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bzimage),
		cmocka_unit_test(test_bzimage_defects),
		cmocka_unit_test(test_real_bzimage),
		cmocka_unit_test(test_elf_pvh),
		cmocka_unit_test(test_elf_reads_beyond_head),
		cmocka_unit_test(test_elf_defects),
		cmocka_unit_test(test_elf_broken_multiboot),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_multiboot1),
		cmocka_unit_test(test_multiboot1_defects),
		cmocka_unit_test(test_multiboot2),
		cmocka_unit_test(test_multiboot2_defects),
		cmocka_unit_test(test_elf_built),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

/*
 * Disk boot: virtio-blk -> GPT boot partition -> FAT -> /loader/entries ->
 * the first entry in Boot Loader Specification order -> its kernel, read
 * straight to its load address.
 */
#include "boot.h"
#include "console.h"
#include "fat.h"
#include "gpt.h"
#include "handoff.h"
#include "io.h"
#include "layout.h"
#include "mem.h"
#include "virtio_blk.h"

#define ENTRIES_DIR	 "/loader/entries"
#define ENTRY_MAX_BYTES	 16384
#define ENTRY_SUFFIX	 ".conf"
#define INITRD_ALIGN	 4096
#define INITRD_PAD	 4 /* concatenated cpio archives start 4-byte aligned */
#define KERNEL_RAM_START (1 * MiB)
#define STAGE_ALIGN	 4096

static struct vblk vblk;
static struct fat_fs fs;
static struct boot_plan plan;
static u8 kernel_head[KFMT_HEAD_SIZE];
static u8 kernel_more[KFMT_NEED_MAX];
static char entry_text[ENTRY_MAX_BYTES];
static struct bls_entry candidate;
static char dirent_name[FAT_NAME_MAX];

static void disk_open(const struct platform *pf, struct fw_disk *d)
{
	const struct pci_func *f = platform_find_pci(pf, VIRTIO_PCI_VENDOR, VIRTIO_BLK_DEVICE_ID);
	const char *why;

	if (!f)
		fw_fatal("no virtio-blk device (PCI %04x:%04x) on bus 0: nothing to boot from",
			 VIRTIO_PCI_VENDOR, VIRTIO_BLK_DEVICE_ID);
	if (vblk_init(&vblk, f, &why))
		fw_fatal("virtio-blk at %02x:%02x.%x: %s", f->bus, f->dev, f->fn, why);
	fw_log("virtio-blk at %02x:%02x.%x: %lu sectors (%lu MiB)", f->bus, f->dev, f->fn,
	       vblk.capacity, vblk.capacity / 2048);
	*d = (struct fw_disk){ .read = vblk_read, .ctx = &vblk, .sectors = vblk.capacity };
}

static void partition_mount(const struct fw_disk *d)
{
	struct gpt_part part;
	const char *why = "";
	int err = gpt_find_boot(d, &part, &why);

	if (err == -FW_EINVAL)
		fw_fatal("disk: no valid GPT: %s", why);
	if (err == -FW_ENOENT)
		fw_fatal("disk: the GPT has no boot partition (no XBOOTLDR or EFI System "
			 "partition)");
	if (err)
		fw_fatal("disk: reading the GPT failed (error %d)", err);
	fw_log("boot partition %u \"%s\": LBA %lu-%lu", part.index + 1, part.name, part.first_lba,
	       part.last_lba);
	err = fat_mount(&fs, d, part.first_lba, part.last_lba - part.first_lba + 1, &why);
	if (err == -FW_EINVAL)
		fw_fatal("boot partition: not a FAT file system: %s", why);
	if (err)
		fw_fatal("boot partition: reading the FAT file system failed (error %d)", err);
}

/* Reads a whole small file into buf (NUL-terminated); its length, or a negative error. */
static long read_small(const struct fat_file *f, char *buf, size_t cap)
{
	long n;

	if (f->size >= cap)
		return -FW_EFBIG;
	n = fat_read(&fs, f, 0, buf, f->size);
	if (n >= 0 && (u64)n != f->size)
		return -FW_EIO;
	if (n >= 0)
		buf[n] = 0;
	return n;
}

/* Parses one loader entry (a .conf file) into candidate; true if it is bootable here. */
static bool entry_load(const char *name, const struct fat_file *f)
{
	long n = read_small(f, entry_text, sizeof(entry_text));
	const char *why = "";
	int err;

	if (n < 0) {
		fw_log("entry %s: unreadable (%s), skipped", name,
		       n == -FW_EFBIG ? "larger than 16 KiB" : "read error");
		return false;
	}
	err = bls_parse(entry_text, (size_t)n, name, &candidate, &why);
	if (err)
		fw_log("entry %s: %s, skipped", name, why);
	return !err;
}

static bool is_conf(const char *name)
{
	size_t n = strlen(name), s = sizeof(ENTRY_SUFFIX) - 1;

	if (n <= s)
		return false;
	for (size_t i = 0; i < s; i++) {
		char c = name[n - s + i];

		if ((c >= 'A' && c <= 'Z' ? c + 32 : c) != ENTRY_SUFFIX[i])
			return false;
	}
	return true;
}

/* Picks the first entry in BLS order into plan.entry. */
static void entry_select(void)
{
	struct fat_file dir, f;
	u64 cookie = 0;
	int found = 0, r;

	if (fat_open(&fs, ENTRIES_DIR, &dir) || !dir.is_dir)
		fw_fatal("no boot entries: the boot partition has no %s directory", ENTRIES_DIR);
	while ((r = fat_readdir(&fs, &dir, &cookie, dirent_name, sizeof(dirent_name), &f)) != 0) {
		if (r < 0 && r != -FW_ERANGE)
			fw_fatal("reading %s failed (error %d)", ENTRIES_DIR, r);
		if (r < 0 || f.is_dir || !is_conf(dirent_name) || !entry_load(dirent_name, &f))
			continue;
		if (!found++ || bls_compare(&candidate, &plan.entry) < 0)
			plan.entry = candidate;
	}
	if (!found)
		fw_fatal("no boot entries: no usable %s/*.conf file", ENTRIES_DIR);
	fw_log("booting \"%s\" (entry %s of %d)",
	       plan.entry.title[0] ? plan.entry.title : plan.entry.id, plan.entry.id, found);
}

/* Reads len bytes at off of f into buf, or halts naming what was being read. */
static void read_exact(const struct fat_file *f, u64 off, void *buf, u64 len, const char *path)
{
	long n = fat_read(&fs, f, off, buf, len);

	if (n < 0 || (u64)n != len)
		fw_fatal("%s: read of %lu bytes at offset %lu failed (%s)", path, len, off,
			 n < 0 ? "disk or file system error" : "file too short");
}

static void kernel_probe(const struct fat_file *f, u64 ram_hi)
{
	const char *path = plan.entry.linux_path, *why = "";
	u64 n = MIN((u64)f->size, (u64)KFMT_HEAD_SIZE);
	int rc;

	read_exact(f, 0, kernel_head, n, path);
	plan.head = kernel_head;
	plan.head_len = n;
	/* From 0: what is reserved below 1 MiB is named by the claims (kernel_place()). */
	rc = kfmt_probe(&plan.ki, kernel_head, n, f->size, 0, ram_hi, &why);
	while (rc == KFMT_MORE) {
		read_exact(f, plan.ki.need_off, kernel_more, plan.ki.need_len, path);
		rc = kfmt_feed(&plan.ki, kernel_more, plan.ki.need_len, &why);
	}
	if (rc < 0)
		fw_fatal("kernel %s: cannot load it: %s", path, why);
}

/*
 * Claims a segment's place. A kernel entered in 32-bit mode (Multiboot, PVH)
 * may take the firmware's own memory, which the firmware leaves at the jump
 * (kernel_read_seg()); a relocatable bzImage moves up to the next free
 * aligned address if its preferred one is taken. Anything else is refused
 * naming the claim in the way.
 */
static void kernel_place(struct kfmt_seg *s, u64 ram_hi)
{
	const char *conflict;
	bool bz = plan.ki.kind == KFMT_BZIMAGE;
	int err = bz ? mem_claim(s->dest, s->mem_size, E820_RAM, "the kernel", &conflict)
		     : mem_claim_final(s->dest, s->mem_size, E820_RAM, "the kernel", &conflict);

	if (err && bz && plan.ki.bz.relocatable) {
		u64 a = mem_alloc(s->mem_size, plan.ki.bz.kernel_alignment, plan.ki.bz.pref_address,
				  ram_hi, false, E820_RAM, "the kernel");

		if (a) {
			plan.ki.entry = a + KFMT_BZ_ENTRY_64;
			s->dest = a;
			return;
		}
	}
	if (err)
		fw_fatal("kernel %s: cannot load it: 0x%lx-0x%lx overlaps %s",
			 plan.entry.linux_path, s->dest, s->dest + s->mem_size, conflict);
}

/*
 * Reads a segment to its place, or, when that is the firmware's own memory,
 * to a copy as high as possible that handoff_enter32() moves into place once
 * the firmware is done. Every place is claimed first, so no copy lands on one.
 */
static void kernel_read_seg(const struct fat_file *f, const struct kfmt_seg *s, u64 ram_hi)
{
	u64 to = s->dest;

	if (mem_overlaps_movable(s->dest, s->mem_size)) {
		to = mem_alloc(s->mem_size, STAGE_ALIGN, FW_LEGACY_END, ram_hi, true, E820_RAM,
			       "a staged kernel segment");
		if (!to)
			fw_fatal("kernel %s: no free RAM below 0x%lx to stage 0x%lx-0x%lx, which "
				 "the firmware itself uses until the jump",
				 plan.entry.linux_path, ram_hi, s->dest, s->dest + s->mem_size);
		handoff_add_move(s->dest, to, s->mem_size);
		fw_log("kernel segment 0x%lx-0x%lx is the firmware's memory: staged at 0x%lx, "
		       "moved at the jump",
		       s->dest, s->dest + s->mem_size, to);
	}
	read_exact(f, s->file_off, (void *)(uintptr_t)to, s->file_size, plan.entry.linux_path);
	/* ELF .bss; a bzImage's init_size is room for its decompressor, not data */
	if (plan.ki.kind != KFMT_BZIMAGE)
		memset((u8 *)(uintptr_t)to + s->file_size, 0, s->mem_size - s->file_size);
}

static void kernel_load(void)
{
	const char *path = plan.entry.linux_path;
	u64 ram_hi = e820_ram_end_from(mem_platform_map(), KERNEL_RAM_START);
	struct fat_file f;

	if (fat_open(&fs, path, &f) || f.is_dir)
		fw_fatal("kernel %s: no such file on the boot partition", path);
	plan.kernel_bytes = f.size;
	if (plan.pf->acpi_base > KERNEL_RAM_START && plan.pf->acpi_base < ram_hi)
		ram_hi = plan.pf->acpi_base;
	kernel_probe(&f, ram_hi);
	for (u32 i = 0; i < plan.ki.nr_segs; i++)
		kernel_place(&plan.ki.seg[i], ram_hi);
	for (u32 i = 0; i < plan.ki.nr_segs; i++)
		kernel_read_seg(&f, &plan.ki.seg[i], ram_hi);
	handoff_area_init();
	fw_log("kernel %s: %s, %lu bytes, %u segment(s) from 0x%lx, entry 0x%lx", path,
	       kfmt_kind_name(plan.ki.kind), plan.kernel_bytes, plan.ki.nr_segs,
	       plan.ki.seg[0].dest, plan.ki.entry);
}

static void initrd_open(u32 i, struct fat_file *f)
{
	const char *path = plan.entry.initrd[i];

	if (fat_open(&fs, path, f) || f->is_dir)
		fw_fatal("initrd %s: no such file on the boot partition", path);
}

static u64 initrd_place(u64 size, u64 limit, const char *path)
{
	u64 a = mem_alloc(size, INITRD_ALIGN, KERNEL_RAM_START, limit, true, E820_RAM, path);

	if (!a)
		fw_fatal("initrd %s (%lu bytes) does not fit in free RAM below 0x%lx", path, size,
			 MIN(limit, FW_LOW_4G));
	return a;
}

void boot_load_initrds(struct boot_plan *bp, bool separate, u64 limit)
{
	struct fat_file f[BLS_MAX_INITRD];
	u64 total = 0, off = 0;

	for (u32 i = 0; i < bp->entry.nr_initrd; i++) {
		initrd_open(i, &f[i]);
		total += ALIGN_UP((u64)f[i].size, INITRD_PAD);
	}
	if (!separate && total)
		bp->initrd_addr = initrd_place(total, limit, bp->entry.initrd[0]);
	for (u32 i = 0; i < bp->entry.nr_initrd; i++) {
		struct boot_module *m = &bp->mod[bp->nr_mods++];
		u64 pad = ALIGN_UP((u64)f[i].size, INITRD_PAD) - f[i].size;

		m->path = bp->entry.initrd[i];
		m->size = f[i].size;
		m->addr = separate ? initrd_place(MAX(m->size, 1), limit, m->path)
				   : bp->initrd_addr + off;
		read_exact(&f[i], 0, (void *)(uintptr_t)m->addr, m->size, m->path);
		memset((u8 *)(uintptr_t)(m->addr + m->size), 0, separate ? 0 : pad);
		off += m->size + pad;
		fw_log("initrd %s: %lu bytes at 0x%lx", m->path, m->size, m->addr);
	}
	bp->initrd_size = separate ? 0 : total;
}

void boot_report(const struct boot_plan *bp, const char *protocol, u64 entry)
{
	const struct platform *pf = bp->pf;
	u64 t;

	vblk_shutdown(&vblk);
	fw_log("read %lu bytes from disk in %lu requests, %lu TSC ticks waiting", vblk.bytes,
	       vblk.requests, vblk.ticks);
	fw_log("handing over to %s entry 0x%lx", protocol, entry);
	t = rdtsc();
	fw_log("tsc reset %lu handoff %lu (%lu ticks)", pf->tsc_reset, t, t - pf->tsc_reset);
}

_Noreturn void boot_from_disk(const struct platform *pf)
{
	struct fw_disk disk;

	plan.pf = pf;
	disk_open(pf, &disk);
	partition_mount(&disk);
	entry_select();
	kernel_load();
	switch (plan.ki.kind) {
	case KFMT_BZIMAGE:
		boot_linux(&plan);
	case KFMT_PVH:
		boot_pvh(&plan);
	case KFMT_MULTIBOOT1:
	case KFMT_MULTIBOOT2:
		boot_multiboot(&plan);
	default:
		fw_fatal("kernel %s: no boot protocol for it", plan.entry.linux_path);
	}
}

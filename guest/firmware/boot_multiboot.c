/*
 * Multiboot 0.6.96 ("Boot information format", "Machine state") and
 * Multiboot2 2.0 ("Boot information", "I386 machine state"): 32-bit
 * protected mode with paging off, EAX = the loader magic, EBX = the
 * information structure. Each initrd is a page-aligned module whose string
 * is its path; the command line is the entry's options, as GRUB 2 passes it
 * (without the kernel's file name). Everything given by address lives in
 * the reserved hand-off area.
 */
#include "boot.h"
#include "console.h"
#include "handoff.h"
#include "layout.h"
#include "mem.h"

#define MB1_LOADER_MAGIC 0x2BADB002
#define MB2_LOADER_MAGIC 0x36D76289
#define LOADER_NAME	 "vsi-pc firmware"

/* Multiboot 1 info flags */
#define MB1_INFO_MEMORY	     (1U << 0)
#define MB1_INFO_CMDLINE     (1U << 2)
#define MB1_INFO_MODS	     (1U << 3)
#define MB1_INFO_MEM_MAP     (1U << 6)
#define MB1_INFO_LOADER_NAME (1U << 9)

/* Multiboot2 tag types */
#define MB2_TAG_END	    0
#define MB2_TAG_CMDLINE	    1
#define MB2_TAG_LOADER_NAME 2
#define MB2_TAG_MODULE	    3
#define MB2_TAG_MEMINFO	    4
#define MB2_TAG_MMAP	    6
#define MB2_TAG_ACPI_OLD    14
#define MB2_TAG_ACPI_NEW    15
#define MB2_TAG_ALIGN	    8
#define MB2_INFO_MAX	    8192

#define RSDP_V1_LEN 20
#define RSDP_V2_LEN 36

struct mb1_info {
	u32 flags;
	u32 mem_lower, mem_upper;
	u32 boot_device;
	u32 cmdline;
	u32 mods_count, mods_addr;
	u32 syms[4];
	u32 mmap_length, mmap_addr;
	u32 drives_length, drives_addr;
	u32 config_table;
	u32 boot_loader_name;
	u32 apm_table;
	u8 vbe_and_framebuffer[48];
};
_Static_assert(sizeof(struct mb1_info) == 120, "multiboot_info is 120 bytes");

struct mb1_module {
	u32 mod_start, mod_end, string, reserved;
};

struct mb1_mmap {
	u32 size; /* of the rest: 20 */
	u64 addr, len;
	u32 type;
} __packed;

struct mb2_mmap {
	u64 addr, len;
	u32 type, reserved;
};

static struct e820_map map;

static u32 addr32(const void *p)
{
	return (u32)(uintptr_t)p;
}

/*
 * Conventional memory below 640 KiB (from the platform's map: page 0 counts)
 * and the contiguous RAM from 1 MiB in the map handed over, in KiB.
 */
static void mem_sizes(u32 *lower, u32 *upper)
{
	u64 lo = e820_ram_end_from(mem_platform_map(), 0);
	u64 hi = e820_ram_end_from(&map, FW_LEGACY_END);

	*lower = (u32)(MIN(lo, FW_LEGACY_BASE) / KiB);
	*upper = hi ? (u32)((MIN(hi, FW_LOW_4G) - FW_LEGACY_END) / KiB) : 0;
}

static u32 mb1_info(const struct boot_plan *bp)
{
	struct mb1_info *mbi = handoff_alloc(sizeof(*mbi), 8);
	struct mb1_module *mods = handoff_alloc(bp->nr_mods * sizeof(*mods), 8);
	struct mb1_mmap *mm = handoff_alloc(map.nr * sizeof(*mm), 8);

	mem_sizes(&mbi->mem_lower, &mbi->mem_upper);
	mbi->cmdline = addr32(handoff_strdup(bp->entry.options));
	for (u32 i = 0; i < bp->nr_mods; i++)
		mods[i] = (struct mb1_module){ (u32)bp->mod[i].addr,
					       (u32)(bp->mod[i].addr + bp->mod[i].size),
					       addr32(handoff_strdup(bp->mod[i].path)), 0 };
	mbi->mods_count = bp->nr_mods;
	mbi->mods_addr = addr32(mods);
	for (u32 i = 0; i < map.nr; i++)
		mm[i] = (struct mb1_mmap){ sizeof(mm[i]) - sizeof(mm[i].size), map.e[i].addr,
					   map.e[i].size, map.e[i].type };
	mbi->mmap_length = map.nr * sizeof(*mm);
	mbi->mmap_addr = addr32(mm);
	mbi->boot_loader_name = addr32(handoff_strdup(LOADER_NAME));
	mbi->flags = MB1_INFO_MEMORY | MB1_INFO_CMDLINE | MB1_INFO_MODS | MB1_INFO_MEM_MAP |
		     MB1_INFO_LOADER_NAME;
	return addr32(mbi);
}

/* Appends one tag (header + len payload bytes) and returns its payload. */
static u8 *mb2_tag(u8 *info, u32 *used, u32 type, u32 len)
{
	u8 *t = info + *used;
	u32 size = 8 + len;

	if (*used + ALIGN_UP(size, MB2_TAG_ALIGN) > MB2_INFO_MAX)
		fw_fatal("the Multiboot2 information does not fit in %u bytes", MB2_INFO_MAX);
	memcpy(t, &type, 4);
	memcpy(t + 4, &size, 4);
	*used += ALIGN_UP(size, MB2_TAG_ALIGN);
	return t + 8;
}

static void mb2_string(u8 *info, u32 *used, u32 type, const char *s)
{
	memcpy(mb2_tag(info, used, type, strlen(s) + 1), s, strlen(s) + 1);
}

static void mb2_modules_mmap(u8 *info, u32 *used, const struct boot_plan *bp)
{
	u32 hdr[2] = { sizeof(struct mb2_mmap), 0 }; /* entry_size, entry_version */
	u8 *p;

	for (u32 i = 0; i < bp->nr_mods; i++) {
		const char *s = bp->mod[i].path;
		u32 range[2] = { (u32)bp->mod[i].addr, (u32)(bp->mod[i].addr + bp->mod[i].size) };

		p = mb2_tag(info, used, MB2_TAG_MODULE, sizeof(range) + strlen(s) + 1);
		memcpy(p, range, sizeof(range));
		memcpy(p + sizeof(range), s, strlen(s) + 1);
	}
	p = mb2_tag(info, used, MB2_TAG_MMAP, sizeof(hdr) + map.nr * sizeof(struct mb2_mmap));
	memcpy(p, hdr, sizeof(hdr));
	for (u32 i = 0; i < map.nr; i++) {
		struct mb2_mmap e = { map.e[i].addr, map.e[i].size, map.e[i].type, 0 };

		memcpy(p + sizeof(hdr) + i * sizeof(e), &e, sizeof(e));
	}
}

static u32 mb2_info(const struct boot_plan *bp)
{
	u8 *info = handoff_alloc(MB2_INFO_MAX, 8);
	const void *rsdp = (const void *)(uintptr_t)bp->pf->rsdp;
	u32 used = 8, mem[2];

	mb2_string(info, &used, MB2_TAG_CMDLINE, bp->entry.options);
	mb2_string(info, &used, MB2_TAG_LOADER_NAME, LOADER_NAME);
	mem_sizes(&mem[0], &mem[1]);
	memcpy(mb2_tag(info, &used, MB2_TAG_MEMINFO, sizeof(mem)), mem, sizeof(mem));
	mb2_modules_mmap(info, &used, bp);
	memcpy(mb2_tag(info, &used, MB2_TAG_ACPI_OLD, RSDP_V1_LEN), rsdp, RSDP_V1_LEN);
	memcpy(mb2_tag(info, &used, MB2_TAG_ACPI_NEW, RSDP_V2_LEN), rsdp, RSDP_V2_LEN);
	mb2_tag(info, &used, MB2_TAG_END, 0);
	memcpy(info, &used, 4); /* total_size; reserved stays 0 */
	return addr32(info);
}

/* Multiboot2 information requests (3.1.4): a required tag this firmware does not give stops the boot. */
static void mb2_check_requests(const struct boot_plan *bp)
{
	static const u32 given[] = { MB2_TAG_CMDLINE,  MB2_TAG_LOADER_NAME, MB2_TAG_MODULE,
				     MB2_TAG_MEMINFO,  MB2_TAG_MMAP,	    MB2_TAG_ACPI_OLD,
				     MB2_TAG_ACPI_NEW, MB2_TAG_END };

	for (u32 i = 0; i < bp->ki.mb.nr_req; i++) {
		bool ok = bp->ki.mb.req[i].optional;

		for (u32 k = 0; k < ARRAY_SIZE(given) && !ok; k++)
			ok = bp->ki.mb.req[i].type == given[k];
		if (!ok)
			fw_fatal("kernel %s: requires Multiboot2 information tag %u, which this "
				 "firmware does not provide",
				 bp->entry.linux_path, bp->ki.mb.req[i].type);
	}
}

_Noreturn void boot_multiboot(struct boot_plan *bp)
{
	bool v2 = bp->ki.kind == KFMT_MULTIBOOT2;
	u32 info;

	if (v2)
		mb2_check_requests(bp);
	if (bp->ki.mb.want_video)
		fw_log("kernel %s: asks for a video mode; there is no display, text only",
		       bp->entry.linux_path);
	boot_load_initrds(bp, true, FW_LOW_4G);
	if (mem_handover_map(&map))
		fw_fatal("the memory map handed over has too many entries");
	info = v2 ? mb2_info(bp) : mb1_info(bp);
	boot_report(bp, v2 ? "Multiboot2" : "Multiboot", bp->ki.entry);
	handoff_enter32((u32)bp->ki.entry, v2 ? MB2_LOADER_MAGIC : MB1_LOADER_MAGIC, info);
}

/*
 * The firmware's GPT reader (guest/firmware/gpt.c): disks partitioned by
 * sgdisk at test time (ESP, XBOOTLDR, both, neither; primary header or
 * array corrupted so the backup must be used; both corrupted), then tables
 * built here field by field (UEFI 2.10 5.3.2) to reach every header check,
 * odd entry sizes whose entries straddle sectors, entries outside the
 * usable range and read errors. Disks live in heap buffers of exact size,
 * so AddressSanitizer catches any access past the last sector.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "gpt.h"

#define SECTOR 512

/* A disk in memory; reads of fail_lba fail, and the reads are counted. */
struct memdisk {
	u8 *data;
	u64 sectors;
	u64 fail_lba;
	bool read_last; /* the last LBA (backup header) was read */
	u32 reads;
};

static int memdisk_read(void *ctx, u64 lba, u32 count, void *buf)
{
	struct memdisk *m = ctx;

	m->reads++;
	if (lba >= m->sectors || count > m->sectors - lba)
		return -FW_EIO;
	if (m->fail_lba >= lba && m->fail_lba - lba < count)
		return -FW_EIO;
	if (lba + count == m->sectors)
		m->read_last = true;
	memcpy(buf, m->data + lba * SECTOR, (size_t)count * SECTOR);
	return 0;
}

static struct fw_disk disk_of(struct memdisk *m)
{
	m->fail_lba = ~0ULL;
	m->read_last = false;
	m->reads = 0;
	return (struct fw_disk){ .read = memdisk_read, .ctx = m, .sectors = m->sectors };
}

static char tmpdir[] = "/tmp/fw_gpt_XXXXXX";

static void run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void run(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	if (rc != 0)
		fail_msg("command failed (%d): %s", rc, cmd);
}

/* A fresh 64 MiB image partitioned by `sgdisk args`, loaded into memory. */
static void sgdisk_image(struct memdisk *m, const char *args)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/disk.img", tmpdir);
	run("rm -f %s && truncate -s 64M %s && sgdisk %s %s >/dev/null", path, path, args, path);
	m->sectors = 64 * MiB / SECTOR;
	m->data = malloc(64 * MiB);
	assert_non_null(m->data);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(m->data, 1, 64 * MiB, f), 64 * MiB);
	fclose(f);
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(tmpdir))
		return -1;
	if (system("command -v sgdisk >/dev/null")) {
		fprintf(stderr, "sgdisk is missing: run tools/install-deps.sh (package gdisk)\n");
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd);
}

static void test_crc32(void **state)
{
	(void)state;
	assert_int_equal(gpt_crc32(0, "123456789", 9), 0xcbf43926);
	assert_int_equal(gpt_crc32(gpt_crc32(0, "1234", 4), "56789", 5), 0xcbf43926);
	assert_int_equal(gpt_crc32(0, "", 0), 0);
}

/* ESP, XBOOTLDR and a Linux partition: XBOOTLDR wins although the ESP comes first. */
static const char *three_parts = "-n 1:2048:+20M -t 1:ef00 -c 1:ESP "
				 "-n 2:0:+30M -t 2:ea00 -c 2:XBOOTLDR-Boot "
				 "-n 3:0:0 -t 3:8300 -c 3:root";

static void check_xbootldr(const struct gpt_part *p)
{
	assert_int_equal(p->first_lba, 43008);
	assert_int_equal(p->last_lba, 43008 + 30 * MiB / SECTOR - 1);
	assert_memory_equal(p->type_guid, gpt_type_xbootldr, 16);
	assert_string_equal(p->name, "XBOOTLDR-Boot");
	assert_int_equal(p->index, 1);
}

static void test_sgdisk_xbootldr(void **state)
{
	struct memdisk m;
	struct fw_disk d;
	struct gpt_part p;
	const char *why = "unset";

	(void)state;
	sgdisk_image(&m, three_parts);
	d = disk_of(&m);
	assert_int_equal(gpt_find_boot(&d, &p, &why), 0);
	assert_null(why);
	check_xbootldr(&p);
	assert_false(m.read_last); /* the primary was good: no look at the backup */
	free(m.data);
}

static void test_sgdisk_esp(void **state)
{
	struct memdisk m;
	struct fw_disk d;
	struct gpt_part p;

	(void)state;
	sgdisk_image(&m, "-n 1:2048:+10M -t 1:8300 -n 2:0:+40M -t 2:ef00 -c 2:'EFI system'");
	d = disk_of(&m);
	assert_int_equal(gpt_find_boot(&d, &p, NULL), 0);
	assert_memory_equal(p.type_guid, gpt_type_esp, 16);
	assert_int_equal(p.index, 1);
	assert_int_equal(p.first_lba, 2048 + 10 * MiB / SECTOR);
	assert_int_equal(p.last_lba, 2048 + 50 * MiB / SECTOR - 1);
	assert_string_equal(p.name, "EFI system");
	free(m.data);
}

static void test_sgdisk_no_boot_partition(void **state)
{
	struct memdisk m;
	struct fw_disk d;
	struct gpt_part p;
	const char *why = NULL;

	(void)state;
	sgdisk_image(&m, "-n 1:2048:+10M -t 1:8300 -n 2:0:0 -t 2:8200");
	d = disk_of(&m);
	assert_int_equal(gpt_find_boot(&d, &p, &why), -FW_ENOENT);
	assert_string_equal(why, "no XBOOTLDR or EFI System Partition");
	free(m.data);
}

/* Primary header, then primary array corrupted: the backup at the last LBA is used. */
static void test_sgdisk_backup_fallback(void **state)
{
	struct memdisk m;
	struct fw_disk d;
	struct gpt_part p;
	const char *why = NULL;

	(void)state;
	sgdisk_image(&m, three_parts);
	m.data[SECTOR + 40] ^= 1; /* first_usable_lba: header CRC now wrong */
	d = disk_of(&m);
	assert_int_equal(gpt_find_boot(&d, &p, &why), 0);
	assert_true(m.read_last);
	check_xbootldr(&p);

	m.data[SECTOR + 40] ^= 1;
	m.data[2 * SECTOR + 128 + 56] ^= 0x40; /* entry 1's name in the primary array */
	d = disk_of(&m);
	assert_int_equal(gpt_find_boot(&d, &p, &why), 0);
	assert_true(m.read_last);
	check_xbootldr(&p); /* the name comes from the intact backup array */

	/* Both copies bad: the primary's reason is reported. */
	m.data[(m.sectors - 1) * SECTOR] = 'X';
	d = disk_of(&m);
	assert_int_equal(gpt_find_boot(&d, &p, &why), -FW_EINVAL);
	assert_string_equal(why, "GPT partition array CRC mismatch");
	free(m.data);
}

static void test_not_gpt(void **state)
{
	struct memdisk m = { .sectors = 100 };
	struct fw_disk d;
	struct gpt_part p;
	const char *why = NULL;

	(void)state;
	m.data = calloc(m.sectors, SECTOR);
	d = disk_of(&m);
	assert_int_equal(gpt_find_boot(&d, &p, &why), -FW_EINVAL);
	assert_string_equal(why, "no GPT signature");
	assert_true(m.read_last);

	m.sectors = d.sectors = 2;
	assert_int_equal(gpt_find_boot(&d, &p, &why), -FW_EINVAL);
	assert_string_equal(why, "disk too small for a GPT");
	free(m.data);
}

/* Tables built here. The header layout of UEFI 2.10 table 5-5. */
struct hdr {
	char signature[8];
	u32 revision, header_size, header_crc32, reserved;
	u64 my_lba, alternate_lba, first_usable, last_usable;
	u8 disk_guid[16];
	u64 entry_lba;
	u32 nr_entries, entry_size, entries_crc32;
} __attribute__((packed));

#define CRAFT_SECTORS 4096

static struct hdr *hdr_at(struct memdisk *m, u64 lba)
{
	return (struct hdr *)(m->data + lba * SECTOR);
}

/* Recomputes the array CRC (if arr) and the header CRC of the header at lba. */
static void seal(struct memdisk *m, u64 lba, bool arr)
{
	struct hdr *h = hdr_at(m, lba);

	if (arr)
		h->entries_crc32 = gpt_crc32(0, m->data + h->entry_lba * SECTOR,
					     (u64)h->nr_entries * h->entry_size);
	h->header_crc32 = 0;
	h->header_crc32 = gpt_crc32(0, h, h->header_size);
}

/* A primary header at LBA 1 with nr entries of esz bytes from LBA 2, no backup. */
static void craft(struct memdisk *m, u32 nr, u32 esz)
{
	u64 arr = ((u64)nr * esz + SECTOR - 1) / SECTOR;
	struct hdr *h;

	m->sectors = CRAFT_SECTORS;
	m->data = calloc(CRAFT_SECTORS, SECTOR);
	assert_non_null(m->data);
	h = hdr_at(m, 1);
	memcpy(h->signature, "EFI PART", 8);
	h->revision = 0x00010000;
	h->header_size = 92;
	h->my_lba = 1;
	h->alternate_lba = CRAFT_SECTORS - 1;
	h->first_usable = 2 + arr;
	h->last_usable = CRAFT_SECTORS - 2;
	h->entry_lba = 2;
	h->nr_entries = nr;
	h->entry_size = esz;
	seal(m, 1, true);
}

static void set_entry(struct memdisk *m, u32 i, const u8 *type, u64 first, u64 last,
		      const char *name)
{
	struct hdr *h = hdr_at(m, 1);
	u8 *e = m->data + h->entry_lba * SECTOR + (u64)i * h->entry_size;

	memcpy(e, type, 16);
	memset(e + 16, 0xa0 + (i & 15), 16);
	memcpy(e + 32, &first, 8);
	memcpy(e + 40, &last, 8);
	for (u32 k = 0; name[k] && k < 36; k++)
		e[56 + 2 * k] = (u8)name[k];
	seal(m, 1, true);
}

static const u8 linux_type[16] = { 0xaf, 0x3d, 0xc6, 0x0f, 0x83, 0x84, 0x72, 0x47,
				   0x8e, 0x79, 0x3d, 0x69, 0xd8, 0x47, 0x7d, 0xe4 };

/* Entries of 136 bytes straddle sector boundaries; the ESP sits at index 150. */
static void test_odd_entry_size(void **state)
{
	struct memdisk m;
	struct fw_disk d;
	struct gpt_part p;

	(void)state;
	craft(&m, 200, 136);
	set_entry(&m, 3, linux_type, 100, 199, "root");
	set_entry(&m, 150, gpt_type_esp, 200, 999, "esp at 150");
	d = disk_of(&m);
	assert_int_equal(gpt_find_boot(&d, &p, NULL), 0);
	assert_int_equal(p.index, 150);
	assert_int_equal(p.first_lba, 200);
	assert_int_equal(p.last_lba, 999);
	assert_string_equal(p.name, "esp at 150");
	assert_false(m.read_last);
	free(m.data);
}

/* The first ESP of two; an XBOOTLDR anywhere beats them; names become ASCII. */
static void test_choice_and_names(void **state)
{
	struct memdisk m;
	struct fw_disk d;
	struct gpt_part p;
	u8 *e;

	(void)state;
	craft(&m, 128, 128);
	set_entry(&m, 0, gpt_type_esp, 100, 199, "first");
	set_entry(&m, 1, gpt_type_esp, 200, 299, "second");
	d = disk_of(&m);
	assert_int_equal(gpt_find_boot(&d, &p, NULL), 0);
	assert_string_equal(p.name, "first");
	assert_int_equal(p.part_guid[0], 0xa0);

	set_entry(&m, 127, gpt_type_xbootldr, 300, 399, "xb");
	e = m.data + 2 * SECTOR + 127 * 128 + 56;
	e[4] = 0xe9; /* U+00E9 */
	e[6] = 0x01;
	e[7] = 0x20; /* U+2001 */
	e[8] = 0x07; /* a control character */
	seal(&m, 1, true);
	assert_int_equal(gpt_find_boot(&d, &p, NULL), 0);
	assert_int_equal(p.index, 127);
	assert_string_equal(p.name, "xb???");
	free(m.data);
}

/* A boot entry outside the usable range is skipped; alone, it means no boot partition. */
static void test_entry_out_of_range(void **state)
{
	struct memdisk m;
	struct fw_disk d;
	struct gpt_part p;
	const char *why = NULL;

	(void)state;
	craft(&m, 128, 128);
	set_entry(&m, 0, gpt_type_xbootldr, 100, CRAFT_SECTORS + 10, "past the disk");
	set_entry(&m, 1, gpt_type_esp, 300, 200, "reversed");
	set_entry(&m, 2, gpt_type_esp, 1, 200, "over the array");
	d = disk_of(&m);
	assert_int_equal(gpt_find_boot(&d, &p, &why), -FW_ENOENT);
	assert_string_equal(why, "boot partition outside the GPT usable range");

	set_entry(&m, 3, gpt_type_esp, 100, CRAFT_SECTORS - 2, "whole usable range");
	assert_int_equal(gpt_find_boot(&d, &p, &why), 0);
	assert_int_equal(p.index, 3);
	free(m.data);
}

static void test_empty_array(void **state)
{
	struct memdisk m;
	struct fw_disk d;
	struct gpt_part p;

	(void)state;
	craft(&m, 0, 128);
	d = disk_of(&m);
	assert_int_equal(gpt_find_boot(&d, &p, NULL), -FW_ENOENT);
	free(m.data);
}

struct mutation {
	const char *name;
	void (*apply)(struct hdr *h);
	const char *why;
	bool reseal; /* recompute the header CRC afterwards */
};

static void mut_revision(struct hdr *h)
{
	h->revision = 0x00020000;
}
static void mut_size_small(struct hdr *h)
{
	h->header_size = 91;
}
static void mut_size_big(struct hdr *h)
{
	h->header_size = 513;
}
static void mut_my_lba(struct hdr *h)
{
	h->my_lba = 2;
}
static void mut_usable_reversed(struct hdr *h)
{
	h->first_usable = h->last_usable + 1;
}
static void mut_usable_past_disk(struct hdr *h)
{
	h->last_usable = CRAFT_SECTORS;
}
static void mut_usable_over_header(struct hdr *h)
{
	h->first_usable = 1;
}
static void mut_entry_small(struct hdr *h)
{
	h->entry_size = 120;
}
static void mut_entry_unaligned(struct hdr *h)
{
	h->entry_size = 132;
}
static void mut_entry_huge(struct hdr *h)
{
	h->entry_size = 0x80000000;
}
static void mut_count_huge(struct hdr *h)
{
	h->nr_entries = 0xffffffff;
}
static void mut_array_bytes(struct hdr *h)
{
	h->nr_entries = 8192;
	h->entry_size = 256; /* 2 MiB */
}
static void mut_array_past_disk(struct hdr *h)
{
	h->entry_lba = CRAFT_SECTORS - 8;
}
static void mut_array_wraps(struct hdr *h)
{
	h->entry_lba = ~0ULL - 3;
}
static void mut_array_in_usable(struct hdr *h)
{
	h->entry_lba = 100;
}
static void mut_array_over_header(struct hdr *h)
{
	h->entry_lba = 0;
}
static void mut_crc(struct hdr *h)
{
	h->header_crc32 ^= 1;
}
static void mut_signature(struct hdr *h)
{
	h->signature[7] = 'R';
}

static const struct mutation mutations[] = {
	{ "signature", mut_signature, "no GPT signature", true },
	{ "revision", mut_revision, "unsupported GPT revision", true },
	{ "size<92", mut_size_small, "bad GPT header size", true },
	{ "size>512", mut_size_big, "bad GPT header size", false },
	{ "crc", mut_crc, "GPT header CRC mismatch", false },
	{ "my_lba", mut_my_lba, "GPT header my_lba is not its own LBA", true },
	{ "usable reversed", mut_usable_reversed, "GPT usable range outside the disk", true },
	{ "usable past disk", mut_usable_past_disk, "GPT usable range outside the disk", true },
	{ "usable over header", mut_usable_over_header, "GPT usable range outside the disk", true },
	{ "entry 120", mut_entry_small, "bad GPT partition entry size", true },
	{ "entry 132", mut_entry_unaligned, "bad GPT partition entry size", true },
	{ "entry huge", mut_entry_huge, "bad GPT partition entry size", true },
	{ "count huge", mut_count_huge, "too many GPT partition entries", true },
	{ "array 2 MiB", mut_array_bytes, "too many GPT partition entries", true },
	{ "array past disk", mut_array_past_disk,
	  "GPT partition array outside the disk or overlapping the usable range", true },
	{ "array wraps", mut_array_wraps,
	  "GPT partition array outside the disk or overlapping the usable range", true },
	{ "array in usable", mut_array_in_usable,
	  "GPT partition array outside the disk or overlapping the usable range", true },
	{ "array over header", mut_array_over_header,
	  "GPT partition array outside the disk or overlapping the usable range", true },
};

/* Each header defect alone: rejected with its reason, and no backup exists to save it. */
static void test_header_checks(void **state)
{
	(void)state;
	for (u32 i = 0; i < ARRAY_SIZE(mutations); i++) {
		const struct mutation *mu = &mutations[i];
		struct memdisk m;
		struct fw_disk d;
		struct gpt_part p;
		const char *why = NULL;

		craft(&m, 128, 128);
		set_entry(&m, 0, gpt_type_esp, 100, 199, "esp");
		mu->apply(hdr_at(&m, 1));
		if (mu->reseal)
			seal(&m, 1, false);
		d = disk_of(&m);
		if (gpt_find_boot(&d, &p, &why) != -FW_EINVAL || !why || strcmp(why, mu->why))
			fail_msg("%s: expected \"%s\", got \"%s\"", mu->name, mu->why,
				 why ? why : "(none)");
		free(m.data);
	}
}

/* The backup header alone, as a disk whose primary was wiped would have it. */
static void test_backup_only(void **state)
{
	struct memdisk m;
	struct fw_disk d;
	struct gpt_part p;
	struct hdr *b;
	const char *why = NULL;

	(void)state;
	craft(&m, 128, 128);
	set_entry(&m, 5, gpt_type_xbootldr, 100, 199, "xb");
	/* Move the array to just below the backup header, the header to the last LBA. */
	memcpy(m.data + (CRAFT_SECTORS - 33) * SECTOR, m.data + 2 * SECTOR, 32 * SECTOR);
	b = hdr_at(&m, CRAFT_SECTORS - 1);
	memcpy(b, hdr_at(&m, 1), sizeof(*b));
	b->my_lba = CRAFT_SECTORS - 1;
	b->alternate_lba = 1;
	b->entry_lba = CRAFT_SECTORS - 33;
	b->last_usable = CRAFT_SECTORS - 34;
	seal(&m, CRAFT_SECTORS - 1, true);
	memset(m.data + SECTOR, 0, 33 * SECTOR);
	d = disk_of(&m);
	assert_int_equal(gpt_find_boot(&d, &p, &why), 0);
	assert_int_equal(p.index, 5);
	assert_string_equal(p.name, "xb");

	/* The backup array overlapping its usable range is refused too. */
	b->last_usable = CRAFT_SECTORS - 20;
	seal(&m, CRAFT_SECTORS - 1, false);
	assert_int_equal(gpt_find_boot(&d, &p, &why), -FW_EINVAL);
	assert_string_equal(why, "no GPT signature");
	free(m.data);
}

static void test_read_errors(void **state)
{
	struct memdisk m;
	struct fw_disk d;
	struct gpt_part p;
	const char *why = NULL;

	(void)state;
	craft(&m, 128, 128);
	set_entry(&m, 0, gpt_type_esp, 100, 199, "esp");
	d = disk_of(&m);
	m.fail_lba = 1;
	assert_int_equal(gpt_find_boot(&d, &p, &why), -FW_EIO);
	assert_string_equal(why, "disk read error in the GPT header");
	m.fail_lba = 5;
	assert_int_equal(gpt_find_boot(&d, &p, &why), -FW_EIO);
	assert_string_equal(why, "disk read error in the GPT partition array");
	/* A disk that claims more sectors than it has: the backup read fails cleanly. */
	m.fail_lba = ~0ULL;
	hdr_at(&m, 1)->signature[0] = 'X';
	d.sectors = CRAFT_SECTORS * 2;
	assert_int_equal(gpt_find_boot(&d, &p, &why), -FW_EIO);
	free(m.data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32),
		cmocka_unit_test(test_sgdisk_xbootldr),
		cmocka_unit_test(test_sgdisk_esp),
		cmocka_unit_test(test_sgdisk_no_boot_partition),
		cmocka_unit_test(test_sgdisk_backup_fallback),
		cmocka_unit_test(test_not_gpt),
		cmocka_unit_test(test_odd_entry_size),
		cmocka_unit_test(test_choice_and_names),
		cmocka_unit_test(test_entry_out_of_range),
		cmocka_unit_test(test_empty_array),
		cmocka_unit_test(test_header_checks),
		cmocka_unit_test(test_backup_only),
		cmocka_unit_test(test_read_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

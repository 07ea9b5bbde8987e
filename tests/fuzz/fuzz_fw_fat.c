/*
 * libFuzzer target: the firmware's FAT reader (guest/firmware/fat.c). The
 * disk is the fuzz input from LBA 0, followed by zeros up to 64 MiB, so a
 * BPB may describe FAT12, FAT16 or FAT32 volumes larger than the input. A
 * mounted volume is walked (readdir, recursion into directories, open by
 * the names found) and its files read in pieces. Work per input is capped:
 * 512 directory entries, 64 of them opened by path, depth 6, 256 KiB of file
 * data.
 *
 * Besides the sanitizers it checks: readdir advances its cookie and returns
 * terminated names; reads never return more than asked or than the file
 * holds, and the same bytes read in one piece or in two agree (the chain
 * cursor must not skew offsets); only the documented errors come back.
 */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "fat.h"

#define CHECK(cond)                       \
	do {                              \
		if (!(cond))              \
			__builtin_trap(); \
	} while (0)

#define DISK_SECTORS  (64 * MiB / DISK_SECTOR_SIZE)
#define MAX_ENTRIES   512
#define MAX_OPENS     64
#define MAX_DEPTH     6
#define MAX_BYTES     (256 * KiB)
#define MAX_FILE_READ (16 * KiB)

struct fuzz_disk {
	const uint8_t *data;
	size_t size;
};

static int fuzz_read(void *ctx, u64 lba, u32 count, void *buf)
{
	struct fuzz_disk *fd = ctx;

	if (lba >= DISK_SECTORS || count > DISK_SECTORS - lba)
		return -FW_EIO;
	for (u32 i = 0; i < count; i++) {
		u64 off = (lba + i) * DISK_SECTOR_SIZE;
		u8 *dst = (u8 *)buf + (size_t)i * DISK_SECTOR_SIZE;
		size_t n = off < fd->size ? MIN((size_t)DISK_SECTOR_SIZE, fd->size - off) : 0;

		memcpy(dst, fd->data + off, n);
		memset(dst + n, 0, DISK_SECTOR_SIZE - n);
	}
	return 0;
}

struct walk {
	struct fat_fs fs;
	u32 entries;
	u64 bytes;
	u8 a[MAX_FILE_READ], b[MAX_FILE_READ];
};

/* Reads a prefix of f whole, then in two pieces, and compares. */
static void read_file(struct walk *w, const struct fat_file *f)
{
	u64 n = MIN((u64)f->size, (u64)MAX_FILE_READ), split = n / 3 + 1;
	long rc, rc2;

	if (w->bytes + 2 * n > MAX_BYTES)
		return;
	w->bytes += 2 * n;
	rc = fat_read(&w->fs, f, 0, w->a, n);
	CHECK(rc == (long)n || rc == -FW_EIO);
	if (rc != (long)n || n < 2)
		return;
	/*
	 * The second piece first: the cursor then has to go back. A loop in the chain may be
	 * caught on one path and not the other, so only successful reads are compared.
	 */
	rc = fat_read(&w->fs, f, split, w->b + split, n - split);
	rc2 = fat_read(&w->fs, f, 0, w->b, split);
	CHECK(rc == (long)(n - split) || rc == -FW_EIO);
	CHECK(rc2 == (long)split || rc2 == -FW_EIO);
	if (rc > 0 && rc2 > 0)
		CHECK(!memcmp(w->a, w->b, n));
	/* Past the end: short, then nothing. */
	rc = fat_read(&w->fs, f, f->size - 1, w->b, 10);
	CHECK(rc == 1 || rc == -FW_EIO);
	CHECK(fat_read(&w->fs, f, f->size, w->b, 10) == 0);
}

static void walk_dir(struct walk *w, const struct fat_file *dir, const char *path, int depth)
{
	char name[FAT_NAME_MAX], sub[MAX_DEPTH * 16 + FAT_NAME_MAX];
	struct fat_file f, g;
	u64 cookie = 0;
	int rc;

	while (w->entries < MAX_ENTRIES) {
		u64 before = cookie;

		rc = fat_readdir(&w->fs, dir, &cookie, name, sizeof(name), &f);
		if (rc <= 0) {
			CHECK(rc == 0 || rc == -FW_EIO);
			return;
		}
		w->entries++;
		CHECK(cookie > before && strnlen(name, sizeof(name)) < sizeof(name));
		sub[0] = '\0';
		if (strlen(path) + strlen(name) + 2 < 16 * MAX_DEPTH && !strchr(name, '/')) {
			strcpy(sub, path);
			strcat(sub, "/");
			strcat(sub, name);
		}
		/* Opening it by name finds an entry (perhaps an earlier one of the same name). */
		if (sub[0] && w->entries <= MAX_OPENS) {
			rc = fat_open(&w->fs, sub, &g);
			CHECK(rc == 0 || rc == -FW_ENOENT || rc == -FW_EIO || rc == -FW_EINVAL);
		}
		if (!f.is_dir)
			read_file(w, &f);
		else if (depth < MAX_DEPTH && sub[0])
			walk_dir(w, &f, sub, depth + 1);
		else
			CHECK(f.size == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct walk w;
	static const char *const paths[] = { "", "/", "/loader/entries", "a/b/c", "/..", "//x//" };
	struct fuzz_disk fd = { data, size };
	struct fw_disk d = { .read = fuzz_read, .ctx = &fd, .sectors = DISK_SECTORS };
	struct fat_file root, f;
	char name[4];
	u64 cookie = 0;
	const char *why = NULL;
	int rc;

	rc = fat_mount(&w.fs, &d, 0, DISK_SECTORS, &why);
	if (rc) {
		CHECK(rc == -FW_EINVAL && why && *why);
		return 0;
	}
	CHECK(w.fs.type == 12 || w.fs.type == 16 || w.fs.type == 32);
	w.entries = 0;
	w.bytes = 0;
	CHECK(fat_open(&w.fs, "/", &root) == 0 && root.is_dir);
	walk_dir(&w, &root, "", 0);
	for (u32 i = 0; i < ARRAY_SIZE(paths); i++) {
		rc = fat_open(&w.fs, paths[i], &f);
		CHECK(rc == 0 || rc == -FW_ENOENT || rc == -FW_EIO);
	}
	/* A name buffer too small: -FW_ERANGE or short names, and the cookie still moves. */
	for (u32 i = 0; i < 8; i++) {
		u64 before = cookie;

		rc = fat_readdir(&w.fs, &root, &cookie, name, sizeof(name), &f);
		if (rc != 1 && rc != -FW_ERANGE)
			break;
		CHECK(cookie > before);
	}
	return 0;
}

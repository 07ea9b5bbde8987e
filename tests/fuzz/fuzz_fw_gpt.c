/*
 * libFuzzer target: the firmware's GPT reader (guest/firmware/gpt.c) on a
 * disk that is the fuzz input, sector after sector (a partial last sector
 * is padded with zeros), so the backup header is the input's last sector.
 * The last input byte also picks an LBA whose reads fail, for the -FW_EIO
 * paths. Work per input is bounded by the disk itself: two headers and two
 * arrays of at most 1 MiB.
 *
 * Besides the sanitizers it checks the reader's promises: a found partition
 * is an XBOOTLDR or ESP inside the disk with a terminated printable name; a
 * failure names its reason; nothing but 0, -ENOENT, -EINVAL or -EIO returns.
 */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "gpt.h"

#define CHECK(cond)                       \
	do {                              \
		if (!(cond))              \
			__builtin_trap(); \
	} while (0)

struct fuzz_disk {
	const uint8_t *data;
	size_t size;
	u64 fail_lba;
};

static int fuzz_read(void *ctx, u64 lba, u32 count, void *buf)
{
	struct fuzz_disk *fd = ctx;
	u64 sectors = (fd->size + DISK_SECTOR_SIZE - 1) / DISK_SECTOR_SIZE;

	if (lba >= sectors || count > sectors - lba)
		return -FW_EIO;
	if (fd->fail_lba >= lba && fd->fail_lba - lba < count)
		return -FW_EIO;
	for (u32 i = 0; i < count; i++) {
		u64 off = (lba + i) * DISK_SECTOR_SIZE;
		size_t n = MIN((size_t)DISK_SECTOR_SIZE, fd->size - off);

		memcpy((u8 *)buf + (size_t)i * DISK_SECTOR_SIZE, fd->data + off, n);
		memset((u8 *)buf + (size_t)i * DISK_SECTOR_SIZE + n, 0, DISK_SECTOR_SIZE - n);
	}
	return 0;
}

static void check(struct fuzz_disk *fd)
{
	struct fw_disk d = {
		.read = fuzz_read,
		.ctx = fd,
		.sectors = (fd->size + DISK_SECTOR_SIZE - 1) / DISK_SECTOR_SIZE,
	};
	struct gpt_part p;
	const char *why = NULL;
	int rc;

	memset(&p, 0xcc, sizeof(p));
	rc = gpt_find_boot(&d, &p, &why);
	if (rc == 0) {
		size_t n = strnlen(p.name, sizeof(p.name));

		CHECK(!why);
		CHECK(p.first_lba <= p.last_lba && p.last_lba < d.sectors);
		CHECK(!memcmp(p.type_guid, gpt_type_esp, 16) ||
		      !memcmp(p.type_guid, gpt_type_xbootldr, 16));
		CHECK(n < sizeof(p.name));
		for (size_t i = 0; i < n; i++)
			CHECK(p.name[i] >= 0x20 && p.name[i] < 0x7f);
	} else {
		CHECK(rc == -FW_ENOENT || rc == -FW_EINVAL || rc == -FW_EIO);
		CHECK(why && *why);
	}
	CHECK(gpt_find_boot(&d, &p, NULL) == rc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_disk fd = { .data = data, .size = size, .fail_lba = ~0ULL };

	check(&fd);
	if (size) {
		fd.fail_lba = data[size - 1] % 8;
		check(&fd);
	}
	return 0;
}

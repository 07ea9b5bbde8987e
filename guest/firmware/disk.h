/*
 * The firmware's block device: 512-byte sectors, read-only. The GPT and FAT
 * parsers reach the disk only through this, so host tests and fuzzers can
 * back it with a file or a buffer.
 */
#ifndef FW_DISK_H
#define FW_DISK_H

#include "fwtypes.h"

#define DISK_SECTOR_SIZE 512

/*
 * read() fills buf with count sectors starting at lba and returns 0, or
 * -FW_EIO (including for a range past the end of the disk). count may be
 * large: the implementation splits it as its transport needs. sectors is
 * the size of the disk.
 */
struct fw_disk {
	int (*read)(void *ctx, u64 lba, u32 count, void *buf);
	void *ctx;
	u64 sectors;
};

#endif

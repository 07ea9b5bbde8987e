/*
 * GUID Partition Table (UEFI 2.10 section 5.3): finds the partition the
 * firmware boots from. Only the first 128 bytes of each entry are used.
 */
#ifndef FW_GPT_H
#define FW_GPT_H

#include "disk.h"

#define GPT_NAME_MAX	    72	 /* 36 UTF-16 code units plus a NUL */
#define GPT_MAX_ENTRIES	    8192 /* more is refused as corrupt */
#define GPT_MAX_ARRAY_BYTES (1 * MiB)

/* Partition type GUIDs in their on-disk (mixed-endian) byte order. */
extern const u8 gpt_type_esp[16];      /* C12A7328-F81F-11D2-BA4B-00A0C93EC93B */
extern const u8 gpt_type_xbootldr[16]; /* BC13C2FF-59E6-4262-A352-B275FD6F7172 */

/*
 * One partition entry. first_lba..last_lba is inclusive and lies inside the
 * header's usable range. name is the UTF-16LE name with every code unit
 * outside printable ASCII replaced by '?', NUL-terminated. index is the
 * entry's position in the partition array, from 0.
 */
struct gpt_part {
	u64 first_lba, last_lba;
	u8 type_guid[16];
	u8 part_guid[16];
	char name[GPT_NAME_MAX];
	u32 index;
};

/*
 * Finds the boot partition: the first Extended Boot Loader partition
 * (XBOOTLDR), else the first EFI System Partition. Entries whose range is
 * empty or outside the usable range are skipped.
 *
 * The primary header (LBA 1) is checked for its signature, revision 1.x,
 * header size, header CRC32, my_lba, a usable range inside the disk, an entry
 * size that is >= 128 and a multiple of 8, a bounded entry count, a partition
 * array inside the disk and outside the usable range, and the array's CRC32.
 * If any check fails, the backup header at the disk's last LBA is tried with
 * the same checks.
 *
 * Returns 0 with *out filled and *why NULL; -FW_ENOENT if a valid GPT has no
 * usable boot partition; -FW_EINVAL if neither header is valid (*why names the
 * primary's failed check); -FW_EIO if the disk fails a read. On failure *why
 * (if why is not NULL) is a constant message for the console. Reads at most
 * the two headers and their arrays, a sector at a time, into the stack.
 */
int gpt_find_boot(const struct fw_disk *d, struct gpt_part *out, const char **why);

/* CRC-32 (IEEE 802.3, as GPT uses it) of len bytes, continuing from crc (0 to start). */
u32 gpt_crc32(u32 crc, const void *buf, size_t len);

#endif

/*
 * GPT: header validation (UEFI 2.10 section 5.3.2), backup fallback and the
 * boot partition search. The partition array is streamed a sector at a time,
 * its CRC computed on the way, so nothing larger than a sector is buffered.
 */
#include "gpt.h"

#define GPT_HEADER_LBA	   1
#define GPT_REVISION_MAJOR 1 /* revision 1.0 is 0x00010000 */
#define GPT_HEADER_MIN	   92
#define GPT_ENTRY_MIN	   128
#define GPT_ENTRY_MAX	   4096

struct gpt_header {
	char signature[8];
	u32 revision;
	u32 header_size;
	u32 header_crc32;
	u32 reserved;
	u64 my_lba;
	u64 alternate_lba;
	u64 first_usable_lba;
	u64 last_usable_lba;
	u8 disk_guid[16];
	u64 entry_lba;
	u32 nr_entries;
	u32 entry_size;
	u32 entries_crc32;
} __packed;
_Static_assert(sizeof(struct gpt_header) == GPT_HEADER_MIN, "GPT header layout");

struct gpt_entry {
	u8 type_guid[16];
	u8 part_guid[16];
	u64 first_lba;
	u64 last_lba;
	u64 attributes;
	u16 name[36];
} __packed;
_Static_assert(sizeof(struct gpt_entry) == GPT_ENTRY_MIN, "GPT entry layout");

const u8 gpt_type_esp[16] = { 0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11,
			      0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b };
const u8 gpt_type_xbootldr[16] = { 0xff, 0xc2, 0x13, 0xbc, 0xe6, 0x59, 0x62, 0x42,
				   0xa3, 0x52, 0xb2, 0x75, 0xfd, 0x6f, 0x71, 0x72 };

/* The reflected polynomial 0xEDB88320, four bits at a time. */
static const u32 crc32_nibble[16] = {
	0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4,
	0x4db26158, 0x5005713c, 0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
	0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
};

u32 gpt_crc32(u32 crc, const void *buf, size_t len)
{
	const u8 *p = buf;

	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		crc = (crc >> 4) ^ crc32_nibble[crc & 15];
		crc = (crc >> 4) ^ crc32_nibble[crc & 15];
	}
	return ~crc;
}

/* What the array scan found: the first usable XBOOTLDR and ESP entries. */
struct gpt_scan {
	const struct gpt_header *h;
	struct gpt_entry cur; /* first 128 bytes of the entry being streamed */
	struct gpt_entry best[2];
	u32 best_index[2];
	bool found[2];
	bool out_of_range; /* a boot-type entry had an unusable range */
};

/* Array sectors of a header whose entry size and count are already bounded. */
static u64 gpt_array_sectors(const struct gpt_header *h)
{
	return ((u64)h->nr_entries * h->entry_size + DISK_SECTOR_SIZE - 1) / DISK_SECTOR_SIZE;
}

/* The checks of UEFI 5.3.2 that need no more than the header sector; NULL if it passes. */
static const char *gpt_check_header(struct gpt_header *h, const u8 *sector, u64 lba, u64 disk)
{
	u32 crc;
	u64 arr;

	if (memcmp(h->signature, "EFI PART", 8))
		return "no GPT signature";
	if (h->revision >> 16 != GPT_REVISION_MAJOR)
		return "unsupported GPT revision";
	if (h->header_size < GPT_HEADER_MIN || h->header_size > DISK_SECTOR_SIZE)
		return "bad GPT header size";
	crc = gpt_crc32(0, sector, offsetof(struct gpt_header, header_crc32));
	crc = gpt_crc32(crc, "\0\0\0\0", 4);
	crc = gpt_crc32(crc, sector + offsetof(struct gpt_header, reserved),
			h->header_size - offsetof(struct gpt_header, reserved));
	if (crc != h->header_crc32)
		return "GPT header CRC mismatch";
	if (h->my_lba != lba)
		return "GPT header my_lba is not its own LBA";
	if (h->first_usable_lba > h->last_usable_lba || h->last_usable_lba >= disk ||
	    (lba >= h->first_usable_lba && lba <= h->last_usable_lba))
		return "GPT usable range outside the disk";
	if (h->entry_size < GPT_ENTRY_MIN || h->entry_size % 8 || h->entry_size > GPT_ENTRY_MAX)
		return "bad GPT partition entry size";
	if (h->nr_entries > GPT_MAX_ENTRIES ||
	    (u64)h->nr_entries * h->entry_size > GPT_MAX_ARRAY_BYTES)
		return "too many GPT partition entries";
	arr = gpt_array_sectors(h);
	if (h->entry_lba >= disk || arr > disk - h->entry_lba ||
	    (h->entry_lba <= lba && lba < h->entry_lba + arr) ||
	    (arr && h->entry_lba <= h->last_usable_lba && h->first_usable_lba < h->entry_lba + arr))
		return "GPT partition array outside the disk or overlapping the usable range";
	return NULL;
}

/* An entry whose first 128 bytes have arrived: remember it if it is the first usable of its type. */
static void gpt_consider(struct gpt_scan *s, u32 index)
{
	const struct gpt_entry *e = &s->cur;
	int kind;

	if (!memcmp(e->type_guid, gpt_type_xbootldr, 16))
		kind = 0;
	else if (!memcmp(e->type_guid, gpt_type_esp, 16))
		kind = 1;
	else
		return;
	if (s->found[kind])
		return;
	if (e->first_lba > e->last_lba || e->first_lba < s->h->first_usable_lba ||
	    e->last_lba > s->h->last_usable_lba) {
		s->out_of_range = true;
		return;
	}
	s->best[kind] = *e;
	s->best_index[kind] = index;
	s->found[kind] = true;
}

/* Feeds n array bytes (at array offset pos) to the entry assembler. */
static void gpt_feed(struct gpt_scan *s, u64 pos, const u8 *p, u32 n)
{
	u32 esz = s->h->entry_size;

	while (n) {
		u32 off = pos % esz, take = MIN(n, esz - off);

		if (off < GPT_ENTRY_MIN) {
			u32 c = MIN(take, GPT_ENTRY_MIN - off);

			memcpy((u8 *)&s->cur + off, p, c);
			if (off + c == GPT_ENTRY_MIN)
				gpt_consider(s, (u32)(pos / esz));
		}
		pos += take;
		p += take;
		n -= take;
	}
}

/* Streams the partition array of a checked header, verifying its CRC. */
static int gpt_scan_array(const struct fw_disk *d, struct gpt_scan *s, const char **why)
{
	const struct gpt_header *h = s->h;
	u64 total = (u64)h->nr_entries * h->entry_size, pos = 0;
	u8 sector[DISK_SECTOR_SIZE];
	u32 crc = 0;

	for (u64 i = 0; pos < total; i++) {
		u32 n = (u32)MIN(total - pos, (u64)DISK_SECTOR_SIZE);

		if (d->read(d->ctx, h->entry_lba + i, 1, sector)) {
			*why = "disk read error in the GPT partition array";
			return -FW_EIO;
		}
		crc = gpt_crc32(crc, sector, n);
		gpt_feed(s, pos, sector, n);
		pos += n;
	}
	if (crc != h->entries_crc32) {
		*why = "GPT partition array CRC mismatch";
		return -FW_EINVAL;
	}
	return 0;
}

static void gpt_fill(struct gpt_part *out, const struct gpt_entry *e, u32 index)
{
	u32 i;

	out->first_lba = e->first_lba;
	out->last_lba = e->last_lba;
	memcpy(out->type_guid, e->type_guid, 16);
	memcpy(out->part_guid, e->part_guid, 16);
	for (i = 0; i < ARRAY_SIZE(e->name) && e->name[i]; i++) {
		u16 c = e->name[i];

		out->name[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	out->name[i] = '\0';
	out->index = index;
}

/* One header and its array: 0, -FW_ENOENT, -FW_EINVAL or -FW_EIO, with *why on failure. */
static int gpt_try(const struct fw_disk *d, u64 lba, struct gpt_part *out, const char **why)
{
	u8 sector[DISK_SECTOR_SIZE];
	struct gpt_header h;
	struct gpt_scan s;
	int rc, kind;

	if (d->read(d->ctx, lba, 1, sector)) {
		*why = "disk read error in the GPT header";
		return -FW_EIO;
	}
	memcpy(&h, sector, sizeof(h));
	*why = gpt_check_header(&h, sector, lba, d->sectors);
	if (*why)
		return -FW_EINVAL;
	memset(&s, 0, sizeof(s));
	s.h = &h;
	rc = gpt_scan_array(d, &s, why);
	if (rc)
		return rc;
	kind = s.found[0] ? 0 : 1;
	if (!s.found[kind]) {
		*why = s.out_of_range ? "boot partition outside the GPT usable range"
				      : "no XBOOTLDR or EFI System Partition";
		return -FW_ENOENT;
	}
	gpt_fill(out, &s.best[kind], s.best_index[kind]);
	return 0;
}

int gpt_find_boot(const struct fw_disk *d, struct gpt_part *out, const char **why)
{
	const char *primary = NULL, *backup = NULL, *dummy;
	int rc;

	if (!why)
		why = &dummy;
	*why = NULL;
	if (d->sectors < 3) {
		*why = "disk too small for a GPT";
		return -FW_EINVAL;
	}
	rc = gpt_try(d, GPT_HEADER_LBA, out, &primary);
	if (rc != -FW_EINVAL) {
		*why = primary;
		return rc;
	}
	rc = gpt_try(d, d->sectors - 1, out, &backup);
	*why = rc == -FW_EINVAL ? primary : backup;
	return rc;
}

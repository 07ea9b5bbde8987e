/*
 * fw_cfg, the legacy I/O interface (QEMU docs/specs/fw_cfg.rst): a 16-bit
 * selector names an item, each read of the data port returns its next byte.
 * Items: the signature "QEMU", the interface ID (traditional only), RAM
 * size, CPU count, the file directory, and files such as "etc/e820".
 */
#include <hv/byteorder.h>
#include <hv/errno.h>
#include <hv/fw_cfg.h>
#include <hv/string.h>

#define FW_CFG_ID_TRADITIONAL 1

static void put_le(u8 *p, u64 v, u32 n)
{
	for (u32 i = 0; i < n; i++)
		p[i] = (u8)(v >> (8 * i));
}

static void rebuild_dir(struct fw_cfg *f)
{
	memset(f->dir, 0, sizeof(f->dir));
	put_be32(f->dir, f->nr_files);
	for (u32 i = 0; i < f->nr_files; i++) {
		u8 *e = f->dir + 4 + 64 * i;
		put_be32(e, f->files[i].size);
		put_be16(e + 4, (u16)(FW_CFG_FILE_FIRST + i));
		memcpy(e + 8, f->files[i].name, FW_CFG_NAME_MAX);
	}
}

void fw_cfg_init(struct fw_cfg *f, u64 ram_size, u16 nr_cpus)
{
	memset(f, 0, sizeof(*f));
	f->ram_size = ram_size;
	f->nr_cpus = nr_cpus;
	/* One RAM entry: the VSI's RAM starts at 0 and ends below the I/O hole. */
	put_le(f->e820, 0, 8);
	put_le(f->e820 + 8, ram_size, 8);
	put_le(f->e820 + 16, FW_CFG_E820_RAM, 4);
	fw_cfg_add_file(f, "etc/e820", f->e820, 20);
}

int fw_cfg_add_file(struct fw_cfg *f, const char *name, const void *data, u32 size)
{
	size_t n = strlen(name);

	if (n == 0 || n >= FW_CFG_NAME_MAX)
		return -EINVAL;
	if (f->nr_files == FW_CFG_MAX_FILES)
		return -ENOSPC;
	memset(f->files[f->nr_files].name, 0, FW_CFG_NAME_MAX);
	memcpy(f->files[f->nr_files].name, name, n);
	f->files[f->nr_files].data = data;
	f->files[f->nr_files].size = size;
	f->nr_files++;
	rebuild_dir(f);
	return 0;
}

void fw_cfg_select(struct fw_cfg *f, u16 key)
{
	f->selector = key;
	f->offset = 0;
}

/* The selected item as bytes; false if the key names nothing. */
static bool item(const struct fw_cfg *f, const u8 **data, u32 *size, u8 *scratch)
{
	u16 key = f->selector;

	switch (key) {
	case FW_CFG_SIGNATURE:
		memcpy(scratch, "QEMU", 4);
		*data = scratch, *size = 4;
		return true;
	case FW_CFG_ID:
		put_le(scratch, FW_CFG_ID_TRADITIONAL, 4);
		*data = scratch, *size = 4;
		return true;
	case FW_CFG_RAM_SIZE:
		put_le(scratch, f->ram_size, 8);
		*data = scratch, *size = 8;
		return true;
	case FW_CFG_NB_CPUS:
	case FW_CFG_MAX_CPUS:
		put_le(scratch, f->nr_cpus, 2);
		*data = scratch, *size = 2;
		return true;
	case FW_CFG_FILE_DIR:
		*data = f->dir, *size = 4 + 64 * f->nr_files;
		return true;
	}
	if (key >= FW_CFG_FILE_FIRST && key < FW_CFG_FILE_FIRST + f->nr_files) {
		*data = f->files[key - FW_CFG_FILE_FIRST].data;
		*size = f->files[key - FW_CFG_FILE_FIRST].size;
		return true;
	}
	return false;
}

u8 fw_cfg_read(struct fw_cfg *f)
{
	const u8 *data;
	u8 scratch[8];
	u32 size;

	if (!item(f, &data, &size, scratch)) {
		f->bad_reads++;
		return 0;
	}
	if (f->offset >= size)
		return 0;
	return data[f->offset++];
}

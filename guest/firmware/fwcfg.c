/*
 * fw_cfg client (QEMU docs/specs/fw_cfg.rst, "Legacy Interface"). Every
 * item is read from its first byte: selecting a key resets the offset.
 * Multi-byte values are little-endian except the file directory, which is
 * big-endian.
 */
#include "fwcfg.h"
#include "io.h"

#define FW_CFG_PORT_SEL	 0x510
#define FW_CFG_PORT_DATA 0x511
#define FW_CFG_NAME_MAX	 56

/* struct FWCfgFile of the directory, big-endian fields. */
struct fwcfg_file {
	u32 size;
	u16 select;
	u16 reserved;
	char name[FW_CFG_NAME_MAX];
} __packed;

static u32 be32(const u8 *p)
{
	return ((u32)p[0] << 24) | ((u32)p[1] << 16) | ((u32)p[2] << 8) | p[3];
}

static void fwcfg_select(u16 key)
{
	outw(FW_CFG_PORT_SEL, key);
}

static void fwcfg_data(void *buf, size_t len)
{
	u8 *p = buf;

	while (len--)
		*p++ = inb(FW_CFG_PORT_DATA);
}

void fwcfg_read(u16 key, void *buf, size_t len)
{
	fwcfg_select(key);
	fwcfg_data(buf, len);
}

bool fwcfg_present(void)
{
	char sig[4];

	fwcfg_read(FW_CFG_SIGNATURE, sig, sizeof(sig));
	return !memcmp(sig, "QEMU", 4);
}

int fwcfg_find_file(const char *name, u16 *key, u32 *size)
{
	u8 count[4];
	struct fwcfg_file f;
	size_t len = strlen(name);

	if (len >= FW_CFG_NAME_MAX)
		return -FW_ENOENT;
	fwcfg_read(FW_CFG_FILE_DIR, count, sizeof(count));
	for (u32 i = be32(count); i; i--) {
		fwcfg_data(&f, sizeof(f));
		if (!memcmp(f.name, name, len + 1)) {
			*key = (u16)((f.select >> 8) | (f.select << 8));
			*size = be32((const u8 *)&f.size);
			return 0;
		}
	}
	return -FW_ENOENT;
}

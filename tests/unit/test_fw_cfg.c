/* Host tests of the fw_cfg device: the items a firmware reads, as QEMU's
 * docs/specs/fw_cfg.rst lays them out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <hv/errno.h>
#include <hv/fw_cfg.h>

static void read_item(struct fw_cfg *f, u16 key, u8 *buf, u32 n)
{
	fw_cfg_select(f, key);
	for (u32 i = 0; i < n; i++)
		buf[i] = fw_cfg_read(f);
}

static u32 be32(const u8 *p)
{
	return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3];
}

static u64 le(const u8 *p, u32 n)
{
	u64 v = 0;
	for (u32 i = 0; i < n; i++)
		v |= (u64)p[i] << (8 * i);
	return v;
}

static void test_fixed_items(void **state)
{
	static struct fw_cfg f;
	u8 b[8];

	(void)state;
	fw_cfg_init(&f, 256 << 20, 2);
	read_item(&f, FW_CFG_SIGNATURE, b, 5);
	assert_memory_equal(b, "QEMU", 4);
	assert_int_equal(b[4], 0); /* past the end */
	read_item(&f, FW_CFG_ID, b, 4);
	assert_int_equal(le(b, 4), 1);
	read_item(&f, FW_CFG_RAM_SIZE, b, 8);
	assert_int_equal(le(b, 8), 256 << 20);
	read_item(&f, FW_CFG_NB_CPUS, b, 2);
	assert_int_equal(le(b, 2), 2);
	read_item(&f, 0x7777, b, 2);
	assert_int_equal(b[0], 0);
	assert_int_equal(f.bad_reads, 2);
}

/* Find a file through the directory, as a firmware does; its selector or 0. */
static u16 find(struct fw_cfg *f, const char *name, u32 *size)
{
	u8 hdr[4], e[64];

	read_item(f, FW_CFG_FILE_DIR, hdr, 4);
	for (u32 i = 0; i < be32(hdr); i++) {
		for (u32 j = 0; j < 64; j++)
			e[j] = fw_cfg_read(f);
		if (!strcmp((const char *)e + 8, name)) {
			*size = be32(e);
			return (u16)(e[4] << 8 | e[5]);
		}
	}
	return 0;
}

static void test_e820_and_files(void **state)
{
	static struct fw_cfg f;
	static const char text[] = "hello";
	u8 b[20];
	u32 size = 0;
	u16 key;

	(void)state;
	fw_cfg_init(&f, 512 << 20, 4);
	key = find(&f, "etc/e820", &size);
	assert_int_not_equal(key, 0);
	assert_int_equal(size, 20);
	read_item(&f, key, b, 20);
	assert_int_equal(le(b, 8), 0);
	assert_int_equal(le(b + 8, 8), 512 << 20);
	assert_int_equal(le(b + 16, 4), 1);
	assert_int_equal(fw_cfg_add_file(&f, "opt/test", text, 5), 0);
	key = find(&f, "opt/test", &size);
	assert_int_equal(size, 5);
	read_item(&f, key, b, 6);
	assert_memory_equal(b, "hello", 5);
	assert_int_equal(b[5], 0);
	assert_int_equal(fw_cfg_add_file(&f, "", text, 5), -EINVAL);
	assert_int_equal(
	    fw_cfg_add_file(&f, "a-name-that-is-far-too-long-for-the-fifty-six-byte-field-x", text,
			    5),
	    -EINVAL);
	for (int i = 2; i < FW_CFG_MAX_FILES; i++)
		assert_int_equal(fw_cfg_add_file(&f, "opt/more", text, 1), 0);
	assert_int_equal(fw_cfg_add_file(&f, "opt/full", text, 1), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixed_items),
		cmocka_unit_test(test_e820_and_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

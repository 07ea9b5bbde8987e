/*
 * Unit tests for kernel/ovmf_image.c: Debian's own OVMF images (package
 * ovmf) told apart by their bytes, and damaged headers refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <hv/ovmf_image.h>

/* The whole file at path (the ovmf package is one of the build's dependencies). */
static u8 *slurp(const char *path, u64 *len)
{
	FILE *f = fopen(path, "rb");
	u8 *buf;
	long n;

	if (!f)
		fail_msg("%s: missing (apt-get install ovmf)", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (u64)n;
	return buf;
}

static bool file_has_var_store(const char *path)
{
	u64 len;
	u8 *img = slurp(path, &len);
	bool r = ovmf_image_has_var_store(img, len);

	free(img);
	return r;
}

static void test_debian_images(void **state)
{
	(void)state;
	assert_true(file_has_var_store("/usr/share/ovmf/OVMF.fd"));
	assert_true(file_has_var_store("/usr/share/OVMF/OVMF_VARS_4M.fd"));
	assert_true(file_has_var_store("/usr/share/OVMF/OVMF_VARS.fd"));
	assert_false(file_has_var_store("/usr/share/OVMF/OVMF_CODE_4M.fd"));
	assert_false(file_has_var_store("/usr/share/OVMF/OVMF_CODE.fd"));
}

static void test_damaged(void **state)
{
	u64 len;
	u8 *img = slurp("/usr/share/OVMF/OVMF_VARS_4M.fd", &len);

	(void)state;
	assert_false(ovmf_image_has_var_store(NULL, len));
	assert_false(ovmf_image_has_var_store(img, 0x47));    /* shorter than its header */
	assert_false(ovmf_image_has_var_store(img, len - 1)); /* the volume runs past the end */
	img[0x10] ^= 1;					      /* another file system */
	assert_false(ovmf_image_has_var_store(img, len));
	img[0x10] ^= 1;
	img[0x2b] = 'X'; /* "_FVX" */
	assert_false(ovmf_image_has_var_store(img, len));
	img[0x2b] = 'H';
	img[0x30] = 0x10; /* a header too short to hold its block map */
	assert_false(ovmf_image_has_var_store(img, len));
	img[0x30] = 0x48;
	assert_true(ovmf_image_has_var_store(img, len));
	free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_debian_images),
		cmocka_unit_test(test_damaged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * libFuzzer target: the firmware's Boot Loader Specification parser and
 * ordering (guest/firmware/bls.c). The input is an entry's text; if it holds
 * a NUL byte, what follows the first one is the file name instead (the text
 * before it is parsed). Each line of the input is also compared with the
 * next as versions.
 *
 * Besides the sanitizers it checks: an accepted entry has terminated strings
 * within their arrays, a linux path, at most BLS_MAX_INITRD initrds; a
 * refused one names its reason; bls_compare() and bls_vercmp() are
 * antisymmetric, and every entry equals itself.
 */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "bls.h"

#define CHECK(cond)                       \
	do {                              \
		if (!(cond))              \
			__builtin_trap(); \
	} while (0)

#define TERMINATED(s) (strnlen(s, sizeof(s)) < sizeof(s))

static int sign(int v)
{
	return (v > 0) - (v < 0);
}

static void check_entry(const struct bls_entry *e)
{
	CHECK(TERMINATED(e->id) && e->id[0]);
	CHECK(TERMINATED(e->title) && TERMINATED(e->version) && TERMINATED(e->machine_id));
	CHECK(TERMINATED(e->sort_key) && TERMINATED(e->linux_path) && TERMINATED(e->options));
	CHECK(e->linux_path[0]);
	CHECK(e->nr_initrd <= BLS_MAX_INITRD);
	for (u32 i = 0; i < e->nr_initrd; i++)
		CHECK(TERMINATED(e->initrd[i]) && e->initrd[i][0]);
	CHECK(e->tries_left >= -1 && e->tries_done >= -1);
}

static void check_order(const struct bls_entry *a, const struct bls_entry *b)
{
	CHECK(sign(bls_compare(a, b)) == -sign(bls_compare(b, a)));
	CHECK(bls_compare(a, a) == 0);
	CHECK(sign(bls_vercmp(a->version, b->id)) == -sign(bls_vercmp(b->id, a->version)));
}

/* Every line against the next, as versions. */
static void check_versions(const uint8_t *data, size_t size)
{
	char prev[256] = "", cur[256];
	size_t pos = 0;

	for (u32 lines = 0; pos < size && lines < 64; lines++) {
		size_t n = 0;

		while (pos < size && data[pos] != '\n' && n < sizeof(cur) - 1) {
			char c = (char)data[pos++];

			cur[n++] = c ? c : '_';
		}
		while (pos < size && data[pos++] != '\n')
			;
		cur[n] = '\0';
		CHECK(sign(bls_vercmp(prev, cur)) == -sign(bls_vercmp(cur, prev)));
		CHECK(bls_vercmp(cur, cur) == 0);
		memcpy(prev, cur, n + 1);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char ref_text[] = "linux /k\nsort-key fedora\nversion 6.1.0-9\n";
	static struct bls_entry e, ref;
	const uint8_t *nul = memchr(data, 0, size);
	size_t text_len = nul ? (size_t)(nul - data) : size;
	char id[300] = "fuzz+2-1";
	const char *why = NULL;
	char *text = malloc(text_len ? text_len : 1);
	int rc;

	memcpy(text, data, text_len);
	if (nul) {
		size_t n = MIN(size - text_len - 1, sizeof(id) - 1);

		memcpy(id, nul + 1, n);
		id[n] = '\0';
		id[strnlen(id, n)] = '\0';
	}
	rc = bls_parse(text, text_len, id, &e, &why);
	free(text);
	if (rc == 0) {
		CHECK(!why);
		check_entry(&e);
		if (!ref.id[0])
			CHECK(!bls_parse(ref_text, sizeof(ref_text) - 1, "ref", &ref, NULL));
		check_order(&e, &ref);
	} else {
		CHECK(rc == -FW_EINVAL || rc == -FW_ENOTSUP);
		CHECK(why && *why);
	}
	check_versions(data, size);
	return 0;
}

/*
 * libFuzzer target: the firmware's kernel format probes
 * (guest/firmware/kernel_fmt.c) on a kernel file that is the fuzz input,
 * probed twice as the firmware does it (the head, then every read asked
 * for, each in a buffer of exactly the asked size): into a RAM window of
 * [1 MiB, 1 GiB), and into one chosen by the input's last bytes.
 *
 * Besides the sanitizers it checks the plan's promises: every read asked
 * for lies inside the file and is at most KFMT_NEED_MAX bytes; each segment
 * lies inside the file and the window, apart from the others, with
 * file_size <= mem_size; a 32-bit entry lies in a segment below 4 GiB; a
 * bzImage entry is its load address + 0x200; failures name their reason.
 */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "kernel_fmt.h"

#define CHECK(cond)                       \
	do {                              \
		if (!(cond))              \
			__builtin_trap(); \
	} while (0)

static void check_plan(const struct kfmt_info *ki, u64 size, u64 lo, u64 hi)
{
	bool entry_in = false;

	CHECK(ki->kind >= KFMT_BZIMAGE && ki->kind <= KFMT_MULTIBOOT2);
	CHECK(ki->nr_segs >= 1 && ki->nr_segs <= KFMT_MAX_SEGS);
	for (u32 i = 0; i < ki->nr_segs; i++) {
		const struct kfmt_seg *s = &ki->seg[i];

		CHECK(s->file_off <= size && s->file_size <= size - s->file_off);
		CHECK(s->file_size <= s->mem_size);
		CHECK(s->dest >= lo && s->dest <= hi && s->mem_size <= hi - s->dest);
		for (u32 j = 0; j < i; j++)
			CHECK(s->dest + s->mem_size <= ki->seg[j].dest ||
			      ki->seg[j].dest + ki->seg[j].mem_size <= s->dest);
		if (ki->kind != KFMT_BZIMAGE)
			CHECK(s->dest + s->mem_size <= 4 * GiB);
		entry_in |= ki->entry >= s->dest && ki->entry - s->dest < s->mem_size;
	}
	if (ki->kind == KFMT_BZIMAGE)
		CHECK(ki->nr_segs == 1 && ki->entry == ki->seg[0].dest + KFMT_BZ_ENTRY_64);
	else
		CHECK(entry_in);
}

static void probe(const uint8_t *data, size_t size, u64 lo, u64 hi)
{
	static struct kfmt_info ki;
	size_t n = MIN(size, (size_t)KFMT_HEAD_SIZE);
	const char *why = NULL;
	u8 *buf = malloc(n ? n : 1);
	u32 feeds = 0;
	int rc;

	memcpy(buf, data, n);
	rc = kfmt_probe(&ki, buf, n, size, lo, hi, &why);
	free(buf);
	while (rc == KFMT_MORE) {
		CHECK(++feeds <= 1 + KFMT_MAX_NOTES);
		CHECK(ki.need_len >= 1 && ki.need_len <= KFMT_NEED_MAX);
		CHECK(ki.need_off <= size && ki.need_len <= size - ki.need_off);
		buf = malloc(ki.need_len);
		memcpy(buf, data + ki.need_off, ki.need_len);
		rc = kfmt_feed(&ki, buf, ki.need_len, &why);
		free(buf);
	}
	if (rc == 0) {
		check_plan(&ki, size, lo, hi);
		CHECK(kfmt_feed(&ki, data, 0, NULL) == -FW_EINVAL);
	} else {
		CHECK(rc == -FW_ENOEXEC || rc == -FW_ERANGE || (rc == -FW_EINVAL && lo >= hi));
		CHECK(why && *why);
		CHECK(ki.kind == KFMT_UNKNOWN);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	u64 lo = 0, hi = 0;

	probe(data, size, 1 * MiB, 1 * GiB);
	if (size >= 16) {
		memcpy(&lo, data + size - 16, 8);
		memcpy(&hi, data + size - 8, 8);
		probe(data, size, lo, hi);
	}
	return 0;
}

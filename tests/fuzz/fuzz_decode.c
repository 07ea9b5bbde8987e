/*
 * libFuzzer target: mmio_decode() over arbitrary bytes; the first byte picks
 * the code segment size (16-, 32- or 64-bit). Besides the sanitizers, it
 * checks the decoder's promises: an accepted instruction has a length within
 * the input and the 15-byte limit, a sane operand description, decodes the
 * same from exactly its own bytes, and needs every one of them.
 */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <asm/decode.h>
#include <hv/errno.h>

#define CHECK(cond)                       \
	do {                              \
		if (!(cond))              \
			__builtin_trap(); \
	} while (0)

static bool valid_size(u8 size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

/* The fields of an accepted instruction describe an access the CPU can make. */
static void check_fields(const struct mmio_insn *in, size_t avail)
{
	CHECK(in->len >= 1 && in->len <= avail && in->len <= MMIO_INSN_MAX);
	CHECK(valid_size(in->size));
	CHECK(in->op == MMIO_OP_LOAD || in->op == MMIO_OP_STORE);
	CHECK(in->reg < 16);
	CHECK(!in->reg_high8 || (in->size == 1 && in->reg >= 4 && in->reg <= 7));
	CHECK(!in->has_imm || (in->op == MMIO_OP_STORE && in->reg == 0 && !in->reg_high8));
	CHECK(in->has_imm || in->imm == 0);
	CHECK(in->size == 8 || in->imm < (1ULL << (8 * in->size)));
	if (in->op == MMIO_OP_LOAD) {
		CHECK(valid_size(in->dst_size) && in->dst_size >= in->size);
		CHECK(in->ext <= MMIO_EXT_SIGN);
		CHECK(in->ext != MMIO_EXT_NONE || in->dst_size == in->size);
	} else {
		CHECK(in->ext == MMIO_EXT_NONE && in->dst_size == 0);
	}
}

/* Decode n bytes from a heap buffer of exactly that size (NULL when empty). */
static int decode_exact(const u8 *bytes, size_t n, u32 mode, struct mmio_insn *out)
{
	u8 *buf = n ? malloc(n) : NULL;
	int rc;

	CHECK(buf || n == 0);
	if (n)
		memcpy(buf, bytes, n);
	rc = mmio_decode(buf, n, mode, out);
	free(buf);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const u32 modes[] = { 2, 4, 8 };
	struct mmio_insn in, again;
	u32 mode;
	int rc;

	if (size < 1)
		return 0;
	mode = modes[data[0] % ARRAY_SIZE(modes)];
	data++;
	size--;
	rc = mmio_decode(data, size, mode, &in);
	if (rc) {
		CHECK(rc == -EINVAL || rc == -E2BIG);
		return 0;
	}
	check_fields(&in, size);
	CHECK(decode_exact(data, in.len, mode, &again) == 0);
	CHECK(!memcmp(&in, &again, sizeof(in)));
	CHECK(decode_exact(data, in.len - 1, mode, &again) == -E2BIG);
	return 0;
}

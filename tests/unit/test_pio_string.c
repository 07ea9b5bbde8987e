/* Host tests of the string port I/O register arithmetic
 * (arch/x86_64/vmx/pio_string.c): counts, address sizes, direction, and the
 * bound on elements per exit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <asm/pio_string.h>

/* REP with a zero count moves nothing, writes no register, and is done. */
static void test_rep_zero(void **state)
{
	struct pio_string s = { .size = 1,
				.addr_size = 4,
				.rep = true,
				.rcx = 0xffffffff00000000ULL,
				.index = 0x123456789ULL };

	(void)state;
	assert_int_equal(pio_string_count(&s, PIO_STRING_MAX_PER_EXIT), 0);
	assert_true(pio_string_advance(&s, 0));
	assert_int_equal(s.rcx, 0xffffffff00000000ULL); /* ECX = 0: the count */
	assert_int_equal(s.index, 0x123456789ULL);	/* not even zero-extended */
}

/* Without REP one element, whatever RCX holds; RCX is not touched. */
static void test_single(void **state)
{
	struct pio_string s = { .size = 2, .addr_size = 8, .rcx = 7, .index = 0x1000 };

	(void)state;
	assert_int_equal(pio_string_count(&s, PIO_STRING_MAX_PER_EXIT), 1);
	assert_true(pio_string_advance(&s, 1));
	assert_int_equal(s.index, 0x1002);
	assert_int_equal(s.rcx, 7);
}

/* A long REP: bounded per exit, RCX and the index carry the rest. */
static void test_long_rep_is_bounded(void **state)
{
	struct pio_string s = { .size = 4, .addr_size = 8, .rep = true, .rcx = 5000, .index = 0 };
	u64 exits = 0, n;

	(void)state;
	do {
		n = pio_string_count(&s, PIO_STRING_MAX_PER_EXIT);
		assert_true(n > 0 && n <= PIO_STRING_MAX_PER_EXIT);
		exits++;
	} while (!pio_string_advance(&s, n));
	assert_int_equal(exits, 5);
	assert_int_equal(s.rcx, 0);
	assert_int_equal(s.index, 20000);
}

/* DF = 1 walks down; offsets wrap at the address size. */
static void test_down_and_wrap(void **state)
{
	struct pio_string s = { .size = 1,
				.addr_size = 2,
				.rep = true,
				.down = true,
				.rcx = 3,
				.index = 0xabcd0001ULL };

	(void)state;
	assert_int_equal(pio_string_offset(&s, 0), 0x0001);
	assert_int_equal(pio_string_offset(&s, 2), 0xffff);
	assert_true(pio_string_advance(&s, 3));
	assert_int_equal(s.index, 0xabcdfffeULL); /* only SI changes */
	s = (struct pio_string){ .size = 4, .addr_size = 4, .index = 0xdead00000000fffcULL };
	assert_true(pio_string_advance(&s, 1));
	assert_int_equal(s.index, 0x10000); /* ESI written: zero-extended */
}

/* Only the address-size part of RCX counts: ECX = 0 with RCX != 0 is zero. */
static void test_count_mask(void **state)
{
	struct pio_string s = { .size = 1, .addr_size = 2, .rep = true, .rcx = 0x10002 };

	(void)state;
	assert_int_equal(pio_string_count(&s, PIO_STRING_MAX_PER_EXIT), 2);
	assert_true(pio_string_advance(&s, 2));
	assert_int_equal(s.rcx, 0x10000);
	assert_int_equal(pio_string_addr_mask(8), ~0ULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rep_zero),
		cmocka_unit_test(test_single),
		cmocka_unit_test(test_long_rep_is_bounded),
		cmocka_unit_test(test_down_and_wrap),
		cmocka_unit_test(test_count_mask),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

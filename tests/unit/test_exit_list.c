/* Host tests of the console's exit-count layout (kernel/exit_list.c): every
 * non-zero count appears whole, in order, in lines that fit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <hv/exit_list.h>

#define N 80

static char out[4096];
static u32 calls;

static const char *name(u32 i)
{
	static char buf[N][32];

	snprintf(buf[i], sizeof(buf[i]), "REASON_NUMBER_%u", i); /* 15-16 characters */
	return buf[i];
}

static void line(void *ctx, const char *text)
{
	(void)ctx;
	assert_true(strlen(text) <= EXIT_LIST_WIDTH);
	strcat(out, text);
	strcat(out, "\n");
	calls++;
}

/* All 80 reasons with 20-digit counts: far more than one console line. */
static void test_every_entry_whole(void **state)
{
	u64 counts[N];
	char want[64], *p = out;
	u32 lines;

	(void)state;
	out[0] = '\0';
	calls = 0;
	for (u32 i = 0; i < N; i++)
		counts[i] = 18446744073709551615ULL - i;
	lines = exit_list_lines(counts, N, name, line, NULL);
	assert_int_equal(lines, calls);
	assert_true(lines > 1);
	for (u32 i = 0; i < N; i++) {
		snprintf(want, sizeof(want), " %s=%llu", name(i), (unsigned long long)counts[i]);
		p = strstr(p, want);
		assert_non_null(p); /* whole, and after the one before */
		p += strlen(want);
		assert_true(*p == ' ' || *p == '\n');
	}
}

static void test_zero_counts_left_out(void **state)
{
	u64 counts[N] = { 0 };

	(void)state;
	out[0] = '\0';
	calls = 0;
	assert_int_equal(exit_list_lines(counts, N, name, line, NULL), 0);
	counts[7] = 3;
	assert_int_equal(exit_list_lines(counts, N, name, line, NULL), 1);
	assert_string_equal(out, " REASON_NUMBER_7=3\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_entry_whole),
		cmocka_unit_test(test_zero_counts_left_out),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

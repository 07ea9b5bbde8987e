/* Host tests of the virtual-interrupt release policy (arch/x86_64/vmx/vintr.c):
 * at most one vector reaches RVI, and only when the guest takes it at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <asm/vintr.h>

static void set(u32 irr[8], int v)
{
	irr[v / 32] |= 1U << (v % 32);
}

static struct vintr_choice choose(int a, int b, int isr, bool can_take)
{
	u32 irr[8] = { 0 };

	if (a >= 0)
		set(irr, a);
	if (b >= 0)
		set(irr, b);
	return vintr_choose(irr, isr, can_take);
}

static void test_nothing_pending(void **state)
{
	struct vintr_choice c = choose(-1, -1, 0x41, true);

	(void)state;
	assert_int_equal(c.release, -1);
	assert_false(c.held);
	assert_false(c.irq_window);
}

/* The common case: one vector, guest ready, nothing in service. */
static void test_one_released(void **state)
{
	struct vintr_choice c = choose(0x26, -1, -1, true);

	(void)state;
	assert_int_equal(c.release, 0x26);
	assert_false(c.held);
	assert_false(c.irq_window);
}

/*
 * Two pending: only the highest goes to RVI. The other must not follow it
 * into the page, where it would be pending while the handler of the first
 * runs with IF = 0; it waits for that handler's EOI, not for the window,
 * which would exit before the first one's delivery.
 */
static void test_second_held(void **state)
{
	struct vintr_choice c = choose(0x26, 0xec, -1, true);

	(void)state;
	assert_int_equal(c.release, 0xec);
	assert_true(c.held);
	assert_false(c.irq_window);
	c = choose(0x25, 0x26, -1, true); /* the same class */
	assert_int_equal(c.release, 0x26);
	assert_true(c.held);
	c = choose(0x20, 0xff, -1, true); /* across words */
	assert_int_equal(c.release, 0xff);
	assert_true(c.held);
}

/* IF = 0, STI/MOV SS blocking or an injected event: nothing is released. */
static void test_guest_cannot_take(void **state)
{
	struct vintr_choice c = choose(0x26, -1, -1, false);

	(void)state;
	assert_int_equal(c.release, -1);
	assert_true(c.held);
	assert_true(c.irq_window);
	/* in service above it: its EOI (which exits) comes first, no window */
	c = choose(0x26, -1, 0x41, false);
	assert_int_equal(c.release, -1);
	assert_true(c.held);
	assert_false(c.irq_window);
	/* a higher class than the one in service: the window */
	c = choose(0x51, -1, 0x41, false);
	assert_true(c.irq_window);
}

/* In service in the same or a higher class: wait for its EOI (SDM 30.1.1). */
static void test_blocked_by_service(void **state)
{
	struct vintr_choice c = choose(0x4f, -1, 0x41, true);

	(void)state;
	assert_int_equal(c.release, -1);
	assert_true(c.held);
	assert_false(c.irq_window);
	c = choose(0x30, -1, 0x41, true);
	assert_int_equal(c.release, -1);
	c = choose(0x50, -1, 0x41, true);
	assert_int_equal(c.release, 0x50);
	assert_false(c.held);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nothing_pending),	   cmocka_unit_test(test_one_released),
		cmocka_unit_test(test_second_held),	   cmocka_unit_test(test_guest_cannot_take),
		cmocka_unit_test(test_blocked_by_service),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

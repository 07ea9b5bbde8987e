/* Host tests of the guest NMI delivery policy (arch/x86_64/vmx/vnmi.c):
 * when an NMI may be injected, and which window it waits for otherwise. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <asm/vnmi.h>

#define IF VNMI_RFLAGS_IF

static enum vnmi_action decide(bool vnmi, u32 intr, u64 rflags, bool soft)
{
	struct vnmi_state s = { vnmi, intr, rflags, soft };

	return vnmi_decide(&s);
}

/* With virtual NMIs the CPU's blocking bit rules: the guest's IRET clears it. */
static void test_virtual_nmis(void **state)
{
	(void)state;
	assert_int_equal(decide(true, 0, 0, false), VNMI_INJECT); /* IF does not matter */
	assert_int_equal(decide(true, 0, IF, false), VNMI_INJECT);
	/* inside the handler: wait for its IRET, not for ever */
	assert_int_equal(decide(true, GUEST_INTR_STATE_NMI, 0, false), VNMI_NMI_WINDOW);
	/* never inject under MOV SS blocking (SDM 26.3.1.5) */
	assert_int_equal(decide(true, GUEST_INTR_STATE_MOV_SS, 0, false), VNMI_NMI_WINDOW);
	/* STI blocking: some CPUs refuse the entry; wait one instruction */
	assert_int_equal(decide(true, GUEST_INTR_STATE_STI, IF, false), VNMI_IRQ_WINDOW);
	/* software blocking is not used with virtual NMIs */
	assert_int_equal(decide(true, 0, 0, true), VNMI_INJECT);
}

/* Without virtual NMIs: no NMI window exists, software blocking ends at the
 * first open interrupt window. */
static void test_fallback(void **state)
{
	struct vnmi_state s = { false, 0, 0, true };

	(void)state;
	assert_int_equal(decide(false, 0, 0, false), VNMI_INJECT);
	assert_int_equal(decide(false, 0, 0, true), VNMI_IRQ_WINDOW); /* handler runs, IF = 0 */
	assert_int_equal(decide(false, 0, IF, true), VNMI_INJECT);    /* it returned */
	assert_int_equal(decide(false, GUEST_INTR_STATE_STI, IF, true), VNMI_IRQ_WINDOW);
	assert_int_equal(decide(false, GUEST_INTR_STATE_MOV_SS, 0, false), VNMI_IRQ_WINDOW);
	/* the CPU's bit is physical blocking here, not the guest's: ignored */
	assert_int_equal(decide(false, GUEST_INTR_STATE_NMI, 0, false), VNMI_INJECT);
	assert_true(vnmi_blocked(&s));
	s.rflags = IF;
	assert_false(vnmi_blocked(&s));
}

static void test_blocked(void **state)
{
	struct vnmi_state s = { true, GUEST_INTR_STATE_NMI, IF, false };

	(void)state;
	assert_true(vnmi_blocked(&s)); /* a HLT inside the handler sleeps on */
	s.intr_state = GUEST_INTR_STATE_STI;
	assert_false(vnmi_blocked(&s)); /* an instruction shadow is not NMI blocking */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_virtual_nmis),
		cmocka_unit_test(test_fallback),
		cmocka_unit_test(test_blocked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Host tests of the virtual local APIC: registers, priorities, EOI, the
 * three timer modes and IPI destinations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <hv/vlapic.h>

static u32 sent_icr, sent_dest, sent_count, eoi_vector;

static void send_ipi(struct vlapic *l, u32 icr_low, u32 dest)
{
	(void)l;
	sent_icr = icr_low;
	sent_dest = dest;
	sent_count++;
}

static void eoi_level(struct vlapic *l, u32 vector)
{
	(void)l;
	eoi_vector = vector;
}

static const struct vlapic_ops ops = { .send_ipi = send_ipi, .eoi_level = eoi_level };

static void enabled(struct vlapic *l, u32 id)
{
	vlapic_reset(l, id, &ops, NULL);
	vlapic_write(l, VLAPIC_SVR, VLAPIC_SVR_ENABLE | 0xff, 0);
	sent_count = 0;
	eoi_vector = 0;
}

static void test_reset_state(void **state)
{
	struct vlapic l;

	(void)state;
	vlapic_reset(&l, 3, &ops, NULL);
	assert_int_equal(vlapic_read(&l, VLAPIC_ID, 0), 3U << 24);
	assert_int_equal(vlapic_read(&l, VLAPIC_VERSION, 0), 0x50014);
	assert_int_equal(vlapic_read(&l, VLAPIC_SVR, 0), 0xff);
	assert_int_equal(vlapic_read(&l, VLAPIC_DFR, 0), 0xffffffff);
	for (u32 r = VLAPIC_LVT_TIMER; r <= VLAPIC_LVT_ERROR; r += 0x10)
		assert_true(vlapic_read(&l, r, 0) & VLAPIC_LVT_MASKED);
	/* software-disabled: an LVT cannot be unmasked */
	vlapic_write(&l, VLAPIC_LVT_TIMER, 0x40, 0);
	assert_true(vlapic_read(&l, VLAPIC_LVT_TIMER, 0) & VLAPIC_LVT_MASKED);
	assert_int_equal(vlapic_pending(&l), -1);
}

static void test_priority_and_eoi(void **state)
{
	struct vlapic l;

	(void)state;
	enabled(&l, 0);
	assert_true(vlapic_accept(&l, 0x30, false));
	assert_true(vlapic_accept(&l, 0x41, false));
	assert_int_equal(vlapic_pending(&l), 0x41);
	vlapic_ack(&l, 0x41);
	assert_int_equal(vlapic_read(&l, VLAPIC_ISR + 0x20, 0), 1U << 1); /* ISR bits 64-95 */
	assert_int_equal(vlapic_read(&l, VLAPIC_PPR, 0), 0x40);
	assert_int_equal(vlapic_pending(&l), -1); /* class 3 below the in-service class 4 */
	assert_true(vlapic_accept(&l, 0x55, false));
	assert_int_equal(vlapic_pending(&l), 0x55); /* a higher class nests */
	vlapic_ack(&l, 0x55);
	vlapic_write(&l, VLAPIC_EOI, 0, 0); /* ends 0x55, the highest in service */
	assert_int_equal(vlapic_read(&l, VLAPIC_PPR, 0), 0x40);
	vlapic_write(&l, VLAPIC_EOI, 0, 0);
	assert_int_equal(vlapic_pending(&l), 0x30);
	/* TPR holds it back; CR8 is the same register */
	vlapic_write(&l, VLAPIC_TPR, 0x30, 0);
	assert_int_equal(vlapic_pending(&l), -1);
	assert_int_equal(vlapic_get_cr8(&l), 3);
	vlapic_set_cr8(&l, 2);
	assert_int_equal(vlapic_read(&l, VLAPIC_TPR, 0), 0x20);
	assert_int_equal(vlapic_pending(&l), 0x30);
	/* an EOI with nothing in service is counted, not a crash */
	vlapic_write(&l, VLAPIC_EOI, 0, 0);
	assert_int_equal(l.stats.eoi_spurious, 1);
}

static void test_level_eoi_reaches_ioapic(void **state)
{
	struct vlapic l;

	(void)state;
	enabled(&l, 0);
	vlapic_accept(&l, 0x61, true);
	vlapic_ack(&l, 0x61);
	vlapic_write(&l, VLAPIC_EOI, 0, 0);
	assert_int_equal(eoi_vector, 0x61);
	eoi_vector = 0;
	vlapic_accept(&l, 0x61, false); /* the same vector, now edge */
	vlapic_ack(&l, 0x61);
	vlapic_write(&l, VLAPIC_EOI, 0, 0);
	assert_int_equal(eoi_vector, 0);
}

static void test_illegal_vector(void **state)
{
	struct vlapic l;

	(void)state;
	enabled(&l, 0);
	assert_false(vlapic_accept(&l, 5, false));
	assert_int_equal(vlapic_pending(&l), -1);
	assert_int_equal(vlapic_read(&l, VLAPIC_ESR, 0), 0); /* latched only by a write */
	vlapic_write(&l, VLAPIC_ESR, 0, 0);
	assert_int_equal(vlapic_read(&l, VLAPIC_ESR, 0), VLAPIC_ESR_RECV_ILLEGAL);
	vlapic_write(&l, VLAPIC_ESR, 0, 0);
	assert_int_equal(vlapic_read(&l, VLAPIC_ESR, 0), 0);
}

static void test_timer_oneshot(void **state)
{
	struct vlapic l;

	(void)state;
	enabled(&l, 0);
	vlapic_write(&l, VLAPIC_TDCR, 0x1, 0); /* divide by 4 */
	vlapic_write(&l, VLAPIC_LVT_TIMER, 0x31, 1000);
	vlapic_write(&l, VLAPIC_TMICT, 250, 1000);
	assert_int_equal(vlapic_timer_poll(&l, 1999), 2000);
	assert_int_equal(vlapic_read(&l, VLAPIC_TMCCT, 1500), 125);
	assert_int_equal(vlapic_pending(&l), -1);
	assert_int_equal(vlapic_timer_poll(&l, 2000), 0);
	assert_int_equal(vlapic_pending(&l), 0x31);
	assert_int_equal(vlapic_read(&l, VLAPIC_TMCCT, 2500), 0);
	assert_int_equal(l.stats.timer_fired, 1);
	/* masked: counts, but no interrupt */
	vlapic_ack(&l, 0x31);
	vlapic_write(&l, VLAPIC_LVT_TIMER, 0x31 | VLAPIC_LVT_MASKED, 3000);
	vlapic_write(&l, VLAPIC_TMICT, 10, 3000);
	vlapic_timer_poll(&l, 4000);
	assert_int_equal(vlapic_pending(&l), -1);
}

static void test_timer_periodic(void **state)
{
	struct vlapic l;

	(void)state;
	enabled(&l, 0);
	vlapic_write(&l, VLAPIC_TDCR, 0xb, 0); /* divide by 1 */
	vlapic_write(&l, VLAPIC_LVT_TIMER, 0x32 | (VLAPIC_TIMER_PERIODIC << 17), 0);
	vlapic_write(&l, VLAPIC_TMICT, 100, 0);
	assert_int_equal(vlapic_timer_poll(&l, 100), 200);
	assert_int_equal(l.stats.timer_fired, 1);
	/* ten periods unseen: one interrupt, the next deadline in the future */
	assert_int_equal(vlapic_timer_poll(&l, 1250), 1300);
	assert_int_equal(l.stats.timer_fired, 2);
	assert_int_equal(vlapic_read(&l, VLAPIC_TMCCT, 1260), 40);
	/* writing 0 stops it */
	vlapic_write(&l, VLAPIC_TMICT, 0, 1260);
	assert_int_equal(vlapic_timer_poll(&l, 5000), 0);
}

static void test_timer_tsc_deadline(void **state)
{
	struct vlapic l;

	(void)state;
	enabled(&l, 0);
	/* not in TSC-deadline mode: the MSR is ignored and reads 0 */
	vlapic_set_tsc_deadline(&l, 5000, 0);
	assert_int_equal(vlapic_get_tsc_deadline(&l), 0);
	vlapic_write(&l, VLAPIC_LVT_TIMER, 0xec | (VLAPIC_TIMER_TSCDEADLINE << 17), 0);
	vlapic_write(&l, VLAPIC_TMICT, 7, 0); /* ignored in this mode */
	assert_int_equal(vlapic_read(&l, VLAPIC_TMICT, 0), 0);
	vlapic_set_tsc_deadline(&l, 5000, 0);
	assert_int_equal(vlapic_get_tsc_deadline(&l), 5000);
	assert_int_equal(vlapic_timer_poll(&l, 4999), 5000);
	assert_int_equal(vlapic_timer_poll(&l, 5000), 0);
	assert_int_equal(vlapic_pending(&l), 0xec);
	assert_int_equal(vlapic_get_tsc_deadline(&l), 0); /* cleared when it fires */
	/* a deadline in the past fires at the next poll; 0 disarms */
	vlapic_set_tsc_deadline(&l, 10, 6000);
	assert_int_equal(vlapic_timer_poll(&l, 6000), 0);
	assert_int_equal(l.stats.timer_fired, 2);
	vlapic_set_tsc_deadline(&l, 9000, 6000);
	vlapic_set_tsc_deadline(&l, 0, 6000);
	assert_int_equal(vlapic_timer_poll(&l, 10000), 0);
	assert_int_equal(l.stats.timer_fired, 2);
	/* a mode change disarms */
	vlapic_set_tsc_deadline(&l, 20000, 10000);
	vlapic_write(&l, VLAPIC_LVT_TIMER, 0xec, 10000);
	assert_int_equal(vlapic_timer_poll(&l, 30000), 0);
	assert_int_equal(l.stats.timer_fired, 2);
}

static void test_icr_xapic_and_x2apic(void **state)
{
	struct vlapic l;
	u64 v;

	(void)state;
	enabled(&l, 1);
	vlapic_write(&l, VLAPIC_ICR_HIGH, 0x02000000, 0);
	vlapic_write(&l, VLAPIC_ICR_LOW, 0x4500, 0); /* INIT, assert */
	assert_int_equal(sent_count, 1);
	assert_int_equal(sent_dest, 2);
	assert_int_equal(sent_icr, 0x4500);
	assert_int_equal(vlapic_read(&l, VLAPIC_ICR_LOW, 0) & (1U << 12), 0); /* never busy */
	/* the x2APIC MSRs answer only in x2APIC mode */
	assert_false(vlapic_read_msr(&l, 0x802, &v, 0));
	vlapic_set_x2apic(&l, true);
	assert_true(vlapic_read_msr(&l, 0x802, &v, 0));
	assert_int_equal(v, 1);
	assert_true(vlapic_read_msr(&l, 0x80d, &v, 0));
	assert_int_equal(v, 1U << 1); /* LDR: cluster 0, bit 1 */
	assert_true(vlapic_write_msr(&l, 0x830, (7ULL << 32) | 0x40f1, 0));
	assert_int_equal(sent_dest, 7);
	assert_int_equal(sent_icr, 0x40f1);
	assert_true(vlapic_read_msr(&l, 0x830, &v, 0));
	assert_int_equal(v, (7ULL << 32) | 0x40f1);
	assert_false(vlapic_write_msr(&l, 0x80b, 1, 0));	  /* EOI needs 0 */
	assert_false(vlapic_write_msr(&l, 0x80d, 0, 0));	  /* LDR is read-only */
	assert_false(vlapic_read_msr(&l, 0x80e, &v, 0));	  /* no DFR in x2APIC mode */
	assert_false(vlapic_write_msr(&l, 0x808, 1ULL << 32, 0)); /* reserved bits */
	assert_true(vlapic_write_msr(&l, 0x83f, 0x77, 0));	  /* SELF IPI */
	assert_int_equal(vlapic_pending(&l), 0x77);
}

static void test_destinations(void **state)
{
	struct vlapic a, b;

	(void)state;
	enabled(&a, 0);
	enabled(&b, 1);
	assert_true(vlapic_match_dest(&a, 0, false));
	assert_false(vlapic_match_dest(&b, 0, false));
	assert_true(vlapic_match_dest(&b, 0xff, false)); /* xAPIC physical broadcast */
	/* flat logical: LDR bits */
	vlapic_write(&a, VLAPIC_LDR, 0x01000000, 0);
	vlapic_write(&b, VLAPIC_LDR, 0x02000000, 0);
	assert_true(vlapic_match_dest(&a, 0x03, true));
	assert_true(vlapic_match_dest(&b, 0x03, true));
	assert_false(vlapic_match_dest(&b, 0x01, true));
	/* cluster logical */
	vlapic_write(&b, VLAPIC_DFR, 0x0fffffff, 0);
	vlapic_write(&b, VLAPIC_LDR, 0x12000000, 0); /* cluster 1, bit 2 */
	assert_true(vlapic_match_dest(&b, 0x12, true));
	assert_false(vlapic_match_dest(&b, 0x02, true));
	/* x2APIC */
	vlapic_set_x2apic(&b, true);
	assert_true(vlapic_match_dest(&b, 1, false));
	assert_true(vlapic_match_dest(&b, 0x00000002, true));
	assert_false(vlapic_match_dest(&b, 0x00010002, true));
	assert_true(vlapic_match_dest(&b, 0xffffffff, false));
}

/* SDM 11.12.5: the legal transitions, and #GP (no change) for the others. */
static void test_mode_transitions(void **state)
{
	struct vlapic l;

	(void)state;
	enabled(&l, 1);
	assert_int_equal(vlapic_get_mode(&l), VLAPIC_MODE_XAPIC);
	assert_false(vlapic_set_mode(&l, VLAPIC_MODE_INVALID));
	assert_true(vlapic_set_mode(&l, VLAPIC_MODE_X2APIC));
	assert_false(vlapic_mode_allowed(&l, VLAPIC_MODE_XAPIC));
	assert_false(vlapic_set_mode(&l, VLAPIC_MODE_XAPIC)); /* x2APIC -> xAPIC directly */
	assert_int_equal(vlapic_get_mode(&l), VLAPIC_MODE_X2APIC);
	assert_true(vlapic_set_mode(&l, VLAPIC_MODE_X2APIC)); /* no change */
	assert_true(vlapic_set_mode(&l, VLAPIC_MODE_DISABLED));
	assert_false(vlapic_set_mode(&l, VLAPIC_MODE_X2APIC)); /* disabled -> x2APIC directly */
	assert_false(vlapic_set_mode(&l, VLAPIC_MODE_INVALID));
	assert_int_equal(vlapic_get_mode(&l), VLAPIC_MODE_DISABLED);
	assert_true(vlapic_set_mode(&l, VLAPIC_MODE_XAPIC));
	assert_true(vlapic_set_mode(&l, VLAPIC_MODE_X2APIC));
	assert_int_equal(vlapic_get_mode(&l), VLAPIC_MODE_X2APIC);
	assert_int_equal(vlapic_read(&l, VLAPIC_LDR, 0), 0x2); /* x2APIC LDR from the ID */
}

/* A disabled APIC takes nothing and keeps nothing: an interrupt left in
 * service before the disable no longer masks lower ones afterwards. */
static void test_disable_resets(void **state)
{
	struct vlapic l;
	u64 v;

	(void)state;
	enabled(&l, 0);
	assert_true(vlapic_set_mode(&l, VLAPIC_MODE_X2APIC));
	assert_true(vlapic_accept(&l, 0xe1, false));
	vlapic_ack(&l, 0xe1); /* in service, never EOIed */
	assert_true(vlapic_set_mode(&l, VLAPIC_MODE_DISABLED));
	assert_false(vlapic_accept(&l, 0x41, false));
	assert_int_equal(vlapic_pending(&l), -1);
	assert_false(vlapic_read_msr(&l, 0x802, &v, 0)); /* no x2APIC MSRs while disabled */
	assert_true(vlapic_set_mode(&l, VLAPIC_MODE_XAPIC));
	assert_true(vlapic_set_mode(&l, VLAPIC_MODE_X2APIC));
	assert_true(vlapic_write_msr(&l, 0x80f, VLAPIC_SVR_ENABLE | 0xff, 0));
	assert_true(vlapic_accept(&l, 0x41, false));
	assert_int_equal(vlapic_pending(&l), 0x41);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reset_state),
		cmocka_unit_test(test_priority_and_eoi),
		cmocka_unit_test(test_level_eoi_reaches_ioapic),
		cmocka_unit_test(test_illegal_vector),
		cmocka_unit_test(test_timer_oneshot),
		cmocka_unit_test(test_timer_periodic),
		cmocka_unit_test(test_timer_tsc_deadline),
		cmocka_unit_test(test_icr_xapic_and_x2apic),
		cmocka_unit_test(test_destinations),
		cmocka_unit_test(test_mode_transitions),
		cmocka_unit_test(test_disable_resets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

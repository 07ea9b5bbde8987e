/* Host tests of the i440FX/PIIX models: what OVMF's PlatformPei and
 * AcpiTimerLib read and program, and the PM timer's arithmetic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <hv/piix.h>

#define TSC_HZ 2999999999ULL /* an odd rate: rounding shows */

static void test_identity(void **state)
{
	struct piix x;

	(void)state;
	piix_reset(&x, 0);
	assert_int_equal(i440fx_cfg_read(0x00), 0x12378086);
	assert_int_equal(i440fx_cfg_read(0x08) >> 8, 0x060000);
	assert_int_equal(piix_cfg_read(&x, PIIX_FN_ISA, 0x00, 4), 0x70008086);
	assert_int_equal(piix_cfg_read(&x, PIIX_FN_ISA, 0x02, 2), 0x7000); /* OVMF's PciRead16 */
	assert_int_equal(piix_cfg_read(&x, PIIX_FN_ISA, 0x0b, 1), 0x06);
	assert_int_equal(piix_cfg_read(&x, PIIX_FN_ISA, 0x0a, 1), 0x01);
	assert_int_equal(piix_cfg_read(&x, PIIX_FN_ISA, 0x0e, 1), 0x80); /* multi-function */
	assert_int_equal(piix_cfg_read(&x, PIIX_FN_PM, 0x00, 4), 0x71138086);
	assert_int_equal(piix_cfg_read(&x, PIIX_FN_PM, 0x3d, 1), 1); /* INTA */
	assert_int_equal(piix_cfg_read(&x, 1, 0x00, 4), 0xffffffff); /* no IDE */
	assert_int_equal(piix_cfg_read(&x, 2, 0x00, 2), 0xffff);     /* no USB */
}

static void test_pirq(void **state)
{
	struct piix x;

	(void)state;
	piix_reset(&x, 0);
	assert_int_equal(piix_cfg_read(&x, PIIX_FN_ISA, 0x60, 4), 0x80808080);
	piix_cfg_write(&x, PIIX_FN_ISA, 0x61, 1, 0x0a);
	piix_cfg_write(&x, PIIX_FN_ISA, 0x62, 2, 0x0b0b);
	assert_int_equal(piix_cfg_read(&x, PIIX_FN_ISA, 0x60, 4), 0x0b0b0a80);
	piix_cfg_write(&x, PIIX_FN_ISA, 0x00, 4, 0); /* IDs are read-only */
	assert_int_equal(piix_cfg_read(&x, PIIX_FN_ISA, 0x00, 4), 0x70008086);
}

/* As OVMF's PlatformMiscInitialization does it: PMBA, PCICMD.IOSE, PMREGMISC.PMIOSE. */
static void test_pm_base(void **state)
{
	struct piix x;
	u32 v = 0;

	(void)state;
	piix_reset(&x, 0);
	assert_int_equal(piix_pm_base(&x), 0);
	assert_int_equal(piix_cfg_read(&x, PIIX_FN_PM, PIIX4_PMBA, 4), 1); /* I/O indicator */
	assert_int_equal(piix_pm_io(&x, 0xb008, 4, true, &v, 0, TSC_HZ), PIIX_PM_NOT_MINE);
	v = piix_cfg_read(&x, PIIX_FN_PM, PIIX4_PMBA, 4);
	piix_cfg_write(&x, PIIX_FN_PM, PIIX4_PMBA, 4, (v & ~PIIX4_PMBA_MASK) | 0xb000);
	piix_cfg_write(&x, PIIX_FN_PM, 0x04, 1, piix_cfg_read(&x, PIIX_FN_PM, 0x04, 1) | 1);
	assert_int_equal(piix_pm_base(&x), 0); /* not yet: PMIOSE decides */
	piix_cfg_write(&x, PIIX_FN_PM, PIIX4_PMREGMISC, 1, PIIX4_PMIOSE);
	assert_int_equal(piix_pm_base(&x), 0xb000);
	assert_int_equal(piix_cfg_read(&x, PIIX_FN_PM, PIIX4_PMBA, 4), 0xb001);
	assert_int_equal(piix_cfg_read(&x, PIIX_FN_PM, PIIX4_PMREGMISC, 1), 1);
	assert_int_equal(piix_pm_io(&x, 0xb008, 4, true, &v, 0, TSC_HZ), PIIX_PM_DONE);
	assert_int_equal(piix_pm_io(&x, 0xb040, 4, true, &v, 0, TSC_HZ), PIIX_PM_NOT_MINE);
	assert_int_equal(piix_pm_io(&x, 0xafff, 1, true, &v, 0, TSC_HZ), PIIX_PM_NOT_MINE);
	piix_cfg_write(&x, PIIX_FN_PM, 0x3c, 1, 9); /* the SCI line OVMF sets */
	assert_int_equal(piix_cfg_read(&x, PIIX_FN_PM, 0x3c, 2), 0x0109);
}

static void test_pm_timer(void **state)
{
	(void)state;
	assert_int_equal(piix_pm_timer(1000, 1000, TSC_HZ), 0);
	/* one second of TSC: 3579545 ticks, wrapped to 24 bits */
	assert_int_equal(piix_pm_timer(0, TSC_HZ, TSC_HZ), 3579545 & PM_TIMER_MASK);
	/* half a second, rounded down */
	assert_int_equal(piix_pm_timer(0, TSC_HZ / 2, TSC_HZ), 1789772);
	/* a day of uptime does not overflow the arithmetic */
	u64 day = 86400ULL * TSC_HZ;
	assert_int_equal(piix_pm_timer(0, day, TSC_HZ), (86400ULL * 3579545) & PM_TIMER_MASK);
	/* a TSC that wrapped past the epoch still counts forward */
	assert_int_equal(piix_pm_timer(~0ULL - TSC_HZ + 1, 0, TSC_HZ), 3579545 & PM_TIMER_MASK);
	/* monotonic within the 24-bit period */
	u32 last = 0;
	for (u64 t = 0; t < TSC_HZ; t += TSC_HZ / 1000) {
		u32 now = piix_pm_timer(0, t, TSC_HZ);
		assert_true(now >= last);
		last = now;
	}
}

static struct piix *pm_on(struct piix *x)
{
	piix_reset(x, 0);
	piix_cfg_write(x, PIIX_FN_PM, PIIX4_PMBA, 4, 0xb000);
	piix_cfg_write(x, PIIX_FN_PM, PIIX4_PMREGMISC, 1, PIIX4_PMIOSE);
	return x;
}

/* OVMF's ResetShutdown: SUS_TYP = 0, then SUS_EN. */
static void test_pm1_poweroff(void **state)
{
	struct piix x;
	u32 v;

	(void)state;
	pm_on(&x);
	v = 0x0001; /* SCI_EN */
	assert_int_equal(piix_pm_io(&x, 0xb004, 2, false, &v, 0, TSC_HZ), PIIX_PM_DONE);
	assert_int_equal(piix_pm_io(&x, 0xb004, 2, true, &v, 0, TSC_HZ), PIIX_PM_DONE);
	assert_int_equal(v, 0x0001);
	v = 0x0001 | 1 << 10 | PM1_CNT_SUS_EN; /* another sleep type: not modelled */
	assert_int_equal(piix_pm_io(&x, 0xb004, 2, false, &v, 0, TSC_HZ), PIIX_PM_DONE);
	assert_int_equal(piix_pm_io(&x, 0xb004, 2, true, &v, 0, TSC_HZ), PIIX_PM_DONE);
	assert_int_equal(v, 0x0401); /* SUS_EN reads 0 */
	v = 0x0001;
	assert_int_equal(piix_pm_io(&x, 0xb004, 2, false, &v, 0, TSC_HZ), PIIX_PM_DONE);
	v = PM1_CNT_SUS_EN >> 8; /* the high byte alone */
	assert_int_equal(piix_pm_io(&x, 0xb005, 1, false, &v, 0, TSC_HZ), PIIX_PM_POWEROFF);
}

/*
 * Linux on an OVMF VSI's hardware-reduced FADT (guest/firmware/acpi.h):
 * WAK_STS to the sleep status register (PM1 status's high byte), then
 * SLP_TYP 0 with SLP_EN to the sleep control register (PM1 control's).
 */
static void test_pm1_hw_reduced_sleep_registers(void **state)
{
	struct piix x;
	u32 v;

	(void)state;
	pm_on(&x);
	x.pm1_sts = 0x8000;
	v = 0x80;
	assert_int_equal(piix_pm_io(&x, 0xb001, 1, false, &v, 0, TSC_HZ), PIIX_PM_DONE);
	assert_int_equal(x.pm1_sts, 0);
	v = 0x20;
	assert_int_equal(piix_pm_io(&x, 0xb005, 1, false, &v, 0, TSC_HZ), PIIX_PM_POWEROFF);
	v = 5 << 2 | 0x20; /* the vsi-pc S5 type is not the PIIX4's soft-off */
	assert_int_equal(piix_pm_io(&x, 0xb005, 1, false, &v, 0, TSC_HZ), PIIX_PM_DONE);
}

static void test_pm1_status_enable(void **state)
{
	struct piix x;
	u32 v;

	(void)state;
	pm_on(&x);
	x.pm1_sts = 0x8001;
	v = 0x0001; /* write 1 to clear */
	piix_pm_io(&x, 0xb000, 2, false, &v, 0, TSC_HZ);
	piix_pm_io(&x, 0xb000, 2, true, &v, 0, TSC_HZ);
	assert_int_equal(v, 0x8000);
	v = 0x0120;
	piix_pm_io(&x, 0xb002, 2, false, &v, 0, TSC_HZ);
	piix_pm_io(&x, 0xb003, 1, true, &v, 0, TSC_HZ);
	assert_int_equal(v & 0xff, 0x01);
	v = 0x12345678; /* the timer ignores writes */
	assert_int_equal(piix_pm_io(&x, 0xb008, 4, false, &v, 0, TSC_HZ), PIIX_PM_DONE);
	piix_pm_io(&x, 0xb008, 4, true, &v, TSC_HZ, TSC_HZ);
	assert_int_equal(v, 3579545);
	piix_pm_io(&x, 0xb00a, 1, true, &v, TSC_HZ, TSC_HZ);
	assert_int_equal(v & 0xff, (3579545 >> 16) & 0xff);
	piix_pm_io(&x, 0xb00c, 4, true, &v, 0, TSC_HZ);
	assert_int_equal(v, 0); /* GPE: nothing */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_pirq),
		cmocka_unit_test(test_pm_base),
		cmocka_unit_test(test_pm_timer),
		cmocka_unit_test(test_pm1_poweroff),
		cmocka_unit_test(test_pm1_hw_reduced_sleep_registers),
		cmocka_unit_test(test_pm1_status_enable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

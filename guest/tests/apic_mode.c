/* apic-mode: local APIC mode transitions through IA32_APIC_BASE (SDM Vol. 3
 * 11.12.5, Figure 11-27). The legal ones (xAPIC -> x2APIC -> disabled ->
 * xAPIC -> x2APIC) are taken, the illegal ones (x2APIC -> xAPIC directly,
 * disabled -> x2APIC directly, EXTD without EN) raise #GP and change nothing;
 * CPUID.1:EDX.APIC follows EN; the x2APIC MSRs raise #GP outside x2APIC mode;
 * a reserved bit raises #GP.
 * An interrupt left in service (no EOI) before the APIC is disabled does not
 * survive the disable (SDM 11.4.3: a disabled APIC is reset): in x2APIC mode
 * again, a lower fixed IPI to the broadcast ID reaches this (only) vCPU
 * exactly once. */
#include "cpu.h"

#define IPI_VECTOR		0x41
#define HIGH_VECTOR		0xe1 /* left in service, above IPI_VECTOR's priority class */
#define SPURIOUS_VECTOR		0xff
#define CPUID_1_EDX_APIC	(1U << 9)
#define IPI_WAIT_LOOPS		2000000
#define MODE_MASK		(APIC_BASE_EN_BIT | APIC_BASE_EXTD_BIT)
#define MODE_DISABLED		0
#define MODE_XAPIC		APIC_BASE_EN_BIT
#define MODE_X2APIC		(APIC_BASE_EN_BIT | APIC_BASE_EXTD_BIT)
#define MODE_INVALID_EXTD	APIC_BASE_EXTD_BIT
#define APIC_BASE_RESERVED_BIT9 (1UL << 9)

const char guest_name[] = "apic-mode";

static volatile uint32_t ipis, high_ipis;

static void on_ipi(struct trap_frame *f)
{
	(void)f;
	ipis++;
	wrmsr(MSR_X2APIC_EOI, 0);
}

/* No EOI: the vector stays in service and masks every lower class. */
static void on_high_ipi_no_eoi(struct trap_frame *f)
{
	(void)f;
	high_ipis++;
}

static uint64_t mode(void)
{
	return rdmsr(MSR_IA32_APIC_BASE) & MODE_MASK;
}

static bool cpuid_apic(void)
{
	uint32_t r[4];

	cpuid(1, 0, r);
	return r[3] & CPUID_1_EDX_APIC;
}

/* WRMSR IA32_APIC_BASE to mode m; checks the #GP (or its absence) and the mode after. */
static void transition(const char *what, uint64_t m, bool legal)
{
	uint64_t before = mode(), base = rdmsr(MSR_IA32_APIC_BASE) & ~MODE_MASK;
	int v = wrmsr_safe(MSR_IA32_APIC_BASE, base | m);
	uint64_t after = mode();

	if (legal && v == TRAP_NONE && after == m) {
		expect_ok(what);
	} else if (!legal && v == VEC_GP && after == before) {
		expect_ok(what);
	} else {
		expect_fail(what, "vector %d, mode 0x%lx -> 0x%lx, wanted %s", v, before, after,
			    legal ? "the new mode" : "#GP and no change");
		if (!legal) /* go on from where the walk should be */
			wrmsr_safe(MSR_IA32_APIC_BASE, base | before);
	}
}

static void check_cpuid(const char *what, bool want)
{
	if (cpuid_apic() == want)
		expect_ok(what);
	else
		expect_fail(what, "CPUID.1:EDX.APIC = %d, want %d", !want, want);
}

/* Outside x2APIC mode the x2APIC MSRs raise #GP, reads and writes alike. */
static void check_x2apic_msrs_gp(const char *what)
{
	uint64_t v;
	int r = rdmsr_safe(MSR_X2APIC_ID, &v), w = wrmsr_safe(MSR_X2APIC_SIVR, SPURIOUS_VECTOR);

	if (r == VEC_GP && w == VEC_GP)
		expect_ok(what);
	else
		expect_fail(what, "RDMSR 0x802 vector %d, WRMSR 0x80f vector %d, want #GP", r, w);
}

static void leave_one_in_service(void)
{
	wrmsr(MSR_X2APIC_SIVR, (1U << 8) | SPURIOUS_VECTOR);
	apic_send_ipi(0, ICR_FIXED | ICR_LEVEL_ASSERT | HIGH_VECTOR);
	asm volatile("sti");
	for (uint32_t i = 0; i < IPI_WAIT_LOOPS && !high_ipis; i++)
		cpu_relax();
	asm volatile("cli");
	if (high_ipis == 1)
		expect_ok("x2apic-self-ipi-in-service");
	else
		expect_fail("x2apic-self-ipi-in-service", "%u deliveries, want 1", high_ipis);
}

static void check_broadcast(void)
{
	wrmsr(MSR_X2APIC_SIVR, (1U << 8) | SPURIOUS_VECTOR);
	apic_send_ipi(APIC_BROADCAST_ID, ICR_FIXED | ICR_LEVEL_ASSERT | IPI_VECTOR);
	asm volatile("sti");
	for (uint32_t i = 0; i < IPI_WAIT_LOOPS && !ipis; i++)
		cpu_relax();
	delay_loops(IPI_WAIT_LOOPS / 10); /* a duplicate would arrive now */
	asm volatile("cli");
	if (ipis == 1)
		expect_ok("x2apic-broadcast-fixed-ipi");
	else
		expect_fail("x2apic-broadcast-fixed-ipi", "%u deliveries, want 1", ipis);
}

/* Bit 9 of IA32_APIC_BASE is reserved: #GP, nothing changes. */
static void check_reserved_bit(void)
{
	uint64_t before = rdmsr(MSR_IA32_APIC_BASE);
	int v = wrmsr_safe(MSR_IA32_APIC_BASE, before | APIC_BASE_RESERVED_BIT9);

	if (v == VEC_GP && rdmsr(MSR_IA32_APIC_BASE) == before)
		expect_ok("reserved-bit-refused");
	else
		expect_fail("reserved-bit-refused", "vector %d, 0x%lx -> 0x%lx", v, before,
			    rdmsr(MSR_IA32_APIC_BASE));
}

void guest_main(void)
{
	trap_set_handler(IPI_VECTOR, on_ipi);
	trap_set_handler(HIGH_VECTOR, on_high_ipi_no_eoi);
	transition("xapic-at-reset", MODE_XAPIC, true);
	check_cpuid("cpuid-apic-when-enabled", true);
	check_x2apic_msrs_gp("x2apic-msrs-gp-in-xapic-mode");
	check_reserved_bit();
	transition("xapic-to-x2apic", MODE_X2APIC, true);
	transition("x2apic-to-xapic-refused", MODE_XAPIC, false);
	leave_one_in_service();
	transition("x2apic-to-disabled", MODE_DISABLED, true);
	check_cpuid("cpuid-no-apic-when-disabled", false);
	check_x2apic_msrs_gp("x2apic-msrs-gp-when-disabled");
	transition("disabled-to-x2apic-refused", MODE_X2APIC, false);
	transition("extd-without-en-refused", MODE_INVALID_EXTD, false);
	transition("disabled-to-xapic", MODE_XAPIC, true);
	check_cpuid("cpuid-apic-when-reenabled", true);
	transition("xapic-to-x2apic-again", MODE_X2APIC, true);
	check_broadcast();
}

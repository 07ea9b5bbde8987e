/* smp: vCPU 0 switches to x2APIC and starts every other vCPU with
 * INIT-SIPI-SIPI (x2APIC ICR, physical destination = vCPU index), one at a
 * time. Each AP reaches long mode, checks its APIC ID and checks in. */
#include "cpu.h"

#define MAX_VCPUS	   32
#define AP_TRAMPOLINE_PAGE 0x8000UL /* rom.ld keeps it free */
#define SIPI_VECTOR	   (AP_TRAMPOLINE_PAGE >> 12)
/* Loop counts, not time: the guest does not know its TSC rate. Real CPUs
 * want 10 ms after INIT and 200 us between SIPIs (SDM Vol. 3 9.4.4.1);
 * the virtual APIC and emulators need no delay at all. */
#define INIT_DELAY_LOOPS 100000
#define SIPI_DELAY_LOOPS 20000
#define WAIT_LOOPS	 20000000UL

const char guest_name[] = "smp";

static uint8_t ap_stacks[MAX_VCPUS][AP_STACK_SIZE] __attribute__((aligned(4096)));
static volatile uint32_t starting_vcpu; /* index vCPU 0 is starting */
static volatile uint32_t answered_vcpu; /* last index that answered */
static volatile uint32_t vcpus_up;	/* APs that finished their checks */

static void check_apic_id(uint32_t index, uint32_t id)
{
	char what[32];

	snprint(what, sizeof(what), "apic-id-vcpu%u", index);
	if (id == index)
		expect_ok(what);
	else
		expect_fail(what, "MSR 0x802 reads %u on vCPU %u", id, index);
}

/* Under the hypervisor CPUID 0x40000001.ECX names the vCPU: it must be the
 * one vCPU 0 sent INIT-SIPI-SIPI to. */
static void check_cpuid_index(uint32_t index)
{
	char what[32];
	uint32_t r[4];

	cpuid(0x40000001, 0, r);
	snprint(what, sizeof(what), "cpuid-index-vcpu%u", index);
	if (r[2] == index)
		expect_ok(what);
	else
		expect_fail(what, "CPUID 0x40000001.ECX is %u on vCPU %u", r[2], index);
}

static void smp_ap(uint32_t slot)
{
	uint32_t index = starting_vcpu, id = apic_id();

	(void)slot;
	__atomic_store_n(&answered_vcpu, index, __ATOMIC_RELEASE);
	guest_say("vcpu %u apic %u up", index, id);
	check_apic_id(index, id);
	if (platform.hv)
		check_cpuid_index(index);
	__atomic_add_fetch(&vcpus_up, 1, __ATOMIC_SEQ_CST);
}

static bool wait_for(volatile uint32_t *var, uint32_t value)
{
	for (uint64_t i = 0; i < WAIT_LOOPS; i++) {
		if (__atomic_load_n(var, __ATOMIC_ACQUIRE) == value)
			return true;
		cpu_relax();
	}
	return false;
}

/* INIT, then SIPI twice (SDM Vol. 3 9.4.4.1); waits for the AP to answer so
 * the next one is started only after it. */
static void start_vcpu(uint32_t index)
{
	starting_vcpu = index;
	apic_send_ipi(index, ICR_INIT | ICR_LEVEL_ASSERT);
	delay_loops(INIT_DELAY_LOOPS);
	for (int i = 0; i < 2; i++) {
		apic_send_ipi(index, ICR_SIPI | ICR_LEVEL_ASSERT | SIPI_VECTOR);
		delay_loops(SIPI_DELAY_LOOPS);
	}
	if (!wait_for(&answered_vcpu, index))
		guest_say("vcpu %u did not answer INIT-SIPI-SIPI", index);
}

void guest_main(void)
{
	uint32_t n = platform.vcpus;
	size_t tramp_size = ap_trampoline_end - ap_trampoline;

	apic_init();
	if (!apic_is_x2apic())
		guest_say("no x2APIC on this CPU (CPUID.1:ECX[21]): using xAPIC MMIO instead");
	check_apic_id(0, apic_id());
	if (n > MAX_VCPUS) {
		guest_say("starting only %u of %u vCPUs", MAX_VCPUS, n);
		n = MAX_VCPUS;
	}
	memcpy((void *)AP_TRAMPOLINE_PAGE, ap_trampoline, tramp_size);
	ap_stack_base = ap_stacks;
	ap_stack_count = MAX_VCPUS;
	ap_entry = smp_ap;

	for (uint32_t i = 1; i < n; i++)
		start_vcpu(i);
	if (wait_for(&vcpus_up, n - 1))
		expect_ok("all-vcpus-up");
	else
		expect_fail("all-vcpus-up", "%u of %u APs up", vcpus_up, n - 1);
}

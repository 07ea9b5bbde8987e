/*
 * SMP bring-up (SDM Vol. 3 8.4.4.1): the boot CPU starts each AP with
 * INIT-SIPI-SIPI through the real-mode trampoline, one AP at a time, and
 * waits a bounded time for it to report in.
 */
#include <acpi/acpi.h>
#include <asm/cpu.h>
#include <asm/lapic.h>
#include <asm/msr.h>
#include <asm/paging.h>
#include <asm/percpu.h>
#include <asm/smp.h>
#include <asm/trap.h>
#include <hv/kernel.h>
#include <hv/log.h>
#include <hv/string.h>

#define TRAMP_PARAMS	  0x400 /* keep in sync with trampoline.asm */
#define SMP_INIT_DELAY_US 10000
#define SMP_SIPI_DELAY_US 200
#define SMP_AP_TIMEOUT_MS 500

struct tramp_params {
	u64 cr3;
	u64 entry;
	u64 stack;
	u64 arg;
};

extern char trampoline_begin[], trampoline_end[];
extern u64 boot_pml4[];
void cpu_init(struct percpu *pc);

static struct percpu bsp_percpu;
static u32 silent_apic_id = ~0U;

void smp_test_silence(u32 apic_id)
{
	silent_apic_id = apic_id;
	pr_warn("smp: selftest: CPU with APIC ID %u will not answer its start-up", apic_id);
}

void smp_init_bsp(void)
{
	bsp_percpu.id = 0;
	bsp_percpu.state = CPU_ONLINE;
	cpu_init(&bsp_percpu);
	nr_cpus = 1;
}

/*
 * An idle CPU: sleep until smp_run_on() hands it work, run it, and go idle
 * again (a vCPU thread never returns: the CPU is then the vCPU's).
 */
__noreturn void smp_worker_loop(void)
{
	struct percpu *pc = this_cpu();

	for (;;) {
		while (!pc->work_fn)
			asm volatile("sti; hlt; cli" ::: "memory"); /* woken by a kick */
		pc->work_fn(pc->work_arg);
		__atomic_store_n(&pc->work_fn, NULL, __ATOMIC_RELEASE);
	}
}

/* C entry of an AP, on its own stack, still on the boot page tables. */
static __noreturn void ap_entry(struct percpu *pc)
{
	u32 expect = CPU_STARTING;

	if (pc->apic_id == silent_apic_id)
		cpu_park();
	/* The boot CPU may have given up on us: then stay out, touching nothing. */
	if (!__atomic_compare_exchange_n(&pc->state, &expect, CPU_ONLINE, false, __ATOMIC_SEQ_CST,
					 __ATOMIC_SEQ_CST))
		cpu_park();
	write_cr3(paging_root());
	write_cr0(read_cr0() | X86_CR0_WP);
	cpu_init(pc);
	lapic_init();
	if (lapic_id() != pc->apic_id)
		pr_warn("smp: APIC ID %u, the MADT said %u", lapic_id(), pc->apic_id);
	pr_info("smp: CPU %u online, APIC ID %u", pc->id, lapic_id());
	smp_worker_loop();
}

static struct percpu *percpu_alloc(u32 id, u32 apic_id)
{
	struct percpu *pc = page_alloc_zeroed(sizeof(*pc), PAGE_SIZE, 0);

	pc->id = id;
	pc->apic_id = apic_id;
	pc->stack_top =
	    (u64)(uintptr_t)page_alloc_zeroed(CPU_STACK_SIZE, PAGE_SIZE, 0) + CPU_STACK_SIZE;
	return pc;
}

static bool wait_online(struct percpu *pc, u64 ms)
{
	u64 end = rdtsc() + tsc_hz() / 1000 * ms;

	while (rdtsc() < end)
		if (pc->state == CPU_ONLINE)
			return true;
	return pc->state == CPU_ONLINE;
}

/* INIT-SIPI-SIPI to one AP; true when it reported in. */
static bool start_ap(struct percpu *pc, u64 tramp)
{
	struct tramp_params *p = (void *)(uintptr_t)(tramp + TRAMP_PARAMS);
	u32 vector = tramp >> PAGE_SHIFT, expect = CPU_STARTING;

	p->cr3 = (u64)(uintptr_t)boot_pml4;
	p->entry = (u64)(uintptr_t)ap_entry;
	p->stack = pc->stack_top;
	p->arg = (u64)(uintptr_t)pc;
	pc->state = CPU_STARTING;
	lapic_send_ipi(pc->apic_id,
		       APIC_ICR_DM_INIT | APIC_ICR_LEVEL_ASSERT | APIC_ICR_TRIGGER_LEVEL);
	if (!lapic_is_x2apic()) /* INIT level de-assert, for older xAPICs */
		lapic_send_ipi(pc->apic_id, APIC_ICR_DM_INIT | APIC_ICR_TRIGGER_LEVEL);
	udelay(SMP_INIT_DELAY_US);
	for (int i = 0; i < 2 && pc->state != CPU_ONLINE; i++) {
		lapic_send_ipi(pc->apic_id, APIC_ICR_DM_STARTUP | vector);
		udelay(SMP_SIPI_DELAY_US);
	}
	if (wait_online(pc, SMP_AP_TIMEOUT_MS))
		return true;
	/* Too late: mark it absent so it parks itself if it ever wakes. */
	return !__atomic_compare_exchange_n(&pc->state, &expect, CPU_ABSENT, false,
					    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

u32 smp_boot(const struct acpi_info *ai)
{
	u32 bsp_apic = lapic_id();
	u64 tramp = frame_alloc(&frames, PAGE_SIZE, PAGE_SIZE, 1 * MiB);
	size_t tsize = trampoline_end - trampoline_begin;
	u32 enabled = 0;

	bsp_percpu.apic_id = bsp_apic;
	if (!tramp)
		panic("smp: no free page below 1 MiB for the AP trampoline");
	if (tsize > TRAMP_PARAMS)
		panic("smp: trampoline (%zu bytes) overlaps its parameters", tsize);
	memcpy((void *)(uintptr_t)tramp, trampoline_begin, tsize);
	pr_info("smp: boot CPU APIC ID %u, trampoline at 0x%llx, %u CPUs in the MADT", bsp_apic,
		(unsigned long long)tramp, ai->nr_cpus);
	for (u32 i = 0; i < ai->nr_cpus; i++) {
		const struct acpi_cpu *c = &ai->cpus[i];

		if (!c->enabled)
			continue;
		enabled++;
		if (c->apic_id == bsp_apic)
			continue;
		if (nr_cpus >= MAX_CPUS) {
			pr_warn("smp: more than %d CPUs; APIC ID %u and later left out", MAX_CPUS,
				c->apic_id);
			break;
		}
		struct percpu *pc = percpu_alloc(nr_cpus, c->apic_id);
		if (start_ap(pc, tramp)) {
			nr_cpus++;
			continue;
		}
		pr_err("smp: CPU with APIC ID %u did not answer INIT-SIPI-SIPI within %d ms; "
		       "left out",
		       c->apic_id, SMP_AP_TIMEOUT_MS);
	}
	pr_info("smp: %u of %u enabled CPUs online", nr_cpus, enabled);
	return nr_cpus;
}

bool smp_run_on(u32 cpu, void (*fn)(void *), void *arg)
{
	struct percpu *pc = cpu < nr_cpus ? cpus[cpu] : NULL;
	void (*expect)(void *) = NULL;

	if (!pc || (pc->state != CPU_ONLINE && pc->state != CPU_VMX_ROOT))
		return false;
	pc->work_arg = arg;
	if (!__atomic_compare_exchange_n(&pc->work_fn, &expect, fn, false, __ATOMIC_SEQ_CST,
					 __ATOMIC_SEQ_CST))
		return false;
	if (cpu != cpu_id())
		lapic_send_ipi(pc->apic_id, APIC_ICR_DM_FIXED | VECTOR_KICK);
	return true;
}

void smp_call_all(void (*fn)(void *), void *arg)
{
	for (u32 i = 1; i < nr_cpus; i++)
		if (!smp_run_on(i, fn, arg))
			panic("smp: CPU %u busy in smp_call_all", i);
	for (u32 i = 1; i < nr_cpus; i++)
		while (cpus[i]->work_fn)
			cpu_relax();
}

/* bench: round trips of the exits a guest causes most, in TSC ticks, each
 * timed alone between fenced TSC reads; "empty" is the fences alone. */
#include "cpu.h"

#define BENCH_ITERS	  1000
#define PORT_POST	  0x80
#define CPUID_HV_BASE	  0x40000000
#define HYPERCALL_UNKNOWN 0x12345 /* no such hypercall: must return -ENOSYS */

const char guest_name[] = "bench";

static uint64_t samples[BENCH_ITERS];

/* Shell sort (gaps 701, 301, ... Ciura 2001): small and fast enough. */
static void sort(uint64_t *a, int n)
{
	static const int gaps[] = { 701, 301, 132, 57, 23, 10, 4, 1 };

	for (size_t g = 0; g < sizeof(gaps) / sizeof(gaps[0]); g++) {
		int gap = gaps[g];

		for (int i = gap; i < n; i++) {
			uint64_t v = a[i];
			int j = i;

			for (; j >= gap && a[j - gap] > v; j -= gap)
				a[j] = a[j - gap];
			a[j] = v;
		}
	}
}

static void report(const char *what)
{
	sort(samples, BENCH_ITERS);
	print("BENCH %s min=%lu median=%lu iters=%u", what, samples[0], samples[BENCH_ITERS / 2],
	      BENCH_ITERS);
}

/* Times `op` BENCH_ITERS times into samples[]. */
#define MEASURE(op)                                         \
	do {                                                \
		for (int i_ = 0; i_ < BENCH_ITERS; i_++) {  \
			uint64_t t0_ = rdtsc_fenced();      \
			op;                                 \
			samples[i_] = rdtsc_fenced() - t0_; \
		}                                           \
	} while (0)

static inline void op_cpuid(void)
{
	uint32_t r[4];

	cpuid(CPUID_HV_BASE, 0, r);
}

static inline void op_vmcall(uint64_t nr)
{
	uint64_t rax = nr;

	asm volatile("vmcall" : "+a"(rax)::"memory");
}

/* VMCALL is #UD without a hypervisor to take it. */
static bool vmcall_works(void)
{
	uint64_t rax = 0;

	trap_vector = TRAP_NONE;
	asm volatile(EXTABLE("vmcall") : "+a"(rax)::"memory");
	return trap_vector == TRAP_NONE;
}

void guest_main(void)
{
	uint64_t v;

	MEASURE((void)0);
	report("empty");
	MEASURE(op_cpuid());
	report("cpuid");
	if (vmcall_works()) {
		MEASURE(op_vmcall(0));
		report("vmcall");
		MEASURE(op_vmcall(HYPERCALL_UNKNOWN));
		report("vmcall-unknown");
	} else {
		guest_say("vmcall raises %s: not measured", trap_name(trap_vector));
	}
	MEASURE(inb(PORT_POST));
	report("io-in");
	if (rdmsr_safe(MSR_IA32_MISC_ENABLE, &v) == TRAP_NONE) {
		MEASURE(rdmsr(MSR_IA32_MISC_ENABLE));
		report("rdmsr");
	} else {
		guest_say("rdmsr 0x%x raises %s: not measured", MSR_IA32_MISC_ENABLE,
			  trap_name(trap_vector));
	}
}

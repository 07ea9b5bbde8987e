/* Processor instructions, control registers and CPUID feature bits (SDM Vol. 2, Vol. 3 2.5). */
#ifndef ASM_CPU_H
#define ASM_CPU_H

#include <hv/types.h>

#define X86_CR0_PE BIT(0)
#define X86_CR0_MP BIT(1)
#define X86_CR0_EM BIT(2)
#define X86_CR0_TS BIT(3)
#define X86_CR0_ET BIT(4)
#define X86_CR0_NE BIT(5)
#define X86_CR0_WP BIT(16)
#define X86_CR0_AM BIT(18)
#define X86_CR0_NW BIT(29)
#define X86_CR0_CD BIT(30)
#define X86_CR0_PG BIT(31)

#define X86_CR4_VME	   BIT(0)
#define X86_CR4_PVI	   BIT(1)
#define X86_CR4_TSD	   BIT(2)
#define X86_CR4_DE	   BIT(3)
#define X86_CR4_PSE	   BIT(4)
#define X86_CR4_PAE	   BIT(5)
#define X86_CR4_MCE	   BIT(6)
#define X86_CR4_PGE	   BIT(7)
#define X86_CR4_PCE	   BIT(8)
#define X86_CR4_OSFXSR	   BIT(9)
#define X86_CR4_OSXMMEXCPT BIT(10)
#define X86_CR4_UMIP	   BIT(11)
#define X86_CR4_VMXE	   BIT(13)
#define X86_CR4_SMXE	   BIT(14)
#define X86_CR4_FSGSBASE   BIT(16)
#define X86_CR4_PCIDE	   BIT(17)
#define X86_CR4_OSXSAVE	   BIT(18)
#define X86_CR4_SMEP	   BIT(20)
#define X86_CR4_SMAP	   BIT(21)

#define X86_RFLAGS_CF BIT(0)
#define X86_RFLAGS_ZF BIT(6)
#define X86_RFLAGS_TF BIT(8)
#define X86_RFLAGS_IF BIT(9)
#define X86_RFLAGS_DF BIT(10)
#define X86_RFLAGS_RF BIT(16)

/* CPUID.01H:ECX / EDX */
#define CPUID_1_ECX_VMX		 BIT(5)
#define CPUID_1_ECX_SMX		 BIT(6)
#define CPUID_1_ECX_X2APIC	 BIT(21)
#define CPUID_1_ECX_XSAVE	 BIT(26)
#define CPUID_1_ECX_OSXSAVE	 BIT(27)
#define CPUID_1_ECX_TSC_DEADLINE BIT(24)
#define CPUID_1_ECX_HYPERVISOR	 BIT(31)
#define CPUID_1_EDX_APIC	 BIT(9)
#define CPUID_1_EDX_MSR		 BIT(5)
/* CPUID.80000001H:EDX */
#define CPUID_80000001_EDX_NX	   BIT(20)
#define CPUID_80000001_EDX_PAGE1GB BIT(26)
#define CPUID_80000001_EDX_RDTSCP  BIT(27)
#define CPUID_80000001_EDX_LM	   BIT(29)

struct cpuid_regs {
	u32 eax, ebx, ecx, edx;
};

static inline struct cpuid_regs cpuid(u32 leaf, u32 subleaf)
{
	struct cpuid_regs r;
	asm volatile("cpuid"
		     : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
		     : "a"(leaf), "c"(subleaf));
	return r;
}

static inline bool cpu_has_rdtscp(void)
{
	return cpuid(0x80000001, 0).edx & CPUID_80000001_EDX_RDTSCP;
}

static inline u64 rdmsr(u32 msr)
{
	u32 lo, hi;
	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((u64)hi << 32) | lo;
}

static inline void wrmsr(u32 msr, u64 v)
{
	asm volatile("wrmsr" : : "c"(msr), "a"((u32)v), "d"((u32)(v >> 32)) : "memory");
}

static inline u64 rdtsc(void)
{
	u32 lo, hi;
	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

#define DEFINE_CR(n)                                                   \
	static inline u64 read_cr##n(void)                             \
	{                                                              \
		u64 v;                                                 \
		asm volatile("mov %%cr" #n ", %0" : "=r"(v));          \
		return v;                                              \
	}                                                              \
	static inline void write_cr##n(u64 v)                          \
	{                                                              \
		asm volatile("mov %0, %%cr" #n : : "r"(v) : "memory"); \
	}
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)
#undef DEFINE_CR

static inline u64 read_rflags(void)
{
	u64 v;
	asm volatile("pushfq; popq %0" : "=r"(v));
	return v;
}

static inline void cpu_relax(void)
{
	asm volatile("pause" ::: "memory");
}

static inline void irq_disable(void)
{
	asm volatile("cli" ::: "memory");
}

static inline void irq_enable(void)
{
	asm volatile("sti" ::: "memory");
}

static inline void halt(void)
{
	asm volatile("hlt" ::: "memory");
}

/* Stop this CPU for good: interrupts off, halted; an NMI returns to hlt. */
static inline __noreturn void cpu_park(void)
{
	for (;;)
		asm volatile("cli; hlt" ::: "memory");
}

/*
 * Unblock NMIs on this CPU: an IRET to the next instruction (SDM 6.7.1),
 * for paths that consumed an NMI without an NMI handler's IRET.
 */
static inline void cpu_unblock_nmi(void)
{
	asm volatile("mov %%rsp, %%rax\n"
		     "mov %%ss, %%ecx\n"
		     "push %%rcx\n"
		     "push %%rax\n"
		     "pushfq\n"
		     "mov %%cs, %%ecx\n"
		     "push %%rcx\n"
		     "lea 1f(%%rip), %%rcx\n"
		     "push %%rcx\n"
		     "iretq\n"
		     "1:"
		     :
		     :
		     : "rax", "rcx", "cc", "memory");
}

/*
 * XSETBV that cannot bring the hypervisor down: if it faults (#GP on a value
 * the CPU refuses), the exception table (trap.c) resumes after it and this
 * returns -1. For values that come from guests.
 */
static inline int xsetbv_safe(u32 index, u64 value)
{
	int err = 0;

	asm volatile("1: xsetbv\n"
		     "2:\n"
		     ".pushsection .extable, \"a\"\n"
		     ".quad 1b, 3f\n"
		     ".popsection\n"
		     ".pushsection .text.fixup, \"ax\"\n"
		     "3: movl $-1, %0\n"
		     "jmp 2b\n"
		     ".popsection"
		     : "+r"(err)
		     : "c"(index), "a"((u32)value), "d"((u32)(value >> 32))
		     : "memory");
	return err;
}

static inline void invlpg(u64 addr)
{
	asm volatile("invlpg (%0)" : : "r"(addr) : "memory");
}

#endif

/* Instruction wrappers for the test guests. The *_safe variants run the
 * instruction under an exception-table entry: a fault resumes right after it
 * and the vector is returned (TRAP_NONE if it completed). */
#ifndef GUEST_CPU_H
#define GUEST_CPU_H

#include "guest.h"

#define MSR_IA32_TIME_STAMP_COUNTER 0x10
#define MSR_IA32_APIC_BASE	    0x1b
#define MSR_IA32_FEATURE_CONTROL    0x3a
#define MSR_IA32_SYSENTER_EIP	    0x176
#define MSR_IA32_MISC_ENABLE	    0x1a0
#define MSR_IA32_DEBUGCTL	    0x1d9
#define MSR_IA32_VMX_BASIC	    0x480
#define MSR_X2APIC_ID		    0x802
#define MSR_X2APIC_EOI		    0x80b
#define MSR_X2APIC_SIVR		    0x80f
#define MSR_X2APIC_ICR		    0x830
#define MSR_IA32_EFER		    0xc0000080

#define APIC_BASE_BSP_BIT  (1UL << 8)
#define APIC_BASE_EXTD_BIT (1UL << 10)
#define APIC_BASE_EN_BIT   (1UL << 11)
#define APIC_BASE_MASK	   0xfffff000UL
#define APIC_DEFAULT_BASE  0xfee00000UL

#define CPUID_1_ECX_X2APIC (1U << 21)
#define CPUID_1_ECX_XSAVE  (1U << 26)
#define CPUID_1_EDX_HTT	   (1U << 28)

#define CR4_OSXSAVE_BIT (1UL << 18)

#define VEC_UD 6
#define VEC_GP 13

/* One exception-table entry: a fault at label 1 resumes at label 2. */
#define EXTABLE(insn)       \
	"1: " insn "\n2:\n" \
	".pushsection .extable,\"a\"\n.balign 8\n.quad 1b, 2b\n.popsection\n"

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	asm volatile("cpuid"
		     : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
		     : "a"(leaf), "c"(sub));
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return (uint64_t)hi << 32 | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t val)
{
	asm volatile("wrmsr" ::"c"(msr), "a"((uint32_t)val), "d"((uint32_t)(val >> 32)) : "memory");
}

static inline int rdmsr_safe(uint32_t msr, uint64_t *val)
{
	uint32_t lo = 0, hi = 0;

	trap_vector = TRAP_NONE;
	asm volatile(EXTABLE("rdmsr") : "+a"(lo), "+d"(hi) : "c"(msr) : "memory");
	*val = (uint64_t)hi << 32 | lo;
	return trap_vector;
}

static inline int wrmsr_safe(uint32_t msr, uint64_t val)
{
	trap_vector = TRAP_NONE;
	asm volatile(EXTABLE("wrmsr")::"c"(msr), "a"((uint32_t)val), "d"((uint32_t)(val >> 32))
		     : "memory");
	return trap_vector;
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;

	asm volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void outb(uint16_t port, uint8_t v)
{
	asm volatile("outb %0, %1" ::"a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	asm volatile("outw %0, %1" ::"a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	asm volatile("outl %0, %1" ::"a"(v), "Nd"(port));
}

/* TSC read that neither earlier nor later instructions pass (SDM Vol. 2 RDTSC). */
static inline uint64_t rdtsc_fenced(void)
{
	uint32_t lo, hi;

	asm volatile("lfence\n\trdtsc\n\tlfence" : "=a"(lo), "=d"(hi)::"memory");
	return (uint64_t)hi << 32 | lo;
}

static inline void cpu_relax(void)
{
	asm volatile("pause" ::: "memory");
}

static inline uint64_t read_cr3(void)
{
	uint64_t v;

	asm volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

static inline void write_cr3(uint64_t v)
{
	asm volatile("mov %0, %%cr3" ::"r"(v) : "memory");
}

static inline uint64_t read_cr4(void)
{
	uint64_t v;

	asm volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static inline void write_cr4(uint64_t v)
{
	asm volatile("mov %0, %%cr4" ::"r"(v) : "memory");
}

/* XGETBV and XSETBV need CR4.OSXSAVE, else #UD (SDM Vol. 2C). */
static inline uint64_t xgetbv(uint32_t xcr)
{
	uint32_t lo, hi;

	asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(xcr));
	return (uint64_t)hi << 32 | lo;
}

static inline int xsetbv_safe(uint32_t xcr, uint64_t val)
{
	trap_vector = TRAP_NONE;
	asm volatile(EXTABLE("xsetbv")::"c"(xcr), "a"((uint32_t)val), "d"((uint32_t)(val >> 32))
		     : "memory");
	return trap_vector;
}

static inline uint32_t mmio_read32(uint64_t addr)
{
	return *(volatile uint32_t *)addr;
}

static inline void mmio_write32(uint64_t addr, uint32_t v)
{
	*(volatile uint32_t *)addr = v;
}

#endif

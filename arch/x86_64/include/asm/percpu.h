/*
 * Per-CPU state. %gs points at this CPU's struct percpu (whose first field
 * points at itself), so this_cpu() is one load.
 */
#ifndef ASM_PERCPU_H
#define ASM_PERCPU_H

#include <hv/types.h>
#include <asm/desc.h>

#define MAX_CPUS	   64
#define CPU_STACK_SIZE	   (32 * 1024)
#define CPU_IST_STACK_SIZE (8 * 1024)

enum cpu_state {
	CPU_ABSENT = 0, /* not started (or not answering) */
	CPU_STARTING,	/* SIPI sent */
	CPU_ONLINE,	/* running hypervisor code */
	CPU_VMX_ROOT,	/* VMXON done */
	CPU_FAILED,	/* reported an error and parked */
	CPU_PARKED,	/* stopped for good by a fatal fault elsewhere */
};

struct percpu {
	struct percpu *self; /* must stay first: this_cpu() reads %gs:0 */
	u32 id;		     /* logical CPU number, 0 = boot CPU */
	u32 apic_id;
	volatile u32 state; /* enum cpu_state */
	u32 reserved;
	u64 stack_top;
	u64 vmxon_region;		  /* physical address, 0 until VMXON */
	void (*volatile work_fn)(void *); /* smp_run_on(): what to run next */
	void *volatile work_arg;
	struct gdt gdt __aligned(16);
	struct tss tss __aligned(16);
	u8 ist_nmi[CPU_IST_STACK_SIZE] __aligned(16);
	u8 ist_df[CPU_IST_STACK_SIZE] __aligned(16);
	u8 ist_mc[CPU_IST_STACK_SIZE] __aligned(16);
};

extern struct percpu *cpus[MAX_CPUS];
extern u32 nr_cpus;

static inline struct percpu *this_cpu(void)
{
	struct percpu *p;
	asm volatile("mov %%gs:0, %0" : "=r"(p));
	return p;
}

/* Logical number of the running CPU (0 before per-CPU state exists). */
u32 cpu_id(void);

#endif

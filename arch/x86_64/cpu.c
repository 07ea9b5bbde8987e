/*
 * Per-CPU descriptor tables: each CPU gets its own GDT and TSS (the TSS holds
 * the IST stacks for NMI, #DF and #MC, so a fault on a broken stack still
 * reaches the dump). The IDT is shared.
 */
#include <asm/cpu.h>
#include <asm/desc.h>
#include <asm/msr.h>
#include <asm/percpu.h>
#include <asm/trap.h>
#include <hv/string.h>

#define GDT_CODE64	   0x00af9a000000ffffULL /* P, DPL0, code, L */
#define GDT_DATA	   0x00cf92000000ffffULL /* P, DPL0, data, writable */
#define TSS_TYPE_AVAILABLE 0x9
#define DESC_PRESENT	   BIT(47)

struct percpu *cpus[MAX_CPUS];
u32 nr_cpus;
static bool percpu_ready;

u32 cpu_id(void)
{
	return percpu_ready ? this_cpu()->id : 0;
}

/* 16-byte TSS descriptor (SDM Vol. 3 7.2.3). */
static void gdt_set_tss(struct gdt *gdt, const struct tss *tss)
{
	u64 base = (u64)(uintptr_t)tss, limit = sizeof(*tss) - 1;

	gdt->entry[GDT_TSS / 8] = (limit & 0xffff) | ((base & 0xffffff) << 16) |
				  ((u64)TSS_TYPE_AVAILABLE << 40) | DESC_PRESENT |
				  (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	gdt->entry[GDT_TSS / 8 + 1] = base >> 32;
}

static void gdt_load(struct gdt *gdt)
{
	struct desc_ptr p = { sizeof(*gdt) - 1, (u64)(uintptr_t)gdt };

	asm volatile("lgdt %0\n\t"
		     "mov %1, %%ds\n\t"
		     "mov %1, %%es\n\t"
		     "mov %1, %%ss\n\t"
		     "pushq %2\n\t"
		     "leaq 1f(%%rip), %%rax\n\t"
		     "pushq %%rax\n\t"
		     "lretq\n"
		     "1:"
		     :
		     : "m"(p), "r"((u64)GDT_KERNEL_DS), "i"(GDT_KERNEL_CS)
		     : "rax", "memory");
	asm volatile("ltr %w0" : : "r"(GDT_TSS));
}

/* Load this CPU's GDT, TSS and the IDT, and point %gs at its per-CPU area. */
void cpu_init(struct percpu *pc)
{
	struct tss *tss = &pc->tss;

	pc->self = pc;
	memset(&pc->gdt, 0, sizeof(pc->gdt));
	memset(tss, 0, sizeof(*tss));
	pc->gdt.entry[GDT_KERNEL_CS / 8] = GDT_CODE64;
	pc->gdt.entry[GDT_KERNEL_DS / 8] = GDT_DATA;
	tss->ist[IST_NMI - 1] = (u64)(uintptr_t)(pc->ist_nmi + sizeof(pc->ist_nmi));
	tss->ist[IST_DF - 1] = (u64)(uintptr_t)(pc->ist_df + sizeof(pc->ist_df));
	tss->ist[IST_MC - 1] = (u64)(uintptr_t)(pc->ist_mc + sizeof(pc->ist_mc));
	tss->iomap_base = sizeof(*tss); /* no I/O bitmap */
	gdt_set_tss(&pc->gdt, tss);
	gdt_load(&pc->gdt);
	idt_load();
	wrmsr(MSR_IA32_GS_BASE, (u64)(uintptr_t)pc);
	/* XSETBV for guests runs here: it needs CR4.OSXSAVE (SDM Vol. 2C XSETBV). */
	if (cpuid(1, 0).ecx & CPUID_1_ECX_XSAVE)
		write_cr4(read_cr4() | X86_CR4_OSXSAVE);
	cpus[pc->id] = pc;
	percpu_ready = true;
}

/*
 * Exceptions inside the hypervisor. Any exception is fatal: the dump names
 * the vector, error code, registers, control registers, the CPU and a stack
 * trace with function names, then every CPU is parked (others by NMI).
 */
#include <asm/cpu.h>
#include <asm/desc.h>
#include <asm/lapic.h>
#include <asm/percpu.h>
#include <asm/trap.h>
#include <hv/kernel.h>
#include <hv/log.h>
#include <hv/printf.h>

#define IDT_GATE_INTERRUPT 0x8e /* P, DPL0, 64-bit interrupt gate */
#define STACK_TRACE_MAX	   24
#define STACK_SCAN_LIMIT   (64 * 1024)
#define PARK_WAIT_US	   100000

extern const u64 trap_vectors[256];
extern const u64 __extable_start[], __extable_end[];
extern const u64 ksyms_count;
extern const u64 ksyms_addr[];
extern const char *const ksyms_name[];

static struct idt_gate idt[256] __aligned(16);
static bool idt_built;
static volatile u32 panicking;

static const char *const exception_names[32] = {
	[X86_TRAP_DE] = "#DE divide error",
	[X86_TRAP_DB] = "#DB debug",
	[X86_TRAP_NMI] = "NMI",
	[X86_TRAP_BP] = "#BP breakpoint",
	[X86_TRAP_OF] = "#OF overflow",
	[X86_TRAP_BR] = "#BR bound range",
	[X86_TRAP_UD] = "#UD invalid opcode",
	[X86_TRAP_NM] = "#NM device not available",
	[X86_TRAP_DF] = "#DF double fault",
	[X86_TRAP_TS] = "#TS invalid TSS",
	[X86_TRAP_NP] = "#NP segment not present",
	[X86_TRAP_SS] = "#SS stack fault",
	[X86_TRAP_GP] = "#GP general protection",
	[X86_TRAP_PF] = "#PF page fault",
	[X86_TRAP_MF] = "#MF x87 error",
	[X86_TRAP_AC] = "#AC alignment check",
	[X86_TRAP_MC] = "#MC machine check",
	[X86_TRAP_XM] = "#XM SIMD error",
	[X86_TRAP_VE] = "#VE virtualization",
	[X86_TRAP_CP] = "#CP control protection",
};

static void idt_build(void)
{
	for (int v = 0; v < 256; v++) {
		u64 a = trap_vectors[v];
		struct idt_gate *g = &idt[v];

		g->offset_low = a & 0xffff;
		g->selector = GDT_KERNEL_CS;
		g->ist = v == X86_TRAP_NMI  ? IST_NMI
			 : v == X86_TRAP_DF ? IST_DF
			 : v == X86_TRAP_MC ? IST_MC
					    : 0;
		g->type_attr = IDT_GATE_INTERRUPT;
		g->offset_mid = (a >> 16) & 0xffff;
		g->offset_high = a >> 32;
		g->reserved = 0;
	}
	idt_built = true;
}

void idt_load(void)
{
	struct desc_ptr p = { sizeof(idt) - 1, (u64)(uintptr_t)idt };

	if (!idt_built)
		idt_build();
	asm volatile("lidt %0" : : "m"(p));
}

static bool in_text(u64 pc)
{
	return pc >= (u64)(uintptr_t)__text_start && pc < (u64)(uintptr_t)__text_end;
}

/* "name+0xoff" for a code address, or "?" outside the image's text. */
static void symbolize(u64 pc, char *buf, size_t len)
{
	u64 lo = 0, hi = ksyms_count;

	if (!in_text(pc) || !hi) {
		snprintf(buf, len, "?");
		return;
	}
	while (hi - lo > 1) { /* last symbol at or below pc */
		u64 mid = (lo + hi) / 2;
		if (ksyms_addr[mid] <= pc)
			lo = mid;
		else
			hi = mid;
	}
	snprintf(buf, len, "%s+0x%llx", ksyms_name[lo], (unsigned long long)(pc - ksyms_addr[lo]));
}

static void dump_line(const char *fmt, ...) __printf(1, 2);
static void dump_line(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vprintf(LOG_ERR, fmt, ap);
	va_end(ap);
}

static void dump_regs(const struct trap_frame *f)
{
	char sym[96];

	symbolize(f->rip, sym, sizeof(sym));
	dump_line("RIP %016llx <%s>", (unsigned long long)f->rip, sym);
	dump_line("CS  %04llx  RFLAGS %016llx  RSP %016llx  SS %04llx", (unsigned long long)f->cs,
		  (unsigned long long)f->rflags, (unsigned long long)f->rsp,
		  (unsigned long long)f->ss);
	dump_line("RAX %016llx  RBX %016llx  RCX %016llx", (unsigned long long)f->rax,
		  (unsigned long long)f->rbx, (unsigned long long)f->rcx);
	dump_line("RDX %016llx  RSI %016llx  RDI %016llx", (unsigned long long)f->rdx,
		  (unsigned long long)f->rsi, (unsigned long long)f->rdi);
	dump_line("RBP %016llx  R8  %016llx  R9  %016llx", (unsigned long long)f->rbp,
		  (unsigned long long)f->r8, (unsigned long long)f->r9);
	dump_line("R10 %016llx  R11 %016llx  R12 %016llx", (unsigned long long)f->r10,
		  (unsigned long long)f->r11, (unsigned long long)f->r12);
	dump_line("R13 %016llx  R14 %016llx  R15 %016llx", (unsigned long long)f->r13,
		  (unsigned long long)f->r14, (unsigned long long)f->r15);
}

/*
 * Walk the frame-pointer chain (the image is built with frame pointers).
 * Frames must lie above sp, within STACK_SCAN_LIMIT, and grow upward, so a
 * corrupt chain ends the trace instead of faulting again. When pc is outside
 * the text (a call through a bad pointer), the word at sp is the caller's
 * return address: it is shown first, marked as read from the stack.
 */
static void dump_stack(u64 pc, u64 fp, u64 sp)
{
	char sym[96];
	int depth = 1;

	dump_line("stack trace:");
	symbolize(pc, sym, sizeof(sym));
	dump_line("  #0  %016llx %s", (unsigned long long)pc, sym);
	if (!in_text(pc) && IS_ALIGNED(sp, 8) && in_text(*(const u64 *)(uintptr_t)sp)) {
		u64 ret = *(const u64 *)(uintptr_t)sp;
		symbolize(ret, sym, sizeof(sym));
		dump_line("  #%-2d %016llx %s (return address at RSP)", depth++,
			  (unsigned long long)ret, sym);
	}
	for (; depth < STACK_TRACE_MAX; depth++) {
		if (fp < sp || fp - sp > STACK_SCAN_LIMIT || !IS_ALIGNED(fp, 8))
			break;
		const u64 *frame = (const u64 *)(uintptr_t)fp;
		u64 ret = frame[1];
		if (!in_text(ret))
			break;
		symbolize(ret, sym, sizeof(sym));
		dump_line("  #%-2d %016llx %s", depth, (unsigned long long)ret, sym);
		sp = fp + 16;
		fp = frame[0];
	}
}

/* Park this CPU for good and say so (NMI from a CPU that is dumping). */
static __noreturn void park_self(void)
{
	if (cpus[cpu_id()])
		cpus[cpu_id()]->state = CPU_PARKED;
	cpu_park();
}

/* Stop the other CPUs; if another CPU is already dumping, stop this one. */
static void panic_enter(void)
{
	if (__atomic_exchange_n(&panicking, 1, __ATOMIC_SEQ_CST))
		park_self();
	if (nr_cpus > 1)
		lapic_nmi_others();
	log_break_lock();
}

/* Wait (bounded) for the others to acknowledge the NMI; report the result. */
static void report_parked(void)
{
	u32 parked = 1, late = 0;

	udelay(PARK_WAIT_US);
	for (u32 i = 0; i < nr_cpus; i++) {
		if (i == cpu_id() || !cpus[i])
			continue;
		if (cpus[i]->state == CPU_PARKED)
			parked++;
		else
			late = i;
	}
	if (parked == nr_cpus)
		dump_line("hypervisor halted: all %u CPUs parked", nr_cpus);
	else
		dump_line("hypervisor halted: %u of %u CPUs parked, CPU %u did not answer the NMI",
			  parked, nr_cpus, late);
}

__noreturn void fatal_dump(const char *why, const struct trap_frame *f)
{
	irq_disable();
	panic_enter();
	dump_line("FATAL: %s on CPU %u (APIC ID %u)", why, cpu_id(),
		  cpus[cpu_id()] ? cpus[cpu_id()]->apic_id : 0);
	if (f) {
		dump_line("vector %llu, error code 0x%llx", (unsigned long long)f->vector,
			  (unsigned long long)f->error_code);
		dump_regs(f);
	}
	dump_line("CR0 %016llx  CR2 %016llx  CR3 %016llx  CR4 %016llx",
		  (unsigned long long)read_cr0(), (unsigned long long)read_cr2(),
		  (unsigned long long)read_cr3(), (unsigned long long)read_cr4());
	if (f) {
		dump_stack(f->rip, f->rbp, f->rsp);
	} else {
		/* Start at our caller (panic): its return address and its frame. */
		u64 sp, fp = (u64)(uintptr_t)__builtin_frame_address(0);
		asm volatile("mov %%rsp, %0" : "=r"(sp));
		dump_stack((u64)(uintptr_t)__builtin_return_address(0), *(u64 *)(uintptr_t)fp, sp);
	}
	report_parked();
	park_self();
}

__noreturn void panic(const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fatal_dump(msg, NULL);
}

void trap_nmi_in_guest(void)
{
	if (panicking)
		park_self(); /* another CPU is dumping */
	pr_warn("trap: NMI while running a guest (ignored)");
	cpu_unblock_nmi(); /* no handler ran: end the blocking the NMI may have left */
}

void trap_handler(struct trap_frame *f)
{
	char why[64];

	if (f->vector == X86_TRAP_NMI && panicking)
		park_self(); /* another CPU is dumping: stop here */
	if (f->vector == VECTOR_SPURIOUS)
		return;
	if (f->vector == VECTOR_KICK || f->vector == VECTOR_TIMER) {
		lapic_eoi(); /* the wake-up is the point; the woken code checks its work */
		return;
	}
	if (f->vector >= 0x20 && f->vector < 0x30) { /* a spurious 8259 IRQ 7/15: no EOI */
		pr_debug("trap: spurious legacy PIC interrupt, vector %llu",
			 (unsigned long long)f->vector);
		return;
	}
	if (f->vector >= 32) {
		pr_warn("trap: unexpected interrupt, vector %llu", (unsigned long long)f->vector);
		lapic_eoi();
		return;
	}
	for (const u64 *e = __extable_start; e < __extable_end; e += 2)
		if (e[0] == f->rip) { /* an instruction that may fault by design */
			f->rip = e[1];
			return;
		}
	snprintf(why, sizeof(why), "%s in the hypervisor",
		 exception_names[f->vector] ? exception_names[f->vector] : "reserved exception");
	fatal_dump(why, f);
}

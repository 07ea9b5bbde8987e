/* debug: the debug facilities around instructions the platform handles
 * (docs/vsi-platform.md "Debug registers and exception frames").
 * Single-stepping (RFLAGS.TF) across instructions that exit must give one
 * #DB with DR6.BS right after the instruction, also behind MOV SS and STI;
 * a data breakpoint in DR0-DR3 must survive exits and report DR6 exactly
 * (B0-B3, no BS), with DR7.GD too; a #GP the platform raises must push
 * RFLAGS.RF = 1, as the CPU does for faults (SDM Vol. 3 18.3.1.1), so a
 * handler's IRET re-executes the instruction without re-triggering its
 * instruction breakpoint. Every exception is logged (vector, RIP, DR6) and
 * each case compares the log with the architecture's sequence. */
#include "cpu.h"

#define RFLAGS_TF (1UL << 8)
#define RFLAGS_IF (1UL << 9)
#define RFLAGS_RF (1UL << 16)

#define VEC_DB	  1
#define VEC_BP	  3
#define VEC_TIMER 0x40
#define VEC_SPUR  0xff

/* DR6 and DR7 (SDM Vol. 3 18.2.3, 18.2.4). */
#define DR6_B0	      (1UL << 0)
#define DR6_B1	      (1UL << 1)
#define DR6_BD	      (1UL << 13)
#define DR6_BS	      (1UL << 14)
#define DR6_CAUSES    (0xfUL | DR6_BD | DR6_BS)
#define DR6_RESET     0xffff0ff0UL /* bits that read as 1, no cause */
#define DR7_L0	      (1UL << 0)
#define DR7_L1	      (1UL << 2)
#define DR7_GD	      (1UL << 13)
#define DR7_RESERVED1 (1UL << 10)
#define DR7_RW0_WRITE (1UL << 16)
#define DR7_RW0_RW    (3UL << 16)
#define DR7_LEN0_4    (3UL << 18)
#define DR7_LEN0_2    (1UL << 18)
#define DR7_LEN0_1    (0UL << 18)
#define DR7_RW0_IO    (2UL << 16) /* with CR4.DE */
#define DR7_RW1_EXEC  (0UL << 20)
#define DR7_LEN1_1    (0UL << 22)

#define PORT_POST	     0x80
#define CPUID_HV_BASE	     0x40000000
#define EFER_RESERVED_BIT9   (1UL << 9)
#define MSR_X2APIC_LVT_TIMER 0x832
#define MSR_X2APIC_TMICT     0x838
#define MSR_X2APIC_TDCR	     0x83e
#define TDCR_DIVIDE_1	     0xb
#define TIMER_TICKS	     200000 /* far beyond the few instructions up to HLT */
#define SEL_DATA	     0x10   /* entry.asm */
#define CR4_DE_BIT	     (1UL << 3)
#define IOAPIC_IOWIN	     0xfec00010UL /* an MMIO register the platform emulates */
#define MAX_EVENTS	     8
#define TRAP_STUB_SIZE	     16 /* trap_stubs.asm */

extern const char trap_stubs[];

const char guest_name[] = "debug";

struct event {
	uint64_t vector, rip, dr6, rflags;
};

static struct event events[MAX_EVENTS];
static volatile int nr_events;
static volatile uint64_t stop_rip;   /* the #DB at this RIP ends single-stepping */
static volatile uint64_t gp_fix_rax; /* #GP: a valid EFER, so WRMSR works when re-run */
static volatile uint32_t watched;    /* DR0's data breakpoint */
static volatile uint16_t watched_ss = SEL_DATA;

#define DR_ACCESSORS(n)                                              \
	static inline uint64_t read_dr##n(void)                      \
	{                                                            \
		uint64_t v;                                          \
		asm volatile("mov %%db" #n ", %0" : "=r"(v));        \
		return v;                                            \
	}                                                            \
	static inline void write_dr##n(uint64_t v)                   \
	{                                                            \
		asm volatile("mov %0, %%db" #n ::"r"(v) : "memory"); \
	}
DR_ACCESSORS(0)
DR_ACCESSORS(1)
DR_ACCESSORS(6)
DR_ACCESSORS(7)

static void log_event(struct trap_frame *f, uint64_t dr6)
{
	if (nr_events < MAX_EVENTS)
		events[nr_events] = (struct event){ f->vector, f->rip, dr6, f->rflags };
	nr_events++;
}

/* #DB: log DR6's causes, clear DR6 (the CPU never clears BS/BD, SDM 18.2.3);
 * stop stepping at stop_rip; an instruction breakpoint resumes with RF. */
static void db_handler(struct trap_frame *f)
{
	uint64_t dr6 = read_dr6();

	log_event(f, dr6 & DR6_CAUSES);
	write_dr6(DR6_RESET);
	if (f->rip == stop_rip || nr_events >= MAX_EVENTS)
		f->rflags &= ~RFLAGS_TF; /* at the end, or lost: stop stepping */
	if (dr6 & DR6_B1)
		f->rflags |= RFLAGS_RF; /* a fault: re-run the instruction once */
}

static void bp_handler(struct trap_frame *f)
{
	log_event(f, 0);
}

/* #GP from the refused WRMSR: log it, make the value valid, IRET re-runs it. */
static void gp_handler(struct trap_frame *f)
{
	log_event(f, 0);
	f->rax = (uint32_t)gp_fix_rax;
	f->rdx = gp_fix_rax >> 32;
}

static void timer_handler(struct trap_frame *f)
{
	log_event(f, 0);
	apic_eoi();
}

static void reset_log(uint64_t stop)
{
	nr_events = 0;
	stop_rip = stop;
	write_dr6(DR6_RESET);
}

/* The log must be exactly want[0..n): vector, RIP and DR6 causes. */
static void check_log(const char *what, const struct event *want, int n)
{
	if (nr_events != n) {
		expect_fail(what, "%d exceptions, want %d (first: vector %lu rip 0x%lx dr6 0x%lx)",
			    nr_events, n, nr_events ? events[0].vector : 0,
			    nr_events ? events[0].rip : 0, nr_events ? events[0].dr6 : 0);
		return;
	}
	for (int i = 0; i < n; i++) {
		const struct event *g = &events[i], *w = &want[i];

		if (g->vector != w->vector || g->rip != w->rip || g->dr6 != w->dr6) {
			expect_fail(what,
				    "exception %d: vector %lu rip 0x%lx dr6 0x%lx, want vector "
				    "%lu rip 0x%lx dr6 0x%lx",
				    i, g->vector, g->rip, g->dr6, w->vector, w->rip, w->dr6);
			return;
		}
	}
	expect_ok(what);
}

/* TF set by POPF traps after the next instruction (SDM Vol. 3 18.3.1.4). */
static void step_one(const char *what, uint64_t after)
{
	struct event want = { VEC_DB, after, DR6_BS, 0 };

	check_log(what, &want, 1);
}

/* Around each stepped instruction: RIP after it into `after` and stop_rip,
 * TF set by POPF, so the first trap is the one after the instruction. */
#define STEP_BEGIN                     \
	"leaq 2f(%%rip), %[after]\n\t" \
	"movq %[after], %[stop]\n\t"   \
	"pushfq\n\torq %[tf], (%%rsp)\n\tpopfq\n\t"
#define STEP_END "\n2:\n\tnop"

/* CPUID and port I/O: always exits. */
static void step_exit_tests(void)
{
	uint64_t after, a = CPUID_HV_BASE, b, c = 0, d;

	reset_log(0);
	asm volatile(STEP_BEGIN "cpuid" STEP_END
		     : [after] "=&r"(after), [stop] "=m"(stop_rip), "+a"(a), "=b"(b), "+c"(c),
		       "=d"(d)
		     : [tf] "i"(RFLAGS_TF)
		     : "memory");
	step_one("step-cpuid", after);
	reset_log(0);
	asm volatile(STEP_BEGIN "inb %[port], %%al" STEP_END
		     : [after] "=&r"(after), [stop] "=m"(stop_rip), "=a"(a)
		     : [tf] "i"(RFLAGS_TF), [port] "i"(PORT_POST)
		     : "memory");
	step_one("step-in", after);
	reset_log(0);
	asm volatile(STEP_BEGIN "outb %%al, %[port]" STEP_END
		     : [after] "=&r"(after), [stop] "=m"(stop_rip)
		     : [tf] "i"(RFLAGS_TF), [port] "i"(PORT_POST), "a"(0)
		     : "memory");
	step_one("step-out", after);
}

/* An MSR the platform emulates, a device register, a hypercall. */
static void step_emulated_tests(void)
{
	uint64_t after, a = 0, c = MSR_IA32_MISC_ENABLE, d;

	reset_log(0);
	asm volatile(STEP_BEGIN "rdmsr" STEP_END
		     : [after] "=&r"(after), [stop] "=m"(stop_rip), "=a"(a), "=d"(d), "+c"(c)
		     : [tf] "i"(RFLAGS_TF)
		     : "memory");
	step_one("step-rdmsr", after);
	reset_log(0);
	asm volatile(STEP_BEGIN "movl (%[win]), %%eax" STEP_END
		     : [after] "=&r"(after), [stop] "=m"(stop_rip), "=a"(a)
		     : [tf] "i"(RFLAGS_TF), [win] "r"(IOAPIC_IOWIN)
		     : "memory");
	step_one("step-mmio", after);
	if (!platform.hv)
		return; /* VMCALL is #UD without the hypervisor */
	reset_log(0);
	a = 0;
	asm volatile(STEP_BEGIN "vmcall" STEP_END
		     : [after] "=&r"(after), [stop] "=m"(stop_rip), "+a"(a)
		     : [tf] "i"(RFLAGS_TF)
		     : "memory");
	step_one("step-vmcall", after);
}

/* MOV SS holds back the single-step trap for one instruction (SDM Vol. 3
 * 6.8.3): stepping "mov ss; cpuid" gives one #DB, after CPUID. */
static void step_mov_ss_test(void)
{
	uint64_t after, a = CPUID_HV_BASE, b, c = 0, d;

	reset_log(0);
	asm volatile("leaq 2f(%%rip), %[after]\n\t"
		     "movq %[after], %[stop]\n\t"
		     "pushfq\n\torq %[tf], (%%rsp)\n\tpopfq\n\t"
		     "movw %[ss], %%ss\n\tcpuid\n2:\n\tnop"
		     : [after] "=&r"(after), [stop] "=m"(stop_rip), "+a"(a), "=b"(b), "+c"(c),
		       "=d"(d)
		     : [tf] "i"(RFLAGS_TF), [ss] "m"(watched_ss)
		     : "memory");
	step_one("step-mov-ss-cpuid", after);
}

/* "sti; hlt" stepped: a #DB after STI (at HLT), then HLT waits for the
 * timer; the step over HLT is taken before the interrupt it woke for
 * (SDM Vol. 3 6.9: traps on the previous instruction come first). */
static void step_sti_hlt_test(void)
{
	uint64_t at_hlt, after;
	struct event want[3];

	reset_log(0);
	wrmsr(MSR_X2APIC_TDCR, TDCR_DIVIDE_1);
	wrmsr(MSR_X2APIC_LVT_TIMER, VEC_TIMER);
	asm volatile("leaq 1f(%%rip), %[at_hlt]\n\t"
		     "leaq 2f(%%rip), %[after]\n\t"
		     "movq %[after], %[stop]\n\t"
		     "wrmsr\n\t"
		     "pushfq\n\torq %[tf], (%%rsp)\n\tpopfq\n\t"
		     "sti\n1:\thlt\n2:\n\tcli"
		     : [at_hlt] "=&r"(at_hlt), [after] "=&r"(after), [stop] "=m"(stop_rip)
		     : [tf] "i"(RFLAGS_TF), "c"(MSR_X2APIC_TMICT), "a"(TIMER_TICKS), "d"(0)
		     : "memory");
	want[0] = (struct event){ VEC_DB, at_hlt, DR6_BS, 0 };
	want[1] = (struct event){ VEC_DB, after, DR6_BS, 0 };
	want[2] = (struct event){ VEC_TIMER, after, 0, 0 };
	check_log("step-sti-hlt", want, 3);
}

/* A write breakpoint on `watched` (DR0), armed before an exit. */
static void data_bp_test(const char *what, uint64_t dr7_extra)
{
	uint64_t after, a = CPUID_HV_BASE, b, c = 0, d, dr7_in_handler;
	struct event want;

	reset_log(0);
	write_dr0((uint64_t)&watched);
	write_dr7(DR7_RESERVED1 | DR7_L0 | DR7_RW0_WRITE | DR7_LEN0_4 | dr7_extra);
	asm volatile("cpuid\n\t"
		     "leaq 2f(%%rip), %[after]\n\t"
		     "movl $1, %[w]\n2:\n\tnop"
		     : [after] "=&r"(after), [w] "=m"(watched), "+a"(a), "=b"(b), "+c"(c), "=d"(d)
		     :
		     : "memory");
	dr7_in_handler = read_dr7(); /* GD is cleared on #DB (SDM 18.2.4): readable */
	write_dr7(DR7_RESERVED1);
	want = (struct event){ VEC_DB, after, DR6_B0, 0 };
	check_log(what, &want, 1);
	if (dr7_extra & DR7_GD) {
		if (dr7_in_handler & DR7_GD)
			expect_fail("data-bp-gd-cleared", "DR7 0x%lx after the #DB",
				    dr7_in_handler);
		else
			expect_ok("data-bp-gd-cleared");
	}
}

/* An I/O breakpoint (CR4.DE, R/W = 10) on a port the platform emulates:
 * one #DB right after the IN, DR6 = B0 (SDM 18.2.4). */
static void io_bp_test(void)
{
	uint64_t after, a;
	struct event want = { VEC_DB, 0, DR6_B0, 0 };

	reset_log(0);
	write_cr4(read_cr4() | CR4_DE_BIT);
	write_dr0(PORT_POST);
	write_dr7(DR7_RESERVED1 | DR7_L0 | DR7_RW0_IO | DR7_LEN0_1);
	asm volatile("leaq 2f(%%rip), %[after]\n\t"
		     "inb %[port], %%al\n2:\n\tnop"
		     : [after] "=&r"(after), "=a"(a)
		     : [port] "i"(PORT_POST)
		     : "memory");
	write_dr7(DR7_RESERVED1);
	write_cr4(read_cr4() & ~CR4_DE_BIT);
	want.rip = after;
	check_log("io-bp-emulated-port", &want, 1);
}

/* A read/write breakpoint on a device register the platform emulates. */
static void mmio_bp_test(void)
{
	uint64_t after, a;
	struct event want = { VEC_DB, 0, DR6_B0, 0 };

	reset_log(0);
	write_dr0(IOAPIC_IOWIN);
	write_dr7(DR7_RESERVED1 | DR7_L0 | DR7_RW0_RW | DR7_LEN0_4);
	asm volatile("leaq 2f(%%rip), %[after]\n\t"
		     "movl (%[win]), %%eax\n2:\n\tnop"
		     : [after] "=&r"(after), "=a"(a)
		     : [win] "r"(IOAPIC_IOWIN)
		     : "memory");
	write_dr7(DR7_RESERVED1);
	want.rip = after;
	check_log("data-bp-emulated-mmio", &want, 1);
}

/* DR7.GD: a MOV to or from a debug register faults with DR6.BD at that MOV,
 * and the #DB clears GD so the handler can use them (SDM 18.2.4); its IRET
 * re-runs the MOV, which then works. */
static void gd_test(void)
{
	uint64_t at, v;
	struct event want;

	reset_log(0);
	asm volatile("leaq 1f(%%rip), %[at]\n\t"
		     "movq %[dr7], %%db7\n"
		     "1:\tmovq %%db0, %[v]"
		     : [at] "=&r"(at), [v] "=r"(v)
		     : [dr7] "r"(DR7_RESERVED1 | DR7_GD)
		     : "memory");
	want = (struct event){ VEC_DB, at, DR6_BD, 0 };
	check_log("gd-mov-dr-bd", &want, 1);
	write_dr7(DR7_RESERVED1);
}

/* MOV SS with a data breakpoint on its operand, then INT3 or INT1: the #DB
 * is held back past that instruction and taken on its handler's first
 * instruction (SDM Vol. 3 6.8.3): a #DB (B0) at the handler's entry, then
 * the handler's own exception at the instruction's end. */
#define MOV_SS_THEN(insn)                                      \
	asm volatile("leaq 2f(%%rip), %[after]\n\t"            \
		     "movw %[ss], %%ss\n\t" insn "\n2:\n\tnop" \
		     : [after] "=&r"(after)                    \
		     : [ss] "m"(watched_ss)                    \
		     : "memory")

static void mov_ss_check(const char *what, uint64_t vector, uint64_t after)
{
	struct event want[2] = {
		{ VEC_DB, (uint64_t)trap_stubs + vector * TRAP_STUB_SIZE, DR6_B0, 0 },
		{ vector, after, 0, 0 },
	};

	check_log(what, want, 2);
}

static void mov_ss_tests(void)
{
	uint64_t after;

	write_dr0((uint64_t)&watched_ss);
	write_dr7(DR7_RESERVED1 | DR7_L0 | DR7_RW0_RW | DR7_LEN0_2);
	reset_log(0);
	MOV_SS_THEN("int3");
	mov_ss_check("mov-ss-int3-data-bp", VEC_BP, after);
	reset_log(0);
	MOV_SS_THEN(".byte 0xf1"); /* INT1 (ICEBP) */
	mov_ss_check("mov-ss-int1-data-bp", VEC_DB, after);
	write_dr7(DR7_RESERVED1);
}

/* An instruction breakpoint (DR1) on a WRMSR that raises #GP: the #DB
 * handler resumes with RF, the #GP frame must carry RF = 1, and its IRET
 * re-runs the (now valid) WRMSR without a second #DB. */
static void gp_rf_test(void)
{
	uint64_t at, efer = rdmsr(MSR_IA32_EFER);
	struct event want[2];

	reset_log(0);
	gp_fix_rax = efer;
	asm volatile("leaq 1f(%%rip), %[at]\n\t"
		     "movq %[at], %%db1\n\t"
		     "movq %[dr7], %%db7\n\t"
		     "1:\twrmsr\n\t"
		     "movq %[dr7off], %%db7"
		     : [at] "=&r"(at)
		     : "c"(MSR_IA32_EFER), "a"((uint32_t)(efer | EFER_RESERVED_BIT9)),
		       "d"((uint32_t)(efer >> 32)),
		       [dr7] "r"(DR7_RESERVED1 | DR7_L1 | DR7_RW1_EXEC | DR7_LEN1_1),
		       [dr7off] "r"(DR7_RESERVED1)
		     : "memory");
	want[0] = (struct event){ VEC_DB, at, DR6_B1, 0 };
	want[1] = (struct event){ VEC_GP, at, 0, 0 };
	check_log("gp-rf-reexecute", want, 2);
	if (nr_events >= 2 && !(events[1].rflags & RFLAGS_RF))
		expect_fail("gp-frame-rf", "#GP pushed RFLAGS 0x%lx: RF clear", events[1].rflags);
	else if (nr_events >= 2)
		expect_ok("gp-frame-rf");
}

/* Stepping a WRMSR the platform refuses: the #GP comes first (a fault, no
 * step: the instruction did not complete), its IRET re-runs the WRMSR with
 * a valid value, and the step over it follows. */
static void step_gp_test(void)
{
	uint64_t at, after, efer = rdmsr(MSR_IA32_EFER);
	struct event want[2];

	reset_log(0);
	gp_fix_rax = efer;
	asm volatile("leaq 1f(%%rip), %[at]\n\t"
		     "leaq 2f(%%rip), %[after]\n\t"
		     "movq %[after], %[stop]\n\t"
		     "pushfq\n\torq %[tf], (%%rsp)\n\tpopfq\n"
		     "1:\twrmsr\n2:\n\tnop"
		     : [at] "=&r"(at), [after] "=&r"(after), [stop] "=m"(stop_rip)
		     : [tf] "i"(RFLAGS_TF), "c"(MSR_IA32_EFER),
		       "a"((uint32_t)(efer | EFER_RESERVED_BIT9)), "d"((uint32_t)(efer >> 32))
		     : "memory");
	want[0] = (struct event){ VEC_GP, at, 0, 0 };
	want[1] = (struct event){ VEC_DB, after, DR6_BS, 0 };
	check_log("step-gp-wrmsr", want, 2);
}

void guest_main(void)
{
	trap_set_handler(VEC_DB, db_handler);
	trap_set_handler(VEC_BP, bp_handler);
	trap_set_handler(VEC_GP, gp_handler);
	trap_set_handler(VEC_TIMER, timer_handler);
	apic_init();
	apic_soft_enable(VEC_SPUR);
	step_exit_tests();
	step_emulated_tests();
	step_mov_ss_test();
	step_sti_hlt_test();
	step_gp_test();
	data_bp_test("data-bp-after-exit", 0);
	data_bp_test("data-bp-gd", DR7_GD);
	gd_test();
	io_bp_test();
	mmio_bp_test();
	mov_ss_tests();
	gp_rf_test();
}

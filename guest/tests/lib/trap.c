/* The IDT: every vector goes to trap_handler(). An exception on an
 * instruction listed in the exception table (cpu.h EXTABLE) resumes after
 * that instruction with the vector in trap_vector; vectors with a registered
 * handler call it; anything else is reported and stops this vCPU. */
#include "cpu.h"

#define IDT_VECTORS	 256
#define TRAP_STUB_SIZE	 16
#define SEL_CODE64	 0x18 /* entry.asm */
#define GATE_INTERRUPT64 0x8e /* present, DPL 0, 64-bit interrupt gate */

struct idt_gate {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t ist;
	uint8_t type;
	uint16_t offset_mid;
	uint32_t offset_high;
	uint32_t reserved;
};
_Static_assert(sizeof(struct idt_gate) == 16, "IDT gate is 16 bytes (SDM Vol. 3 6.14.1)");

struct idt_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

struct extable_entry {
	uint64_t insn, resume;
};

extern const char trap_stubs[];
extern const struct extable_entry __extable_start[], __extable_end[];

static struct idt_gate idt[IDT_VECTORS] __attribute__((aligned(16)));
static trap_handler_t handlers[IDT_VECTORS];
volatile int trap_vector = TRAP_NONE;
volatile uint64_t trap_error;

static const char *const exception_names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS",
	"#NP", "#SS", "#GP", "#PF", "15",  "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
};

const char *trap_name(int vector)
{
	if (vector >= 0 && vector < 32 && exception_names[vector])
		return exception_names[vector];
	return "interrupt";
}

void idt_init(void)
{
	for (int v = 0; v < IDT_VECTORS; v++) {
		uint64_t addr = (uint64_t)trap_stubs + (uint64_t)v * TRAP_STUB_SIZE;

		idt[v] = (struct idt_gate){
			.offset_low = (uint16_t)addr,
			.selector = SEL_CODE64,
			.type = GATE_INTERRUPT64,
			.offset_mid = (uint16_t)(addr >> 16),
			.offset_high = (uint32_t)(addr >> 32),
		};
	}
	idt_load();
}

void idt_load(void)
{
	struct idt_ptr p = { sizeof(idt) - 1, (uint64_t)idt };

	asm volatile("lidt %0" ::"m"(p));
}

void trap_set_handler(unsigned int vector, trap_handler_t h)
{
	if (vector < IDT_VECTORS)
		handlers[vector] = h;
}

static const struct extable_entry *extable_find(uint64_t rip)
{
	for (const struct extable_entry *e = __extable_start; e < __extable_end; e++) {
		if (e->insn == rip)
			return e;
	}
	return NULL;
}

static __noreturn void trap_unexpected(const struct trap_frame *f)
{
	guest_say("unexpected %s (vector %lu) error 0x%lx at rip 0x%lx rsp 0x%lx",
		  trap_name(f->vector), f->vector, f->error, f->rip, f->rsp);
	expect_fail("no-unexpected-trap", "vector %lu at rip 0x%lx", f->vector, f->rip);
	halt_forever();
}

void trap_handler(struct trap_frame *f)
{
	const struct extable_entry *e;

	if (f->vector < 32 && (e = extable_find(f->rip))) {
		trap_vector = (int)f->vector;
		trap_error = f->error;
		f->rip = e->resume;
		return;
	}
	if (handlers[f->vector]) {
		handlers[f->vector](f);
		return;
	}
	trap_unexpected(f);
}

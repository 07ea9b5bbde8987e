/*
 * Exceptions in the firmware are bugs or hostile disk contents that slipped
 * through: each one prints the vector, the error code, RIP, CR2 and the
 * registers, then halts. Interrupts stay off throughout (no IRQ vectors).
 */
#include "console.h"
#include "trap.h"

#define TRAP_STUB_SIZE 16 /* trap.asm aligns each stub to 16 bytes */
#define IDT_INTGATE64  0x8E00

struct idt_entry {
	u16 off0, sel, flags, off1;
	u32 off2, zero;
} __packed;
_Static_assert(sizeof(struct idt_entry) == 16, "64-bit IDT gate is 16 bytes");

/* Pushed by trap.asm: r15 first (lowest address) up to the CPU's frame. */
struct trap_frame {
	u64 r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
	u64 vector, error, rip, cs, rflags, rsp, ss;
};

extern const u8 trap_stubs[];
static struct idt_entry idt[32] __attribute__((aligned(16)));

void trap_init(void)
{
	struct {
		u16 limit;
		u64 base;
	} __packed idtr = { sizeof(idt) - 1, (u64)(uintptr_t)idt };

	for (unsigned int v = 0; v < ARRAY_SIZE(idt); v++) {
		u64 a = (u64)(uintptr_t)(trap_stubs + v * TRAP_STUB_SIZE);

		idt[v] = (struct idt_entry){ .off0 = (u16)a,
					     .sel = SEL_CODE64,
					     .flags = IDT_INTGATE64,
					     .off1 = (u16)(a >> 16),
					     .off2 = (u32)(a >> 32) };
	}
	__asm__ __volatile__("lidt %0" : : "m"(idtr));
}

void trap_report(const struct trap_frame *f)
{
	u64 cr2;

	__asm__ __volatile__("mov %%cr2, %0" : "=r"(cr2));
	con_printf("fw: exception %lu (error code 0x%lx) at rip 0x%lx, cr2 0x%lx\n", f->vector,
		   f->error, f->rip, cr2);
	con_printf("fw: rax %lx rbx %lx rcx %lx rdx %lx\n", f->rax, f->rbx, f->rcx, f->rdx);
	con_printf("fw: rsi %lx rdi %lx rbp %lx rsp %lx\n", f->rsi, f->rdi, f->rbp, f->rsp);
	con_printf("fw: r8 %lx r9 %lx r10 %lx r11 %lx\n", f->r8, f->r9, f->r10, f->r11);
	con_printf("fw: r12 %lx r13 %lx r14 %lx r15 %lx\n", f->r12, f->r13, f->r14, f->r15);
	fw_halt();
}

/* hostile-triple: a triple fault right after the start line. With an IDT
 * limit of 0, #UD cannot be delivered (#GP), nor can #GP (#DF), nor #DF:
 * shutdown (SDM Vol. 3 6.15, interrupt 8). Nothing survives a reset, so the
 * test counts start lines to see the on_triple_fault policy. */
#include "guest.h"

const char guest_name[] = "hostile-triple";

void guest_main(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) empty_idt = { 0, 0 };

	guest_say("triple fault: IDT limit 0, then ud2");
	asm volatile("lidt %0\n\tud2" ::"m"(empty_idt));
	__builtin_unreachable();
}

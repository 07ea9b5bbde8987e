/* hostile-spin: never yields. Interrupts off, then a jump to itself: only
 * the hypervisor console can stop it. */
#include "guest.h"

const char guest_name[] = "hostile-spin";

void guest_main(void)
{
	guest_say("spinning with interrupts off");
	asm volatile("cli\n1:\tjmp 1b");
	__builtin_unreachable();
}

/* reset-cf9, reset-kbd: ask the platform for a reset right after the start
 * line (docs/vsi-platform.md "I/O ports"), through the reset control register
 * (0x06 to port 0xCF9) or the keyboard controller (command 0xFE to port 0x64).
 * One source, two ROMs: the Makefile defines RESET_CF9 or RESET_KBD. RAM is
 * zero after every reset, so the guest cannot count its boots: the test
 * counts start lines. */
#include "cpu.h"

#if defined(RESET_CF9)
#define RESET_NAME  "reset-cf9"
#define RESET_PORT  0xcf9
#define RESET_VALUE 0x06 /* bit 1: hard reset, bit 2: reset now */
#elif defined(RESET_KBD)
#define RESET_NAME  "reset-kbd"
#define RESET_PORT  0x64
#define RESET_VALUE 0xfe /* pulse the reset line */
#else
#error "build with -DRESET_CF9 or -DRESET_KBD"
#endif

/* A reset need not stop the CPU on the very next instruction: wait before
 * calling it missing (about 10 ms on hardware, more under emulation). */
#define RESET_WAIT_LOOPS 1000000

const char guest_name[] = RESET_NAME;

void guest_main(void)
{
	guest_say("requesting reset through port 0x%x", RESET_PORT);
	outb(RESET_PORT, RESET_VALUE);
	delay_loops(RESET_WAIT_LOOPS);
	expect_fail("reset-happened", "still running after the write");
}

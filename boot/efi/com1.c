/*
 * COM1 for the one message that can still be printed after
 * ExitBootServices() (ConOut is gone by then). The UART driver is the
 * kernel's own (drivers/uart), linked into the loader.
 */
#include <uart/uart.h>
#include "loader.h"

static void com1_puts(const char *s)
{
	for (; *s; s++)
		uart_putc(*s);
}

static void com1_put_hex(u64 v)
{
	com1_puts("0x");
	for (int shift = 60; shift >= 0; shift -= 4)
		uart_putc("0123456789abcdef"[(v >> shift) & 0xf]);
}

/* "hv-loader: fatal: <msg> (<code>)" on COM1, then halt with interrupts off. */
__noreturn void loader_halt(const char *msg, u64 code)
{
	__asm__ volatile("cli");
	uart_init(UART_COM1);
	com1_puts("\r\nhv-loader: fatal: ");
	com1_puts(msg);
	com1_puts(" (");
	com1_put_hex(code);
	com1_puts(")\r\n");
	for (;;)
		__asm__ volatile("hlt");
}

/*
 * COM1, polled, for the one message that can still be printed after
 * ExitBootServices() (ConOut is gone by then).
 */
#include "loader.h"

#define COM1_BASE	 0x3f8
#define UART_THR	 0 /* transmit holding (DLAB=0) */
#define UART_DLL	 0 /* divisor low (DLAB=1) */
#define UART_IER	 1 /* interrupt enable (DLAB=0) */
#define UART_DLM	 1 /* divisor high (DLAB=1) */
#define UART_FCR	 2
#define UART_LCR	 3
#define UART_MCR	 4
#define UART_LSR	 5
#define UART_LCR_DLAB	 BIT(7)
#define UART_LCR_8N1	 0x03
#define UART_FCR_ENABLE	 0x07 /* enable and clear both FIFOs */
#define UART_MCR_DTR_RTS 0x03
#define UART_LSR_THRE	 BIT(5)

static inline void outb(u16 port, u8 val)
{
	__asm__ volatile("outb %0, %1" : : "a"(val), "Nd"(port));
}

static inline u8 inb(u16 port)
{
	u8 val;

	__asm__ volatile("inb %1, %0" : "=a"(val) : "Nd"(port));
	return val;
}

/* 115200 baud (divisor 1), 8N1, FIFOs on, no interrupts. */
static void com1_init(void)
{
	outb(COM1_BASE + UART_IER, 0);
	outb(COM1_BASE + UART_LCR, UART_LCR_DLAB);
	outb(COM1_BASE + UART_DLL, 1);
	outb(COM1_BASE + UART_DLM, 0);
	outb(COM1_BASE + UART_LCR, UART_LCR_8N1);
	outb(COM1_BASE + UART_FCR, UART_FCR_ENABLE);
	outb(COM1_BASE + UART_MCR, UART_MCR_DTR_RTS);
}

static void com1_putc(char c)
{
	/* Bounded: a missing UART must not keep us from halting. */
	for (u32 spin = 0; spin < 1000000; spin++)
		if (inb(COM1_BASE + UART_LSR) & UART_LSR_THRE)
			break;
	outb(COM1_BASE + UART_THR, (u8)c);
}

static void com1_puts(const char *s)
{
	for (; *s; s++)
		com1_putc(*s);
}

static void com1_put_hex(u64 v)
{
	com1_puts("0x");
	for (int shift = 60; shift >= 0; shift -= 4)
		com1_putc("0123456789abcdef"[(v >> shift) & 0xf]);
}

/* "hv-loader: fatal: <msg> (<code>)" on COM1, then halt with interrupts off. */
__noreturn void loader_halt(const char *msg, u64 code)
{
	__asm__ volatile("cli");
	com1_init();
	com1_puts("\r\nhv-loader: fatal: ");
	com1_puts(msg);
	com1_puts(" (");
	com1_put_hex(code);
	com1_puts(")\r\n");
	for (;;)
		__asm__ volatile("hlt");
}

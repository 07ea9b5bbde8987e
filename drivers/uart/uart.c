/*
 * 16550 UART, polled. The line is programmed explicitly to 115200 8N1:
 * firmware may leave LCR at 0 (5-bit characters), which garbles output.
 */
#include <asm/io.h>
#include <uart/uart.h>

#define UART_THR 0 /* transmit holding (write) */
#define UART_RBR 0 /* receive buffer (read) */
#define UART_DLL 0 /* divisor latch low (DLAB=1) */
#define UART_IER 1
#define UART_DLM 1 /* divisor latch high (DLAB=1) */
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5

#define UART_LCR_8N1	      0x03
#define UART_LCR_DLAB	      0x80
#define UART_FCR_ENABLE_CLEAR 0x07
#define UART_MCR_DTR_RTS      0x03
#define UART_LSR_DR	      0x01 /* data ready */
#define UART_LSR_THRE	      0x20 /* transmit holding register empty */

#define UART_CLOCK_DIVISOR 1 /* 115200 baud from the 1.8432 MHz clock */
#define UART_TX_SPINS	   100000

static u16 uart_base;

void uart_init(u16 base)
{
	uart_base = base;
	outb(base + UART_IER, 0);
	outb(base + UART_LCR, UART_LCR_DLAB);
	outb(base + UART_DLL, UART_CLOCK_DIVISOR & 0xff);
	outb(base + UART_DLM, UART_CLOCK_DIVISOR >> 8);
	outb(base + UART_LCR, UART_LCR_8N1);
	outb(base + UART_FCR, UART_FCR_ENABLE_CLEAR);
	outb(base + UART_MCR, UART_MCR_DTR_RTS);
}

void uart_putc(char c)
{
	/* Bounded wait: a missing UART must not hang the hypervisor. */
	for (int i = 0; i < UART_TX_SPINS; i++)
		if (inb(uart_base + UART_LSR) & UART_LSR_THRE)
			break;
	outb(uart_base + UART_THR, (u8)c);
}

int uart_getc(void)
{
	if (!(inb(uart_base + UART_LSR) & UART_LSR_DR))
		return -1;
	return inb(uart_base + UART_RBR);
}

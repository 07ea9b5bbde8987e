/*
 * 16550 UART at COM1 (0x3F8), polled. With the FIFO on (IIR bits 7:6 set
 * after FCR enables it), LSR.THRE means 16 free bytes, so 16 bytes go out per
 * LSR read; an 8250/16450 (no FIFO, as vsi-pc's UART) takes one byte per
 * THRE. Each port access is an exit under the hypervisor.
 */
#include "console.h"
#include "io.h"

#define COM1	    0x3F8
#define UART_THR    0 /* transmit holding register (DLAB = 0) */
#define UART_DLL    0 /* divisor latch, low (DLAB = 1) */
#define UART_IER    1
#define UART_DLM    1 /* divisor latch, high (DLAB = 1) */
#define UART_FCR    2
#define UART_LCR    3
#define UART_MCR    4
#define UART_LSR    5
#define LCR_8N1	    0x03
#define LCR_DLAB    0x80
#define FCR_ENABLE  0x07 /* FIFO on, both FIFOs cleared */
#define MCR_DTR_RTS 0x03
#define LSR_THRE    0x20
#define UART_IIR    2
#define IIR_FIFO    0xC0
#define UART_FIFO   16

static unsigned int tx_room, fifo_size = 1;

/* 115200 baud (divisor 1), 8N1, FIFOs on, no interrupts. The UART resets to 5-bit characters. */
void uart_init(void)
{
	outb(COM1 + UART_IER, 0);
	outb(COM1 + UART_LCR, LCR_DLAB);
	outb(COM1 + UART_DLL, 1);
	outb(COM1 + UART_DLM, 0);
	outb(COM1 + UART_LCR, LCR_8N1);
	outb(COM1 + UART_FCR, FCR_ENABLE);
	outb(COM1 + UART_MCR, MCR_DTR_RTS);
	fifo_size = (inb(COM1 + UART_IIR) & IIR_FIFO) == IIR_FIFO ? UART_FIFO : 1;
	tx_room = 0;
}

void uart_putc(char c)
{
	while (!tx_room) {
		if (inb(COM1 + UART_LSR) & LSR_THRE)
			tx_room = fifo_size;
		else
			cpu_relax();
	}
	outb(COM1 + UART_THR, (u8)c);
	tx_room--;
}

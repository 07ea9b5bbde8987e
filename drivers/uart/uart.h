/* 16550 UART: the hypervisor console. */
#ifndef DRIVERS_UART_H
#define DRIVERS_UART_H

#include <hv/types.h>

#define UART_COM1 0x3f8

void uart_init(u16 base);
void uart_putc(char c);
/* Next received byte, or -1 when none is waiting. */
int uart_getc(void);

#endif

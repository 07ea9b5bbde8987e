/*
 * The firmware console: COM1, 8N1. Every message is a line starting with
 * "fw: "; every failure ends in fw_fatal(), which says what failed, prints
 * "fw: halted" and stops the CPU for good.
 */
#ifndef FW_CONSOLE_H
#define FW_CONSOLE_H

#include <stdarg.h>

#include "fwtypes.h"

void uart_init(void);
void uart_putc(char c);

void con_vprintf(const char *fmt, va_list ap);
void con_printf(const char *fmt, ...) __printf(1, 2);

/* One "fw: ..." line. */
#define fw_log(fmt, ...) con_printf("fw: " fmt "\n", ##__VA_ARGS__)

/* Prints "fw: <message>", then "fw: halted", and halts with interrupts off. */
_Noreturn void fw_fatal(const char *fmt, ...) __printf(1, 2);
_Noreturn void fw_halt(void);

#endif

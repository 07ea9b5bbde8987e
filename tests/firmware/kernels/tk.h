/*
 * Test kernels for the firmware tests: each one is entered through one boot
 * protocol, prints what it was given on COM1 as "tk: ..." lines that
 * tests/firmware/run.py checks, and ends QEMU through isa-debug-exit.
 */
#ifndef TK_H
#define TK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void tk_init(const char *proto);
void tk_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The machine state at entry: control registers, segment selectors, EFLAGS. */
void tk_report_cpu(void);
void tk_report_cmdline(const char *s);
void tk_report_module(unsigned int i, uint64_t addr, uint64_t size, const char *string);
void tk_report_mem(uint64_t addr, uint64_t size, uint32_t type);
/* Checks the RSDP at addr and prints every ACPI table it reaches, in hex. */
void tk_report_acpi(uint64_t rsdp);
/* The RSDP found by scanning 0xE0000-0xFFFFF, or 0. */
uint64_t tk_low_rsdp(void);
_Noreturn void tk_done(void);
_Noreturn void tk_fail(const char *why);

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
size_t strlen(const char *s);
int memcmp(const void *a, const void *b, size_t n);

#endif

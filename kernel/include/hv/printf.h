/*
 * Formatted output into a buffer: %d %i %u %x %X %p %s %c %%, flags '-' '0',
 * width, precision for %s, length modifiers l ll z h hh. Returns the length
 * the full output would have had (like C99 vsnprintf).
 */
#ifndef HV_PRINTF_H
#define HV_PRINTF_H

#include <stdarg.h>
#include <hv/types.h>

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);

#endif

/*
 * Console log. Every line is prefixed with the CPU that printed it and the
 * level: "[cpu0] I acpi: MADT lists 4 CPUs". Portable code calls these too;
 * host tests link their own implementation (tests/unit/host_log.c).
 */
#ifndef HV_LOG_H
#define HV_LOG_H

#include <stdarg.h>
#include <hv/types.h>

enum log_level {
	LOG_ERR = 0,
	LOG_WARN = 1,
	LOG_INFO = 2,
	LOG_DEBUG = 3,
};

void log_printf(enum log_level level, const char *fmt, ...) __printf(2, 3);
void log_vprintf(enum log_level level, const char *fmt, va_list ap);

#define pr_err(...)   log_printf(LOG_ERR, __VA_ARGS__)
#define pr_warn(...)  log_printf(LOG_WARN, __VA_ARGS__)
#define pr_info(...)  log_printf(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log_printf(LOG_DEBUG, __VA_ARGS__)

void log_set_level(enum log_level level);
void log_break_lock(void);
/* Raw console output, no prefix (used by the fault dump and the banner). */
void console_write(const char *s, size_t n);
/* A whole formatted line on the console, without the CPU prefix (guest output). */
void console_printf(const char *fmt, ...) __printf(1, 2);

#endif

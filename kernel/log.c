/*
 * The console log. Each line goes out whole, under one lock, prefixed with
 * the CPU and a level letter: "[cpu1] I smp: ...". Lines above the level set
 * with loglevel= on the command line are dropped.
 */
#include <hv/log.h>
#include <hv/printf.h>
#include <asm/percpu.h>
#include <asm/spinlock.h>
#include <uart/uart.h>

#define LOG_LINE_MAX 256

static spinlock_t log_lock;
static enum log_level log_threshold = LOG_INFO;
static bool log_lock_broken;

void log_set_level(enum log_level level)
{
	log_threshold = level;
}

/* After a fatal fault the lock holder may be parked: print without it. */
void log_break_lock(void)
{
	log_lock_broken = true;
}

void console_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			uart_putc('\r');
		uart_putc(s[i]);
	}
}

void log_vprintf(enum log_level level, const char *fmt, va_list ap)
{
	static const char letter[] = { 'E', 'W', 'I', 'D' };
	char line[LOG_LINE_MAX];
	int n;

	if (level > log_threshold)
		return;
	n = snprintf(line, sizeof(line), "[cpu%u] %c ", cpu_id(), letter[level]);
	n += vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (n >= (int)sizeof(line) - 1) {
		n = sizeof(line) - 2;
		line[n - 1] = '~'; /* mark truncation */
	}
	if (line[n - 1] != '\n') {
		line[n++] = '\n';
		line[n] = '\0';
	}
	bool locked = !log_lock_broken;
	if (locked)
		spin_lock(&log_lock);
	console_write(line, n);
	if (locked)
		spin_unlock(&log_lock);
}

void log_printf(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vprintf(level, fmt, ap);
	va_end(ap);
}

void console_printf(const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(line))
		n = sizeof(line) - 1;
	spin_lock(&log_lock);
	console_write(line, n);
	spin_unlock(&log_lock);
}

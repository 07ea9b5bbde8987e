/* Host log for unit tests (see host_log.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_log.h"

static struct {
	enum log_level level;
	char text[HOST_LOG_LEN];
} lines[HOST_LOG_LINES];
static unsigned nr_lines; /* lines recorded since the last clear, may exceed HOST_LOG_LINES */

static const char level_char[] = { 'E', 'W', 'I', 'D' };

void log_vprintf(enum log_level level, const char *fmt, va_list ap)
{
	char *text = lines[nr_lines % HOST_LOG_LINES].text;
	size_t n;

	vsnprintf(text, HOST_LOG_LEN, fmt, ap);
	n = strlen(text);
	if (n > 0 && text[n - 1] == '\n')
		text[n - 1] = '\0';
	lines[nr_lines % HOST_LOG_LINES].level = level;
	nr_lines++;
	if (getenv("HV_TEST_VERBOSE"))
		fprintf(stderr, "[host] %c %s\n", level_char[level & 3], text);
}

void log_printf(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vprintf(level, fmt, ap);
	va_end(ap);
}

void host_log_clear(void)
{
	nr_lines = 0;
}

static unsigned first_kept(void)
{
	return nr_lines > HOST_LOG_LINES ? nr_lines - HOST_LOG_LINES : 0;
}

bool host_log_contains(const char *needle)
{
	for (unsigned i = first_kept(); i < nr_lines; i++)
		if (strstr(lines[i % HOST_LOG_LINES].text, needle))
			return true;
	return false;
}

unsigned host_log_count(enum log_level max_level)
{
	unsigned n = 0;

	for (unsigned i = first_kept(); i < nr_lines; i++)
		if (lines[i % HOST_LOG_LINES].level <= max_level)
			n++;
	return n;
}

void host_log_dump(void)
{
	for (unsigned i = first_kept(); i < nr_lines; i++)
		fprintf(stderr, "  log %c %s\n", level_char[lines[i % HOST_LOG_LINES].level & 3],
			lines[i % HOST_LOG_LINES].text);
}

/*
 * Host implementation of the kernel log (hv/log.h) for unit tests: keeps the
 * last HOST_LOG_LINES lines so a test can assert that a message was printed,
 * and echoes every line to stderr when HV_TEST_VERBOSE is set.
 */
#ifndef TESTS_HOST_LOG_H
#define TESTS_HOST_LOG_H

#include <stdbool.h>
#include <hv/log.h>

#define HOST_LOG_LINES 128
#define HOST_LOG_LEN   256

/* Forget every recorded line. */
void host_log_clear(void);
/* True if a line recorded since the last clear contains needle. */
bool host_log_contains(const char *needle);
/* Lines recorded since the last clear at level max_level or more severe. */
unsigned host_log_count(enum log_level max_level);
/* Print the recorded lines to stderr (for a failing test's context). */
void host_log_dump(void);

#endif

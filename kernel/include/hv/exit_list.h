/* The console's exit counts: whole " NAME=count" entries, wrapped into lines. */
#ifndef HV_EXIT_LIST_H
#define HV_EXIT_LIST_H

#include <hv/types.h>

#define EXIT_LIST_WIDTH 100 /* characters of entries per line, well under a log line */

/*
 * Lay out " NAME=count" for every non-zero counts[i] (i < n, names from
 * name(i)), in order, never cutting an entry: line(ctx, text) gets each line
 * of at most EXIT_LIST_WIDTH characters (an entry longer than that gets a
 * line of its own, cut). Returns the number of lines (0: all counts zero).
 */
u32 exit_list_lines(const u64 *counts, u32 n, const char *(*name)(u32),
		    void (*line)(void *ctx, const char *text), void *ctx);

#endif

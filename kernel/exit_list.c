/* The console's exit counts (hv/exit_list.h). Portable: host-tested. */
#include <hv/exit_list.h>
#include <hv/printf.h>
#include <hv/string.h>

u32 exit_list_lines(const u64 *counts, u32 n, const char *(*name)(u32),
		    void (*line)(void *ctx, const char *text), void *ctx)
{
	char buf[EXIT_LIST_WIDTH + 1], entry[EXIT_LIST_WIDTH + 1];
	size_t used = 0;
	u32 lines = 0;

	for (u32 i = 0; i < n; i++) {
		if (!counts[i])
			continue;
		int len = snprintf(entry, sizeof(entry), " %s=%llu", name(i),
				   (unsigned long long)counts[i]);
		size_t elen = len < 0 ? 0 : MIN((size_t)len, sizeof(entry) - 1);
		if (used && used + elen > EXIT_LIST_WIDTH) {
			line(ctx, buf);
			lines++;
			used = 0;
		}
		memcpy(buf + used, entry, elen + 1);
		used += elen;
	}
	if (used) {
		line(ctx, buf);
		lines++;
	}
	return lines;
}

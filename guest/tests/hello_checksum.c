/* Host side of hello: prints the checksum the guest must report, in the
 * guest's format, so tests compare against a computed value. */
#include <inttypes.h>
#include <stdio.h>

#include "workload.h"

int main(void)
{
	static uint64_t table[WORKLOAD_TABLE];

	printf("0x%016" PRIx64 "\n", workload_run(table, WORKLOAD_STEPS));
	return 0;
}

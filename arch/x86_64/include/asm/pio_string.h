/*
 * String port I/O (INS/OUTS, with or without REP; SDM Vol. 2B "INS", "OUTS",
 * "REP"): the register arithmetic, portable and tested on the host. The
 * exit handler (string_io.c) moves the data; this decides how many elements
 * one exit moves and what RCX and RSI/RDI become.
 */
#ifndef ASM_PIO_STRING_H
#define ASM_PIO_STRING_H

#include <hv/types.h>

/* Elements moved per exit at most: a longer REP leaves RIP on the
 * instruction, which exits again (as an interrupted REP would resume). */
#define PIO_STRING_MAX_PER_EXIT 1024

struct pio_string {
	u32 size;      /* element size: 1, 2 or 4 */
	u32 addr_size; /* address size in bytes: 2, 4 or 8 */
	bool rep;      /* REP prefix: RCX (at the address size) counts */
	bool down;     /* RFLAGS.DF: the index decrements */
	u64 rcx;       /* the guest's RCX */
	u64 index;     /* the guest's RSI (OUTS) or RDI (INS) */
};

/* The mask of an address-size register (CX/ECX/RCX, SI/ESI/RSI ...). */
u64 pio_string_addr_mask(u32 addr_size);
/* Elements to move at this exit: 1 without REP; with REP min(count, max), 0 for a zero count. */
u64 pio_string_count(const struct pio_string *s, u64 max);
/* The effective address (offset in the segment) of element i of this exit. */
u64 pio_string_offset(const struct pio_string *s, u64 i);
/* Account for n elements moved: index and, with REP, RCX updated as the CPU
 * writes an address-size register. True if the instruction is complete
 * (RIP moves on); false if a REP count remains. */
bool pio_string_advance(struct pio_string *s, u64 n);

#endif

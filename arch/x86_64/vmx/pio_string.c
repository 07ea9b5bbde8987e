/* String port I/O register arithmetic (asm/pio_string.h). Portable. */
#include <asm/pio_string.h>

u64 pio_string_addr_mask(u32 addr_size)
{
	return addr_size >= 8 ? ~0ULL : (1ULL << (addr_size * 8)) - 1;
}

u64 pio_string_count(const struct pio_string *s, u64 max)
{
	u64 count;

	if (!s->rep)
		return 1;
	count = s->rcx & pio_string_addr_mask(s->addr_size);
	return count < max ? count : max;
}

u64 pio_string_offset(const struct pio_string *s, u64 i)
{
	u64 delta = i * s->size;

	return (s->down ? s->index - delta : s->index + delta) & pio_string_addr_mask(s->addr_size);
}

/*
 * A 16-bit address size changes only the low 16 bits; a 32-bit one writes
 * the 32-bit register, which zero-extends in 64-bit mode (SDM Vol. 1
 * 3.4.1.1); a 64-bit one the whole register.
 */
static u64 write_reg(u64 old, u64 val, u32 addr_size)
{
	u64 mask = pio_string_addr_mask(addr_size);

	if (addr_size == 2)
		return (old & ~mask) | (val & mask);
	return val & mask;
}

bool pio_string_advance(struct pio_string *s, u64 n)
{
	u64 count = s->rcx & pio_string_addr_mask(s->addr_size);

	if (n == 0) /* nothing moved: no register is written */
		return s->rep && count == 0;
	s->index = write_reg(s->index, pio_string_offset(s, n), s->addr_size);
	if (!s->rep)
		return true;
	s->rcx = write_reg(s->rcx, count - n, s->addr_size);
	return count == n;
}

/* Virtual-interrupt release policy (asm/vintr.h). Portable: built into host tests. */
#include <asm/vintr.h>

static int highest(const u32 v[8])
{
	for (int w = 7; w >= 0; w--)
		if (v[w])
			return w * 32 + 31 - __builtin_clz(v[w]);
	return -1;
}

static int next_below(const u32 v[8], int vector)
{
	for (int w = vector / 32; w >= 0; w--) {
		u32 x = v[w];
		if (w == vector / 32)
			x &= vector % 32 ? (1U << (vector % 32)) - 1 : 0;
		if (x)
			return w * 32 + 31 - __builtin_clz(x);
	}
	return -1;
}

/* Above the in-service vector's priority class (SDM 30.1.1: PPR without TPR). */
static bool beats(int vector, int isr)
{
	return isr < 0 || (vector & 0xf0) > (isr & 0xf0);
}

struct vintr_choice vintr_choose(const u32 pending[8], int isr, bool can_take)
{
	struct vintr_choice c = { -1, false, false };
	int top = highest(pending);

	if (top < 0)
		return c;
	if (can_take && beats(top, isr)) {
		c.release = top;
		/* The window would exit before the delivery: the EOI comes first. */
		c.held = next_below(pending, top) >= 0;
		return c;
	}
	c.held = true;
	c.irq_window = !can_take && beats(top, isr);
	return c;
}

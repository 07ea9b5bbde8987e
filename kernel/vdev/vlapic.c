/*
 * The virtual local APIC (SDM Vol. 3 ch. 11): registers, priorities,
 * IRR/ISR bookkeeping, and the timer in one-shot, periodic and TSC-deadline
 * mode. The timer counts in TSC ticks: one count is `divisor` TSC ticks, so
 * the guest's timer runs at the TSC rate the platform reports in CPUID 0x15
 * (docs/vsi-platform.md). Nothing here touches hardware.
 */
#include <hv/string.h>
#include <hv/vlapic.h>

#define X2APIC_MSR_BASE 0x800
#define X2APIC_MSR_END	0x8ff

static u32 lvt_offset(u32 i)
{
	static const u32 off[VLAPIC_NR_LVT] = {
		VLAPIC_LVT_TIMER, VLAPIC_LVT_THERM, VLAPIC_LVT_PERF,
		VLAPIC_LVT_LINT0, VLAPIC_LVT_LINT1, VLAPIC_LVT_ERROR,
	};
	return off[i];
}

/* Index in lvt[] of an LVT register offset, or -1. */
static int lvt_index(u32 offset)
{
	for (u32 i = 0; i < VLAPIC_NR_LVT; i++)
		if (lvt_offset(i) == offset)
			return (int)i;
	return -1;
}

/* Writable bits of each LVT (SDM Figure 11-8). */
static u32 lvt_mask(u32 offset)
{
	switch (offset) {
	case VLAPIC_LVT_TIMER:
		return 0xff | VLAPIC_LVT_MASKED | (3U << VLAPIC_TIMER_MODE_SHIFT);
	case VLAPIC_LVT_LINT0:
	case VLAPIC_LVT_LINT1:
		return 0xff | (7U << 8) | BIT(13) | BIT(15) | VLAPIC_LVT_MASKED;
	case VLAPIC_LVT_ERROR:
		return 0xff | VLAPIC_LVT_MASKED;
	default: /* thermal, performance */
		return 0xff | (7U << 8) | VLAPIC_LVT_MASKED;
	}
}

static u32 timer_mode(const struct vlapic *l)
{
	return (l->lvt[0] >> VLAPIC_TIMER_MODE_SHIFT) & 3;
}

/* TDCR bits 0, 1, 3 (SDM Figure 11-10): 0b111 divides by 1, else 2 << value. */
static u32 timer_divisor(const struct vlapic *l)
{
	u32 v = (l->tdcr & 3) | ((l->tdcr & 8) >> 1);

	return v == 7 ? 1 : 2U << v;
}

static bool test_vec(const u32 *bits, u32 v)
{
	return __atomic_load_n(&bits[v / 32], __ATOMIC_ACQUIRE) & BIT(v % 32);
}

/* Highest set vector of a 256-bit register, or -1. */
static int highest(const u32 *bits)
{
	for (int w = 7; w >= 0; w--) {
		u32 x = __atomic_load_n(&bits[w], __ATOMIC_ACQUIRE);
		if (x)
			return w * 32 + 31 - __builtin_clz(x);
	}
	return -1;
}

static u32 ppr(const struct vlapic *l)
{
	int isr = highest(l->isr);
	u32 isrv = isr < 0 ? 0 : (u32)isr & 0xf0;

	return (l->tpr & 0xf0) >= isrv ? l->tpr & 0xff : isrv;
}

void vlapic_reset(struct vlapic *l, u32 id, const struct vlapic_ops *ops, void *ctx)
{
	memset(l, 0, sizeof(*l));
	l->id = id;
	l->ops = ops;
	l->ctx = ctx;
	l->dfr = 0xffffffff;
	l->svr = 0xff;
	for (u32 i = 0; i < VLAPIC_NR_LVT; i++)
		l->lvt[i] = VLAPIC_LVT_MASKED;
}

void vlapic_set_x2apic(struct vlapic *l, bool on)
{
	l->x2apic = on;
	if (on) /* x2APIC LDR is derived from the ID (SDM 11.12.10.2) */
		l->ldr = ((l->id >> 4) << 16) | BIT(l->id & 0xf);
	else
		l->ldr = 0;
}

enum vlapic_mode vlapic_get_mode(const struct vlapic *l)
{
	if (l->disabled)
		return VLAPIC_MODE_DISABLED;
	return l->x2apic ? VLAPIC_MODE_X2APIC : VLAPIC_MODE_XAPIC;
}

/*
 * SDM 11.12.5 (Figure 11-27): xAPIC <-> disabled, x2APIC -> disabled,
 * xAPIC -> x2APIC. x2APIC -> xAPIC and disabled -> x2APIC must go the long
 * way round; EXTD without EN is invalid.
 */
bool vlapic_mode_allowed(const struct vlapic *l, enum vlapic_mode to)
{
	enum vlapic_mode from = vlapic_get_mode(l);

	if (to == from)
		return true;
	switch (to) {
	case VLAPIC_MODE_DISABLED:
		return true;
	case VLAPIC_MODE_XAPIC:
		return from == VLAPIC_MODE_DISABLED;
	case VLAPIC_MODE_X2APIC:
		return from == VLAPIC_MODE_XAPIC;
	default:
		return false;
	}
}

/*
 * A disabled APIC behaves as if absent (SDM 11.4.3): it takes no interrupts
 * and keeps none, so it is reset on the way in; re-enabled, it starts from
 * that reset state in xAPIC mode. The statistics survive.
 */
bool vlapic_set_mode(struct vlapic *l, enum vlapic_mode to)
{
	struct vlapic_stats stats = l->stats;

	if (!vlapic_mode_allowed(l, to))
		return false;
	if (to == vlapic_get_mode(l))
		return true;
	if (to == VLAPIC_MODE_DISABLED) {
		vlapic_reset(l, l->id, l->ops, l->ctx);
		l->stats = stats;
		l->disabled = true;
		return true;
	}
	l->disabled = false;
	vlapic_set_x2apic(l, to == VLAPIC_MODE_X2APIC);
	return true;
}

bool vlapic_accept(struct vlapic *l, u32 vector, bool level)
{
	if (l->disabled)
		return false;
	vector &= 0xff;
	if (vector < 16) {
		__atomic_or_fetch(&l->esr_pending, VLAPIC_ESR_RECV_ILLEGAL, __ATOMIC_SEQ_CST);
		__atomic_add_fetch(&l->stats.illegal, 1, __ATOMIC_RELAXED);
		return false;
	}
	if (level)
		__atomic_or_fetch(&l->tmr[vector / 32], BIT(vector % 32), __ATOMIC_SEQ_CST);
	else
		__atomic_and_fetch(&l->tmr[vector / 32], ~BIT(vector % 32), __ATOMIC_SEQ_CST);
	__atomic_or_fetch(&l->irr[vector / 32], BIT(vector % 32), __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&l->stats.accepted, 1, __ATOMIC_RELAXED);
	return true;
}

int vlapic_pending(const struct vlapic *l)
{
	int v = l->disabled ? -1 : highest(l->irr);

	if (v < 0 || ((u32)v & 0xf0) <= (ppr(l) & 0xf0))
		return -1;
	return v;
}

void vlapic_ack(struct vlapic *l, u32 vector)
{
	__atomic_and_fetch(&l->irr[vector / 32], ~BIT(vector % 32), __ATOMIC_SEQ_CST);
	l->isr[vector / 32] |= BIT(vector % 32);
}

static void eoi(struct vlapic *l)
{
	int v = highest(l->isr);

	if (v < 0) {
		l->stats.eoi_spurious++;
		return;
	}
	l->isr[v / 32] &= ~BIT(v % 32);
	if (test_vec(l->tmr, (u32)v) && l->ops && l->ops->eoi_level)
		l->ops->eoi_level(l, (u32)v);
}

/* Raise the LVT timer's interrupt unless it is masked. */
static void timer_fire(struct vlapic *l)
{
	if (l->lvt[0] & VLAPIC_LVT_MASKED)
		return;
	if (vlapic_accept(l, l->lvt[0] & 0xff, false))
		l->stats.timer_fired++;
}

static void timer_arm_count(struct vlapic *l, u64 now)
{
	l->timer_start = now;
	l->timer_deadline = l->tmict ? now + (u64)l->tmict * timer_divisor(l) : 0;
	if (l->timer_deadline == 0 && l->tmict)
		l->timer_deadline = 1; /* the TSC wrapped: fire at once rather than never */
}

u64 vlapic_timer_poll(struct vlapic *l, u64 now)
{
	if (!l->timer_deadline || now < l->timer_deadline)
		return l->timer_deadline;
	timer_fire(l);
	switch (timer_mode(l)) {
	case VLAPIC_TIMER_PERIODIC: {
		u64 period = (u64)l->tmict * timer_divisor(l);
		/* Skip periods that passed unseen: one interrupt, not a burst. */
		u64 missed = (now - l->timer_deadline) / period;
		l->timer_start = l->timer_deadline + missed * period;
		l->timer_deadline = l->timer_start + period;
		break;
	}
	case VLAPIC_TIMER_TSCDEADLINE:
		l->tsc_deadline = 0;
		l->timer_deadline = 0;
		break;
	default:
		l->timer_deadline = 0;
		break;
	}
	return l->timer_deadline;
}

static u32 timer_current(const struct vlapic *l, u64 now)
{
	u32 div = timer_divisor(l);

	if (timer_mode(l) == VLAPIC_TIMER_TSCDEADLINE || !l->timer_deadline ||
	    now >= l->timer_deadline)
		return 0;
	return (u32)((l->timer_deadline - now + div - 1) / div);
}

u64 vlapic_get_tsc_deadline(const struct vlapic *l)
{
	return timer_mode(l) == VLAPIC_TIMER_TSCDEADLINE ? l->tsc_deadline : 0;
}

void vlapic_set_tsc_deadline(struct vlapic *l, u64 val, u64 now)
{
	(void)now;
	if (timer_mode(l) != VLAPIC_TIMER_TSCDEADLINE)
		return; /* ignored in the other modes (SDM 11.5.4.1) */
	l->tsc_deadline = val;
	l->timer_deadline = val; /* 0 disarms; a past value fires at the next poll */
}

u32 vlapic_get_cr8(const struct vlapic *l)
{
	return (l->tpr >> 4) & 0xf;
}

void vlapic_set_cr8(struct vlapic *l, u32 cr8)
{
	l->tpr = (cr8 & 0xf) << 4;
}

bool vlapic_match_dest(const struct vlapic *l, u32 dest, bool logical)
{
	if (!logical)
		return l->x2apic ? dest == 0xffffffff || dest == l->id
				 : (dest & 0xff) == 0xff || (dest & 0xff) == (l->id & 0xff);
	if (l->x2apic) {
		if (dest == 0xffffffff)
			return true;
		return (dest >> 16) == (l->ldr >> 16) && (dest & l->ldr & 0xffff);
	}
	dest &= 0xff;
	if (dest == 0xff)
		return true;
	if ((l->dfr >> 28) == 0xf) /* flat model: a bit per APIC */
		return (dest & (l->ldr >> 24)) != 0;
	/* cluster model: high nibble the cluster, low nibble a bit per APIC */
	return (dest >> 4) == (l->ldr >> 28) && (dest & (l->ldr >> 24) & 0xf);
}

static void send_icr(struct vlapic *l, u64 now)
{
	(void)now;
	if (l->ops && l->ops->send_ipi)
		l->ops->send_ipi(l, l->icr_low, l->x2apic ? l->icr_high : l->icr_high >> 24);
}

static u32 read_reg(struct vlapic *l, u32 offset, u64 now, bool *ok)
{
	*ok = true;
	if (offset >= VLAPIC_ISR && offset < VLAPIC_ISR + 0x80)
		return l->isr[(offset - VLAPIC_ISR) / 16];
	if (offset >= VLAPIC_TMR && offset < VLAPIC_TMR + 0x80)
		return __atomic_load_n(&l->tmr[(offset - VLAPIC_TMR) / 16], __ATOMIC_ACQUIRE);
	if (offset >= VLAPIC_IRR && offset < VLAPIC_IRR + 0x80)
		return __atomic_load_n(&l->irr[(offset - VLAPIC_IRR) / 16], __ATOMIC_ACQUIRE);
	int lvt = lvt_index(offset);
	if (lvt >= 0)
		return l->lvt[lvt];
	switch (offset) {
	case VLAPIC_ID:
		return l->x2apic ? l->id : l->id << 24;
	case VLAPIC_VERSION:
		return VLAPIC_VERSION_VALUE;
	case VLAPIC_TPR:
		return l->tpr;
	case VLAPIC_APR:
		return 0;
	case VLAPIC_PPR:
		return ppr(l);
	case VLAPIC_LDR:
		return l->ldr;
	case VLAPIC_DFR:
		if (l->x2apic)
			break;
		return l->dfr;
	case VLAPIC_SVR:
		return l->svr;
	case VLAPIC_ESR:
		return l->esr;
	case VLAPIC_ICR_LOW:
		return l->icr_low & ~BIT(12); /* delivery is instant: never busy */
	case VLAPIC_ICR_HIGH:
		if (l->x2apic)
			break;
		return l->icr_high;
	case VLAPIC_TMICT:
		return l->tmict;
	case VLAPIC_TMCCT:
		return timer_current(l, now);
	case VLAPIC_TDCR:
		return l->tdcr;
	case VLAPIC_EOI:
	case VLAPIC_RRD:
		return 0;
	}
	*ok = false;
	return 0;
}

static bool write_reg(struct vlapic *l, u32 offset, u32 val, u64 now)
{
	int lvt = lvt_index(offset);

	if (lvt >= 0) {
		u32 old_mode = timer_mode(l);
		val &= lvt_mask(offset);
		if (!(l->svr & VLAPIC_SVR_ENABLE))
			val |= VLAPIC_LVT_MASKED; /* software-disabled (SDM 11.4.7.2) */
		l->lvt[lvt] = val;
		if (lvt == 0 && timer_mode(l) != old_mode) {
			/* A mode change disarms the timer (SDM 11.5.4.1). */
			l->timer_deadline = 0;
			l->tsc_deadline = 0;
			l->tmict = 0;
		}
		return true;
	}
	switch (offset) {
	case VLAPIC_TPR:
		l->tpr = val & 0xff;
		return true;
	case VLAPIC_EOI:
		eoi(l);
		return true;
	case VLAPIC_LDR:
		if (l->x2apic)
			return false; /* read-only in x2APIC mode */
		l->ldr = val & 0xff000000;
		return true;
	case VLAPIC_DFR:
		if (l->x2apic)
			return false;
		l->dfr = val | 0x0fffffff;
		return true;
	case VLAPIC_SVR:
		l->svr = val & (0xff | VLAPIC_SVR_ENABLE | BIT(9) | BIT(12));
		if (!(l->svr & VLAPIC_SVR_ENABLE))
			for (u32 i = 0; i < VLAPIC_NR_LVT; i++)
				l->lvt[i] |= VLAPIC_LVT_MASKED;
		return true;
	case VLAPIC_ESR:
		/* A write latches the errors seen since the last one (SDM 11.5.3). */
		l->esr = __atomic_exchange_n(&l->esr_pending, 0, __ATOMIC_SEQ_CST);
		return true;
	case VLAPIC_ICR_HIGH:
		if (l->x2apic)
			return false;
		l->icr_high = val & 0xff000000;
		return true;
	case VLAPIC_ICR_LOW:
		l->icr_low = val & 0x000cdfff;
		send_icr(l, now);
		return true;
	case VLAPIC_TMICT:
		if (timer_mode(l) == VLAPIC_TIMER_TSCDEADLINE)
			return true; /* ignored in TSC-deadline mode */
		l->tmict = val;
		timer_arm_count(l, now);
		return true;
	case VLAPIC_TDCR:
		l->tdcr = val & 0xb;
		return true;
	case VLAPIC_SELF_IPI:
		if (!l->x2apic)
			return false;
		if (vlapic_accept(l, val & 0xff, false))
			return true;
		return true;
	case VLAPIC_ID: /* xAPIC allows writing the ID; we keep ours (docs/vsi-platform.md) */
	case VLAPIC_VERSION:
	case VLAPIC_APR:
	case VLAPIC_PPR:
	case VLAPIC_RRD:
	case VLAPIC_TMCCT:
		return !l->x2apic; /* read-only: xAPIC ignores, x2APIC raises #GP */
	}
	if (offset >= VLAPIC_ISR && offset < VLAPIC_IRR + 0x80)
		return !l->x2apic;
	return false;
}

u32 vlapic_read(struct vlapic *l, u32 offset, u64 now)
{
	bool ok;
	u32 val = read_reg(l, offset & 0xff0, now, &ok);

	if (!ok || (offset & 0xf)) {
		l->stats.bad_access++;
		if (!ok)
			return 0;
	}
	return val;
}

void vlapic_write(struct vlapic *l, u32 offset, u32 val, u64 now)
{
	if ((offset & 0xf) || !write_reg(l, offset & 0xff0, val, now))
		l->stats.bad_access++;
}

bool vlapic_read_msr(struct vlapic *l, u32 msr, u64 *val, u64 now)
{
	u32 offset = (msr - X2APIC_MSR_BASE) << 4;
	bool ok;

	if (msr < X2APIC_MSR_BASE || msr > X2APIC_MSR_END || !l->x2apic)
		return false;
	if (offset == VLAPIC_ICR_LOW) {
		*val = ((u64)l->icr_high << 32) | (l->icr_low & ~BIT(12));
		return true;
	}
	if (offset == VLAPIC_EOI || offset == VLAPIC_SELF_IPI)
		return false; /* write-only */
	*val = read_reg(l, offset, now, &ok);
	return ok;
}

bool vlapic_write_msr(struct vlapic *l, u32 msr, u64 val, u64 now)
{
	u32 offset = (msr - X2APIC_MSR_BASE) << 4;

	if (msr < X2APIC_MSR_BASE || msr > X2APIC_MSR_END || !l->x2apic)
		return false;
	if (offset == VLAPIC_ICR_LOW) {
		l->icr_high = (u32)(val >> 32);
		l->icr_low = (u32)val & 0x000cdfff;
		send_icr(l, now);
		return true;
	}
	if (offset == VLAPIC_EOI && val != 0)
		return false; /* x2APIC EOI must be written with 0 */
	if (val >> 32)
		return false;
	return write_reg(l, offset, (u32)val, now);
}

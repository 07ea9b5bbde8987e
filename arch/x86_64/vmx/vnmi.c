/* Guest NMI delivery policy (asm/vnmi.h). Portable: built into host tests. */
#include <asm/vnmi.h>

static bool irq_window_open(const struct vnmi_state *s)
{
	return (s->rflags & VNMI_RFLAGS_IF) &&
	       !(s->intr_state & (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS));
}

bool vnmi_blocked(const struct vnmi_state *s)
{
	if (s->virtual_nmis)
		return s->intr_state & GUEST_INTR_STATE_NMI;
	/* Software blocking ends at the first open interrupt window. */
	return s->soft_blocked && !irq_window_open(s);
}

/*
 * With virtual NMIs: inject when there is no virtual-NMI, MOV SS or STI
 * blocking. An NMI may not be injected under MOV SS blocking (SDM 26.3.1.5);
 * some CPUs also refuse it under STI blocking (ibid., model-specific), so
 * STI blocking waits for the interrupt window, which opens after the next
 * instruction (STI blocking implies IF = 1). Virtual-NMI and MOV SS blocking
 * wait for the NMI window (SDM 25.2).
 * Without virtual NMIs there is no NMI window (SDM 26.2.1.1): the interrupt
 * window (which also ends the software blocking) is the signal to wait for.
 */
enum vnmi_action vnmi_decide(const struct vnmi_state *s)
{
	u32 shadow = s->intr_state & (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS);

	if (s->virtual_nmis) {
		if (s->intr_state & (GUEST_INTR_STATE_NMI | GUEST_INTR_STATE_MOV_SS))
			return VNMI_NMI_WINDOW;
		return shadow ? VNMI_IRQ_WINDOW : VNMI_INJECT;
	}
	return !vnmi_blocked(s) && !shadow ? VNMI_INJECT : VNMI_IRQ_WINDOW;
}

/*
 * Guest NMI delivery policy (portable: no VMCS access, tested on the host).
 * Guest NMIs are never physical NMIs: an NMI IPI or LINT sets the vCPU's
 * pending flag and the hypervisor injects it at a VM entry. The policy says
 * when that is allowed, and what to wait for when it is not.
 *
 * With the "virtual NMIs" control (SDM 24.6.1) the CPU tracks the guest's
 * NMI blocking: injecting an NMI sets virtual-NMI blocking and the guest's
 * IRET clears it (SDM 25.3), reported as bit 3 of the interruptibility
 * state (SDM 24.4.2); NMI-window exiting (SDM 25.2) says when it ends.
 *
 * Without virtual NMIs, IRET does not unblock NMIs while "NMI exiting" is
 * on (SDM 25.3), so the blocking is tracked in software: set on injection,
 * ended when the guest next opens an interrupt window (RFLAGS.IF = 1 and
 * no STI/MOV SS blocking), which is when a handler that runs with
 * interrupts off has returned.
 */
#ifndef ASM_VNMI_H
#define ASM_VNMI_H

#include <asm/vmcs.h>
#include <hv/types.h>

#define VNMI_RFLAGS_IF BIT(9) /* RFLAGS.IF (SDM Vol. 1 3.4.3) */

enum vnmi_action {
	VNMI_INJECT,	 /* inject the NMI at this entry */
	VNMI_NMI_WINDOW, /* request NMI-window exiting (virtual NMIs only) */
	VNMI_IRQ_WINDOW, /* request interrupt-window exiting */
};

struct vnmi_state {
	bool virtual_nmis; /* the CPU tracks blocking (the pin-based control is on) */
	u32 intr_state;	   /* the guest interruptibility state (GUEST_INTR_STATE_*) */
	u64 rflags;
	bool soft_blocked; /* without virtual NMIs: an injected NMI's handler runs */
};

/* True if the guest is inside its NMI handler as far as we can tell. */
bool vnmi_blocked(const struct vnmi_state *s);
/* What to do at this entry with a pending NMI; never an action the SDM forbids. */
enum vnmi_action vnmi_decide(const struct vnmi_state *s);

#endif

/*
 * Virtual-interrupt release policy (portable: no VMCS access, tested on the
 * host). With virtual-interrupt delivery (SDM 30.2) the CPU delivers the
 * vector in RVI when RFLAGS.IF = 1, nothing blocks and its priority class is
 * above the virtual PPR. Interrupts for a vCPU wait in the local APIC model's
 * IRR (the inbox); before each entry this policy picks what goes into the
 * virtual-APIC page's IRR, and so into RVI.
 *
 * At most one vector is released, and only when the guest takes it at that
 * entry: the guest can take interrupts, no event is injected, and its class
 * is above the in-service one. After its delivery the page's IRR is empty
 * and RVI is 0, so a guest running with IF = 0 never has a virtual interrupt
 * pending. The rest stay in the inbox until an exit opens the way: the EOI
 * of an in-service vector (every EOI exits while vectors are held) or the
 * interrupt window. Each held vector costs up to two exits; in exchange the
 * CPU is never asked to respect IF for a pending virtual interrupt, which
 * Bochs 2.7 gets wrong (docs/architecture.md, "One virtual interrupt at a
 * time").
 */
#ifndef ASM_VINTR_H
#define ASM_VINTR_H

#include <hv/types.h>

struct vintr_choice {
	int release;	 /* the vector for the page's IRR and RVI, or -1 */
	bool held;	 /* vectors stay in the inbox: every EOI must exit */
	bool irq_window; /* request interrupt-window exiting */
};

/*
 * pending: the 256-bit IRR (the inbox and the page's IRR together);
 * isr: the highest in-service vector, or -1; can_take: RFLAGS.IF = 1, no
 * STI/MOV SS blocking, no deliverable debug trap, and no event injected at
 * this entry. The TPR is left to the CPU: a vector it blocks is released all
 * the same and delivered when the guest lowers the TPR.
 */
struct vintr_choice vintr_choose(const u32 pending[8], int isr, bool can_take);

#endif

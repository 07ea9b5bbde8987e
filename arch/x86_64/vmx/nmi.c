/*
 * NMIs and VMX. Guest NMIs are injected at VM entry (policy in vnmi.c);
 * physical NMIs are the hypervisor's own (the fault dump parks CPUs with
 * them) and exit the guest through "NMI exiting", whatever state the guest
 * is in: with virtual NMIs the guest never blocks physical NMIs (SDM
 * 24.6.1); without them the blocking an injected NMI leaves is cleared at
 * the next exit (see nmi_after_exit).
 */
#include <asm/cpu.h>
#include <asm/trap.h>
#include <asm/vmcs.h>
#include <asm/vmx.h>
#include <asm/vmx_exit.h>
#include <asm/vmx_vcpu.h>
#include <asm/vnmi.h>
#include <hv/kernel.h>
#include <hv/string.h>

static int vnmi_on = -1;

bool vmx_virtual_nmis(void)
{
	char v[8];

	if (vnmi_on < 0) {
		bool off =
		    cmdline_get(boot_info.cmdline, "vnmi", v, sizeof(v)) && !strcmp(v, "off");
		/* NMI-window exiting needs virtual NMIs (SDM 26.2.1.1); use them as a pair. */
		vnmi_on = !off && (vmx_caps.pin_allowed1 & PIN_BASED_VIRTUAL_NMIS) &&
			  (vmx_caps.proc_allowed1 & CPU_BASED_NMI_WINDOW_EXITING);
	}
	return vnmi_on;
}

static struct vnmi_state guest_nmi_state(const struct vcpu *vc)
{
	return (struct vnmi_state){
		.virtual_nmis = vmx_virtual_nmis(),
		.intr_state = vmcs_read32(GUEST_INTERRUPTIBILITY_INFO),
		.rflags = vmcs_readl(GUEST_RFLAGS),
		.soft_blocked = vc->arch.nmi_soft_blocked,
	};
}

static void set_nmi_window(struct vcpu *vc, bool on)
{
	vmx_set_exec_control(CPU_BASED_NMI_WINDOW_EXITING, on, &vc->arch.nmi_window);
}

void vmx_nmi_reset(struct vcpu *vc)
{
	vc->arch.pending_nmi = 0;
	vc->arch.nmi_soft_blocked = false;
	vc->arch.nmi_window = true; /* forces the control off */
	set_nmi_window(vc, false);
}

/*
 * Inject the pending NMI if the guest can take it now (the entry field must
 * be free). Returns true if injected; *irq_window is set if the interrupt
 * window is what the NMI waits for.
 */
bool vmx_nmi_inject(struct vcpu *vc, bool *irq_window)
{
	struct vnmi_state s = guest_nmi_state(vc);

	*irq_window = false;
	if (!vc->arch.pending_nmi) {
		set_nmi_window(vc, false);
		return false;
	}
	/* A #DB trap left pending comes before an NMI too (SDM 6.9): its window
	 * exit follows the #DB's delivery. */
	enum vnmi_action act = vnmi_decide(&s);
	if (vmcs_readl(GUEST_PENDING_DBG_EXCEPTIONS) & PENDING_DBG_DELIVERABLE)
		act = s.virtual_nmis ? VNMI_NMI_WINDOW : VNMI_IRQ_WINDOW;
	switch (act) {
	case VNMI_INJECT:
		break;
	case VNMI_NMI_WINDOW:
		set_nmi_window(vc, true);
		return false;
	case VNMI_IRQ_WINDOW:
		set_nmi_window(vc, false);
		*irq_window = true;
		return false;
	}
	/* NMIs sent since the check merge into this one, as in the CPU's latch. */
	__atomic_store_n(&vc->arch.pending_nmi, 0, __ATOMIC_SEQ_CST);
	vc->arch.nmi_soft_blocked = !s.virtual_nmis;
	set_nmi_window(vc, false);
	vmcs_write32(VM_ENTRY_INTR_INFO_FIELD, INTR_INFO_VALID_BIT | INTR_TYPE_NMI | X86_TRAP_NMI);
	/* An NMI wakes a halted CPU (SDM 26.6.2). */
	if (vmcs_read32(GUEST_ACTIVITY_STATE) != GUEST_ACTIVITY_ACTIVE)
		vmcs_write32(GUEST_ACTIVITY_STATE, GUEST_ACTIVITY_ACTIVE);
	return true;
}

/*
 * An event is already queued for this entry: a pending NMI waits for the
 * window that opens right after its delivery (NMI-window exits come after
 * event injection, SDM 26.7.6). True if that is the interrupt window.
 */
bool vmx_nmi_after_queued(struct vcpu *vc)
{
	if (!vc->arch.pending_nmi)
		return false;
	if (!vmx_virtual_nmis())
		return true;
	set_nmi_window(vc, true);
	return false;
}

bool vmx_nmi_can_wake(const struct vcpu *vc)
{
	struct vnmi_state s;

	if (!vc->arch.pending_nmi)
		return false;
	s = guest_nmi_state(vc);
	return !vnmi_blocked(&s);
}

/*
 * Without virtual NMIs an injected NMI blocks physical NMIs in the guest,
 * and the guest's IRET does not unblock them (SDM 25.3): the saved
 * "blocking by NMI" is cleared here so the next entry does not load it
 * (SDM 26.6.1), and an IRET unblocks them on this CPU in case the exit
 * kept them blocked. The guest's own blocking is tracked in software.
 */
void vmx_nmi_after_exit(struct vcpu *vc)
{
	u32 intr;

	(void)vc;
	if (vmx_virtual_nmis())
		return;
	intr = vmcs_read32(GUEST_INTERRUPTIBILITY_INFO);
	if (!(intr & GUEST_INTR_STATE_NMI))
		return;
	vmcs_write32(GUEST_INTERRUPTIBILITY_INFO, intr & ~GUEST_INTR_STATE_NMI);
	cpu_unblock_nmi();
}

/*
 * An exit during the delivery of an event (IDT-vectoring information, SDM
 * 27.2.4) leaves it undelivered: queue it again for the next entry (SDM
 * 31.7.1.1), so a host NMI or a kick never swallows a guest event.
 */
void vmx_requeue_vectoring(void)
{
	u32 info = vmcs_read32(IDT_VECTORING_INFO_FIELD);
	u32 type = info & INTR_INFO_TYPE_MASK;

	if (!(info & INTR_INFO_VALID_BIT))
		return;
	if (info & INTR_INFO_DELIVER_CODE_BIT)
		vmcs_write32(VM_ENTRY_EXCEPTION_ERROR_CODE, vmcs_read32(IDT_VECTORING_ERROR_CODE));
	if (type == INTR_TYPE_SOFT_INTR || type == INTR_TYPE_SOFT_EXCEPTION ||
	    type == INTR_TYPE_PRIV_SW_EXCEPTION)
		vmcs_write32(VM_ENTRY_INSTRUCTION_LEN, vmcs_read32(VM_EXIT_INSTRUCTION_LEN));
	/* An NMI whose delivery did not complete left no virtual-NMI blocking;
	 * the entry check requires none (SDM 26.3.1.5). */
	if (type == INTR_TYPE_NMI && vmx_virtual_nmis())
		vmcs_write32(GUEST_INTERRUPTIBILITY_INFO,
			     vmcs_read32(GUEST_INTERRUPTIBILITY_INFO) & ~GUEST_INTR_STATE_NMI);
	vmcs_write32(VM_ENTRY_INTR_INFO_FIELD, info & ~INTR_INFO_VECTORING_RESERVED);
}

/* The architecture part of a vCPU: registers VMX does not keep, and its VMCS. */
#ifndef ASM_VCPU_H
#define ASM_VCPU_H

#include <hv/types.h>

/* Saved by vmentry.asm at every exit; keep the layout in sync with it. */
struct guest_regs {
	u64 rax, rcx, rdx, rbx, rbp, rsi, rdi;
	u64 r8, r9, r10, r11, r12, r13, r14, r15;
	u64 cr2;
};
_Static_assert(sizeof(struct guest_regs) == 16 * 8, "vmentry.asm layout");

struct vcpu_arch {
	struct guest_regs regs;
	u64 vmcs;      /* physical address of this vCPU's VMCS */
	bool launched; /* VMLAUNCH done since the last VMCLEAR */
	u16 vpid;
	u64 cr0_shadow_mask; /* CR0 bits the guest sees from the read shadow */
	u64 cr4_shadow_mask;
	u64 apic_base; /* the guest's view of IA32_APIC_BASE */
	u64 xcr0;
	volatile u32 sipi_vector; /* ~0: no SIPI received */
	volatile u32 init_pending;
	volatile u32 pending_nmi; /* the NMI latch: one NMI waits at most */
	bool nmi_soft_blocked;	  /* without virtual NMIs: the guest's NMI handler runs */
	bool nmi_window;	  /* NMI-window exiting is on */
	bool window_requested;	  /* interrupt-window exiting is on */
	bool timer_armed;	  /* a guest timer deadline is programmed */
	/* APIC virtualisation (apicv.c) */
	u64 vapic;	    /* the virtual-APIC page, 0 without APICv */
	bool apicv_on;	    /* the page holds IRR/ISR/TPR now */
	bool apicv_dirty;   /* model registers to copy into the page */
	u32 apicv_tmr[8];   /* TMR as last put in the EOI-exit bitmap */
	bool apicv_eoi_all; /* vectors wait in the inbox: every EOI exits */
};

int vmx_enter(struct guest_regs *regs, int launched);
void vmx_exit(void);

#endif

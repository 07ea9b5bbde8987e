/*
 * Guest-state checks of VM entry (SDM Vol. 3 26.3.1), run on a snapshot of
 * the VMCS when an entry fails, so the report names the rule that failed
 * instead of only "invalid guest state". Portable: tested on the host.
 * It covers the rules a hypervisor with unrestricted guest and EPT can
 * break; the CPU remains the authority.
 */
#ifndef ASM_VMX_CHECK_H
#define ASM_VMX_CHECK_H

#include <hv/types.h>

struct vmx_seg_state {
	u16 selector;
	u64 base;
	u32 limit;
	u32 ar; /* access rights as the VMCS holds them */
};

struct vmx_guest_state {
	u64 cr0, cr4, dr7, rflags, rip, efer, link_pointer, pending_dbg;
	u32 entry_ctls;
	u32 entry_intr_info;
	u32 interruptibility;
	u32 activity;
	struct vmx_seg_state cs, ss, ds, es, fs, gs, tr, ldtr;
	u32 gdtr_limit, idtr_limit;
	/* what the CPU allows */
	bool unrestricted_guest;
	u64 cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	u32 activity_states; /* IA32_VMX_MISC bits 8:6 as a mask: bit 0 HLT, 1 shutdown, 2 wait-for-SIPI */
};

/*
 * 0 if no rule this checker knows is broken; else -EINVAL and a sentence in
 * buf naming the field, its value and the SDM rule.
 */
int vmx_check_guest_state(const struct vmx_guest_state *g, char *buf, size_t len);

#endif

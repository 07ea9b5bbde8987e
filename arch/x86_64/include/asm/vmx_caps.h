/*
 * VMX capabilities (Intel SDM Vol. 3D Appendix A). The capability MSRs are
 * read once per boot into struct vmx_msrs; vmx_caps_decode() turns them into
 * struct vmx_caps, which everything else consults through the cpu_has_*()
 * predicates. Portable: the decoder is tested on the host with recorded
 * MSR values.
 */
#ifndef ASM_VMX_CAPS_H
#define ASM_VMX_CAPS_H

#include <hv/types.h>
#include <asm/vmx_controls.h>

/*
 * Raw capability MSRs. The reader fills procbased2 only if the primary
 * allowed-1 bit 31 is set, the true_* only if IA32_VMX_BASIC bit 55 is set,
 * ept_vpid_cap only if EPT or VPID can be enabled and vmfunc only if the
 * "enable VM functions" control can be set; the others stay 0.
 */
struct vmx_msrs {
	u64 basic;
	u64 pinbased;
	u64 procbased;
	u64 exit;
	u64 entry;
	u64 misc;
	u64 cr0_fixed0;
	u64 cr0_fixed1;
	u64 cr4_fixed0;
	u64 cr4_fixed1;
	u64 vmcs_enum;
	u64 procbased2;
	u64 ept_vpid_cap;
	u64 true_pinbased;
	u64 true_procbased;
	u64 true_exit;
	u64 true_entry;
	u64 vmfunc;
};

struct vmx_caps {
	u32 revision;	 /* VMCS revision identifier, IA32_VMX_BASIC[30:0] */
	u32 vmcs_size;	 /* bytes to allocate for VMXON and VMCS regions, [44:32] */
	u8 vmcs_memtype; /* memory type for VMCS accesses, [53:50] (6 = WB) */
	bool phys_32bit; /* VMXON/VMCS/bitmap addresses limited to 32 bits, [48] */
	bool inout_info; /* INS/OUTS exits report instruction information, [54] */
	bool true_ctls;	 /* IA32_VMX_TRUE_*_CTLS exist, [55] */

	/*
	 * Allowed settings of each control field, SDM A.3-A.5: a bit set in
	 * allowed0 must be 1, a bit clear in allowed1 must be 0.
	 */
	u32 pin_allowed0, pin_allowed1;
	u32 proc_allowed0, proc_allowed1;
	u32 proc2_allowed0, proc2_allowed1; /* 0 if secondary controls cannot be activated */
	u32 exit_allowed0, exit_allowed1;
	u32 entry_allowed0, entry_allowed1;

	/* The same as capability-MSR values (allowed1 << 32 | allowed0), for vmx_adjust_ctls(). */
	u64 pin_ctls, proc_ctls, proc2_ctls, exit_ctls, entry_ctls;

	u64 ept_vpid_cap; /* 0 unless EPT or VPID can be enabled */
	u64 vmfunc;	  /* 0 unless VM functions can be enabled */
	u64 cr0_fixed0, cr0_fixed1;
	u64 cr4_fixed0, cr4_fixed1;

	/* IA32_VMX_MISC, SDM A.6 */
	u8 preemption_timer_rate; /* the timer counts down when TSC bit N changes */
	u8 activity_states;	  /* bit 0 HLT, bit 1 shutdown, bit 2 wait-for-SIPI */
	u16 cr3_target_count;
	u32 msr_list_max; /* recommended maximum entries in each MSR load/store list */
	bool unrestricted_save_lma;
	bool vmwrite_any_field;

	u32 vmcs_max_index; /* IA32_VMX_VMCS_ENUM[9:1], SDM A.9 */
};

void vmx_caps_decode(struct vmx_caps *c, const struct vmx_msrs *m);
int vmx_caps_check(const struct vmx_caps *c, const char **missing);
size_t vmx_caps_describe(const struct vmx_caps *c, char *buf, size_t len);
int vmx_adjust_ctls(u32 required, u32 optional, u64 cap_msr, u32 *out);
u64 vmx_fixed_cr(u64 value, u64 fixed0, u64 fixed1);

static inline bool cpu_has_secondary_ctls(const struct vmx_caps *c)
{
	return c->proc_allowed1 & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS;
}

static inline bool cpu_has_msr_bitmaps(const struct vmx_caps *c)
{
	return c->proc_allowed1 & CPU_BASED_USE_MSR_BITMAPS;
}

static inline bool cpu_has_io_bitmaps(const struct vmx_caps *c)
{
	return c->proc_allowed1 & CPU_BASED_USE_IO_BITMAPS;
}

static inline bool cpu_has_true_ctls(const struct vmx_caps *c)
{
	return c->true_ctls;
}

static inline bool cpu_has_preemption_timer(const struct vmx_caps *c)
{
	return c->pin_allowed1 & PIN_BASED_VMX_PREEMPTION_TIMER;
}

static inline bool cpu_has_posted_intr(const struct vmx_caps *c)
{
	return c->pin_allowed1 & PIN_BASED_POSTED_INTR;
}

static inline bool cpu_has_ept(const struct vmx_caps *c)
{
	return c->proc2_allowed1 & SECONDARY_EXEC_ENABLE_EPT;
}

static inline bool cpu_has_ept_cap(const struct vmx_caps *c, u64 bit)
{
	return cpu_has_ept(c) && (c->ept_vpid_cap & bit);
}

static inline bool cpu_has_ept_4level(const struct vmx_caps *c)
{
	return cpu_has_ept_cap(c, VMX_EPT_PAGE_WALK_4_BIT);
}

static inline bool cpu_has_ept_wb(const struct vmx_caps *c)
{
	return cpu_has_ept_cap(c, VMX_EPTP_WB_BIT);
}

static inline bool cpu_has_ept_2m(const struct vmx_caps *c)
{
	return cpu_has_ept_cap(c, VMX_EPT_2MB_PAGE_BIT);
}

static inline bool cpu_has_ept_1g(const struct vmx_caps *c)
{
	return cpu_has_ept_cap(c, VMX_EPT_1GB_PAGE_BIT);
}

static inline bool cpu_has_ept_ad(const struct vmx_caps *c)
{
	return cpu_has_ept_cap(c, VMX_EPT_AD_BIT);
}

static inline bool cpu_has_invept(const struct vmx_caps *c)
{
	return cpu_has_ept_cap(c, VMX_EPT_INVEPT_BIT);
}

static inline bool cpu_has_invept_single(const struct vmx_caps *c)
{
	return cpu_has_invept(c) && (c->ept_vpid_cap & VMX_EPT_EXTENT_CONTEXT_BIT);
}

static inline bool cpu_has_invept_global(const struct vmx_caps *c)
{
	return cpu_has_invept(c) && (c->ept_vpid_cap & VMX_EPT_EXTENT_GLOBAL_BIT);
}

static inline bool cpu_has_vpid(const struct vmx_caps *c)
{
	return c->proc2_allowed1 & SECONDARY_EXEC_ENABLE_VPID;
}

static inline bool cpu_has_invvpid(const struct vmx_caps *c)
{
	return cpu_has_vpid(c) && (c->ept_vpid_cap & VMX_VPID_INVVPID_BIT);
}

static inline bool cpu_has_invvpid_addr(const struct vmx_caps *c)
{
	return cpu_has_invvpid(c) && (c->ept_vpid_cap & VMX_VPID_EXTENT_INDIVIDUAL_ADDR_BIT);
}

static inline bool cpu_has_invvpid_single(const struct vmx_caps *c)
{
	return cpu_has_invvpid(c) && (c->ept_vpid_cap & VMX_VPID_EXTENT_SINGLE_CONTEXT_BIT);
}

static inline bool cpu_has_invvpid_global(const struct vmx_caps *c)
{
	return cpu_has_invvpid(c) && (c->ept_vpid_cap & VMX_VPID_EXTENT_GLOBAL_CONTEXT_BIT);
}

static inline bool cpu_has_unrestricted_guest(const struct vmx_caps *c)
{
	return c->proc2_allowed1 & SECONDARY_EXEC_UNRESTRICTED_GUEST;
}

static inline bool cpu_has_x2apic_virt(const struct vmx_caps *c)
{
	return c->proc2_allowed1 & SECONDARY_EXEC_VIRTUALIZE_X2APIC_MODE;
}

static inline bool cpu_has_apic_reg_virt(const struct vmx_caps *c)
{
	return c->proc2_allowed1 & SECONDARY_EXEC_APIC_REGISTER_VIRT;
}

static inline bool cpu_has_virtual_intr_delivery(const struct vmx_caps *c)
{
	return c->proc2_allowed1 & SECONDARY_EXEC_VIRTUAL_INTR_DELIVERY;
}

static inline bool cpu_has_vmfunc(const struct vmx_caps *c)
{
	return c->proc2_allowed1 & SECONDARY_EXEC_ENABLE_VMFUNC;
}

static inline bool cpu_has_shadow_vmcs(const struct vmx_caps *c)
{
	return c->proc2_allowed1 & SECONDARY_EXEC_SHADOW_VMCS;
}

#endif

/*
 * Decoding of the VMX capability MSRs (Intel SDM Vol. 3D Appendix A), the
 * check for the features the hypervisor cannot run without, and the one
 * function through which every VMX control value is computed. Portable: no
 * RDMSR here, the caller passes the values it read.
 */
#include <hv/errno.h>
#include <asm/msr.h>
#include <asm/vmx_caps.h>

static void split_ctls(u64 msr, u32 *allowed0, u32 *allowed1)
{
	*allowed0 = (u32)msr;
	*allowed1 = (u32)(msr >> 32);
}

static void decode_basic(struct vmx_caps *c, u64 basic)
{
	c->revision = (u32)(basic & MSR_IA32_VMX_BASIC_REVISION_MASK);
	c->vmcs_size = (u32)((basic & MSR_IA32_VMX_BASIC_VMCS_SIZE_MASK) >>
			     MSR_IA32_VMX_BASIC_VMCS_SIZE_SHIFT);
	c->vmcs_memtype =
	    (u8)((basic & MSR_IA32_VMX_BASIC_MEMTYPE_MASK) >> MSR_IA32_VMX_BASIC_MEMTYPE_SHIFT);
	c->phys_32bit = basic & MSR_IA32_VMX_BASIC_32BIT_PHYS_BIT;
	c->inout_info = basic & MSR_IA32_VMX_BASIC_INOUT_BIT;
	c->true_ctls = basic & MSR_IA32_VMX_BASIC_TRUE_CTLS_BIT;
}

static void decode_misc(struct vmx_caps *c, u64 misc, u64 vmcs_enum)
{
	c->preemption_timer_rate = (u8)(misc & MSR_IA32_VMX_MISC_PREEMPTION_TIMER_RATE_MASK);
	c->unrestricted_save_lma = misc & MSR_IA32_VMX_MISC_SAVE_EFER_LMA_BIT;
	c->activity_states = (u8)((misc >> 6) & 0x7);
	c->cr3_target_count = (u16)((misc & MSR_IA32_VMX_MISC_CR3_TARGETS_MASK) >>
				    MSR_IA32_VMX_MISC_CR3_TARGETS_SHIFT);
	c->msr_list_max = 512 * ((u32)((misc & MSR_IA32_VMX_MISC_MAX_MSR_LIST_MASK) >>
				       MSR_IA32_VMX_MISC_MAX_MSR_LIST_SHIFT) +
				 1);
	c->vmwrite_any_field = misc & MSR_IA32_VMX_MISC_VMWRITE_ANY_FIELD_BIT;
	c->vmcs_max_index = (u32)((vmcs_enum & MSR_IA32_VMX_VMCS_ENUM_MAX_INDEX_MASK) >>
				  MSR_IA32_VMX_VMCS_ENUM_MAX_INDEX_SHIFT);
}

/*
 * Build *c from the raw MSRs. When IA32_VMX_BASIC bit 55 is set, the TRUE
 * MSRs hold all the information on the pin-based, primary processor-based,
 * exit and entry controls, including which default1 controls may be 0
 * (SDM A.2, A.3.1, A.3.2, A.4.1, A.5); otherwise the plain MSRs do.
 */
void vmx_caps_decode(struct vmx_caps *c, const struct vmx_msrs *m)
{
	*c = (struct vmx_caps){ 0 };
	decode_basic(c, m->basic);

	c->pin_ctls = c->true_ctls ? m->true_pinbased : m->pinbased;
	c->proc_ctls = c->true_ctls ? m->true_procbased : m->procbased;
	c->exit_ctls = c->true_ctls ? m->true_exit : m->exit;
	c->entry_ctls = c->true_ctls ? m->true_entry : m->entry;
	split_ctls(c->pin_ctls, &c->pin_allowed0, &c->pin_allowed1);
	split_ctls(c->proc_ctls, &c->proc_allowed0, &c->proc_allowed1);
	split_ctls(c->exit_ctls, &c->exit_allowed0, &c->exit_allowed1);
	split_ctls(c->entry_ctls, &c->entry_allowed0, &c->entry_allowed1);

	/* SDM A.3.3: IA32_VMX_PROCBASED_CTLS2 exists only if bit 63 of the primary MSR is 1. */
	if (cpu_has_secondary_ctls(c)) {
		c->proc2_ctls = m->procbased2;
		split_ctls(c->proc2_ctls, &c->proc2_allowed0, &c->proc2_allowed1);
	}
	/* SDM A.10: IA32_VMX_EPT_VPID_CAP exists only if EPT or VPID can be enabled. */
	if (c->proc2_allowed1 & (SECONDARY_EXEC_ENABLE_EPT | SECONDARY_EXEC_ENABLE_VPID))
		c->ept_vpid_cap = m->ept_vpid_cap;
	/* SDM A.11: IA32_VMX_VMFUNC exists only if VM functions can be enabled. */
	if (c->proc2_allowed1 & SECONDARY_EXEC_ENABLE_VMFUNC)
		c->vmfunc = m->vmfunc;

	c->cr0_fixed0 = m->cr0_fixed0;
	c->cr0_fixed1 = m->cr0_fixed1;
	c->cr4_fixed0 = m->cr4_fixed0;
	c->cr4_fixed1 = m->cr4_fixed1;
	decode_misc(c, m->misc, m->vmcs_enum);
}

/*
 * Mandatory features, in the order they are checked. EPT and its 4-level
 * walk with write-back paging structures carry the guest's memory; VPID keeps
 * TLB flushes off the exit path; unrestricted guest lets a VSI start at its
 * reset vector in real mode.
 */
static const struct {
	bool (*has)(const struct vmx_caps *c);
	const char *what;
} mandatory[] = {
	{ cpu_has_secondary_ctls,
	  "secondary processor-based controls (primary processor-based control bit 31)" },
	{ cpu_has_ept, "EPT (secondary processor-based control bit 1)" },
	{ cpu_has_ept_4level, "EPT 4-level page walk (IA32_VMX_EPT_VPID_CAP bit 6)" },
	{ cpu_has_ept_wb, "EPT write-back paging structures (IA32_VMX_EPT_VPID_CAP bit 14)" },
	{ cpu_has_vpid, "VPID (secondary processor-based control bit 5)" },
	{ cpu_has_unrestricted_guest,
	  "unrestricted guest (secondary processor-based control bit 7)" },
};

/*
 * 0 if every mandatory feature is present; otherwise -ENOTSUP with *missing
 * (if not NULL) naming the first absent one for the boot message.
 */
int vmx_caps_check(const struct vmx_caps *c, const char **missing)
{
	for (size_t i = 0; i < ARRAY_SIZE(mandatory); i++) {
		if (!mandatory[i].has(c)) {
			if (missing)
				*missing = mandatory[i].what;
			return -ENOTSUP;
		}
	}
	if (missing)
		*missing = NULL;
	return 0;
}

static const struct {
	bool (*has)(const struct vmx_caps *c);
	const char *name;
} described[] = {
	{ cpu_has_ept, "ept" },
	{ cpu_has_ept_2m, "ept-2m" },
	{ cpu_has_ept_1g, "ept-1g" },
	{ cpu_has_ept_ad, "ept-ad" },
	{ cpu_has_vpid, "vpid" },
	{ cpu_has_unrestricted_guest, "unrestricted-guest" },
	{ cpu_has_preemption_timer, "preemption-timer" },
	{ cpu_has_true_ctls, "true-ctls" },
	{ cpu_has_x2apic_virt, "x2apic-virt" },
	{ cpu_has_apic_reg_virt, "apic-reg-virt" },
	{ cpu_has_virtual_intr_delivery, "virt-intr-delivery" },
	{ cpu_has_posted_intr, "posted-intr" },
	{ cpu_has_vmfunc, "vmfunc" },
	{ cpu_has_shadow_vmcs, "shadow-vmcs" },
};

/* Append s at buf[pos], never writing past buf[len - 2]; returns pos + strlen(s). */
static size_t append(char *buf, size_t len, size_t pos, const char *s)
{
	for (; *s; s++, pos++)
		if (pos + 1 < len)
			buf[pos] = *s;
	return pos;
}

/*
 * Write the space-separated names of the present features into buf, always
 * NUL-terminated when len > 0. Returns the length of the whole summary (like
 * snprintf): a result >= len means it was truncated.
 */
size_t vmx_caps_describe(const struct vmx_caps *c, char *buf, size_t len)
{
	size_t pos = 0;

	for (size_t i = 0; i < ARRAY_SIZE(described); i++) {
		if (!described[i].has(c))
			continue;
		if (pos > 0)
			pos = append(buf, len, pos, " ");
		pos = append(buf, len, pos, described[i].name);
	}
	if (len > 0)
		buf[pos < len ? pos : len - 1] = '\0';
	return pos;
}

/*
 * Compute a VMX control value, SDM A.3.1: bits 31:0 of the capability MSR
 * are the allowed 0-settings (a bit set there must be 1) and bits 63:32 the
 * allowed 1-settings (a bit clear there must be 0). Result =
 * (required | optional | allowed0) & allowed1; optional bits the CPU lacks
 * are dropped, a required one it lacks gives -ENOTSUP and *out is untouched.
 */
int vmx_adjust_ctls(u32 required, u32 optional, u64 cap_msr, u32 *out)
{
	u32 allowed0, allowed1;

	split_ctls(cap_msr, &allowed0, &allowed1);
	if (required & ~allowed1)
		return -ENOTSUP;
	*out = (required | optional | allowed0) & allowed1;
	return 0;
}

/*
 * Apply the CR0/CR4 bits fixed in VMX operation, SDM A.7/A.8: a bit set in
 * FIXED0 must be 1, a bit clear in FIXED1 must be 0. (With unrestricted
 * guest, CR0.PE and CR0.PG may still be 0 in the guest, SDM 26.3.1.1; the
 * caller clears them after this.)
 */
u64 vmx_fixed_cr(u64 value, u64 fixed0, u64 fixed1)
{
	return (value | fixed0) & fixed1;
}

/*
 * RDMSR and WRMSR exits: the allowlist of docs/vsi-platform.md ("Instructions
 * and MSRs"). Every MSR index and value comes from the guest; anything not
 * on the list, and any value the list does not allow, raises #GP(0).
 */
#include <asm/apicv.h>
#include <asm/cpu.h>
#include <asm/lapic.h>
#include <asm/msr.h>
#include <asm/trap.h>
#include <asm/vmcs.h>
#include <asm/vmx.h>
#include <asm/vmx_exit.h>
#include <asm/vmx_vcpu.h>
#include <hv/errno.h>
#include <hv/kernel.h>
#include <hv/log.h>
#include <hv/printf.h>
#include <hv/string.h>

/* A memory type valid in IA32_PAT: 0, 1, 4, 5, 6, 7 (SDM 11.12.2). */
static bool pat_valid(u64 pat)
{
	for (int i = 0; i < 8; i++) {
		u8 t = (pat >> (i * 8)) & 0xff;
		if (t == 2 || t == 3 || t > 7)
			return false;
	}
	return true;
}

/* RDMSR of the allowlist in docs/vsi-platform.md; false means #GP. */
static bool msr_read(struct vcpu *vc, u32 msr, u64 *val)
{
	switch (msr) {
	case MSR_IA32_TIME_STAMP_COUNTER:
		*val = rdtsc();
		return true;
	case MSR_IA32_APIC_BASE:
		*val = vc->arch.apic_base;
		return true;
	case MSR_IA32_FEATURE_CONTROL:
		*val = MSR_IA32_FEATURE_CONTROL_LOCK_BIT; /* locked, VMX off */
		return true;
	case MSR_IA32_BIOS_SIGN_ID:
	case MSR_IA32_PLATFORM_ID:
	case MSR_IA32_MTRRCAP:
	case MSR_IA32_MTRR_DEF_TYPE:
	case MSR_IA32_DEBUGCTL:
		*val = 0;
		return true;
	case MSR_IA32_MISC_ENABLE:
		*val = 1; /* fast strings */
		return true;
	case MSR_IA32_PAT:
		*val = vmcs_read64(GUEST_IA32_PAT);
		return true;
	case MSR_IA32_EFER:
		*val = vmcs_read64(GUEST_IA32_EFER);
		return true;
	case MSR_IA32_TSC_DEADLINE:
		*val = vlapic_get_tsc_deadline(&vc->lapic);
		return true;
	}
	if (msr >= MSR_IA32_X2APIC_BASE && msr <= MSR_IA32_X2APIC_END)
		return vlapic_read_msr(&vc->lapic, msr, val, rdtsc());
	if ((msr >= MSR_IA32_MTRR_PHYSBASE0 && msr < MSR_IA32_MTRR_PHYSBASE0 + 16) ||
	    msr == MSR_IA32_MTRR_FIX64K_00000 || msr == MSR_IA32_MTRR_FIX16K_80000 ||
	    msr == MSR_IA32_MTRR_FIX16K_A0000 ||
	    (msr >= MSR_IA32_MTRR_FIX4K_C0000 && msr <= MSR_IA32_MTRR_FIX4K_F8000)) {
		*val = 0;
		return true;
	}
	return false;
}

/* EFER: only SCE, LME and NXE are the guest's to set; LMA follows paging. */
static bool write_efer(u64 val)
{
	u64 efer = vmcs_read64(GUEST_IA32_EFER);
	u64 allowed = MSR_IA32_EFER_SCE_BIT | MSR_IA32_EFER_LME_BIT | MSR_IA32_EFER_NXE_BIT;

	if (val & ~(allowed | MSR_IA32_EFER_LMA_BIT))
		return false;
	if ((vmx_guest_cr0() & X86_CR0_PG) && ((val ^ efer) & MSR_IA32_EFER_LME_BIT))
		return false; /* LME cannot change while paging is on */
	vmcs_write64(GUEST_IA32_EFER, (val & allowed) | (efer & MSR_IA32_EFER_LMA_BIT));
	return true;
}

static enum vlapic_mode apic_base_mode(u64 val)
{
	bool en = val & MSR_IA32_APIC_BASE_EN_BIT, extd = val & MSR_IA32_APIC_BASE_EXTD_BIT;

	if (!en)
		return extd ? VLAPIC_MODE_INVALID : VLAPIC_MODE_DISABLED;
	return extd ? VLAPIC_MODE_X2APIC : VLAPIC_MODE_XAPIC;
}

/*
 * IA32_APIC_BASE: the base stays at 0xFEE00000, reserved bits stay 0, BSP is
 * read-only, and EN/EXTD
 * move only along the transitions of SDM 11.12.5 (the model refuses the
 * others: #GP). The APICv page leaves before the model changes and comes
 * back after, so it never holds a state the model dropped.
 */
static bool write_apic_base(struct vcpu *vc, u64 val)
{
	enum vlapic_mode to = apic_base_mode(val);

	if ((val & MSR_IA32_APIC_BASE_ADDR_MASK) != XAPIC_DEFAULT_BASE)
		return false;
	if (val & ~(MSR_IA32_APIC_BASE_ADDR_MASK | MSR_IA32_APIC_BASE_BSP_BIT |
		    MSR_IA32_APIC_BASE_EXTD_BIT | MSR_IA32_APIC_BASE_EN_BIT))
		return false; /* reserved bits (SDM 11.4.4, Figure 11-5) */
	if (!vlapic_mode_allowed(&vc->lapic, to))
		return false;
	vc->arch.apic_base =
	    (val & ~MSR_IA32_APIC_BASE_BSP_BIT) | (vc->arch.apic_base & MSR_IA32_APIC_BASE_BSP_BIT);
	apicv_mode_changed(vc);
	vlapic_set_mode(&vc->lapic, to);
	apicv_mode_changed(vc);
	return true;
}

static bool msr_write(struct vcpu *vc, u32 msr, u64 val)
{
	switch (msr) {
	case MSR_IA32_TIME_STAMP_COUNTER:
	case MSR_IA32_BIOS_SIGN_ID:
	case MSR_IA32_MISC_ENABLE:
	case MSR_IA32_MTRR_DEF_TYPE:
		return true; /* ignored */
	case MSR_IA32_APIC_BASE:
		return write_apic_base(vc, val);
	case MSR_IA32_DEBUGCTL:
		return val == 0;
	case MSR_IA32_PAT:
		if (!pat_valid(val))
			return false;
		vmcs_write64(GUEST_IA32_PAT, val);
		return true;
	case MSR_IA32_EFER:
		return write_efer(val);
	case MSR_IA32_TSC_DEADLINE:
		vlapic_set_tsc_deadline(&vc->lapic, val, rdtsc());
		return true;
	}
	if (msr >= MSR_IA32_X2APIC_BASE && msr <= MSR_IA32_X2APIC_END)
		return vlapic_write_msr(&vc->lapic, msr, val, rdtsc());
	if ((msr >= MSR_IA32_MTRR_PHYSBASE0 && msr < MSR_IA32_MTRR_PHYSBASE0 + 16) ||
	    msr == MSR_IA32_MTRR_FIX64K_00000 || msr == MSR_IA32_MTRR_FIX16K_80000 ||
	    msr == MSR_IA32_MTRR_FIX16K_A0000 ||
	    (msr >= MSR_IA32_MTRR_FIX4K_C0000 && msr <= MSR_IA32_MTRR_FIX4K_F8000))
		return true; /* ignored */
	return false;
}

enum exit_result vmx_handle_msr(struct vcpu *vc, bool write)
{
	struct guest_regs *g = &vc->arch.regs;
	u32 msr = (u32)g->rcx;
	u64 val = (g->rdx << 32) | (u32)g->rax;

	if (write ? !msr_write(vc, msr, val) : !msr_read(vc, msr, &val)) {
		vc->msr_denied++;
		pr_debug("vsi %s: vCPU %u: %s 0x%x denied: #GP", vc->vsi->name, vc->index,
			 write ? "WRMSR" : "RDMSR", msr);
		vmx_inject_exception(EXCEPTION_GP, true, 0);
		return EXIT_RESUME;
	}
	if (!write) {
		g->rax = (u32)val;
		g->rdx = val >> 32;
	}
	vmx_skip_instruction();
	return EXIT_RESUME;
}

/*
 * Control-register exits. The hypervisor owns CR0.NE and CR4.VMXE (forced on
 * in VMX operation) and every CR4 bit the CPU cannot set; the guest sees its
 * own values through the read shadows. With unrestricted guest the guest may
 * run without paging; entering or leaving long mode through an exiting MOV
 * CR0 updates EFER.LMA and the "IA-32e mode guest" entry control here.
 */
#include <asm/cpu.h>
#include <asm/msr.h>
#include <asm/vmcs.h>
#include <asm/vmx.h>
#include <asm/vmx_exit.h>
#include <asm/vmx_vcpu.h>

#define PDPTE_RESERVED 0x1e6ULL /* bits 1, 2, 5-8 of a PAE PDPTE (SDM 4.4.1) */
#define CR3_PAE_MASK   0xffffffe0ULL

u64 vmx_read_gpr(struct vcpu *vc, u32 n)
{
	const struct guest_regs *r = &vc->arch.regs;
	const u64 v[16] = { r->rax, r->rcx, r->rdx, r->rbx, 0,	    r->rbp, r->rsi, r->rdi,
			    r->r8,  r->r9,  r->r10, r->r11, r->r12, r->r13, r->r14, r->r15 };

	return (n & 15) == 4 ? vmcs_readl(GUEST_RSP) : v[n & 15];
}

void vmx_write_gpr(struct vcpu *vc, u32 n, u64 val)
{
	struct guest_regs *r = &vc->arch.regs;
	u64 *p[16] = { &r->rax, &r->rcx, &r->rdx, &r->rbx, NULL,    &r->rbp, &r->rsi, &r->rdi,
		       &r->r8,	&r->r9,	 &r->r10, &r->r11, &r->r12, &r->r13, &r->r14, &r->r15 };

	if ((n & 15) == 4)
		vmcs_writel(GUEST_RSP, val);
	else
		*p[n & 15] = val;
}

/*
 * The guest's CR0/CR4 as it sees them: the bits the hypervisor owns (the
 * guest/host mask) from the read shadow, the rest from the real register,
 * which the guest changes without exits.
 */
u64 vmx_guest_cr0(void)
{
	u64 mask = vmcs_readl(CR0_GUEST_HOST_MASK);

	return (vmcs_readl(GUEST_CR0) & ~mask) | (vmcs_readl(CR0_READ_SHADOW) & mask);
}

u64 vmx_guest_cr4(void)
{
	u64 mask = vmcs_readl(CR4_GUEST_HOST_MASK);

	return (vmcs_readl(GUEST_CR4) & ~mask) | (vmcs_readl(CR4_READ_SHADOW) & mask);
}

/*
 * PAE paging outside long mode: with EPT the VMCS holds the PDPTEs, and an
 * emulated CR write must load them (SDM 26.3.2.4, 4.4.1). false: #GP.
 */
static bool load_pdptrs(struct vcpu *vc)
{
	u64 cr0 = vmx_guest_cr0(), cr4 = vmx_guest_cr4();
	const u64 *pdpte;

	if (!(cr0 & X86_CR0_PG) || !(cr4 & X86_CR4_PAE) ||
	    (vmcs_read64(GUEST_IA32_EFER) & MSR_IA32_EFER_LMA_BIT))
		return true;
	pdpte = vsi_gpa_to_hva(vc->vsi, vmcs_readl(GUEST_CR3) & CR3_PAE_MASK, 32);
	if (!pdpte)
		return false;
	for (int i = 0; i < 4; i++)
		if ((pdpte[i] & 1) && (pdpte[i] & PDPTE_RESERVED))
			return false;
	vmcs_write64(GUEST_PDPTR0, pdpte[0]);
	vmcs_write64(GUEST_PDPTR1, pdpte[1]);
	vmcs_write64(GUEST_PDPTR2, pdpte[2]);
	vmcs_write64(GUEST_PDPTR3, pdpte[3]);
	return true;
}

/* MOV to CR0 (SDM Vol. 2B MOV, Vol. 3 9.8.5 for long-mode activation); false: #GP. */
static bool set_cr0(struct vcpu *vc, u64 val)
{
	u64 old = vmx_guest_cr0(), efer = vmcs_read64(GUEST_IA32_EFER);
	u32 entry = vmcs_read32(VM_ENTRY_CONTROLS);

	if ((val >> 32) || ((val & X86_CR0_PG) && !(val & X86_CR0_PE)) ||
	    ((val & X86_CR0_NW) && !(val & X86_CR0_CD)))
		return false;
	if (!(old & X86_CR0_PG) && (val & X86_CR0_PG) && (efer & MSR_IA32_EFER_LME_BIT)) {
		if (!(vmx_guest_cr4() & X86_CR4_PAE))
			return false; /* long mode needs PAE */
		efer |= MSR_IA32_EFER_LMA_BIT;
		entry |= VM_ENTRY_IA32E_MODE;
	} else if ((old & X86_CR0_PG) && !(val & X86_CR0_PG)) {
		efer &= ~MSR_IA32_EFER_LMA_BIT;
		entry &= ~VM_ENTRY_IA32E_MODE;
	}
	vmcs_writel(CR0_READ_SHADOW, val);
	vmcs_writel(GUEST_CR0, vmx_fixed_cr(val, vmx_caps.cr0_fixed0 & ~(X86_CR0_PE | X86_CR0_PG),
					    vmx_caps.cr0_fixed1));
	vmcs_write64(GUEST_IA32_EFER, efer);
	vmcs_write32(VM_ENTRY_CONTROLS, entry);
	return load_pdptrs(vc);
}

/* MOV to CR4: no VMX/SMX, nothing the CPU cannot do, PAE stays on in long mode. */
static bool set_cr4(struct vcpu *vc, u64 val)
{
	u64 reserved = (~vmx_caps.cr4_fixed1 & 0xffffffffULL) | X86_CR4_VMXE | X86_CR4_SMXE;
	bool lma = vmcs_read64(GUEST_IA32_EFER) & MSR_IA32_EFER_LMA_BIT;

	if ((val >> 32) || (val & reserved) || (lma && !(val & X86_CR4_PAE)))
		return false;
	if ((val & X86_CR4_PCIDE) && !(vmx_guest_cr4() & X86_CR4_PCIDE) &&
	    (!lma || (vmcs_readl(GUEST_CR3) & 0xfff)))
		return false;
	vmcs_writel(CR4_READ_SHADOW, val);
	vmcs_writel(GUEST_CR4,
		    vmx_fixed_cr(val | X86_CR4_VMXE, vmx_caps.cr4_fixed0, vmx_caps.cr4_fixed1));
	return load_pdptrs(vc);
}

static bool mov_to_cr(struct vcpu *vc, u32 cr, u64 val)
{
	switch (cr) {
	case 0:
		return set_cr0(vc, val);
	case 3:
		vmcs_writel(GUEST_CR3, val);
		return load_pdptrs(vc);
	case 4:
		return set_cr4(vc, val);
	case 8:
		if (val > 15)
			return false;
		vlapic_set_cr8(&vc->lapic, (u32)val);
		return true;
	}
	return false;
}

enum exit_result vmx_handle_cr(struct vcpu *vc)
{
	u64 q = vmcs_readl(EXIT_QUALIFICATION);
	u32 cr = q & EXIT_QUAL_CR_NUM_MASK, gpr = (q >> EXIT_QUAL_CR_GPR_SHIFT) & 0xf;
	u64 shadow = vmx_guest_cr0();
	bool ok = true;

	switch ((q & EXIT_QUAL_CR_TYPE_MASK) >> EXIT_QUAL_CR_TYPE_SHIFT) {
	case EXIT_QUAL_CR_TYPE_MOV_TO:
		ok = mov_to_cr(vc, cr, vmx_read_gpr(vc, gpr));
		break;
	case EXIT_QUAL_CR_TYPE_MOV_FROM:
		vmx_write_gpr(vc, gpr,
			      cr == 8 ? vlapic_get_cr8(&vc->lapic) : vmcs_readl(GUEST_CR3));
		break;
	case EXIT_QUAL_CR_TYPE_CLTS:
		ok = set_cr0(vc, shadow & ~X86_CR0_TS);
		break;
	case EXIT_QUAL_CR_TYPE_LMSW: /* low four bits; cannot clear PE (SDM Vol. 2A LMSW) */
		ok = set_cr0(vc, (shadow & ~0xeULL) | ((q >> EXIT_QUAL_CR_LMSW_SRC_SHIFT) & 0xf) |
				     (shadow & X86_CR0_PE));
		break;
	}
	if (!ok) {
		vmx_inject_exception(EXCEPTION_GP, true, 0);
		return EXIT_RESUME;
	}
	vmx_skip_instruction();
	return EXIT_RESUME;
}

/* Debug registers (SDM Vol. 3 18.2): DR7's fields, and breakpoints on accesses the hypervisor performs. */
#ifndef ASM_DEBUGREG_H
#define ASM_DEBUGREG_H

#include <asm/vmcs.h>
#include <hv/types.h>

#define DR_BREAKPOINTS 4

/* DR7 (SDM 18.2.4): L<n>/G<n> enable, R/W<n> and LEN<n> per breakpoint. */
#define DR7_ENABLE_SHIFT(n) (2 * (n))
#define DR7_ENABLE_MASK(n)  (3UL << DR7_ENABLE_SHIFT(n))
#define DR7_ANY_ENABLED	    0xffUL
#define DR7_RW_SHIFT(n)	    (16 + 4 * (n))
#define DR7_LEN_SHIFT(n)    (18 + 4 * (n))
#define DR7_FIELD_MASK	    3UL
#define DR7_RW_EXEC	    0
#define DR7_RW_WRITE	    1
#define DR7_RW_IO	    2 /* with CR4.DE; undefined without */
#define DR7_RW_RW	    3

/* What the hypervisor did for the guest, for vmx_check_breakpoints(). */
enum dr_access {
	DR_ACCESS_READ,
	DR_ACCESS_WRITE,
	DR_ACCESS_IO,
};

/*
 * An access of size bytes at addr (a linear address, or a port for
 * DR_ACCESS_IO) the hypervisor performed for the guest: each enabled
 * breakpoint it meets is left pending (B<n> and "enabled breakpoint" in the
 * VMCS's pending debug exceptions), so the CPU delivers the #DB after VM
 * entry with DR6 as for an access it made itself.
 */
void vmx_match_breakpoints(u64 dr7, u64 addr, u32 size, enum dr_access kind);

/* Inline: the common case, no breakpoint enabled, costs one VMREAD. */
static inline void vmx_check_breakpoints(u64 addr, u32 size, enum dr_access kind)
{
	u64 dr7 = vmcs_readl(GUEST_DR7);

	if (dr7 & DR7_ANY_ENABLED)
		vmx_match_breakpoints(dr7, addr, size, kind);
}

#endif

/*
 * Breakpoints on accesses the hypervisor performs for the guest. The CPU
 * never sees a port or a device register the platform emulates, so the
 * guest's DR0-DR3 conditions (SDM Vol. 3 18.2.4, 18.2.5) are checked here.
 * DR0-DR3 are the guest's values, left in the registers of the CPU its vCPU
 * is pinned to; DR7 is in the VMCS (the debug controls).
 */
#include <asm/cpu.h>
#include <asm/debugreg.h>
#include <asm/vmcs.h>
#include <asm/vmx_vcpu.h>

static u64 read_dr(u32 n)
{
	u64 v = 0;

	switch (n) {
	case 0:
		asm volatile("mov %%db0, %0" : "=r"(v));
		break;
	case 1:
		asm volatile("mov %%db1, %0" : "=r"(v));
		break;
	case 2:
		asm volatile("mov %%db2, %0" : "=r"(v));
		break;
	case 3:
		asm volatile("mov %%db3, %0" : "=r"(v));
		break;
	}
	return v;
}

/* LEN: 00 one byte, 01 two, 10 eight, 11 four (SDM 18.2.5). */
static u64 dr_len_bytes(u64 len)
{
	static const u8 bytes[] = { 1, 2, 8, 4 };

	return bytes[len & DR7_FIELD_MASK];
}

static bool rw_matches(u64 rw, enum dr_access kind)
{
	switch (kind) {
	case DR_ACCESS_READ:
		return rw == DR7_RW_RW;
	case DR_ACCESS_WRITE:
		return rw == DR7_RW_WRITE || rw == DR7_RW_RW;
	case DR_ACCESS_IO:
		return rw == DR7_RW_IO && (vmx_guest_cr4() & X86_CR4_DE);
	}
	return false;
}

void vmx_match_breakpoints(u64 dr7, u64 addr, u32 size, enum dr_access kind)
{
	u64 hit = 0;

	for (u32 n = 0; n < DR_BREAKPOINTS; n++) {
		u64 bytes = dr_len_bytes(dr7 >> DR7_LEN_SHIFT(n)), base;

		if (!(dr7 & DR7_ENABLE_MASK(n)) ||
		    !rw_matches((dr7 >> DR7_RW_SHIFT(n)) & DR7_FIELD_MASK, kind))
			continue;
		base = read_dr(n) & ~(bytes - 1); /* the CPU ignores the low bits (SDM 18.2.5) */
		if (addr < base + bytes && base < addr + size)
			hit |= BIT(n);
	}
	if (hit)
		vmcs_writel(GUEST_PENDING_DBG_EXCEPTIONS, vmcs_readl(GUEST_PENDING_DBG_EXCEPTIONS) |
							      hit | PENDING_DBG_ENABLED_BP);
}

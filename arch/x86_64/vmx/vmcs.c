/*
 * VMCS access: VMREAD/VMWRITE with failures reported by field name and
 * VM-instruction error, VMCLEAR/VMPTRLD, and the names used in reports.
 */
#include <asm/cpu.h>
#include <asm/vmcs.h>
#include <asm/vmx.h>
#include <asm/vmx_check.h>
#include <asm/vmx_exit.h>
#include <hv/errno.h>
#include <hv/log.h>
#include <hv/printf.h>

/* RFLAGS after a VMX instruction: CF = VMfailInvalid, ZF = VMfailValid (SDM 31.2). */
#define VMX_FAIL_MASK (X86_RFLAGS_CF | X86_RFLAGS_ZF)

static const char *const insn_errors[] = {
	[1] = "VMCALL executed in VMX root operation",
	[2] = "VMCLEAR with invalid physical address",
	[3] = "VMCLEAR with VMXON pointer",
	[4] = "VMLAUNCH with non-clear VMCS",
	[5] = "VMRESUME with non-launched VMCS",
	[6] = "VMRESUME after VMXOFF",
	[7] = "VM entry with invalid control field(s)",
	[8] = "VM entry with invalid host-state field(s)",
	[9] = "VMPTRLD with invalid physical address",
	[10] = "VMPTRLD with VMXON pointer",
	[11] = "VMPTRLD with incorrect VMCS revision identifier",
	[12] = "VMREAD/VMWRITE from/to unsupported VMCS component",
	[13] = "VMWRITE to read-only VMCS component",
	[15] = "VMXON executed in VMX root operation",
	[16] = "VM entry with invalid executive-VMCS pointer",
	[17] = "VM entry with non-launched executive VMCS",
	[18] = "VM entry with executive-VMCS pointer not VMXON pointer",
	[26] = "VM entry with events blocked by MOV SS",
	[28] = "invalid operand to INVEPT/INVVPID",
};

static const char *const exit_names[EXIT_REASON_MAX] = {
	[0] = "EXCEPTION_NMI",
	[1] = "EXTERNAL_INTERRUPT",
	[2] = "TRIPLE_FAULT",
	[3] = "INIT_SIGNAL",
	[4] = "SIPI_SIGNAL",
	[5] = "IO_SMI",
	[6] = "OTHER_SMI",
	[7] = "INTERRUPT_WINDOW",
	[8] = "NMI_WINDOW",
	[9] = "TASK_SWITCH",
	[10] = "CPUID",
	[11] = "GETSEC",
	[12] = "HLT",
	[13] = "INVD",
	[14] = "INVLPG",
	[15] = "RDPMC",
	[16] = "RDTSC",
	[17] = "RSM",
	[18] = "VMCALL",
	[19] = "VMCLEAR",
	[20] = "VMLAUNCH",
	[21] = "VMPTRLD",
	[22] = "VMPTRST",
	[23] = "VMREAD",
	[24] = "VMRESUME",
	[25] = "VMWRITE",
	[26] = "VMXOFF",
	[27] = "VMXON",
	[28] = "CR_ACCESS",
	[29] = "DR_ACCESS",
	[30] = "IO_INSTRUCTION",
	[31] = "MSR_READ",
	[32] = "MSR_WRITE",
	[33] = "INVALID_GUEST_STATE",
	[34] = "MSR_LOAD_FAIL",
	[36] = "MWAIT",
	[37] = "MONITOR_TRAP_FLAG",
	[39] = "MONITOR",
	[40] = "PAUSE",
	[41] = "MCE_DURING_VMENTRY",
	[43] = "TPR_BELOW_THRESHOLD",
	[44] = "APIC_ACCESS",
	[45] = "EOI_INDUCED",
	[46] = "GDTR_IDTR",
	[47] = "LDTR_TR",
	[48] = "EPT_VIOLATION",
	[49] = "EPT_MISCONFIG",
	[50] = "INVEPT",
	[51] = "RDTSCP",
	[52] = "PREEMPTION_TIMER",
	[53] = "INVVPID",
	[54] = "WBINVD",
	[55] = "XSETBV",
	[56] = "APIC_WRITE",
	[57] = "RDRAND",
	[58] = "INVPCID",
	[59] = "VMFUNC",
	[60] = "ENCLS",
	[61] = "RDSEED",
	[62] = "PML_FULL",
	[63] = "XSAVES",
	[64] = "XRSTORS",
};

const char *vmx_insn_error_name(u32 err)
{
	if (err < ARRAY_SIZE(insn_errors) && insn_errors[err])
		return insn_errors[err];
	return "unknown VM-instruction error";
}

const char *vmx_exit_reason_name(unsigned int reason)
{
	if (reason < EXIT_REASON_MAX && exit_names[reason])
		return exit_names[reason];
	return "UNKNOWN";
}

static u32 insn_error(void)
{
	u64 v = 0;

	asm volatile("vmread %1, %0" : "=rm"(v) : "r"((u64)VM_INSTRUCTION_ERROR) : "cc");
	return (u32)v;
}

u64 __vmcs_read(u32 field, const char *name)
{
	u64 v = 0, rflags;

	asm volatile("vmread %2, %0; pushfq; popq %1"
		     : "=r"(v), "=r"(rflags)
		     : "r"((u64)field)
		     : "cc");
	if (rflags & VMX_FAIL_MASK)
		pr_err("vmx: VMREAD %s (0x%x) failed: %s, from %p", name, field,
		       (rflags & X86_RFLAGS_ZF) ? vmx_insn_error_name(insn_error())
						: "no current VMCS",
		       __builtin_return_address(0));
	return v;
}

void __vmcs_write(u32 field, u64 value, const char *name)
{
	u64 rflags;

	asm volatile("vmwrite %1, %2; pushfq; popq %0"
		     : "=r"(rflags)
		     : "rm"(value), "r"((u64)field)
		     : "cc", "memory");
	if (rflags & VMX_FAIL_MASK)
		pr_err("vmx: VMWRITE %s (0x%x) = 0x%llx failed: %s, from %p", name, field,
		       (unsigned long long)value,
		       (rflags & X86_RFLAGS_ZF) ? vmx_insn_error_name(insn_error())
						: "no current VMCS",
		       __builtin_return_address(0));
}

int vmcs_clear(u64 pa)
{
	u64 rflags;

	asm volatile("vmclear %1; pushfq; popq %0" : "=r"(rflags) : "m"(pa) : "cc", "memory");
	if (!(rflags & VMX_FAIL_MASK))
		return 0;
	pr_err("vmx: VMCLEAR 0x%llx failed", (unsigned long long)pa);
	return -EIO;
}

int vmcs_load(u64 pa)
{
	u64 rflags;

	asm volatile("vmptrld %1; pushfq; popq %0" : "=r"(rflags) : "m"(pa) : "cc", "memory");
	if (!(rflags & VMX_FAIL_MASK))
		return 0;
	pr_err("vmx: VMPTRLD 0x%llx failed: %s", (unsigned long long)pa,
	       (rflags & X86_RFLAGS_ZF) ? vmx_insn_error_name(insn_error()) : "invalid");
	return -EIO;
}

/* One segment register's VMCS fields, as "CS sel 0xf000 base ... limit ... ar ...". */
#define DUMP_SEG(seg)                                                          \
	pr_err("  " #seg "  sel 0x%04x base 0x%016llx limit 0x%08x ar 0x%05x", \
	       vmcs_read16(GUEST_##seg##_SELECTOR),                            \
	       (unsigned long long)vmcs_readl(GUEST_##seg##_BASE),             \
	       vmcs_read32(GUEST_##seg##_LIMIT), vmcs_read32(GUEST_##seg##_AR_BYTES))

void vmcs_dump_guest(void)
{
	pr_err("  RIP 0x%016llx RSP 0x%016llx RFLAGS 0x%08llx",
	       (unsigned long long)vmcs_readl(GUEST_RIP), (unsigned long long)vmcs_readl(GUEST_RSP),
	       (unsigned long long)vmcs_readl(GUEST_RFLAGS));
	pr_err("  CR0 0x%08llx (shadow 0x%08llx) CR3 0x%016llx CR4 0x%08llx (shadow 0x%08llx)",
	       (unsigned long long)vmcs_readl(GUEST_CR0),
	       (unsigned long long)vmcs_readl(CR0_READ_SHADOW),
	       (unsigned long long)vmcs_readl(GUEST_CR3), (unsigned long long)vmcs_readl(GUEST_CR4),
	       (unsigned long long)vmcs_readl(CR4_READ_SHADOW));
	pr_err("  EFER 0x%llx entry controls 0x%08x activity %u interruptibility 0x%x",
	       (unsigned long long)vmcs_read64(GUEST_IA32_EFER), vmcs_read32(VM_ENTRY_CONTROLS),
	       vmcs_read32(GUEST_ACTIVITY_STATE), vmcs_read32(GUEST_INTERRUPTIBILITY_INFO));
	DUMP_SEG(CS);
	DUMP_SEG(SS);
	DUMP_SEG(DS);
	DUMP_SEG(ES);
	DUMP_SEG(FS);
	DUMP_SEG(GS);
	DUMP_SEG(TR);
	DUMP_SEG(LDTR);
	pr_err("  GDTR base 0x%016llx limit 0x%04x IDTR base 0x%016llx limit 0x%04x",
	       (unsigned long long)vmcs_readl(GUEST_GDTR_BASE), vmcs_read32(GUEST_GDTR_LIMIT),
	       (unsigned long long)vmcs_readl(GUEST_IDTR_BASE), vmcs_read32(GUEST_IDTR_LIMIT));
}

#define SNAP_SEG(dst, SEG)                                            \
	do {                                                          \
		(dst).selector = vmcs_read16(GUEST_##SEG##_SELECTOR); \
		(dst).base = vmcs_readl(GUEST_##SEG##_BASE);          \
		(dst).limit = vmcs_read32(GUEST_##SEG##_LIMIT);       \
		(dst).ar = vmcs_read32(GUEST_##SEG##_AR_BYTES);       \
	} while (0)

void vmcs_snapshot_guest(struct vmx_guest_state *g)
{
	g->cr0 = vmcs_readl(GUEST_CR0);
	g->cr4 = vmcs_readl(GUEST_CR4);
	g->dr7 = vmcs_readl(GUEST_DR7);
	g->rflags = vmcs_readl(GUEST_RFLAGS);
	g->rip = vmcs_readl(GUEST_RIP);
	g->efer = vmcs_read64(GUEST_IA32_EFER);
	g->link_pointer = vmcs_read64(VMCS_LINK_POINTER);
	g->pending_dbg = vmcs_readl(GUEST_PENDING_DBG_EXCEPTIONS);
	g->entry_ctls = vmcs_read32(VM_ENTRY_CONTROLS);
	g->entry_intr_info = vmcs_read32(VM_ENTRY_INTR_INFO_FIELD);
	g->interruptibility = vmcs_read32(GUEST_INTERRUPTIBILITY_INFO);
	g->activity = vmcs_read32(GUEST_ACTIVITY_STATE);
	SNAP_SEG(g->cs, CS);
	SNAP_SEG(g->ss, SS);
	SNAP_SEG(g->ds, DS);
	SNAP_SEG(g->es, ES);
	SNAP_SEG(g->fs, FS);
	SNAP_SEG(g->gs, GS);
	SNAP_SEG(g->tr, TR);
	SNAP_SEG(g->ldtr, LDTR);
	g->gdtr_limit = vmcs_read32(GUEST_GDTR_LIMIT);
	g->idtr_limit = vmcs_read32(GUEST_IDTR_LIMIT);
	g->unrestricted_guest =
	    vmcs_read32(SECONDARY_VM_EXEC_CONTROL) & SECONDARY_EXEC_UNRESTRICTED_GUEST;
	g->cr0_fixed0 = vmx_caps.cr0_fixed0;
	g->cr0_fixed1 = vmx_caps.cr0_fixed1;
	g->cr4_fixed0 = vmx_caps.cr4_fixed0;
	g->cr4_fixed1 = vmx_caps.cr4_fixed1;
	g->activity_states = vmx_caps.activity_states;
}

const char *vmcs_explain_guest_state(char *buf, size_t len)
{
	struct vmx_guest_state g;

	vmcs_snapshot_guest(&g);
	if (vmx_check_guest_state(&g, buf, len))
		return buf;
	snprintf(buf, len, "no guest-state rule known to the checker is broken");
	return buf;
}

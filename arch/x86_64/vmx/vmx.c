/*
 * VMX bring-up: feature checks, capability MSRs, CR0/CR4 fixed bits and
 * VMXON on every CPU (SDM Vol. 3 23.6-23.8).
 */
#include <asm/cpu.h>
#include <asm/msr.h>
#include <asm/percpu.h>
#include <asm/vmx.h>
#include <hv/errno.h>
#include <hv/kernel.h>
#include <hv/log.h>

struct vmx_caps vmx_caps;
static struct vmx_msrs vmx_msrs;

/* Why VT-x is absent, in words a user can act on. */
static void report_no_vmx(void)
{
	struct cpuid_regs v = cpuid(0, 0);
	char vendor[13];

	*(u32 *)&vendor[0] = v.ebx;
	*(u32 *)&vendor[4] = v.edx;
	*(u32 *)&vendor[8] = v.ecx;
	vendor[12] = '\0';
	pr_err("vmx: VT-x is not available: CPUID.1:ECX.VMX[bit 5] is 0 on this %s CPU", vendor);
	pr_err("vmx: this machine cannot run guests (no Intel VT-x, or an emulator without "
	       "it such as QEMU TCG); use Bochs or KVM with nested VMX");
}

/*
 * IA32_FEATURE_CONTROL (SDM 23.7): lock it with VMX-outside-SMX on when the
 * firmware left it unlocked; locked with that bit clear means VT-x is
 * disabled in the firmware setup.
 */
static int feature_control_enable(void)
{
	u64 fc = rdmsr(MSR_IA32_FEATURE_CONTROL);

	if (!(fc & MSR_IA32_FEATURE_CONTROL_LOCK_BIT)) {
		fc |= MSR_IA32_FEATURE_CONTROL_LOCK_BIT |
		      MSR_IA32_FEATURE_CONTROL_VMX_OUTSIDE_SMX_BIT;
		wrmsr(MSR_IA32_FEATURE_CONTROL, fc);
		return 0;
	}
	if (fc & MSR_IA32_FEATURE_CONTROL_VMX_OUTSIDE_SMX_BIT)
		return 0;
	pr_err("vmx: VT-x is disabled by the firmware: IA32_FEATURE_CONTROL = 0x%llx is locked "
	       "with VMX-outside-SMX (bit 2) clear; enable Intel VT-x in the firmware setup",
	       (unsigned long long)fc);
	return -EPERM;
}

/* Read the capability MSRs that exist (SDM Appendix A), per the rules in vmx_caps.h. */
static void read_msrs(struct vmx_msrs *m)
{
	m->basic = rdmsr(MSR_IA32_VMX_BASIC);
	m->pinbased = rdmsr(MSR_IA32_VMX_PINBASED_CTLS);
	m->procbased = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS);
	m->exit = rdmsr(MSR_IA32_VMX_EXIT_CTLS);
	m->entry = rdmsr(MSR_IA32_VMX_ENTRY_CTLS);
	m->misc = rdmsr(MSR_IA32_VMX_MISC);
	m->cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
	m->cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	m->cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
	m->cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);
	m->vmcs_enum = rdmsr(MSR_IA32_VMX_VMCS_ENUM);
	if (m->basic & MSR_IA32_VMX_BASIC_TRUE_CTLS_BIT) {
		m->true_pinbased = rdmsr(MSR_IA32_VMX_TRUE_PINBASED_CTLS);
		m->true_procbased = rdmsr(MSR_IA32_VMX_TRUE_PROCBASED_CTLS);
		m->true_exit = rdmsr(MSR_IA32_VMX_TRUE_EXIT_CTLS);
		m->true_entry = rdmsr(MSR_IA32_VMX_TRUE_ENTRY_CTLS);
	}
	if (!((m->procbased >> 32) & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS))
		return;
	m->procbased2 = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2);
	if ((m->procbased2 >> 32) & (SECONDARY_EXEC_ENABLE_EPT | SECONDARY_EXEC_ENABLE_VPID))
		m->ept_vpid_cap = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
	if ((m->procbased2 >> 32) & SECONDARY_EXEC_ENABLE_VMFUNC)
		m->vmfunc = rdmsr(MSR_IA32_VMX_VMFUNC);
}

/* The raw values at debug level: enough to reproduce a decode on the host. */
static void log_msrs(const struct vmx_msrs *m)
{
	const u64 *v = (const u64 *)m;
	static const char *const names[] = {
		"basic",     "pinbased",   "procbased",	   "exit",	    "entry",
		"misc",	     "cr0_fixed0", "cr0_fixed1",   "cr4_fixed0",    "cr4_fixed1",
		"vmcs_enum", "procbased2", "ept_vpid_cap", "true_pinbased", "true_procbased",
		"true_exit", "true_entry", "vmfunc",
	};
	_Static_assert(sizeof(names) / sizeof(names[0]) == sizeof(*m) / sizeof(u64),
		       "one name per capability MSR");

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		pr_debug("vmx: msr %s = 0x%016llx", names[i], (unsigned long long)v[i]);
}

int vmx_probe(void)
{
	char line[200];
	const char *missing;
	int err;

	if (!(cpuid(1, 0).ecx & CPUID_1_ECX_VMX)) {
		report_no_vmx();
		return -ENODEV;
	}
	err = feature_control_enable();
	if (err)
		return err;
	read_msrs(&vmx_msrs);
	log_msrs(&vmx_msrs);
	vmx_caps_decode(&vmx_caps, &vmx_msrs);
	vmx_caps_describe(&vmx_caps, line, sizeof(line));
	pr_info("vmx: VMCS revision 0x%x, features: %s", vmx_caps.revision, line);
	if (vmx_caps_check(&vmx_caps, &missing)) {
		pr_err("vmx: required VMX feature missing: %s", missing);
		return -ENOTSUP;
	}
	return 0;
}

/* VMXON; returns RFLAGS after it (CF set: VMfailInvalid, ZF set: VMfailValid). */
static u64 vmxon(u64 region)
{
	u64 rflags;

	asm volatile("vmxon %1; pushfq; popq %0" : "=r"(rflags) : "m"(region) : "cc", "memory");
	return rflags;
}

int vmx_cpu_enable(void)
{
	struct percpu *pc = this_cpu();
	u64 limit = vmx_caps.phys_32bit ? 4 * GiB : 0;
	u32 *region;
	int err;

	if (!(cpuid(1, 0).ecx & CPUID_1_ECX_VMX)) {
		pr_err("vmx: CPU %u has no VMX (CPUID.1:ECX.VMX[bit 5] is 0)", pc->id);
		return -ENODEV;
	}
	err = feature_control_enable();
	if (err)
		return err;
	/* Fixed bits of CR0 and CR4 in VMX operation (SDM A.7, A.8). */
	write_cr0(vmx_fixed_cr(read_cr0(), vmx_caps.cr0_fixed0, vmx_caps.cr0_fixed1));
	write_cr4(
	    vmx_fixed_cr(read_cr4() | X86_CR4_VMXE, vmx_caps.cr4_fixed0, vmx_caps.cr4_fixed1));
	region = page_alloc_zeroed(vmx_caps.vmcs_size, PAGE_SIZE, limit);
	region[0] = vmx_caps.revision; /* SDM 24.11.5: revision identifier first */
	u64 rflags = vmxon((u64)(uintptr_t)region);
	if (rflags & (X86_RFLAGS_CF | X86_RFLAGS_ZF)) {
		pr_err("vmx: VMXON failed on CPU %u: %s (RFLAGS 0x%llx)", pc->id,
		       (rflags & X86_RFLAGS_CF) ? "VMfailInvalid" : "VMfailValid",
		       (unsigned long long)rflags);
		return -EIO;
	}
	pc->vmxon_region = (u64)(uintptr_t)region;
	pc->state = CPU_VMX_ROOT;
	pr_info("vmx: CPU %u in VMX root operation (VMXON region 0x%llx)", pc->id,
		(unsigned long long)pc->vmxon_region);
	return 0;
}

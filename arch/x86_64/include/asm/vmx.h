/* VMX operation on the physical CPUs (SDM Vol. 3 Chapter 23). */
#ifndef ASM_VMX_H
#define ASM_VMX_H

#include <asm/vmx_caps.h>

/* Capabilities of the boot CPU; every CPU is assumed identical. */
extern struct vmx_caps vmx_caps;

/*
 * On the boot CPU: check CPUID and IA32_FEATURE_CONTROL, read the capability
 * MSRs once, check the mandatory features and log the summary. 0, or
 * -ENODEV (no VT-x) / -EPERM (disabled by firmware) / -ENOTSUP (a mandatory
 * feature missing), each already reported with its reason.
 */
int vmx_probe(void);
/* Enter VMX root operation on this CPU (VMXON). 0 or -errno, reported. */
int vmx_cpu_enable(void);

#endif

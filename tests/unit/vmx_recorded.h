/*
 * VMX capability MSRs recorded on real (or emulated) CPUs, with what the
 * decoder must make of them. test_vmx_caps.c checks every entry of
 * vmx_recorded[] (vmx_recorded.c); adding a CPU is adding one entry there.
 */
#ifndef TESTS_VMX_RECORDED_H
#define TESTS_VMX_RECORDED_H

#include <asm/vmx_caps.h>

struct vmx_recorded {
	const char
	    *name; /* CPU model and where it was recorded, e.g. "Bochs 2.7 corei7_skylake_x" */
	struct vmx_msrs msrs;	     /* as the kernel's reader fills it (see struct vmx_msrs) */
	int expect_check;	     /* vmx_caps_check(): 0 or -ENOTSUP */
	const char *expect_missing;  /* with -ENOTSUP: the exact *missing text */
	const char *expect_describe; /* exact vmx_caps_describe() line; NULL: not checked */
};

/* Terminated by an entry whose name is NULL. */
extern const struct vmx_recorded vmx_recorded[];

#endif

/*
 * VM-entry guest-state checks (arch/x86_64/vmx/vmx_check.c): the state the
 * hypervisor builds at reset passes; each broken rule is named.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <asm/vmcs.h>
#include <asm/vmx_check.h>
#include <asm/vmx_controls.h>
#include <hv/errno.h>

/* Fixed bits recorded on Bochs corei7_haswell_4770 (tests/unit/vmx_recorded.c). */
#define HASWELL_CR0_FIXED0 0x80000021ULL
#define HASWELL_CR0_FIXED1 0xffffffffULL
#define HASWELL_CR4_FIXED0 0x2000ULL
#define HASWELL_CR4_FIXED1 0x1727ffULL

static char why[200];

/* The architectural reset state as vcpu.c builds it (real mode at 0xFFFFFFF0). */
static struct vmx_guest_state reset_state(void)
{
	struct vmx_seg_state data = { 0, 0, 0xffff, 0x93 };
	struct vmx_guest_state g = {
		.cr0 = 0x60000030, /* reset value | NE */
		.cr4 = 0x2000,	   /* VMXE */
		.dr7 = 0x400,
		.rflags = 0x2,
		.rip = 0xfff0,
		.link_pointer = ~0ULL,
		.cs = { 0xf000, 0xffff0000, 0xffff, 0x9b },
		.ss = data,
		.ds = data,
		.es = data,
		.fs = data,
		.gs = data,
		.tr = { 0, 0, 0xffff, 0x8b },
		.ldtr = { 0, 0, 0xffff, 0x82 },
		.gdtr_limit = 0xffff,
		.idtr_limit = 0xffff,
		.unrestricted_guest = true,
		.cr0_fixed0 = HASWELL_CR0_FIXED0,
		.cr0_fixed1 = HASWELL_CR0_FIXED1,
		.cr4_fixed0 = HASWELL_CR4_FIXED0,
		.cr4_fixed1 = HASWELL_CR4_FIXED1,
		.activity_states = 0x7,
	};
	return g;
}

static void expect_broken(const struct vmx_guest_state *g, const char *needle)
{
	assert_int_equal(vmx_check_guest_state(g, why, sizeof(why)), -EINVAL);
	if (!strstr(why, needle))
		fail_msg("got \"%s\", want \"%s\"", why, needle);
}

static void test_reset_state_passes(void **state)
{
	struct vmx_guest_state g = reset_state();
	(void)state;

	assert_int_equal(vmx_check_guest_state(&g, why, sizeof(why)), 0);
	assert_string_equal(why, "");
}

static void test_long_mode_state_passes(void **state)
{
	struct vmx_guest_state g = reset_state();
	(void)state;

	g.cr0 = 0x80000031; /* PG PE NE ET */
	g.cr4 = 0x2020;	    /* PAE VMXE */
	g.efer = 0x500;	    /* LME LMA */
	g.entry_ctls = VM_ENTRY_IA32E_MODE;
	g.cs = (struct vmx_seg_state){ 0x8, 0, 0xffffffff, 0xa09b };
	g.tr = (struct vmx_seg_state){ 0x10, 0x1000, 0x67, 0x8b };
	g.rip = 0xffffffff80000000ULL;
	assert_int_equal(vmx_check_guest_state(&g, why, sizeof(why)), 0);
}

static void test_control_registers(void **state)
{
	struct vmx_guest_state g;
	(void)state;

	g = reset_state(), g.cr0 &= ~0x20ULL; /* NE is must-be-1 */
	expect_broken(&g, "CR0 0x60000010 breaks the VMX fixed bits");
	g = reset_state(), g.cr0 |= BIT(31); /* PG without PE */
	expect_broken(&g, "PG without PE");
	g = reset_state(), g.cr0 = 0x20000030; /* NW without CD */
	expect_broken(&g, "NW without CD");
	g = reset_state(), g.cr4 = 0; /* VMXE is must-be-1 */
	expect_broken(&g, "CR4 0x0 breaks the VMX fixed bits");
	g = reset_state(), g.cr4 |= BIT(22); /* not in fixed1 */
	expect_broken(&g, "CR4 0x402000 breaks");
	g = reset_state(), g.entry_ctls = VM_ENTRY_IA32E_MODE;
	expect_broken(&g, "IA-32e mode guest\" is set but CR0.PG or CR4.PAE is clear");
	g = reset_state(), g.efer = BIT(2);
	expect_broken(&g, "IA32_EFER 0x4 has reserved bits set");
	g = reset_state(), g.efer = BIT(10);
	expect_broken(&g, "IA32_EFER.LMA (1) differs");
	g = reset_state(), g.dr7 = 1ULL << 40;
	expect_broken(&g, "DR7");
}

static void test_segments(void **state)
{
	struct vmx_guest_state g;
	(void)state;

	g = reset_state(), g.cs.ar = 0x91; /* read-only data: never a valid CS */
	expect_broken(&g, "CS type 1 is not an accessed code segment");
	g = reset_state(), g.cs.ar = 0x93; /* read/write data: allowed with unrestricted guest */
	assert_int_equal(vmx_check_guest_state(&g, why, sizeof(why)), 0);
	g = reset_state(), g.cs.ar = 0x9a; /* not accessed */
	expect_broken(&g, "CS type 10");
	g = reset_state(), g.cs.ar |= VMX_AR_UNUSABLE_BIT;
	expect_broken(&g, "CS is marked unusable");
	g = reset_state(), g.ds.ar &= ~VMX_AR_P_BIT;
	expect_broken(&g, "DS is usable but not present");
	g = reset_state(), g.ss.limit = 0x100000; /* above 1 MiB with G = 0 */
	expect_broken(&g, "SS limit 0x100000 disagrees with its granularity");
	g = reset_state(), g.es.ar |= VMX_AR_G_BIT; /* G = 1 with limit 0xffff: fine */
	assert_int_equal(vmx_check_guest_state(&g, why, sizeof(why)), 0);
	g.es.limit = 0x1000; /* G = 1 with low bits not 0xfff */
	expect_broken(&g, "ES limit 0x1000 disagrees");
	g = reset_state(), g.tr.ar = 0x89; /* available, not busy */
	expect_broken(&g, "TR (AR 0x89) must be a usable busy TSS");
	g = reset_state(), g.ldtr.ar = 0x83;
	expect_broken(&g, "LDTR (AR 0x83) is usable but not an LDT");
	g = reset_state(), g.ldtr.ar = VMX_AR_UNUSABLE_BIT | 0x83; /* unusable: not checked */
	assert_int_equal(vmx_check_guest_state(&g, why, sizeof(why)), 0);
	g = reset_state(), g.gdtr_limit = 0x10000;
	expect_broken(&g, "GDTR/IDTR limit");
}

static void test_rip_rflags_and_state(void **state)
{
	struct vmx_guest_state g;
	(void)state;

	g = reset_state(), g.rflags = 0;
	expect_broken(&g, "RFLAGS 0x0: bit 1 must be 1");
	g = reset_state(), g.rflags = 0x2 | BIT(15);
	expect_broken(&g, "RFLAGS 0x8002");
	g = reset_state(), g.rip = 1ULL << 32;
	expect_broken(&g, "RIP 0x100000000 has bits 63:32 set");
	g = reset_state(), g.rflags = 0x2 | BIT(17); /* VM with PE clear */
	expect_broken(&g, "RFLAGS.VM");
	g = reset_state(), g.entry_intr_info = INTR_INFO_VALID_BIT | INTR_TYPE_EXT_INTR | 0x40;
	expect_broken(&g, "external interrupt is injected with RFLAGS.IF clear");
	g.rflags |= BIT(9);
	assert_int_equal(vmx_check_guest_state(&g, why, sizeof(why)), 0);
	g = reset_state(), g.activity = 4;
	expect_broken(&g, "activity state 4 is not supported");
	g = reset_state(), g.activity = 3, g.activity_states = 0x3;
	expect_broken(&g, "activity state 3 is not supported");
	g = reset_state(), g.interruptibility = 0x3;
	expect_broken(&g, "both STI and MOV-SS blocking");
	g = reset_state(), g.interruptibility = 0x1;
	expect_broken(&g, "blocking by STI with RFLAGS.IF clear");
	g = reset_state(), g.interruptibility = 0x20;
	expect_broken(&g, "interruptibility 0x20 has reserved bits");
	g = reset_state(), g.link_pointer = 0x1000;
	expect_broken(&g, "VMCS link pointer 0x1000 is not ~0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reset_state_passes),
		cmocka_unit_test(test_long_mode_state_passes),
		cmocka_unit_test(test_control_registers),
		cmocka_unit_test(test_segments),
		cmocka_unit_test(test_rip_rflags_and_state),
	};

	return cmocka_run_group_tests_name("vmx_check", tests, NULL, NULL);
}

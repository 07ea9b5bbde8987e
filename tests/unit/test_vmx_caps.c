/*
 * VMX capability decoding (SDM Vol. 3D Appendix A) on hand-built MSR values,
 * then on every CPU recorded in vmx_recorded.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <hv/errno.h>
#include <asm/msr.h>
#include <asm/vmx_caps.h>
#include "host_log.h"
#include "vmx_recorded.h"

/*
 * A CPU with everything: control MSRs shaped like a Skylake server's (the
 * TRUE MSRs let CR3 exiting and a few default1 exit/entry controls be 0),
 * secondary allowed-1 bits 0-17, and every EPT/VPID capability.
 */
static const struct vmx_msrs full = {
	.basic = 0x00da040000000004ULL, /* rev 4, 1 KiB, WB, INS/OUTS info, TRUE ctls */
	.pinbased = 0x000000ff00000016ULL,
	.procbased = 0xfff9fffe0401e172ULL,
	.exit = 0x01ffffff00036dffULL,
	.entry = 0x0003ffff000011ffULL,
	.misc = 0x00000000200401e5ULL, /* rate 5, LMA, HLT/shutdown/SIPI, 4 CR3 targets */
	.cr0_fixed0 = 0x80000021ULL,
	.cr0_fixed1 = 0xffffffffULL,
	.cr4_fixed0 = 0x00002000ULL,
	.cr4_fixed1 = 0x003727ffULL,
	.vmcs_enum = 0x2eULL,
	.procbased2 = 0x0003ffff00000000ULL,
	.ept_vpid_cap = 0x00000f0106734141ULL,
	.true_pinbased = 0x000000ff00000016ULL,
	.true_procbased = 0xfff9fffe04006172ULL,
	.true_exit = 0x01ffffff00036dfbULL,
	.true_entry = 0x0003ffff000011fbULL,
	.vmfunc = 0x1ULL,
};

static const char full_describe[] = "ept ept-2m ept-1g ept-ad vpid unrestricted-guest "
				    "preemption-timer true-ctls x2apic-virt apic-reg-virt "
				    "virt-intr-delivery posted-intr vmfunc shadow-vmcs";

static struct vmx_caps caps;

static void test_decode_basic(void **state)
{
	(void)state;
	vmx_caps_decode(&caps, &full);
	assert_int_equal(caps.revision, 4);
	assert_int_equal(caps.vmcs_size, 1024);
	assert_int_equal(caps.vmcs_memtype, MSR_IA32_VMX_BASIC_MEMTYPE_WB);
	assert_true(caps.true_ctls);
	assert_true(caps.inout_info);
	assert_false(caps.phys_32bit);
	assert_int_equal(caps.preemption_timer_rate, 5);
	assert_true(caps.unrestricted_save_lma);
	assert_int_equal(caps.activity_states, 7);
	assert_int_equal(caps.cr3_target_count, 4);
	assert_int_equal(caps.msr_list_max, 512);
	assert_true(caps.vmwrite_any_field);
	assert_int_equal(caps.vmcs_max_index, 0x17);
	assert_int_equal(caps.cr0_fixed0, 0x80000021);
	assert_int_equal(caps.cr0_fixed1, 0xffffffff);
	assert_int_equal(caps.cr4_fixed0, 0x2000);
	assert_int_equal(caps.cr4_fixed1, 0x3727ff);
	assert_int_equal(caps.ept_vpid_cap, 0x00000f0106734141ULL);
	assert_int_equal(caps.vmfunc, 1);
}

static void test_decode_misc_fields(void **state)
{
	struct vmx_msrs m = full;
	(void)state;
	m.basic = 0x7fffffffULL | (0x1000ULL << 32) | MSR_IA32_VMX_BASIC_32BIT_PHYS_BIT;
	m.misc = (3ULL << 25) | (0x1ffULL << 16) | 0x1f;
	vmx_caps_decode(&caps, &m);
	assert_int_equal(caps.revision, 0x7fffffff);
	assert_int_equal(caps.vmcs_size, 4096);
	assert_int_equal(caps.vmcs_memtype, MSR_IA32_VMX_BASIC_MEMTYPE_UC);
	assert_true(caps.phys_32bit);
	assert_false(caps.inout_info);
	assert_false(caps.true_ctls);
	assert_int_equal(caps.preemption_timer_rate, 31);
	assert_int_equal(caps.cr3_target_count, 0x1ff);
	assert_int_equal(caps.msr_list_max, 2048);
	assert_int_equal(caps.activity_states, 0);
	assert_false(caps.unrestricted_save_lma);
	assert_false(caps.vmwrite_any_field);
}

/* SDM A.2: with IA32_VMX_BASIC bit 55 set, the TRUE MSRs are the whole truth. */
static void test_decode_true_ctls(void **state)
{
	(void)state;
	vmx_caps_decode(&caps, &full);
	assert_int_equal(caps.pin_allowed0, 0x16);
	assert_int_equal(caps.pin_allowed1, 0xff);
	assert_int_equal(caps.proc_allowed0, 0x04006172);
	assert_int_equal(caps.proc_allowed1, 0xfff9fffe);
	assert_int_equal(caps.exit_allowed0, 0x00036dfb);
	assert_int_equal(caps.exit_allowed1, 0x01ffffff);
	assert_int_equal(caps.entry_allowed0, 0x000011fb);
	assert_int_equal(caps.entry_allowed1, 0x0003ffff);
	assert_int_equal(caps.proc2_allowed0, 0);
	assert_int_equal(caps.proc2_allowed1, 0x0003ffff);
	assert_int_equal(caps.proc_ctls, full.true_procbased);
	assert_int_equal(caps.exit_ctls, full.true_exit);
	assert_int_equal(caps.entry_ctls, full.true_entry);
	assert_int_equal(caps.pin_ctls, full.true_pinbased);
	assert_int_equal(caps.proc2_ctls, full.procbased2);
}

/* Without bit 55 the TRUE MSRs do not exist: whatever the struct holds there is ignored. */
static void test_decode_without_true_ctls(void **state)
{
	struct vmx_msrs m = full;
	(void)state;
	m.basic &= ~MSR_IA32_VMX_BASIC_TRUE_CTLS_BIT;
	m.true_pinbased = m.true_procbased = m.true_exit = m.true_entry = 0xdeadbeefdeadbeefULL;
	vmx_caps_decode(&caps, &m);
	assert_false(caps.true_ctls);
	assert_false(cpu_has_true_ctls(&caps));
	assert_int_equal(caps.pin_allowed0, 0x16);
	assert_int_equal(caps.proc_allowed0, 0x0401e172);
	assert_int_equal(caps.proc_allowed1, 0xfff9fffe);
	assert_int_equal(caps.exit_allowed0, 0x00036dff);
	assert_int_equal(caps.entry_allowed0, 0x000011ff);
	assert_int_equal(caps.proc_ctls, full.procbased);
}

/* MSRs that do not exist on a CPU are never read into caps, whatever the struct holds. */
static void test_decode_gating(void **state)
{
	struct vmx_msrs m = full;
	(void)state;
	/* no "activate secondary controls": no secondary MSR, so no EPT/VPID MSR either */
	m.procbased &= ~((u64)CPU_BASED_ACTIVATE_SECONDARY_CONTROLS << 32);
	m.true_procbased &= ~((u64)CPU_BASED_ACTIVATE_SECONDARY_CONTROLS << 32);
	vmx_caps_decode(&caps, &m);
	assert_false(cpu_has_secondary_ctls(&caps));
	assert_int_equal(caps.proc2_allowed1, 0);
	assert_int_equal(caps.proc2_ctls, 0);
	assert_int_equal(caps.ept_vpid_cap, 0);
	assert_int_equal(caps.vmfunc, 0);
	assert_false(cpu_has_ept(&caps));
	assert_false(cpu_has_vpid(&caps));
	assert_false(cpu_has_unrestricted_guest(&caps));

	/* neither EPT nor VPID: no IA32_VMX_EPT_VPID_CAP */
	m = full;
	m.procbased2 &= ~((u64)(SECONDARY_EXEC_ENABLE_EPT | SECONDARY_EXEC_ENABLE_VPID) << 32);
	vmx_caps_decode(&caps, &m);
	assert_int_equal(caps.ept_vpid_cap, 0);
	assert_false(cpu_has_invept(&caps));
	assert_false(cpu_has_invvpid(&caps));
	assert_true(cpu_has_unrestricted_guest(&caps));

	/* VPID alone still brings the MSR in, but the EPT bits in it do not count */
	m = full;
	m.procbased2 &= ~((u64)SECONDARY_EXEC_ENABLE_EPT << 32);
	vmx_caps_decode(&caps, &m);
	assert_int_equal(caps.ept_vpid_cap, full.ept_vpid_cap);
	assert_false(cpu_has_ept_2m(&caps));
	assert_false(cpu_has_invept(&caps));
	assert_true(cpu_has_invvpid_single(&caps));

	/* no VM functions: no IA32_VMX_VMFUNC */
	m = full;
	m.procbased2 &= ~((u64)SECONDARY_EXEC_ENABLE_VMFUNC << 32);
	vmx_caps_decode(&caps, &m);
	assert_int_equal(caps.vmfunc, 0);
	assert_false(cpu_has_vmfunc(&caps));
}

/* Which MSR a predicate's bit lives in; control MSRs hold allowed-1 in bits 63:32. */
enum where {
	IN_BASIC,
	IN_PIN,
	IN_PROC,
	IN_PROC2,
	IN_EPT_VPID,
};

static void clear_cap(struct vmx_msrs *m, enum where w, u64 bit)
{
	switch (w) {
	case IN_BASIC:
		m->basic &= ~bit;
		break;
	case IN_PIN:
		m->pinbased &= ~(bit << 32);
		m->true_pinbased &= ~(bit << 32);
		break;
	case IN_PROC:
		m->procbased &= ~(bit << 32);
		m->true_procbased &= ~(bit << 32);
		break;
	case IN_PROC2:
		m->procbased2 &= ~(bit << 32);
		break;
	case IN_EPT_VPID:
		m->ept_vpid_cap &= ~bit;
		break;
	}
}

static const struct {
	const char *name;
	bool (*has)(const struct vmx_caps *c);
	enum where where;
	u64 bit;
} preds[] = {
	{ "ept", cpu_has_ept, IN_PROC2, SECONDARY_EXEC_ENABLE_EPT },
	{ "ept_2m", cpu_has_ept_2m, IN_EPT_VPID, VMX_EPT_2MB_PAGE_BIT },
	{ "ept_1g", cpu_has_ept_1g, IN_EPT_VPID, VMX_EPT_1GB_PAGE_BIT },
	{ "ept_ad", cpu_has_ept_ad, IN_EPT_VPID, VMX_EPT_AD_BIT },
	{ "ept_wb", cpu_has_ept_wb, IN_EPT_VPID, VMX_EPTP_WB_BIT },
	{ "ept_4level", cpu_has_ept_4level, IN_EPT_VPID, VMX_EPT_PAGE_WALK_4_BIT },
	{ "invept", cpu_has_invept, IN_EPT_VPID, VMX_EPT_INVEPT_BIT },
	{ "invept_single", cpu_has_invept_single, IN_EPT_VPID, VMX_EPT_EXTENT_CONTEXT_BIT },
	{ "invept_global", cpu_has_invept_global, IN_EPT_VPID, VMX_EPT_EXTENT_GLOBAL_BIT },
	{ "vpid", cpu_has_vpid, IN_PROC2, SECONDARY_EXEC_ENABLE_VPID },
	{ "invvpid", cpu_has_invvpid, IN_EPT_VPID, VMX_VPID_INVVPID_BIT },
	{ "invvpid_single", cpu_has_invvpid_single, IN_EPT_VPID,
	  VMX_VPID_EXTENT_SINGLE_CONTEXT_BIT },
	{ "invvpid_global", cpu_has_invvpid_global, IN_EPT_VPID,
	  VMX_VPID_EXTENT_GLOBAL_CONTEXT_BIT },
	{ "invvpid_addr", cpu_has_invvpid_addr, IN_EPT_VPID, VMX_VPID_EXTENT_INDIVIDUAL_ADDR_BIT },
	{ "unrestricted_guest", cpu_has_unrestricted_guest, IN_PROC2,
	  SECONDARY_EXEC_UNRESTRICTED_GUEST },
	{ "preemption_timer", cpu_has_preemption_timer, IN_PIN, PIN_BASED_VMX_PREEMPTION_TIMER },
	{ "true_ctls", cpu_has_true_ctls, IN_BASIC, MSR_IA32_VMX_BASIC_TRUE_CTLS_BIT },
	{ "x2apic_virt", cpu_has_x2apic_virt, IN_PROC2, SECONDARY_EXEC_VIRTUALIZE_X2APIC_MODE },
	{ "apic_reg_virt", cpu_has_apic_reg_virt, IN_PROC2, SECONDARY_EXEC_APIC_REGISTER_VIRT },
	{ "virtual_intr_delivery", cpu_has_virtual_intr_delivery, IN_PROC2,
	  SECONDARY_EXEC_VIRTUAL_INTR_DELIVERY },
	{ "posted_intr", cpu_has_posted_intr, IN_PIN, PIN_BASED_POSTED_INTR },
	{ "vmfunc", cpu_has_vmfunc, IN_PROC2, SECONDARY_EXEC_ENABLE_VMFUNC },
	{ "secondary_ctls", cpu_has_secondary_ctls, IN_PROC,
	  CPU_BASED_ACTIVATE_SECONDARY_CONTROLS },
	{ "msr_bitmaps", cpu_has_msr_bitmaps, IN_PROC, CPU_BASED_USE_MSR_BITMAPS },
	{ "io_bitmaps", cpu_has_io_bitmaps, IN_PROC, CPU_BASED_USE_IO_BITMAPS },
	{ "shadow_vmcs", cpu_has_shadow_vmcs, IN_PROC2, SECONDARY_EXEC_SHADOW_VMCS },
};

/* Every predicate is true on the full CPU and false once its one bit is gone. */
static void test_predicates(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(preds); i++) {
		struct vmx_msrs m = full;

		vmx_caps_decode(&caps, &m);
		if (!preds[i].has(&caps))
			fail_msg("cpu_has_%s false on the full CPU", preds[i].name);
		clear_cap(&m, preds[i].where, preds[i].bit);
		vmx_caps_decode(&caps, &m);
		if (preds[i].has(&caps))
			fail_msg("cpu_has_%s true without its bit", preds[i].name);
	}
}

/* A capability bit counts only with the feature it qualifies. */
static void test_predicate_dependencies(void **state)
{
	struct vmx_msrs m = full;
	(void)state;
	clear_cap(&m, IN_EPT_VPID, VMX_EPT_INVEPT_BIT);
	vmx_caps_decode(&caps, &m);
	assert_false(cpu_has_invept_single(&caps));
	assert_false(cpu_has_invept_global(&caps));
	assert_true(cpu_has_ept_2m(&caps));

	m = full;
	clear_cap(&m, IN_EPT_VPID, VMX_VPID_INVVPID_BIT);
	vmx_caps_decode(&caps, &m);
	assert_false(cpu_has_invvpid_single(&caps));
	assert_false(cpu_has_invvpid_global(&caps));
	assert_false(cpu_has_invvpid_addr(&caps));
	assert_true(cpu_has_vpid(&caps));

	m = full;
	clear_cap(&m, IN_PROC2, SECONDARY_EXEC_ENABLE_VPID);
	vmx_caps_decode(&caps, &m);
	assert_false(cpu_has_invvpid(&caps));
	assert_true(cpu_has_invept_single(&caps));

	/* the TRUE MSR decides: a bit only the plain MSR allows does not count */
	m = full;
	m.true_pinbased &= ~((u64)PIN_BASED_POSTED_INTR << 32);
	vmx_caps_decode(&caps, &m);
	assert_false(cpu_has_posted_intr(&caps));
}

static const struct {
	enum where where;
	u64 bit;
	const char *missing;
} mandatory[] = {
	{ IN_PROC, CPU_BASED_ACTIVATE_SECONDARY_CONTROLS,
	  "secondary processor-based controls (primary processor-based control bit 31)" },
	{ IN_PROC2, SECONDARY_EXEC_ENABLE_EPT, "EPT (secondary processor-based control bit 1)" },
	{ IN_EPT_VPID, VMX_EPT_PAGE_WALK_4_BIT,
	  "EPT 4-level page walk (IA32_VMX_EPT_VPID_CAP bit 6)" },
	{ IN_EPT_VPID, VMX_EPTP_WB_BIT,
	  "EPT write-back paging structures (IA32_VMX_EPT_VPID_CAP bit 14)" },
	{ IN_PROC2, SECONDARY_EXEC_ENABLE_VPID, "VPID (secondary processor-based control bit 5)" },
	{ IN_PROC2, SECONDARY_EXEC_UNRESTRICTED_GUEST,
	  "unrestricted guest (secondary processor-based control bit 7)" },
};

static void test_check(void **state)
{
	const char *missing = "untouched";
	(void)state;
	vmx_caps_decode(&caps, &full);
	assert_int_equal(vmx_caps_check(&caps, &missing), 0);
	assert_null(missing);
	assert_int_equal(vmx_caps_check(&caps, NULL), 0);

	for (size_t i = 0; i < ARRAY_SIZE(mandatory); i++) {
		struct vmx_msrs m = full;

		clear_cap(&m, mandatory[i].where, mandatory[i].bit);
		vmx_caps_decode(&caps, &m);
		missing = NULL;
		assert_int_equal(vmx_caps_check(&caps, &missing), -ENOTSUP);
		assert_non_null(missing);
		assert_string_equal(missing, mandatory[i].missing);
		assert_int_equal(vmx_caps_check(&caps, NULL), -ENOTSUP);
	}
}

/* Several features missing: the first in check order is named. */
static void test_check_first_missing(void **state)
{
	struct vmx_msrs m = full;
	const char *missing = NULL;
	(void)state;
	clear_cap(&m, IN_PROC2, SECONDARY_EXEC_UNRESTRICTED_GUEST);
	clear_cap(&m, IN_PROC2, SECONDARY_EXEC_ENABLE_VPID);
	clear_cap(&m, IN_EPT_VPID, VMX_EPTP_WB_BIT);
	vmx_caps_decode(&caps, &m);
	assert_int_equal(vmx_caps_check(&caps, &missing), -ENOTSUP);
	assert_string_equal(missing, mandatory[3].missing);

	/* nothing at all (VMX MSRs of zeros) */
	memset(&m, 0, sizeof(m));
	vmx_caps_decode(&caps, &m);
	assert_int_equal(vmx_caps_check(&caps, &missing), -ENOTSUP);
	assert_string_equal(missing, mandatory[0].missing);
}

static void test_describe(void **state)
{
	char buf[256];
	struct vmx_msrs m;
	(void)state;
	vmx_caps_decode(&caps, &full);
	assert_int_equal(vmx_caps_describe(&caps, buf, sizeof(buf)), strlen(full_describe));
	assert_string_equal(buf, full_describe);

	/* the mandatory minimum */
	memset(&m, 0, sizeof(m));
	m.basic = 4 | (0x1000ULL << 32);
	m.procbased = (u64)CPU_BASED_ACTIVATE_SECONDARY_CONTROLS << 32;
	m.procbased2 = (u64)(SECONDARY_EXEC_ENABLE_EPT | SECONDARY_EXEC_ENABLE_VPID |
			     SECONDARY_EXEC_UNRESTRICTED_GUEST)
		       << 32;
	m.ept_vpid_cap = VMX_EPT_PAGE_WALK_4_BIT | VMX_EPTP_WB_BIT;
	vmx_caps_decode(&caps, &m);
	assert_int_equal(vmx_caps_check(&caps, NULL), 0);
	assert_int_equal(vmx_caps_describe(&caps, buf, sizeof(buf)), 27);
	assert_string_equal(buf, "ept vpid unrestricted-guest");

	/* a single feature in the middle of the list, then none */
	memset(&m, 0, sizeof(m));
	m.pinbased = (u64)PIN_BASED_VMX_PREEMPTION_TIMER << 32;
	vmx_caps_decode(&caps, &m);
	assert_int_equal(vmx_caps_describe(&caps, buf, sizeof(buf)), 16);
	assert_string_equal(buf, "preemption-timer");
	memset(&m, 0, sizeof(m));
	vmx_caps_decode(&caps, &m);
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(vmx_caps_describe(&caps, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
}

/* Truncation: always NUL-terminated within len, never a byte beyond, full length returned. */
static void test_describe_truncation(void **state)
{
	const size_t full_len = strlen(full_describe);
	char buf[sizeof(full_describe) + 8];
	(void)state;
	vmx_caps_decode(&caps, &full);

	for (size_t len = 0; len <= sizeof(full_describe) + 1; len++) {
		memset(buf, '#', sizeof(buf));
		assert_int_equal(vmx_caps_describe(&caps, buf, len), full_len);
		if (len == 0) {
			assert_int_equal(buf[0], '#');
			continue;
		}
		size_t kept = len - 1 < full_len ? len - 1 : full_len;
		assert_memory_equal(buf, full_describe, kept);
		assert_int_equal(buf[kept], '\0');
		for (size_t i = len; i < sizeof(buf); i++)
			assert_int_equal(buf[i], '#');
	}
	memset(buf, '#', sizeof(buf));
	vmx_caps_describe(&caps, buf, 10);
	assert_string_equal(buf, "ept ept-2");
	assert_int_equal(vmx_caps_describe(&caps, NULL, 0), full_len);
}

/* SDM A.3.1: allowed-0 bits (low half) forced on, bits clear in allowed-1 (high half) off. */
static void test_adjust_ctls(void **state)
{
	const u64 cap = 0x0000ff0f00000003ULL;
	u32 out = 0x12345678;
	(void)state;

	assert_int_equal(vmx_adjust_ctls(0x4, 0x100, cap, &out), 0);
	assert_int_equal(out, 0x107); /* 0x3 forced on */

	assert_int_equal(vmx_adjust_ctls(0, 0x30, cap, &out), 0);
	assert_int_equal(out, 0x3); /* optional bits 4, 5 not allowed: dropped silently */

	out = 0x12345678;
	assert_int_equal(vmx_adjust_ctls(0x10, 0, cap, &out), -ENOTSUP);
	assert_int_equal(out, 0x12345678); /* untouched on failure */
	assert_int_equal(vmx_adjust_ctls(0x80000000, 0x1, cap, &out), -ENOTSUP);

	assert_int_equal(vmx_adjust_ctls(0, 0, 0, &out), 0);
	assert_int_equal(out, 0);
	assert_int_equal(vmx_adjust_ctls(0, 0xffffffff, 0xffffffff00000000ULL, &out), 0);
	assert_int_equal(out, 0xffffffff);
}

/* vmx_adjust_ctls() on decoded capabilities, as the VMCS setup uses it. */
static void test_adjust_ctls_real(void **state)
{
	u32 out;
	(void)state;
	vmx_caps_decode(&caps, &full);

	assert_int_equal(vmx_adjust_ctls(PIN_BASED_EXT_INTR_MASK | PIN_BASED_NMI_EXITING,
					 PIN_BASED_VIRTUAL_NMIS | PIN_BASED_VMX_PREEMPTION_TIMER,
					 caps.pin_ctls, &out),
			 0);
	assert_int_equal(out, 0x16 | 0x1 | 0x8 | 0x20 | 0x40);

	assert_int_equal(vmx_adjust_ctls(CPU_BASED_HLT_EXITING | CPU_BASED_USE_MSR_BITMAPS |
					     CPU_BASED_ACTIVATE_SECONDARY_CONTROLS,
					 0, caps.proc_ctls, &out),
			 0);
	assert_int_equal(out, 0x940061f2); /* TRUE allowed-0: CR3-load/store exiting stay 0 */

	/* tertiary controls: allowed-1 bit 17 is clear on this CPU */
	assert_int_equal(
	    vmx_adjust_ctls(CPU_BASED_ACTIVATE_TERTIARY_CONTROLS, 0, caps.proc_ctls, &out),
	    -ENOTSUP);
	assert_int_equal(
	    vmx_adjust_ctls(0, CPU_BASED_ACTIVATE_TERTIARY_CONTROLS, caps.proc_ctls, &out), 0);
	assert_int_equal(out, 0x04006172);

	assert_int_equal(vmx_adjust_ctls(SECONDARY_EXEC_ENABLE_EPT | SECONDARY_EXEC_ENABLE_VPID |
					     SECONDARY_EXEC_UNRESTRICTED_GUEST,
					 SECONDARY_EXEC_ENABLE_XSAVES, caps.proc2_ctls, &out),
			 0);
	assert_int_equal(out, 0xa2); /* XSAVES (bit 20) not offered */

	assert_int_equal(vmx_adjust_ctls(VM_EXIT_HOST_ADDR_SPACE_SIZE | VM_EXIT_LOAD_IA32_EFER, 0,
					 caps.exit_ctls, &out),
			 0);
	assert_int_equal(out, 0x00036dfb | 0x200 | 0x200000);

	assert_int_equal(
	    vmx_adjust_ctls(VM_ENTRY_IA32E_MODE, VM_ENTRY_LOAD_CET_STATE, caps.entry_ctls, &out),
	    0);
	assert_int_equal(out, 0x000011fb | 0x200);

	/* no secondary controls on the CPU: asking for EPT fails */
	{
		struct vmx_msrs m = full;
		clear_cap(&m, IN_PROC, CPU_BASED_ACTIVATE_SECONDARY_CONTROLS);
		vmx_caps_decode(&caps, &m);
		assert_int_equal(
		    vmx_adjust_ctls(SECONDARY_EXEC_ENABLE_EPT, 0, caps.proc2_ctls, &out), -ENOTSUP);
	}
}

/* SDM A.7/A.8: FIXED0 bits forced to 1, bits clear in FIXED1 forced to 0. */
static void test_fixed_cr(void **state)
{
	(void)state;
	/* CR0: PE, NE and PG fixed to 1 */
	assert_int_equal(vmx_fixed_cr(0x60000010, 0x80000021, 0xffffffff), 0xe0000031);
	/* CR4: VMXE forced on, bit 22 (not in FIXED1) forced off */
	assert_int_equal(vmx_fixed_cr(0x00400020, 0x2000, 0x3727ff), 0x2020);
	assert_int_equal(vmx_fixed_cr(0, 0, 0), 0);
	assert_int_equal(vmx_fixed_cr(~0ULL, 0, ~0ULL), ~0ULL);
	assert_int_equal(vmx_fixed_cr(~0ULL, 0x1, 0x1), 0x1);
}

/* Every recorded CPU (vmx_recorded.c): consistent MSRs and the expected verdicts. */
static void test_recorded(void **state)
{
	char buf[256];
	unsigned n = 0;
	(void)state;

	for (const struct vmx_recorded *r = vmx_recorded; r->name; r++, n++) {
		const char *missing = NULL;
		u32 out;

		vmx_caps_decode(&caps, &r->msrs);
		fprintf(stderr, "  %s\n", r->name);
		assert_int_not_equal(caps.revision, 0);
		assert_true(caps.vmcs_size > 0 && caps.vmcs_size <= 4096);
		/* an allowed-0 setting of 1 is also an allowed-1 setting (SDM A.3) */
		assert_int_equal(caps.pin_allowed0 & ~caps.pin_allowed1, 0);
		assert_int_equal(caps.proc_allowed0 & ~caps.proc_allowed1, 0);
		assert_int_equal(caps.proc2_allowed0 & ~caps.proc2_allowed1, 0);
		assert_int_equal(caps.exit_allowed0 & ~caps.exit_allowed1, 0);
		assert_int_equal(caps.entry_allowed0 & ~caps.entry_allowed1, 0);
		assert_int_equal(caps.cr0_fixed0 & ~caps.cr0_fixed1, 0);
		assert_int_equal(caps.cr4_fixed0 & ~caps.cr4_fixed1, 0);
		assert_int_equal(vmx_adjust_ctls(0, 0, caps.proc_ctls, &out), 0);
		assert_int_equal(out, caps.proc_allowed0);

		assert_int_equal(vmx_caps_check(&caps, &missing), r->expect_check);
		if (r->expect_check)
			assert_string_equal(missing, r->expect_missing);
		if (r->expect_describe) {
			vmx_caps_describe(&caps, buf, sizeof(buf));
			assert_string_equal(buf, r->expect_describe);
		}
	}
	if (n == 0)
		skip(); /* no recorded CPU yet */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_basic),
		cmocka_unit_test(test_decode_misc_fields),
		cmocka_unit_test(test_decode_true_ctls),
		cmocka_unit_test(test_decode_without_true_ctls),
		cmocka_unit_test(test_decode_gating),
		cmocka_unit_test(test_predicates),
		cmocka_unit_test(test_predicate_dependencies),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_check_first_missing),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_describe_truncation),
		cmocka_unit_test(test_adjust_ctls),
		cmocka_unit_test(test_adjust_ctls_real),
		cmocka_unit_test(test_fixed_cr),
		cmocka_unit_test(test_recorded),
	};

	return cmocka_run_group_tests_name("vmx_caps", tests, NULL, NULL);
}

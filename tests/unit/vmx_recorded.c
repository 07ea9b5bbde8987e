/*
 * Recorded VMX capability MSRs (see vmx_recorded.h). Each entry is the
 * verbatim RDMSR values of one CPU model; add new ones above the terminator.
 *
 * The Bochs 2.7 entries were read by the hypervisor itself (loglevel=debug
 * prints "vmx: msr NAME = VALUE") booted under Debian's bochs with
 * "cpu: model=..."; the expected verdicts match the per-model feature table
 * measured on these machines (EPT, unrestricted guest, VPID; no posted
 * interrupts on any Bochs model).
 */
#include <hv/errno.h>
#include "vmx_recorded.h"

const struct vmx_recorded vmx_recorded[] = {
	{
		.name = "Bochs 2.7 corei7_haswell_4770",
		.msrs = {
			.basic = 0x00d810000000002b,
			.pinbased = 0x0000007f00000016,
			.procbased = 0xf7f9fffe0401e172,
			.exit = 0x007fffff00036dff,
			.entry = 0x0000ffff000011ff,
			.misc = 0x00000000200401e0,
			.cr0_fixed0 = 0x0000000080000021,
			.cr0_fixed1 = 0x00000000ffffffff,
			.cr4_fixed0 = 0x0000000000002000,
			.cr4_fixed1 = 0x00000000001727ff,
			.vmcs_enum = 0x0000000000000034,
			.procbased2 = 0x00047fff00000000,
			.ept_vpid_cap = 0x00000f0106334141,
			.true_pinbased = 0x0000007f00000016,
			.true_procbased = 0xf7f9fffe04006172,
			.true_exit = 0x007fffff00036dfb,
			.true_entry = 0x0000ffff000011fb,
			.vmfunc = 0x0000000000000001,
		},
		.expect_check = 0,
		.expect_describe = "ept ept-2m ept-1g ept-ad vpid unrestricted-guest "
				   "preemption-timer true-ctls x2apic-virt apic-reg-virt "
				   "virt-intr-delivery vmfunc shadow-vmcs",
	},
	{
		.name = "Bochs 2.7 corei5_lynnfield_750",
		.msrs = {
			.basic = 0x00d810000000002b,
			.pinbased = 0x0000007f00000016,
			.procbased = 0xf7f9fffe0401e172,
			.exit = 0x007fffff00036dff,
			.entry = 0x0000ffff000011ff,
			.misc = 0x00000000000401e0,
			.cr0_fixed0 = 0x0000000080000021,
			.cr0_fixed1 = 0x00000000ffffffff,
			.cr4_fixed0 = 0x0000000000002000,
			.cr4_fixed1 = 0x00000000000067ff,
			.vmcs_enum = 0x0000000000000034,
			.procbased2 = 0x0000007f00000000,
			.ept_vpid_cap = 0x00000f0106114141,
			.true_pinbased = 0x0000007f00000016,
			.true_procbased = 0xf7f9fffe04006172,
			.true_exit = 0x007fffff00036dfb,
			.true_entry = 0x0000ffff000011fb,
			.vmfunc = 0,
		},
		.expect_check = -ENOTSUP,
		.expect_missing = "unrestricted guest (secondary processor-based control bit 7)",
		.expect_describe = "ept ept-2m vpid preemption-timer true-ctls x2apic-virt",
	},
	{
		.name = "Bochs 2.7 core2_penryn_t9600",
		.msrs = {
			.basic = 0x00d810000000002b,
			.pinbased = 0x0000003f00000016,
			.procbased = 0xf7f9fffe0401e172,
			.exit = 0x0003ffff00036dff,
			.entry = 0x00003fff000011ff,
			.misc = 0x00000000000401e0,
			.cr0_fixed0 = 0x0000000080000021,
			.cr0_fixed1 = 0x00000000ffffffff,
			.cr4_fixed0 = 0x0000000000002000,
			.cr4_fixed1 = 0x00000000000467ff,
			.vmcs_enum = 0x0000000000000034,
			.procbased2 = 0x0000004100000000,
			.ept_vpid_cap = 0,
			.true_pinbased = 0x0000003f00000016,
			.true_procbased = 0xf7f9fffe04006172,
			.true_exit = 0x0003ffff00036dfb,
			.true_entry = 0x00003fff000011fb,
			.vmfunc = 0,
		},
		.expect_check = -ENOTSUP,
		.expect_missing = "EPT (secondary processor-based control bit 1)",
		.expect_describe = "true-ctls",
	},
	{ .name = NULL },
};

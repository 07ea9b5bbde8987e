/* hostile-msr: MSRs and instructions the platform must refuse
 * (docs/vsi-platform.md "Instructions and MSRs"), and a few it must allow;
 * XSETBV values that break the XCR0 rules, and one that keeps them.
 * Each attempt is announced before it is made; a fault resumes after the
 * faulting instruction and its vector is compared with the expected one. */
#include "cpu.h"

#define EFER_LMA_BIT	     (1UL << 10)
#define EFER_RESERVED_BIT9   (1UL << 9)	 /* SDM Vol. 4 table 2-2: reserved */
#define EFER_RESERVED_BIT63  (1UL << 63) /* idem */
#define FOREIGN_APIC_BASE    0xfed00000UL
#define SYSENTER_EIP_PATTERN 0x00001234cafe5678UL
#define VMCALL_ENOSYS	     (-38L)
#define VMCALL_UNKNOWN_NR    0x12345
#define CPUID_XSAVE	     0xd
#define XCR0_X87_BIT	     (1UL << 0)
#define XCR0_SSE_BIT	     (1UL << 1)
#define XCR0_AVX_BIT	     (1UL << 2)
#define XCR_XINUSE	     1 /* XGETBV only: XSETBV must refuse it */
/* XCR0 bits that must be set in groups (MPX 3-4, AVX-512 5-7, AMX 17-18):
 * one alone breaks a group rule, whether supported or not. */
#define XCR0_GROUPED_BITS 0x600f8UL

const char guest_name[] = "hostile-msr";

static uint8_t vmxon_garbage[4096] __attribute__((aligned(4096)));

/* One verdict for an attempt that should raise `want` (TRAP_NONE: none). */
static void verdict(const char *what, int got, int want)
{
	if (got == want)
		expect_ok(what);
	else if (got == TRAP_NONE)
		expect_fail(what, "no fault, expected %s", trap_name(want));
	else if (want == TRAP_NONE)
		expect_fail(what, "%s, expected no fault", trap_name(got));
	else
		expect_fail(what, "%s, expected %s", trap_name(got), trap_name(want));
}

static void try_wrmsr(const char *what, uint32_t msr, uint64_t val, int want)
{
	guest_say("trying wrmsr 0x%x = 0x%lx", msr, val);
	verdict(what, wrmsr_safe(msr, val), want);
}

static void try_rdmsr(const char *what, uint32_t msr, int want)
{
	uint64_t val;

	guest_say("trying rdmsr 0x%x", msr);
	verdict(what, rdmsr_safe(msr, &val), want);
}

static void efer_tests(void)
{
	uint64_t efer = rdmsr(MSR_IA32_EFER);

	/* Writing back what was read (LME and LMA set) is what every 64-bit
	 * kernel does when it sets NXE: LMA must not count as a bad bit. */
	try_wrmsr("msr-efer-write-same", MSR_IA32_EFER, efer, TRAP_NONE);
	try_wrmsr("msr-efer-reserved-bit9-gp", MSR_IA32_EFER, efer | EFER_RESERVED_BIT9, VEC_GP);
	try_wrmsr("msr-efer-reserved-bit63-gp", MSR_IA32_EFER, efer | EFER_RESERVED_BIT63, VEC_GP);
	if (rdmsr(MSR_IA32_EFER) != efer)
		expect_fail("msr-efer-unchanged", "EFER 0x%lx, was 0x%lx", rdmsr(MSR_IA32_EFER),
			    efer);
	else
		expect_ok("msr-efer-unchanged");
}

static void apic_base_tests(void)
{
	uint64_t base = rdmsr(MSR_IA32_APIC_BASE);
	int vec;

	try_wrmsr("msr-apic-base-write-same", MSR_IA32_APIC_BASE, base, TRAP_NONE);
	guest_say("trying wrmsr 0x%x = 0x%lx", MSR_IA32_APIC_BASE,
		  FOREIGN_APIC_BASE | APIC_BASE_EN_BIT);
	vec = wrmsr_safe(MSR_IA32_APIC_BASE, FOREIGN_APIC_BASE | APIC_BASE_EN_BIT);
	verdict("msr-apic-base-move-gp", vec, VEC_GP);
	if (vec == TRAP_NONE)
		wrmsr_safe(MSR_IA32_APIC_BASE, base); /* undo where it was allowed */
}

static void sysenter_test(void)
{
	uint64_t back = 0;
	int vec;

	guest_say("trying wrmsr 0x%x = 0x%lx, then rdmsr", MSR_IA32_SYSENTER_EIP,
		  SYSENTER_EIP_PATTERN);
	vec = wrmsr_safe(MSR_IA32_SYSENTER_EIP, SYSENTER_EIP_PATTERN);
	if (vec == TRAP_NONE)
		vec = rdmsr_safe(MSR_IA32_SYSENTER_EIP, &back);
	if (vec != TRAP_NONE)
		verdict("msr-sysenter-eip-roundtrip", vec, TRAP_NONE);
	else if (back != SYSENTER_EIP_PATTERN)
		expect_fail("msr-sysenter-eip-roundtrip", "read back 0x%lx", back);
	else
		expect_ok("msr-sysenter-eip-roundtrip");
}

static void msr_tests(void)
{
	try_wrmsr("msr-feature-control-write-gp", MSR_IA32_FEATURE_CONTROL, 5, VEC_GP);
	efer_tests();
	apic_base_tests();
	sysenter_test();
	try_wrmsr("msr-debugctl-write-0", MSR_IA32_DEBUGCTL, 0, TRAP_NONE);
	try_wrmsr("msr-debugctl-write-1-gp", MSR_IA32_DEBUGCTL, 1, VEC_GP);
	try_rdmsr("msr-vmx-basic-read-gp", MSR_IA32_VMX_BASIC, VEC_GP);
	try_rdmsr("msr-c0010000-read-gp", 0xc0010000, VEC_GP);
	try_wrmsr("msr-c0010000-write-gp", 0xc0010000, 0, VEC_GP);
	try_rdmsr("msr-1234-read-gp", 0x1234, VEC_GP);
	try_wrmsr("msr-1234-write-gp", 0x1234, 0, VEC_GP);
}

#define TRY_INSN(what, want, ...)                          \
	do {                                               \
		guest_say("trying %s", what);              \
		trap_vector = TRAP_NONE;                   \
		asm volatile(__VA_ARGS__);                 \
		verdict(what "-fault", trap_vector, want); \
	} while (0)

/* The rest of VMX, MONITOR/MWAIT (#UD), RDPMC (#GP), WBINVD and INVD: each
 * exits under the hypervisor, so the console's list shows many kinds of exits. */
static void more_vmx_tests(void)
{
	uint64_t region = (uint64_t)vmxon_garbage, ptr;
	struct {
		uint64_t vpid, addr;
	} desc = { 1, 0 };

	TRY_INSN("vmclear", VEC_UD, EXTABLE("vmclear %0")::"m"(region) : "memory", "cc");
	TRY_INSN("vmptrld", VEC_UD, EXTABLE("vmptrld %0")::"m"(region) : "memory", "cc");
	TRY_INSN("vmptrst", VEC_UD, EXTABLE("vmptrst %0") : "=m"(ptr)::"memory", "cc");
	TRY_INSN("vmresume", VEC_UD, EXTABLE("vmresume")::: "memory", "cc");
	TRY_INSN("vmxoff", VEC_UD, EXTABLE("vmxoff")::: "memory", "cc");
	TRY_INSN("invvpid", VEC_UD, EXTABLE("invvpid %0, %1")::"m"(desc), "r"(1UL)
		 : "memory", "cc");
	TRY_INSN("monitor", VEC_UD, EXTABLE("monitor")::"a"(region), "c"(0), "d"(0) : "memory");
	TRY_INSN("mwait", VEC_UD, EXTABLE("mwait")::"a"(0), "c"(0) : "memory");
	TRY_INSN("rdpmc", VEC_GP, EXTABLE("rdpmc")::"c"(0) : "rax", "rdx", "memory");
	/* Both run (INVD as WBINVD): no fault. */
	TRY_INSN("wbinvd", TRAP_NONE, EXTABLE("wbinvd")::: "memory");
	TRY_INSN("invd", TRAP_NONE, EXTABLE("invd")::: "memory");
}

/* VMX and SMX instructions: #UD whatever their operands. */
static void vmx_tests(void)
{
	uint64_t field = 0x4400, value = 0; /* VM_INSTRUCTION_ERROR */
	struct {
		uint64_t eptp, reserved;
	} desc = { 0, 0 };
	uint64_t ept_type = 1;

	memset(vmxon_garbage, 0xa5, sizeof(vmxon_garbage));
	guest_say("trying vmxon [garbage]");
	trap_vector = TRAP_NONE;
	asm volatile(EXTABLE("vmxon %0")::"m"(vmxon_garbage) : "memory", "cc");
	verdict("vmxon-ud", trap_vector, VEC_UD);

	guest_say("trying vmread");
	trap_vector = TRAP_NONE;
	asm volatile(EXTABLE("vmread %1, %0") : "=r"(value) : "r"(field) : "memory", "cc");
	verdict("vmread-ud", trap_vector, VEC_UD);

	guest_say("trying vmwrite");
	trap_vector = TRAP_NONE;
	asm volatile(EXTABLE("vmwrite %1, %0")::"r"(field), "r"(value) : "memory", "cc");
	verdict("vmwrite-ud", trap_vector, VEC_UD);

	guest_say("trying vmlaunch");
	trap_vector = TRAP_NONE;
	asm volatile(EXTABLE("vmlaunch")::: "memory", "cc");
	verdict("vmlaunch-ud", trap_vector, VEC_UD);

	guest_say("trying invept");
	trap_vector = TRAP_NONE;
	asm volatile(EXTABLE("invept %0, %1")::"m"(desc), "r"(ept_type) : "memory", "cc");
	verdict("invept-ud", trap_vector, VEC_UD);

	guest_say("trying getsec");
	trap_vector = TRAP_NONE;
	asm volatile(EXTABLE("getsec")::"a"(0), "b"(0) : "memory", "cc");
	verdict("getsec-ud", trap_vector, VEC_UD);
	more_vmx_tests();
}

static void try_vmcall(const char *what, uint64_t nr, int64_t want)
{
	uint64_t rax = nr;

	guest_say("trying vmcall rax=0x%lx", nr);
	trap_vector = TRAP_NONE;
	asm volatile(EXTABLE("vmcall") : "+a"(rax)::"memory");
	if (trap_vector != TRAP_NONE)
		expect_fail(what, "%s", trap_name(trap_vector));
	else if ((int64_t)rax != want)
		expect_fail(what, "rax %ld, expected %ld", (int64_t)rax, want);
	else
		expect_ok(what);
}

static void try_xsetbv(const char *what, uint32_t xcr, uint64_t val, int want)
{
	guest_say("trying xsetbv xcr%u = 0x%lx", xcr, val);
	verdict(what, xsetbv_safe(xcr, val), want);
}

/* The XCR0 bits this CPU supports: CPUID.(EAX=0DH,ECX=0):EDX:EAX. */
static uint64_t xcr0_supported(void)
{
	uint32_t r[4];

	cpuid(CPUID_XSAVE, 0, r);
	return (uint64_t)r[3] << 32 | r[0];
}

/* The lowest bit below 63 that XCR0 cannot take here and that no group rule
 * refuses on its own, or 0 if there is none. */
static uint64_t xcr0_unsupported_bit(void)
{
	uint64_t supported = xcr0_supported() | XCR0_GROUPED_BITS;

	for (int i = 0; i < 63; i++) {
		if (!(supported & (1UL << i)))
			return 1UL << i;
	}
	return 0;
}

/* XSETBV rules (SDM Vol. 1 13.3, Vol. 2C XSETBV): XCR0 only, x87 always,
 * AVX only with SSE, nothing the CPU does not support; #UD without
 * CR4.OSXSAVE. */
static void xsetbv_tests(void)
{
	uint64_t bad_bit, xcr0;
	uint32_t r[4];

	cpuid(1, 0, r);
	if (!(r[2] & CPUID_1_ECX_XSAVE)) {
		guest_say("XSAVE is absent (CPUID.1:ECX[26] clear): no xsetbv checks");
		return;
	}
	guest_say("XCR0 supports 0x%lx; setting CR4.OSXSAVE", xcr0_supported());
	bad_bit = xcr0_unsupported_bit();
	write_cr4(read_cr4() | CR4_OSXSAVE_BIT);
	try_xsetbv("xsetbv-xcr0-0-gp", 0, 0, VEC_GP);
	try_xsetbv("xsetbv-avx-without-sse-gp", 0, XCR0_X87_BIT | XCR0_AVX_BIT, VEC_GP);
	try_xsetbv("xsetbv-xcr1-gp", XCR_XINUSE, XCR0_X87_BIT | XCR0_SSE_BIT, VEC_GP);
	if (bad_bit)
		try_xsetbv("xsetbv-unsupported-bit-gp", 0, XCR0_X87_BIT | XCR0_SSE_BIT | bad_bit,
			   VEC_GP);
	else
		guest_say("every XCR0 bit below 63 is supported: no unsupported-bit check");
	try_xsetbv("xsetbv-x87-sse", 0, XCR0_X87_BIT | XCR0_SSE_BIT, TRAP_NONE);
	xcr0 = xgetbv(0);
	if (xcr0 != (XCR0_X87_BIT | XCR0_SSE_BIT))
		expect_fail("xgetbv-after-xsetbv", "XCR0 0x%lx, expected 0x%lx", xcr0,
			    XCR0_X87_BIT | XCR0_SSE_BIT);
	else
		expect_ok("xgetbv-after-xsetbv");

	guest_say("clearing CR4.OSXSAVE");
	write_cr4(read_cr4() & ~CR4_OSXSAVE_BIT);
	try_xsetbv("xsetbv-without-osxsave-ud", 0, XCR0_X87_BIT | XCR0_SSE_BIT, VEC_UD);
}

void guest_main(void)
{
	msr_tests();
	vmx_tests();
	xsetbv_tests();
	try_vmcall("vmcall-unknown-enosys", VMCALL_UNKNOWN_NR, VMCALL_ENOSYS);
	try_vmcall("vmcall-0-returns-0", 0, 0);
}

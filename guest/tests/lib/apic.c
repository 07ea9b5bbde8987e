/* Local APIC access. The platform's APIC is x2APIC only (MSRs 0x800-0x8FF,
 * docs/vsi-platform.md); the xAPIC MMIO page at 0xFEE00000 is used only when
 * there is no hypervisor and CPUID.1:ECX.x2APIC is clear (QEMU 7 TCG), so
 * the guests can still be tried out there. The mode is chosen once on
 * vCPU 0 by apic_init(). */
#include "cpu.h"

#define XAPIC_ID	  0x020
#define XAPIC_EOI	  0x0b0
#define XAPIC_SIVR	  0x0f0
#define XAPIC_ICR_LOW	  0x300
#define XAPIC_ICR_HIGH	  0x310
#define XAPIC_ID_SHIFT	  24
#define XAPIC_ICR_BUSY	  (1U << 12)
#define SIVR_ENABLE_BIT	  (1U << 8)
#define ICR_BUSY_SPIN_MAX 1000000

static bool x2apic = true;

bool apic_is_x2apic(void)
{
	return x2apic;
}

void apic_init(void)
{
	uint32_t r[4];

	cpuid(1, 0, r);
	x2apic = platform.hv || (r[2] & CPUID_1_ECX_X2APIC);
	apic_enable_this_cpu();
}

/* IA32_APIC_BASE: EN, and EXTD in x2APIC mode (SDM Vol. 3 11.12.1). */
void apic_enable_this_cpu(void)
{
	uint64_t base = rdmsr(MSR_IA32_APIC_BASE);

	base |= APIC_BASE_EN_BIT;
	if (x2apic)
		base |= APIC_BASE_EXTD_BIT;
	wrmsr(MSR_IA32_APIC_BASE, base);
}

uint32_t apic_id(void)
{
	if (x2apic)
		return (uint32_t)rdmsr(MSR_X2APIC_ID);
	return mmio_read32(APIC_DEFAULT_BASE + XAPIC_ID) >> XAPIC_ID_SHIFT;
}

/* Physical destination: the full 32-bit ID in x2APIC mode, 8 bits in xAPIC
 * mode (higher IDs cannot be named there and are sent to their low byte). */
void apic_send_ipi(uint32_t dest, uint32_t icr_low)
{
	if (x2apic) {
		wrmsr(MSR_X2APIC_ICR, (uint64_t)dest << 32 | icr_low);
		return;
	}
	mmio_write32(APIC_DEFAULT_BASE + XAPIC_ICR_HIGH, dest << XAPIC_ID_SHIFT);
	mmio_write32(APIC_DEFAULT_BASE + XAPIC_ICR_LOW, icr_low);
	for (int i = 0; i < ICR_BUSY_SPIN_MAX; i++) {
		if (!(mmio_read32(APIC_DEFAULT_BASE + XAPIC_ICR_LOW) & XAPIC_ICR_BUSY))
			break;
		cpu_relax();
	}
}

/* Software-enables the APIC (SIVR bit 8) so fixed interrupts are accepted. */
void apic_soft_enable(uint8_t spurious_vector)
{
	if (x2apic)
		wrmsr(MSR_X2APIC_SIVR, SIVR_ENABLE_BIT | spurious_vector);
	else
		mmio_write32(APIC_DEFAULT_BASE + XAPIC_SIVR, SIVR_ENABLE_BIT | spurious_vector);
}

void apic_eoi(void)
{
	if (x2apic)
		wrmsr(MSR_X2APIC_EOI, 0);
	else
		mmio_write32(APIC_DEFAULT_BASE + XAPIC_EOI, 0);
}

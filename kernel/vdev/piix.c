/*
 * i440FX, PIIX3 and the PIIX4 power-management function, as far as OVMF
 * needs them (see hv/piix.h): identity in configuration space, the PM I/O
 * base and enable the firmware programs, PM1 registers for soft-off and
 * the ACPI PM timer, derived from the TSC. Intel 82371AB (PIIX4)
 * datasheet sections 3.2 and 7.2; QEMU's hw/acpi/piix4.c for what guests
 * expect of a virtual one.
 */
#include <hv/piix.h>
#include <hv/string.h>

#define PCI_ID	    0x00
#define PCI_CMD	    0x04
#define PCI_CLASS   0x08
#define PCI_HEADER  0x0c
#define PCI_INTLINE 0x3c

#define CLASS_HOST_BRIDGE 0x060000
#define CLASS_ISA_BRIDGE  0x060100
#define CLASS_BRIDGE_MISC 0x068000
#define HEADER_MULTIFN	  (0x80U << 16) /* header type bit 7, in the 0x0c dword */
#define PMBA_IO		  BIT(0)	/* resource type indicator: I/O space, read-only */
#define PIRQ_DISABLED	  0x80
#define PM_INT_PIN_A	  (1U << 8)

void piix_reset(struct piix *x, u64 tsc)
{
	memset(x, 0, sizeof(*x));
	memset(x->pirq, PIRQ_DISABLED, sizeof(x->pirq));
	x->tmr_epoch = tsc;
}

u32 i440fx_cfg_read(u32 reg)
{
	switch (reg & ~3U) {
	case PCI_ID:
		return PIIX_VENDOR_INTEL | (I440FX_DEVICE << 16);
	case PCI_CMD:
		return 0x0006; /* memory and bus master; status 0 */
	case PCI_CLASS:
		return (CLASS_HOST_BRIDGE << 8) | 0x02; /* revision 2, as QEMU's */
	}
	return 0;
}

static u32 isa_dword(const struct piix *x, u32 reg)
{
	switch (reg) {
	case PCI_ID:
		return PIIX_VENDOR_INTEL | (PIIX3_ISA_DEVICE << 16);
	case PCI_CMD:
		return 0x0007; /* I/O, memory, bus master */
	case PCI_CLASS:
		return CLASS_ISA_BRIDGE << 8;
	case PCI_HEADER:
		return HEADER_MULTIFN; /* so that enumeration looks at function 3 */
	case PIIX3_PIRQRC:
		return x->pirq[0] | x->pirq[1] << 8 | x->pirq[2] << 16 | (u32)x->pirq[3] << 24;
	}
	return 0;
}

static u32 pm_dword(const struct piix *x, u32 reg)
{
	switch (reg) {
	case PCI_ID:
		return PIIX_VENDOR_INTEL | (PIIX4_PM_DEVICE << 16);
	case PCI_CMD:
		return x->pm_cmd;
	case PCI_CLASS:
		return (CLASS_BRIDGE_MISC << 8) | 0x03; /* revision 3 */
	case PCI_INTLINE:
		return PM_INT_PIN_A | x->pm_intline;
	case PIIX4_PMBA:
		return (x->pmba & PIIX4_PMBA_MASK) | PMBA_IO;
	case PIIX4_PMREGMISC:
		return x->pmregmisc;
	}
	return 0;
}

u32 piix_cfg_read(const struct piix *x, u32 fn, u32 reg, u32 size)
{
	u32 dw, shift = (reg & 3) * 8;

	if (fn == PIIX_FN_ISA)
		dw = isa_dword(x, reg & ~3U);
	else if (fn == PIIX_FN_PM)
		dw = pm_dword(x, reg & ~3U);
	else
		dw = 0xffffffff; /* IDE and USB functions are absent */
	dw >>= shift;
	return size == 4 ? dw : dw & ((1U << (size * 8)) - 1);
}

/* Merge a write of size bytes at reg into the old dword of its register. */
static u32 merge(u32 old, u32 reg, u32 size, u32 val)
{
	u32 shift = (reg & 3) * 8;
	u32 mask = (size == 4 ? 0xffffffffU : (1U << (size * 8)) - 1) << shift;

	return (old & ~mask) | ((val << shift) & mask);
}

void piix_cfg_write(struct piix *x, u32 fn, u32 reg, u32 size, u32 val)
{
	u32 dw;

	if (fn == PIIX_FN_ISA && (reg & ~3U) == PIIX3_PIRQRC) {
		dw = merge(isa_dword(x, PIIX3_PIRQRC), reg, size, val);
		for (u32 i = 0; i < 4; i++)
			x->pirq[i] = (u8)(dw >> (8 * i));
		return;
	}
	if (fn != PIIX_FN_PM)
		return;
	dw = merge(pm_dword(x, reg & ~3U), reg, size, val);
	switch (reg & ~3U) {
	case PCI_CMD:
		x->pm_cmd = dw & 1; /* I/O space enable; the rest is fixed */
		break;
	case PCI_INTLINE:
		x->pm_intline = (u8)dw;
		break;
	case PIIX4_PMBA:
		x->pmba = dw & PIIX4_PMBA_MASK;
		break;
	case PIIX4_PMREGMISC:
		x->pmregmisc = dw & PIIX4_PMIOSE;
		break;
	}
}

u32 piix_pm_base(const struct piix *x)
{
	return (x->pmregmisc & PIIX4_PMIOSE) ? x->pmba & PIIX4_PMBA_MASK : 0;
}

u32 piix_pm_timer(u64 epoch, u64 tsc, u64 tsc_hz)
{
	u64 d = tsc - epoch;

	/* Split so nothing overflows: (d % hz) * 3.58e6 < 2^64 for any hz < 5e12. */
	return (u32)((d / tsc_hz) * PM_TIMER_HZ + (d % tsc_hz) * PM_TIMER_HZ / tsc_hz) &
	       PM_TIMER_MASK;
}

/* A 16-bit PM1 register at off (0, 2, 4) as read. */
static u16 pm1_read(const struct piix *x, u32 off)
{
	if (off == PM1_STS)
		return x->pm1_sts;
	if (off == PM1_EN)
		return x->pm1_en;
	return x->pm1_cnt & ~PM1_CNT_SUS_EN; /* SUS_EN is write-only */
}

static enum piix_pm_result pm1_write(struct piix *x, u32 off, u32 size, u32 val)
{
	u16 v = (u16)merge(pm1_read(x, off & ~1U), off & 1, size, val);

	switch (off & ~1U) {
	case PM1_STS:
		x->pm1_sts &= ~v; /* write 1 to clear */
		break;
	case PM1_EN:
		x->pm1_en = v;
		break;
	case PM1_CNT:
		x->pm1_cnt = v & ~PM1_CNT_SUS_EN;
		if ((v & PM1_CNT_SUS_EN) && PM1_CNT_SUS_TYP(v) == PM1_SUS_TYP_OFF)
			return PIIX_PM_POWEROFF;
		break;
	}
	return PIIX_PM_DONE;
}

enum piix_pm_result piix_pm_io(struct piix *x, u32 port, u32 size, bool in, u32 *val, u64 tsc,
			       u64 tsc_hz)
{
	u32 base = piix_pm_base(x), off = port - base;

	if (!base || port < base || off >= PM_SIZE)
		return PIIX_PM_NOT_MINE;
	if (off >= PM1_TMR && off < PM1_TMR + 4) {
		if (in)
			*val = piix_pm_timer(x->tmr_epoch, tsc, tsc_hz) >> ((off - PM1_TMR) * 8);
		return PIIX_PM_DONE; /* the timer is read-only */
	}
	if (off >= PM1_CNT + 2) {
		if (in)
			*val = 0; /* GPE and the rest: nothing */
		return PIIX_PM_DONE;
	}
	if (in) {
		*val = pm1_read(x, off & ~1U) >> ((off & 1) * 8);
		return PIIX_PM_DONE;
	}
	return size > 2 ? PIIX_PM_DONE : pm1_write(x, off, size, *val);
}

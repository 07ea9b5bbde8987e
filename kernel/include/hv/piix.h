/*
 * The chipset an OVMF guest looks for (docs/vsi-platform.md, "OVMF"): an
 * i440FX host bridge at 00:00.0, a PIIX3 ISA bridge at 00:01.0 and the
 * PIIX4 power-management function at 00:01.3 with its ACPI registers
 * (PM1 status/enable/control and the 3.579545 MHz PM timer) at the I/O
 * base the firmware programs. Only what OVMF and Linux touch is modelled;
 * other registers read 0 and ignore writes.
 * Portable: the caller routes configuration and port accesses here and
 * holds the VSI's platform lock, except around piix_pm_timer(), which
 * only reads.
 */
#ifndef HV_PIIX_H
#define HV_PIIX_H

#include <hv/types.h>

#define PIIX_VENDOR_INTEL 0x8086
#define I440FX_DEVICE	  0x1237 /* 82441FX PMC */
#define PIIX3_ISA_DEVICE  0x7000 /* 82371SB function 0 */
#define PIIX4_PM_DEVICE	  0x7113 /* 82371AB function 3 */
#define PIIX_DEV	  1	 /* 00:01.x */
#define PIIX_FN_ISA	  0
#define PIIX_FN_PM	  3
#define PIIX4_PMBA	  0x40	 /* PM I/O base, bits 15:6 */
#define PIIX4_PMBA_MASK	  0xffc0 /* a 64-byte block */
#define PIIX4_PMREGMISC	  0x80	 /* bit 0: PM I/O space enabled */
#define PIIX4_PMIOSE	  BIT(0)
#define PIIX3_PIRQRC	  0x60 /* PIRQ[A-D] routing, 0x60-0x63 */
#define PM_TIMER_HZ	  3579545ULL
#define PM_TIMER_MASK	  0xffffff /* 24 bits: FADT TMR_VAL_EXT clear */

/* PM I/O registers, offsets from the base (PIIX4 datasheet 7.2). */
#define PM1_STS		   0x00
#define PM1_EN		   0x02
#define PM1_CNT		   0x04
#define PM1_TMR		   0x08
#define PM_SIZE		   0x40
#define PM1_CNT_SUS_EN	   BIT(13)
#define PM1_CNT_SUS_TYP(v) (((v) >> 10) & 7)
#define PM1_SUS_TYP_OFF	   0 /* soft off, as OVMF's ResetShutdown and QEMU use it */

struct piix {
	u8 pirq[4];    /* PIIX3 0x60-0x63, as written */
	u16 pm_cmd;    /* 00:01.3 command register: bit 0 I/O space */
	u32 pmba;      /* 00:01.3 0x40; bit 0 reads 1 (I/O space indicator) */
	u8 pmregmisc;  /* 00:01.3 0x80 */
	u8 pm_intline; /* 00:01.3 0x3c, as written */
	u16 pm1_sts;   /* write 1 to clear */
	u16 pm1_en;
	u16 pm1_cnt;
	u64 tmr_epoch; /* TSC when the PM timer read 0 */
};

enum piix_pm_result {
	PIIX_PM_NOT_MINE = 0, /* not a PM register (or PM I/O is off) */
	PIIX_PM_DONE,
	PIIX_PM_POWEROFF, /* SUS_EN with the soft-off type was written */
};

/* Reset values; tsc is now (the PM timer starts at 0). */
void piix_reset(struct piix *x, u64 tsc);
/* Configuration space of 00:00.0 (i440FX); writes are ignored. Aligned 32-bit register. */
u32 i440fx_cfg_read(u32 reg);
/* Configuration space of 00:01.fn: 1, 2 or 4 bytes at reg; absent functions read all ones. */
u32 piix_cfg_read(const struct piix *x, u32 fn, u32 reg, u32 size);
void piix_cfg_write(struct piix *x, u32 fn, u32 reg, u32 size, u32 val);
/* The I/O base of the PM registers, or 0 while PM I/O is off. */
u32 piix_pm_base(const struct piix *x);
/* The PM timer's value at tsc, counting at PM_TIMER_HZ from the epoch; tsc_hz > 0. */
u32 piix_pm_timer(u64 epoch, u64 tsc, u64 tsc_hz);
/* A port access of size bytes at port: a PM register or not. */
enum piix_pm_result piix_pm_io(struct piix *x, u32 port, u32 size, bool in, u32 *val, u64 tsc,
			       u64 tsc_hz);

#endif

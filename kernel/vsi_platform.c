/*
 * The devices of the VSI platform besides the UART (docs/vsi-platform.md):
 * fw_cfg, the PCI host bridge (configuration mechanism #1), the I/O APIC,
 * the local APIC's xAPIC page, the ACPI sleep registers of a
 * hardware-reduced platform, a masked 8259 pair and a CMOS RTC. Each access
 * comes from a vCPU exit with guest-controlled port, size and value.
 */
#include <asm/cpu.h>
#include <asm/io.h>
#include <asm/lapic.h>
#include <asm/msr.h>
#include <hv/kernel.h>
#include <hv/log.h>
#include <hv/string.h>
#include <hv/vdisk.h>
#include <hv/vnet.h>
#include <hv/vsi.h>

#define PORT_PIC1_CMD	0x20
#define PORT_PIC1_DATA	0x21
#define PORT_PIC2_CMD	0xa0
#define PORT_PIC2_DATA	0xa1
#define PORT_RTC_INDEX	0x70
#define PORT_RTC_DATA	0x71
#define PORT_PCI_ADDR	0xcf8
#define PORT_PCI_DATA	0xcfc
#define PORT_SLEEP_CTL	0x600
#define PORT_SLEEP_STS	0x601
#define SLEEP_CTL_EN	BIT(5)
#define SLEEP_TYP(v)	(((v) >> 2) & 7)
#define SLEEP_TYP_S5	5 /* \_S5 in the firmware's DSDT */
#define PCI_ADDR_ENABLE BIT(31)

#define XAPIC_PAGE 0xfee00000ULL

/* RTC registers (MC146818): time in BCD, 24-hour mode. */
#define RTC_SECONDS 0x00
#define RTC_MINUTES 0x02
#define RTC_HOURS   0x04
#define RTC_WEEKDAY 0x06
#define RTC_DAY	    0x07
#define RTC_MONTH   0x08
#define RTC_YEAR    0x09
#define RTC_REG_A   0x0a
#define RTC_REG_B   0x0b
#define RTC_REG_C   0x0c
#define RTC_REG_D   0x0d
#define RTC_CENTURY 0x32
#define RTC_B_24H   0x02
#define RTC_D_VALID 0x80

/* PCI host bridge at 00:00.0: Red Hat's generic host bridge ID, class 06/00. */
#define HB_VENDOR 0x1b36
#define HB_DEVICE 0x0008

/* The host's RTC at boot and the TSC then: each VSI's RTC runs from there. */
static u8 host_time[10];
static u8 host_century = 0x20;
static u64 host_time_tsc;

static u8 cmos_read(u8 reg)
{
	outb(PORT_RTC_INDEX, reg);
	return inb(PORT_RTC_DATA);
}

static void read_host_rtc(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	for (int tries = 0; tries < 1000 && (cmos_read(RTC_REG_A) & 0x80); tries++)
		; /* update in progress: the next read is consistent */
	for (u8 r = 0; r < 10; r++)
		host_time[r] = cmos_read(r);
	host_century = cmos_read(RTC_CENTURY);
	host_time_tsc = rdtsc();
	if (!(cmos_read(RTC_REG_B) & 4)) /* BCD: as the VSI sees it */
		return;
	for (u8 r = 0; r < 10; r++) /* binary mode host: convert to BCD */
		host_time[r] = (u8)(((host_time[r] / 10) << 4) | (host_time[r] % 10));
	host_century = (u8)(((host_century / 10) << 4) | (host_century % 10));
}

static u32 bcd2bin(u8 v)
{
	return (v >> 4) * 10 + (v & 0xf);
}

static u8 bin2bcd(u32 v)
{
	return (u8)(((v / 10) << 4) | (v % 10));
}

/* Seconds, minutes, hours advanced by the time since boot (date kept: a VSI runs for hours). */
static u8 rtc_read(u8 reg)
{
	u64 hz = tsc_hz() ? tsc_hz() : 1;
	u64 secs = (rdtsc() - host_time_tsc) / hz;
	u32 s = bcd2bin(host_time[RTC_SECONDS]), m = bcd2bin(host_time[RTC_MINUTES]);
	u32 h = bcd2bin(host_time[RTC_HOURS] & 0x7f);
	u64 t = s + 60 * m + 3600 * h + secs;

	switch (reg) {
	case RTC_SECONDS:
		return bin2bcd(t % 60);
	case RTC_MINUTES:
		return bin2bcd((t / 60) % 60);
	case RTC_HOURS:
		return bin2bcd((t / 3600) % 24);
	case RTC_WEEKDAY:
	case RTC_DAY:
	case RTC_MONTH:
	case RTC_YEAR:
		return host_time[reg];
	case RTC_REG_A:
		return 0x26; /* 32.768 kHz, 1024 Hz rate; UIP never set */
	case RTC_REG_B:
		return RTC_B_24H;
	case RTC_REG_C:
		return 0;
	case RTC_REG_D:
		return RTC_D_VALID;
	case RTC_CENTURY:
		return host_century;
	}
	return 0;
}

static void ioapic_deliver(void *ctx, u32 dest, bool logical, u32 mode, u32 vector, bool level)
{
	struct vsi *v = ctx;

	for (u32 i = 0; i < v->nr_vcpus; i++) {
		struct vcpu *t = &v->vcpus[i];
		if (!vlapic_match_dest(&t->lapic, dest, logical))
			continue;
		if (mode == VLAPIC_DM_FIXED || mode == VLAPIC_DM_LOWEST)
			vcpu_deliver_fixed(t, vector, level);
		else
			vcpu_deliver(t, mode, vector);
		if (mode == VLAPIC_DM_LOWEST)
			break; /* one of them */
	}
}

void vsi_msi(struct vsi *v, u64 addr, u32 data)
{
	/*
	 * MSI address/data (SDM 11.11): destination 19:12, DM bit 2; vector,
	 * mode 10:8, trigger 15. A message to any other address would be a
	 * memory write on real hardware; the device model never writes guest
	 * memory that way, so it is dropped and counted.
	 */
	if ((addr & ~0xfffffULL) != XAPIC_PAGE) {
		__atomic_add_fetch(&v->plat.msi_dropped, 1, __ATOMIC_RELAXED);
		return;
	}
	ioapic_deliver(v, (u32)(addr >> 12) & 0xff, addr & BIT(2), (data >> 8) & 7, data & 0xff,
		       data & BIT(15));
}

void vsi_platform_init(struct vsi *v)
{
	struct vsi_platform *p = &v->plat;

	read_host_rtc();
	p->lock = (spinlock_t){ 0 };
	fw_cfg_init(&p->fw_cfg, v->ram_size, (u16)v->nr_vcpus);
	if (vsi_is_ovmf(v))
		vsi_ovmf_init(v);
	p->ioapic.deliver = ioapic_deliver;
	p->ioapic.ctx = v;
	vsi_platform_reset(v);
}

void vsi_platform_reset(struct vsi *v)
{
	struct vsi_platform *p = &v->plat;

	spin_lock(&p->lock);
	vioapic_reset(&p->ioapic, v->nr_vcpus);
	p->pci_addr = 0;
	p->rtc_index = 0;
	p->pic_mask[0] = p->pic_mask[1] = 0xff;
	fw_cfg_select(&p->fw_cfg, 0);
	vsi_ovmf_reset(v);
	spin_unlock(&p->lock);
	vsi_uart_reset(v);
	if (p->disk)
		vdisk_reset(p->disk);
	if (p->net)
		vnet_reset(p->net);
}

void vsi_platform_set_irq(struct vsi *v, u32 pin, bool level)
{
	spin_lock(&v->plat.lock);
	vioapic_set_irq(&v->plat.ioapic, pin, level);
	spin_unlock(&v->plat.lock);
}

/* Configuration space of the host bridge: IDs, class, header type 0, nothing else. */
static u32 host_bridge_cfg(u32 reg)
{
	switch (reg & ~3U) {
	case 0x00:
		return HB_VENDOR | (HB_DEVICE << 16);
	case 0x04:
		return 0x00000006; /* memory and I/O space enabled, status 0 */
	case 0x08:
		return 0x06000000; /* class 06 (bridge), subclass 00 (host), revision 0 */
	case 0x2c:
		return HB_VENDOR | (HB_DEVICE << 16); /* subsystem */
	}
	return 0;
}

static enum vsi_access pci_data(struct vsi *v, u32 port, u32 size, bool in, u32 *val)
{
	struct vsi_platform *p = &v->plat;
	u32 addr = p->pci_addr, reg = (addr & 0xfc) + (port - PORT_PCI_DATA);
	u32 bus = (addr >> 16) & 0xff, dev = (addr >> 11) & 0x1f, fn = (addr >> 8) & 7;

	if (!(addr & PCI_ADDR_ENABLE) || (reg & (size - 1)))
		return VSI_ACCESS_UNCLAIMED;
	if (bus == 0 && vsi_is_ovmf(v))
		return vsi_ovmf_pci(v, dev, fn, reg, size, in, val);
	if (bus != 0 || fn != 0 || dev > VNET_PCI_DEV || (dev == VDISK_PCI_DEV && !p->disk) ||
	    (dev == VNET_PCI_DEV && !p->net)) {
		if (in)
			*val = 0xffffffff; /* no device: master abort */
		return VSI_ACCESS_DONE;
	}
	if (dev == VNET_PCI_DEV) {
		if (in)
			*val = vnet_cfg_read(p->net, reg, size);
		else
			vnet_cfg_write(p->net, reg, size, *val);
		return VSI_ACCESS_DONE;
	}
	if (dev == VDISK_PCI_DEV) {
		if (in)
			*val = vdisk_cfg_read(p->disk, reg, size);
		else
			vdisk_cfg_write(p->disk, reg, size, *val);
		return VSI_ACCESS_DONE;
	}
	if (in)
		*val = host_bridge_cfg(reg) >> ((reg & 3) * 8);
	return VSI_ACCESS_DONE; /* writes to the host bridge are ignored */
}

enum vsi_access vsi_io(struct vcpu *vc, u32 port, u32 size, bool in, u32 *val)
{
	struct vsi *v = vc->vsi;
	struct vsi_platform *p = &v->plat;
	enum vsi_access r = VSI_ACCESS_DONE;

	spin_lock(&p->lock);
	switch (port) {
	case FW_CFG_PORT_SEL:
		if (!in && size == 2)
			fw_cfg_select(&p->fw_cfg, (u16)*val);
		else
			r = VSI_ACCESS_UNCLAIMED;
		break;
	case FW_CFG_PORT_DATA:
		if (in && size == 1)
			*val = fw_cfg_read(&p->fw_cfg);
		else
			r = VSI_ACCESS_UNCLAIMED;
		break;
	case PORT_PCI_ADDR:
		if (size != 4)
			r = VSI_ACCESS_UNCLAIMED;
		else if (in)
			*val = p->pci_addr;
		else
			p->pci_addr = *val & 0x80fffffc;
		break;
	case PORT_PCI_DATA:
	case PORT_PCI_DATA + 1:
	case PORT_PCI_DATA + 2:
	case PORT_PCI_DATA + 3:
		spin_unlock(&p->lock); /* the disk has its own lock */
		r = pci_data(v, port, size, in, val);
		return r;
	case PORT_SLEEP_CTL:
		if (in) {
			*val = 0;
		} else if ((*val & SLEEP_CTL_EN) && SLEEP_TYP(*val) == SLEEP_TYP_S5) {
			vsi_post_request(v, VSI_REQ_POWEROFF);
			r = VSI_ACCESS_LEAVE;
		}
		break;
	case PORT_SLEEP_STS:
		if (in)
			*val = 0;
		break;
	case PORT_PIC1_CMD:
	case PORT_PIC2_CMD:
		if (in)
			*val = 0; /* IRR/ISR: nothing is ever raised */
		break;
	case PORT_PIC1_DATA:
	case PORT_PIC2_DATA:
		if (in)
			*val = p->pic_mask[port == PORT_PIC2_DATA];
		else
			p->pic_mask[port == PORT_PIC2_DATA] = (u8)*val;
		break;
	case PORT_RTC_INDEX:
		if (in)
			*val = 0xff;
		else
			p->rtc_index = *val & 0x7f;
		break;
	case PORT_RTC_DATA:
		if (in)
			*val = rtc_read(p->rtc_index);
		break;
	default:
		r = vsi_is_ovmf(v) ? vsi_ovmf_io(v, port, size, in, val) : VSI_ACCESS_UNCLAIMED;
		break;
	}
	spin_unlock(&p->lock);
	return r;
}

enum vsi_access vsi_mmio(struct vcpu *vc, u64 gpa, u32 size, bool write, u64 *val)
{
	struct vsi *v = vc->vsi;
	struct vsi_platform *p = &v->plat;
	enum vsi_access r = VSI_ACCESS_DONE;

	if (gpa >= XAPIC_PAGE && gpa < XAPIC_PAGE + PAGE_SIZE) {
		u32 off = (u32)(gpa - XAPIC_PAGE);
		bool on = (vc->arch.apic_base & MSR_IA32_APIC_BASE_EN_BIT) && !vc->lapic.x2apic;
		if (!on || size != 4 || (off & 3))
			return VSI_ACCESS_UNCLAIMED;
		if (write)
			vlapic_write(&vc->lapic, off, (u32)*val, rdtsc());
		else
			*val = vlapic_read(&vc->lapic, off, rdtsc());
		return VSI_ACCESS_DONE;
	}
	if (gpa >= VIOAPIC_BASE && gpa < VIOAPIC_BASE + VIOAPIC_SIZE) {
		if (size != 4 || (gpa & 3))
			return VSI_ACCESS_UNCLAIMED;
		spin_lock(&p->lock);
		if (write)
			vioapic_write(&p->ioapic, (u32)(gpa - VIOAPIC_BASE), (u32)*val);
		else
			*val = vioapic_read(&p->ioapic, (u32)(gpa - VIOAPIC_BASE));
		spin_unlock(&p->lock);
		return VSI_ACCESS_DONE;
	}
	if (p->disk && vdisk_mmio(p->disk, gpa, size, write, val))
		return VSI_ACCESS_DONE;
	if (p->net && vnet_mmio(p->net, gpa, size, write, val))
		return VSI_ACCESS_DONE;
	r = VSI_ACCESS_UNCLAIMED;
	return r;
}

/* A local APIC's EOI of a level-triggered vector reaches the I/O APIC. */
void vsi_platform_eoi(struct vsi *v, u32 vector)
{
	spin_lock(&v->plat.lock);
	vioapic_eoi(&v->plat.ioapic, vector);
	spin_unlock(&v->plat.lock);
}

/*
 * The platform pieces a VSI gets when its firmware is OVMF
 * (docs/vsi-platform.md, "OVMF"): PCI bus 0 as OVMF expects it on an
 * i440FX machine (host bridge 00:00.0, PIIX3 00:01.0, PIIX4 PM 00:01.3,
 * the NIC at 00:02.0 as on the native bus, the disk at 00:03.0), the PIIX4
 * PM registers with the ACPI PM timer, and the ACPI tables OVMF installs
 * from fw_cfg. The device models are kernel/vdev/piix.c; this file routes
 * to them.
 */
#include <asm/cpu.h>
#include <asm/lapic.h>
#include <firmware/acpi.h>
#include <hv/kernel.h>
#include <hv/log.h>
#include <hv/vdisk.h>
#include <hv/vnet.h>
#include <hv/vsi.h>

bool vsi_is_ovmf(const struct vsi *v)
{
	return v->cfg && v->cfg->firmware == VSI_FW_OVMF;
}

/* The fw_cfg files of a VSI's ACPI tables; they live as long as the VSI. */
struct vsi_acpi {
	struct acpi_fwcfg f;
	u8 tables[2 * KiB + ACPI_VSI_MAX_CPUS * 8]; /* 255 vCPUs: about 2.8 KiB */
};

/*
 * The ACPI tables of the firmware's builder (guest/firmware/acpi.c), for
 * the PM base OVMF programs, as fw_cfg's etc/table-loader, etc/acpi/tables
 * and etc/acpi/rsdp. Without them OVMF boots on, but the OS finds no ACPI.
 */
void vsi_ovmf_init(struct vsi *v)
{
	struct vsi_acpi *a = page_alloc_zeroed(sizeof(*a), PAGE_SIZE, 0);
	struct fw_cfg *fc = &v->plat.fw_cfg;
	struct acpi_platform p;
	int err;

	acpi_platform_piix4(&p, v->nr_vcpus, ACPI_PIIX4_PM_BASE_OVMF);
	a->f.tables = a->tables;
	a->f.tables_cap = sizeof(a->tables);
	err = acpi_build_fwcfg(&a->f, &p);
	if (!err)
		err = fw_cfg_add_file(fc, ACPI_FWCFG_RSDP, a->f.rsdp, sizeof(a->f.rsdp));
	if (!err)
		err = fw_cfg_add_file(fc, ACPI_FWCFG_TABLES, a->f.tables, a->f.tables_len);
	if (!err)
		err = fw_cfg_add_file(fc, ACPI_FWCFG_LOADER, a->f.loader, a->f.loader_len);
	if (err)
		pr_err("vsi %s: no ACPI tables for OVMF (%d)", v->name, err);
}

void vsi_ovmf_reset(struct vsi *v)
{
	piix_reset(&v->plat.piix, rdtsc());
}

/* A configuration access on bus 0 of an OVMF VSI; the caller checked alignment. */
enum vsi_access vsi_ovmf_pci(struct vsi *v, u32 dev, u32 fn, u32 reg, u32 size, bool in, u32 *val)
{
	struct vsi_platform *p = &v->plat;

	if (dev == VDISK_OVMF_PCI_DEV && fn == 0 && p->disk) {
		if (in)
			*val = vdisk_cfg_read(p->disk, reg, size);
		else
			vdisk_cfg_write(p->disk, reg, size, *val);
		return VSI_ACCESS_DONE;
	}
	if (dev == VNET_PCI_DEV && fn == 0 && p->net) {
		if (in)
			*val = vnet_cfg_read(p->net, reg, size);
		else
			vnet_cfg_write(p->net, reg, size, *val);
		return VSI_ACCESS_DONE;
	}
	if (dev == 0 && fn == 0) {
		if (in)
			*val = i440fx_cfg_read(reg) >> ((reg & 3) * 8);
		return VSI_ACCESS_DONE; /* writes (PAM, SMRAM) are ignored */
	}
	if (dev != PIIX_DEV) {
		if (in)
			*val = 0xffffffff; /* no device: master abort */
		return VSI_ACCESS_DONE;
	}
	spin_lock(&p->lock);
	if (in)
		*val = piix_cfg_read(&p->piix, fn, reg, size);
	else
		piix_cfg_write(&p->piix, fn, reg, size, *val);
	spin_unlock(&p->lock);
	return VSI_ACCESS_DONE;
}

/* A port access that may be a PM register; the caller holds the platform lock. */
enum vsi_access vsi_ovmf_io(struct vsi *v, u32 port, u32 size, bool in, u32 *val)
{
	switch (piix_pm_io(&v->plat.piix, port, size, in, val, rdtsc(), tsc_hz())) {
	case PIIX_PM_DONE:
		return VSI_ACCESS_DONE;
	case PIIX_PM_POWEROFF:
		vsi_post_request(v, VSI_REQ_POWEROFF);
		return VSI_ACCESS_LEAVE;
	default:
		return VSI_ACCESS_UNCLAIMED;
	}
}

/*
 * The PM timer without the platform lock: OVMF reads it in every delay
 * loop, hundreds of thousands of times a boot. It only reads the base
 * (one aligned word the guest rarely writes) and the epoch (set at reset).
 */
bool vsi_pm_timer_fast(struct vcpu *vc, u32 port, u32 size, bool in, u32 *val)
{
	struct vsi *v = vc->vsi;
	const struct piix *x = &v->plat.piix;
	u32 base;

	if (!in || size != 4 || !vsi_is_ovmf(v))
		return false;
	base = __atomic_load_n(&x->pmba, __ATOMIC_RELAXED) & PIIX4_PMBA_MASK;
	if (port != base + PM1_TMR || !(__atomic_load_n(&x->pmregmisc, __ATOMIC_RELAXED) & 1))
		return false;
	*val = piix_pm_timer(x->tmr_epoch, rdtsc(), tsc_hz());
	vc->pm_timer_reads++;
	return true;
}

/*
 * The VSI manager: memory and EPT per VSI, vCPU threads pinned to their
 * physical CPUs, and the lifecycle. Every state change runs on the service
 * CPU (vsi_poll, the console); vCPUs only post requests. See hv/vsi.h.
 */
#include <asm/cpu.h>
#include <asm/lapic.h>
#include <asm/percpu.h>
#include <asm/smp.h>
#include <hv/errno.h>
#include <hv/kernel.h>
#include <hv/log.h>
#include <hv/printf.h>
#include <hv/string.h>
#include <hv/vdisk.h>
#include <hv/vnet.h>
#include <hv/vsi.h>

#define ROM_ALIAS_TOP	0x100000ULL /* the legacy ROM window ends at 1 MiB */
#define ROM_ALIAS_MAX	(128 * KiB)
#define FOUR_GIB	(4 * GiB)
#define STOP_TIMEOUT_MS 2000

struct vsi vsis[VSI_MAX];
u32 nr_vsis;

const char *vsi_state_name(u32 state)
{
	static const char *const names[] = { "created", "running", "stopped", "faulted" };

	return state < ARRAY_SIZE(names) ? names[state] : "?";
}

struct vsi *vsi_find(const char *name)
{
	for (u32 i = 0; i < nr_vsis; i++)
		if (!strcmp(vsis[i].name, name))
			return &vsis[i];
	return NULL;
}

void *vsi_gpa_to_hva(struct vsi *v, u64 gpa, u64 len)
{
	if (gpa >= v->ram_size || len > v->ram_size - gpa)
		return NULL;
	return (void *)(uintptr_t)(v->ram_hpa + gpa);
}

void *vsi_gpa_to_hva_code(struct vsi *v, u64 gpa, u64 len)
{
	u64 alias = MIN(v->rom_size, ROM_ALIAS_MAX), alias_base = ROM_ALIAS_TOP - alias;

	if (len > FOUR_GIB || gpa > FOUR_GIB - len)
		return NULL;
	if (gpa >= alias_base && gpa + len <= ROM_ALIAS_TOP)
		return (void *)(uintptr_t)(v->rom_hpa + v->rom_size - alias + (gpa - alias_base));
	if (gpa >= FOUR_GIB - v->rom_size)
		return (void *)(uintptr_t)(v->rom_hpa + (gpa - (FOUR_GIB - v->rom_size)));
	if (gpa < alias_base && gpa + len > alias_base)
		return NULL; /* straddles RAM and the alias */
	return vsi_gpa_to_hva(v, gpa, len);
}

/* EPT paging structures come from the frame allocator (identity-mapped). */
static u64 ept_page_alloc(void *ctx)
{
	u64 pa = page_alloc_try(PAGE_SIZE, PAGE_SIZE, 0);

	if (pa)
		memset((void *)(uintptr_t)pa, 0, PAGE_SIZE);
	return pa;
}

static void ept_page_free(void *ctx, u64 pa)
{
	page_free(pa, PAGE_SIZE);
}

static void *ept_page_virt(void *ctx, u64 pa)
{
	return (void *)(uintptr_t)pa;
}

#define XAPIC_GPA 0xfee00000ULL

/* Guest-physical layout (docs/vsi-platform.md): RAM, the ROM at 4 GiB, its alias below 1 MiB. */
static int vsi_map(struct vsi *v)
{
	u64 alias = MIN(v->rom_size, ROM_ALIAS_MAX);
	u64 alias_base = ROM_ALIAS_TOP - alias;
	u32 rwx = EPT_READ_BIT | EPT_WRITE_BIT | EPT_EXEC_BIT, rx = EPT_READ_BIT | EPT_EXEC_BIT;
	int err;

	if (v->ram_size > alias_base) {
		err = ept_map(&v->ept, 0, v->ram_hpa, alias_base, rwx, EPT_MT_WB);
		if (!err && v->ram_size > ROM_ALIAS_TOP)
			err = ept_map(&v->ept, ROM_ALIAS_TOP, v->ram_hpa + ROM_ALIAS_TOP,
				      v->ram_size - ROM_ALIAS_TOP, rwx, EPT_MT_WB);
	} else {
		err = ept_map(&v->ept, 0, v->ram_hpa, v->ram_size, rwx, EPT_MT_WB);
	}
	if (!err)
		err = ept_map(&v->ept, alias_base, v->rom_hpa + v->rom_size - alias, alias, rx,
			      EPT_MT_WB);
	if (!err)
		err = ept_map(&v->ept, FOUR_GIB - v->rom_size, v->rom_hpa, v->rom_size, rx,
			      EPT_MT_WB);
	/* APIC virtualisation: the CPU recognises xAPIC accesses by this page. */
	if (!err && vsi_arch_apic_access_page())
		err = ept_map(&v->ept, XAPIC_GPA, vsi_arch_apic_access_page(), PAGE_SIZE,
			      EPT_READ_BIT | EPT_WRITE_BIT, EPT_MT_WB);
	return err;
}

/*
 * The ROM module copied top-aligned into fresh pages: the reset vector is its
 * last 16 bytes. A split OVMF build's variable store (vars =) goes right below
 * its code, where a whole OVMF.fd has it, and is ROM like the rest.
 */
static int vsi_load_rom(struct vsi *v)
{
	const struct boot_module *m = boot_module_find(v->cfg->rom);
	const struct boot_module *vars = v->cfg->vars[0] ? boot_module_find(v->cfg->vars) : NULL;
	u64 code_size, vars_size = 0;

	if (!m || m->size == 0 || (v->cfg->vars[0] && !vars))
		return -ENOENT; /* the configuration check makes this unreachable */
	code_size = ALIGN_UP(m->size, PAGE_SIZE);
	if (vars)
		vars_size = ALIGN_UP(vars->size, PAGE_SIZE);
	v->rom_size = vars_size + code_size;
	v->rom_hpa = page_alloc_try(v->rom_size, PAGE_SIZE, 0);
	if (!v->rom_hpa)
		return -ENOMEM;
	memset((void *)(uintptr_t)v->rom_hpa, 0, v->rom_size);
	if (vars)
		memcpy((void *)(uintptr_t)(v->rom_hpa + vars_size - vars->size),
		       (const void *)(uintptr_t)vars->base, vars->size);
	memcpy((void *)(uintptr_t)(v->rom_hpa + v->rom_size - m->size),
	       (const void *)(uintptr_t)m->base, m->size);
	return 0;
}

static void vcpu_thread(void *arg);

/* "1,2,3": the physical CPUs of a VSI, for messages. */
static void cpu_list(const struct vsi_config *c, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (u32 i = 0; i < c->nr_cpus && n < len; i++)
		n += snprintf(buf + n, len - n, "%s%u", i ? "," : "", c->cpus[i]);
}

static int vsi_create(struct vsi *v, const struct vsi_config *c, u32 id)
{
	struct ept_mem mem = { ept_page_alloc, ept_page_free, ept_page_virt, NULL };
	bool use_2m, use_1g;
	char cpus[64];
	int err;

	v->id = id;
	v->cfg = c;
	v->name = c->name;
	v->ram_size = c->ram_size;
	v->ram_hpa = page_alloc_try(c->ram_size, 2 * MiB, 0);
	if (!v->ram_hpa) {
		pr_err("vsi %s: no contiguous %llu MiB of RAM free", v->name,
		       (unsigned long long)(c->ram_size / MiB));
		return -ENOMEM;
	}
	memset((void *)(uintptr_t)v->ram_hpa, 0, v->ram_size);
	err = vsi_load_rom(v);
	vsi_arch_ept_caps(&use_2m, &use_1g);
	if (!err)
		err = ept_init(&v->ept, &mem, use_2m, use_1g);
	if (!err)
		err = vsi_map(v);
	if (err) {
		pr_err("vsi %s: cannot build its memory (%d)", v->name, err);
		return err;
	}
	v->nr_vcpus = c->nr_cpus;
	v->vcpus = page_alloc_zeroed(sizeof(struct vcpu) * c->nr_cpus, PAGE_SIZE, 0);
	for (u32 i = 0; i < c->nr_cpus; i++) {
		v->vcpus[i].vsi = v;
		v->vcpus[i].index = i;
		v->vcpus[i].pcpu = c->cpus[i];
		v->vcpus[i].arch.sipi_vector = ~0U;
	}
	vsi_platform_init(v);
	cpu_list(c, cpus, sizeof(cpus));
	pr_info("vsi %s: %llu MiB RAM at host 0x%llx, ROM '%s'%s%s %llu KiB, %u vCPUs on CPUs %s",
		v->name, (unsigned long long)(v->ram_size / MiB), (unsigned long long)v->ram_hpa,
		c->rom, c->vars[0] ? " with variable store " : "", c->vars,
		(unsigned long long)(v->rom_size / KiB), v->nr_vcpus, cpus);
	return 0;
}

/* Start the vCPU threads on their CPUs; each builds its VMCS there. */
static int vsi_spawn(struct vsi *v)
{
	for (u32 i = 0; i < v->nr_vcpus; i++)
		if (!smp_run_on(v->vcpus[i].pcpu, vcpu_thread, &v->vcpus[i])) {
			pr_err("vsi %s: CPU %u is not available for vCPU %u", v->name,
			       v->vcpus[i].pcpu, i);
			return -EBUSY;
		}
	return 0;
}

int vsi_init_all(const struct hv_config *cfg)
{
	int err = 0;

	for (u32 i = 0; i < cfg->nr_vsis; i++) {
		struct vsi *v = &vsis[nr_vsis];

		if (vsi_create(v, &cfg->vsi[i], nr_vsis) || vsi_spawn(v)) {
			err = -EIO;
			continue; /* the others still start */
		}
		nr_vsis++;
		if (vdisk_attach(v)) {
			v->state = VSI_FAULTED;
			snprintf(v->report, sizeof(v->report), "its disk cannot be attached");
			continue;
		}
		if (vnet_attach(v)) {
			v->state = VSI_FAULTED;
			snprintf(v->report, sizeof(v->report),
				 "its network device cannot be attached");
			continue;
		}
		if (cfg->vsi[i].autostart && v->plat.disk) {
			v->start_with_disk = true; /* the firmware boots from it: wait for it */
			pr_info("vsi %s: waiting for its disk before starting", v->name);
		} else if (cfg->vsi[i].autostart) {
			vsi_start(v);
		}
	}
	return err;
}

/* Ask every vCPU of v to leave the guest, and wait (bounded) until all have parked. */
static int vsi_park_vcpus(struct vsi *v, u32 req)
{
	u64 deadline;

	__atomic_store_n(&v->request, req, __ATOMIC_SEQ_CST);
	for (u32 i = 0; i < v->nr_vcpus; i++)
		vcpu_kick(&v->vcpus[i]);
	deadline = rdtsc() + tsc_hz() / 1000 * STOP_TIMEOUT_MS;
	for (u32 i = 0; i < v->nr_vcpus; i++)
		while (v->vcpus[i].run_state != VCPU_PARKED) {
			if (rdtsc() > deadline) {
				pr_err("vsi %s: vCPU %u did not stop within %d ms", v->name, i,
				       STOP_TIMEOUT_MS);
				return -ETIMEDOUT;
			}
			cpu_relax();
		}
	return 0;
}

/*
 * Take the RAM back: first the disk device, so that no request still in
 * flight can write into it (its completions then land in the device's
 * bounce area and are dropped), then zero it.
 */
static void vsi_zero_ram(struct vsi *v)
{
	if (v->plat.disk)
		vdisk_reset(v->plat.disk);
	if (v->plat.net)
		vnet_reset(v->plat.net);
	memset((void *)(uintptr_t)v->ram_hpa, 0, v->ram_size);
}

int vsi_start(struct vsi *v)
{
	if (v->state == VSI_RUNNING) {
		pr_warn("vsi %s: already running", v->name);
		return -EBUSY;
	}
	if (v->plat.disk && vdisk_refused(v->plat.disk)) {
		pr_err("vsi %s: not started: its export was refused (the reason is logged above)",
		       v->name);
		return -ENODEV;
	}
	if (v->plat.disk && !vdisk_ready(v->plat.disk)) {
		pr_warn("vsi %s: its disk is not connected yet; it starts when it is", v->name);
		v->start_with_disk = true;
		return -EAGAIN;
	}
	__atomic_store_n(&v->request, VSI_REQ_NONE, __ATOMIC_SEQ_CST);
	vsi_platform_reset(v);
	v->state = VSI_RUNNING;
	__atomic_add_fetch(&v->run_gen, 1, __ATOMIC_SEQ_CST);
	for (u32 i = 0; i < v->nr_vcpus; i++)
		vcpu_kick(&v->vcpus[i]);
	/* The TSC is not offset: this count places the VSI's own TSC readings. */
	pr_info("vsi %s: started at TSC %llu", v->name, (unsigned long long)rdtsc());
	return 0;
}

int vsi_stop(struct vsi *v)
{
	if (v->state != VSI_RUNNING) {
		pr_warn("vsi %s: not running (%s)", v->name, vsi_state_name(v->state));
		return -EINVAL;
	}
	if (vsi_park_vcpus(v, VSI_REQ_STOP))
		return -ETIMEDOUT;
	vsi_zero_ram(v);
	v->state = VSI_STOPPED;
	pr_info("vsi %s: stopped, RAM zeroed", v->name);
	return 0;
}

int vsi_reset(struct vsi *v)
{
	if (v->state == VSI_RUNNING && vsi_park_vcpus(v, VSI_REQ_RESET))
		return -ETIMEDOUT;
	vsi_zero_ram(v);
	v->resets++;
	v->state = VSI_STOPPED;
	pr_info("vsi %s: reset (%u so far)", v->name, v->resets);
	return vsi_start(v);
}

/* A vCPU faulted (its report is printed): stop the others, zero the RAM. */
static void vsi_fault_stop(struct vsi *v)
{
	vsi_park_vcpus(v, VSI_REQ_FAULT);
	vsi_zero_ram(v);
	v->state = VSI_FAULTED;
	pr_err("vsi %s: faulted and stopped: %s; the other VSIs go on", v->name, v->report);
}

bool vsi_poll(void)
{
	bool busy = false;

	for (u32 i = 0; i < nr_vsis; i++) {
		struct vsi *v = &vsis[i];

		if (v->plat.disk) {
			busy |= vdisk_poll(v->plat.disk);
			if (v->start_with_disk && vdisk_refused(v->plat.disk)) {
				v->start_with_disk = false;
				vsi_start(v); /* says why it does not start */
			}
			if (v->start_with_disk && vdisk_ready(v->plat.disk)) {
				v->start_with_disk = false;
				vsi_start(v);
			}
		}
		if (v->state != VSI_RUNNING)
			continue;
		switch (v->request) {
		case VSI_REQ_RESET:
			vsi_reset(v);
			break;
		case VSI_REQ_FAULT:
			vsi_fault_stop(v);
			break;
		case VSI_REQ_STOP:
			vsi_stop(v);
			break;
		case VSI_REQ_POWEROFF:
			pr_info("vsi %s: powered off by the guest (ACPI S5)", v->name);
			vsi_stop(v);
			break;
		}
	}
	return busy;
}

bool vsi_post_request(struct vsi *v, u32 req)
{
	u32 none = VSI_REQ_NONE;
	bool posted = __atomic_compare_exchange_n(&v->request, &none, req, false, __ATOMIC_SEQ_CST,
						  __ATOMIC_SEQ_CST);

	for (u32 i = 0; i < v->nr_vcpus; i++)
		vcpu_kick(&v->vcpus[i]); /* the others leave the guest too */
	service_kick();
	return posted;
}

void vsi_fault(struct vcpu *vc, const char *fmt, ...)
{
	struct vsi *v = vc->vsi;
	char msg[VSI_REPORT_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (vsi_post_request(v, VSI_REQ_FAULT))
		snprintf(v->report, sizeof(v->report), "vCPU %u: %s", vc->index, msg);
}

/*
 * A vCPU's life on its physical CPU: build the VMCS once, then for every run
 * generation (start, reset) run the guest until the VSI has a request.
 */
static void vcpu_thread(void *arg)
{
	struct vcpu *vc = arg;
	struct vsi *v = vc->vsi;

	if (vcpu_arch_init(vc)) {
		snprintf(v->report, sizeof(v->report), "vCPU %u: VMCS setup failed", vc->index);
		vc->run_state = VCPU_PARKED;
		vsi_post_request(v, VSI_REQ_FAULT);
		for (;;) /* this CPU can do nothing for the VSI */
			asm volatile("sti; hlt; cli" ::: "memory");
	}
	for (;;) {
		vc->run_state = VCPU_PARKED;
		while (v->run_gen == vc->seen_gen || v->request != VSI_REQ_NONE ||
		       v->state != VSI_RUNNING)
			asm volatile("sti; hlt; cli" ::: "memory");
		vc->seen_gen = v->run_gen;
		vcpu_arch_reset(vc);
		vc->run_state = vc->index == 0 ? VCPU_RUNNING : VCPU_WAIT_SIPI;
		vcpu_arch_run(vc);
	}
}

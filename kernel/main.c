/*
 * kernel_main: the shared path after either loader's hand-off. Memory, own
 * page tables, ACPI, LAPIC and timer, the other CPUs, then VMX everywhere.
 */
#include <acpi/acpi.h>
#include <asm/cpu.h>
#include <asm/lapic.h>
#include <asm/paging.h>
#include <asm/percpu.h>
#include <asm/smp.h>
#include <asm/spinlock.h>
#include <asm/vmx.h>
#include <asm/trap.h>
#include <hv/config.h>
#include <hv/errno.h>
#include <hv/kernel.h>
#include <hv/log.h>
#include <hv/printf.h>
#include <hv/netdev_selftest.h>
#include <hv/string.h>
#include <hv/netsw.h>
#include <hv/storage.h>
#include <hv/vsi.h>
#include <uart/uart.h>

#define HV_VERSION	"0.1"
#define SERVICE_HZ	100	   /* the service CPU's wake-up rate */
#define VSI_RAM_RESERVE (16 * MiB) /* kept back for EPT tables, VMCS pages, ROM copies */

struct boot_info boot_info;
struct frame_alloc frames;
static spinlock_t frames_lock;
static struct acpi_info acpi;
static volatile int vmx_errors;
static struct hv_config config;
static volatile u32 service_cpu;

u64 page_alloc_try(u64 size, u64 align, u64 limit)
{
	u64 pa;

	spin_lock(&frames_lock);
	pa = frame_alloc(&frames, size, align, limit);
	spin_unlock(&frames_lock);
	return pa;
}

void page_free(u64 pa, u64 size)
{
	spin_lock(&frames_lock);
	if (frame_free(&frames, pa, ALIGN_UP(size, PAGE_SIZE)))
		panic("mem: freeing 0x%llx (%llu bytes) that is not allocated",
		      (unsigned long long)pa, (unsigned long long)size);
	spin_unlock(&frames_lock);
}

const struct boot_module *boot_module_find(const char *name)
{
	for (u32 i = 0; i < boot_info.nr_modules; i++)
		if (!strcmp(boot_info.modules[i].name, name))
			return &boot_info.modules[i];
	return NULL;
}

void *page_alloc_zeroed(u64 size, u64 align, u64 limit)
{
	u64 pa = page_alloc_try(size, align, limit);

	if (!pa)
		panic("out of memory allocating %llu bytes", (unsigned long long)size);
	return memset((void *)(uintptr_t)pa, 0, ALIGN_UP(size, PAGE_SIZE));
}

bool cmdline_get(const char *cmdline, const char *key, char *buf, size_t len)
{
	size_t klen = strlen(key);

	for (const char *p = cmdline; *p;) {
		while (*p == ' ')
			p++;
		const char *end = p;
		while (*end && *end != ' ')
			end++;
		if (!strncmp(p, key, klen) && (p[klen] == '=' || p + klen == end)) {
			const char *v = p[klen] == '=' ? p + klen + 1 : end;
			size_t n = MIN((size_t)(end - v), len - 1);
			memcpy(buf, v, n);
			buf[n] = '\0';
			return true;
		}
		p = end;
	}
	return false;
}

/* Decimal digits at s (stops at the first non-digit); 0 if none. */
static u32 parse_u32(const char *s)
{
	u32 v = 0;

	for (; *s >= '0' && *s <= '9'; s++)
		v = v * 10 + (*s - '0');
	return v;
}

static void set_log_level(void)
{
	static const char *const names[] = { "err", "warn", "info", "debug" };
	char v[16];

	if (!cmdline_get(boot_info.cmdline, "loglevel", v, sizeof(v)))
		return;
	for (u32 i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(v, names[i])) {
			log_set_level(i);
			return;
		}
	pr_warn("cmdline: unknown loglevel '%s' (err, warn, info, debug); keeping info", v);
}

static void reserve(u64 base, u64 size, const char *what)
{
	if (frame_reserve(&frames, base, size))
		panic("mem: cannot reserve %s at 0x%llx: extent table full", what,
		      (unsigned long long)base);
}

/* Print the map, build the allocator and take out everything in use. */
static void memory_init(void)
{
	const struct memmap *m = &boot_info.mem;
	u64 kstart = (u64)(uintptr_t)__kernel_start, kend = (u64)(uintptr_t)__kernel_end;

	for (u32 i = 0; i < m->nr; i++)
		pr_info("mem: [0x%012llx-0x%012llx] %-8s %llu KiB",
			(unsigned long long)m->r[i].base,
			(unsigned long long)(m->r[i].base + m->r[i].size - 1),
			memmap_type_name(m->r[i].type), (unsigned long long)(m->r[i].size / KiB));
	if (frame_alloc_init(&frames, m))
		panic("mem: memory map has more usable ranges than the allocator holds");
	reserve(kstart, kend - kstart, "the hypervisor image");
	for (u32 i = 0; i < boot_info.nr_modules; i++)
		reserve(boot_info.modules[i].base, boot_info.modules[i].size, "a module");
	pr_info("mem: usable %llu KiB, acpi %llu KiB, reserved %llu KiB, mmio %llu KiB",
		(unsigned long long)(memmap_total(m, MEM_USABLE) / KiB),
		(unsigned long long)(memmap_total(m, MEM_ACPI) / KiB),
		(unsigned long long)(memmap_total(m, MEM_RESERVED) / KiB),
		(unsigned long long)(memmap_total(m, MEM_MMIO) / KiB));
	pr_info("mem: image 0x%llx-0x%llx (%llu KiB), %u modules, %llu KiB free",
		(unsigned long long)kstart, (unsigned long long)kend,
		(unsigned long long)((kend - kstart) / KiB), boot_info.nr_modules,
		(unsigned long long)(frame_free_bytes(&frames) / KiB));
	for (u32 i = 0; i < boot_info.nr_modules; i++)
		pr_info("mem: module '%s' at 0x%llx, %llu bytes", boot_info.modules[i].name,
			(unsigned long long)boot_info.modules[i].base,
			(unsigned long long)boot_info.modules[i].size);
}

static const void *phys_map(void *ctx, u64 phys, u64 len)
{
	/*
	 * Everything below the top of the identity map is reachable except page
	 * 0, which paging_init() leaves unmapped: so the BDA's EBDA pointer
	 * cannot be read, and the legacy RSDP scan covers the BIOS area only.
	 */
	if (phys < PAGE_SIZE || phys + len < phys)
		return NULL;
	return (const void *)(uintptr_t)phys;
}

static void acpi_init(void)
{
	struct acpi_mem mem = { phys_map, NULL };
	u64 rsdp = boot_info.rsdp;

	if (!rsdp)
		rsdp = acpi_find_rsdp_legacy(&mem);
	if (!rsdp || acpi_parse(&acpi, rsdp, &mem) || acpi.nr_cpus == 0) {
		pr_warn("acpi: no usable MADT; running on the boot CPU only");
		acpi.nr_cpus = 0;
		return;
	}
	pr_info("acpi: RSDP at 0x%llx, revision %u", (unsigned long long)rsdp, acpi.rsdp_revision);
}

/*
 * Deliberate faults for the tests of the fault dump and of W^X
 * (selftest=fault|write-text|exec-data on the command line).
 */
static __attribute__((noinline)) void selftest_trigger_fault(void)
{
	u64 *volatile target = (u64 *)(uintptr_t)0x8; /* in the unmapped page 0 */

	pr_info("selftest: writing to the unmapped page 0");
	*target = 0xdead;
}

static __attribute__((noinline)) void selftest_write_text(void)
{
	u8 *volatile target = (u8 *)(uintptr_t)selftest_trigger_fault;

	pr_info("selftest: writing to the image's text at %p", (void *)target);
	*target = 0xcc;
}

static __attribute__((noinline)) void selftest_exec_data(void)
{
	static u8 ret_insn[16] = { 0xc3 }; /* RET, in .data */
	void (*volatile fn)(void) = (void (*)(void))(uintptr_t)ret_insn;

	pr_info("selftest: calling into .data at %p", (void *)ret_insn);
	fn();
}

/* The exception table: an XSETBV the CPU refuses (XCR0 = 0) must come back, not dump. */
static void selftest_extable(void)
{
	if (!(read_cr4() & X86_CR4_OSXSAVE)) {
		pr_warn("selftest: no XSAVE on this CPU: the fixup cannot be exercised");
		return;
	}
	if (xsetbv_safe(0, 0) == -1 && xsetbv_safe(0, 1) == 0)
		pr_info("selftest: XSETBV XCR0=0 faulted and was fixed up; XCR0=1 went through");
	else
		pr_err("selftest: the exception fixup did not behave");
}

/*
 * Every selftest= name. fn runs at the point selftests() is called; NULL
 * means the test acts elsewhere (SMP bring-up, a vCPU's first entry, the
 * NIC probe, the storage path). faults: it must not return.
 */
static const struct {
	const char *name;
	void (*fn)(void);
	bool faults;
} selftest_table[] = {
	{ "extable", selftest_extable, false },
	{ "fault", selftest_trigger_fault, true },
	{ "write-text", selftest_write_text, true },
	{ "exec-data", selftest_exec_data, true },
	{ "ap-silent:N", NULL, false },
	{ "bad-guest-state", NULL, false },
	{ "console-fault", NULL, false },
	{ "nic", NULL, false },
	{ "nbd", NULL, false },
	{ "nbd-soak", NULL, false },
	{ "nbd-bench", NULL, false },
};

/* v names table entry e ("ap-silent:N" stands for "ap-silent:<number>"). */
static bool selftest_matches(const char *v, const char *e)
{
	const char *colon = strchr(e, ':');

	return colon ? !strncmp(v, e, colon - e + 1) : !strcmp(v, e);
}

bool selftest_enabled(const char *name)
{
	char v[32];

	return cmdline_get(boot_info.cmdline, "selftest", v, sizeof(v)) && !strcmp(v, name);
}

/* selftest=ap-silent:N makes the AP with APIC ID N ignore its start-up. */
static void selftest_early(void)
{
	char v[32];

	if (cmdline_get(boot_info.cmdline, "selftest", v, sizeof(v)) &&
	    !strncmp(v, "ap-silent:", 10))
		smp_test_silence(parse_u32(v + 10));
}

static void selftests(void)
{
	char v[32], known[160];
	size_t n = 0;

	if (!cmdline_get(boot_info.cmdline, "selftest", v, sizeof(v)))
		return;
	for (u32 i = 0; i < ARRAY_SIZE(selftest_table); i++) {
		if (!selftest_matches(v, selftest_table[i].name))
			continue;
		if (selftest_table[i].fn) {
			selftest_table[i].fn();
			if (selftest_table[i].faults)
				pr_err("selftest: '%s' did not fault", v);
		}
		return;
	}
	for (u32 i = 0; i < ARRAY_SIZE(selftest_table) && n < sizeof(known); i++)
		n += snprintf(known + n, sizeof(known) - n, "%s%s", i ? ", " : "",
			      selftest_table[i].name);
	pr_warn("cmdline: unknown selftest '%s' (known: %s)", v, known);
}

static void vmx_enable_here(void *unused)
{
	if (vmx_cpu_enable())
		__atomic_add_fetch(&vmx_errors, 1, __ATOMIC_SEQ_CST);
}

/* VMXON on every online CPU; true when all of them are in VMX root. */
static bool vmx_init_all(void)
{
	u32 in_root = 0;

	if (vmx_probe())
		return false;
	vmx_enable_here(NULL);
	smp_call_all(vmx_enable_here, NULL);
	for (u32 i = 0; i < nr_cpus; i++)
		if (cpus[i] && cpus[i]->state == CPU_VMX_ROOT)
			in_root++;
	pr_info("vmx: %u of %u CPUs in VMX root operation", in_root, nr_cpus);
	return vmx_errors == 0 && in_root == nr_cpus;
}

void service_kick(void)
{
	if (cpu_id() != service_cpu)
		lapic_send_ipi(cpus[service_cpu]->apic_id, APIC_ICR_DM_FIXED | VECTOR_KICK);
}

/* The service CPU: console and VSI lifecycle, woken by its timer or by kicks. */
static void service_loop(void *unused)
{
	service_cpu = cpu_id();
	lapic_timer_periodic(VECTOR_TIMER, SERVICE_HZ);
	pr_info("hv: service CPU %u: console ready ('help' lists the commands)", service_cpu);
	for (;;) {
		console_poll();
		bool busy = storage_poll();
		busy |= vsi_poll();
		busy |= netsw_poll(storage_now_ms());
		if (busy)
			continue; /* traffic in flight: keep polling the NIC and the disks */
		asm volatile("sti; hlt; cli" ::: "memory");
	}
}

/* Read, check and apply the configuration module; false when there is nothing valid to run. */
static bool load_config(void)
{
	static const char *names[BOOT_MODULES_MAX];
	static u64 sizes[BOOT_MODULES_MAX];
	static const void *data[BOOT_MODULES_MAX];
	static struct config_errors errs;
	char file[BOOT_MODNAME_MAX] = "hv.cfg";
	const struct boot_module *m;
	struct config_env env;
	u64 avail = frame_free_bytes(&frames);

	cmdline_get(boot_info.cmdline, "config", file, sizeof(file));
	m = boot_module_find(file);
	if (!m) {
		pr_info("config: no module '%s': no VSIs to start", file);
		return false;
	}
	for (u32 i = 0; i < boot_info.nr_modules; i++) {
		names[i] = boot_info.modules[i].name;
		sizes[i] = boot_info.modules[i].size;
		data[i] = (const void *)(uintptr_t)boot_info.modules[i].base;
	}
	env = (struct config_env){ nr_cpus, avail > VSI_RAM_RESERVE ? avail - VSI_RAM_RESERVE : 0,
				   names,   boot_info.nr_modules,
				   sizes,   data };
	if (config_parse((const char *)(uintptr_t)m->base, m->size, &env, &config, &errs)) {
		config_report(file, &errs);
		pr_err("config: %s rejected (%u problem%s): no VSI started", file, errs.nr,
		       errs.nr == 1 ? "" : "s");
		return false;
	}
	if (config.log_level >= 0)
		log_set_level(config.log_level);
	pr_info("config: %s: %u VSIs, service CPU %u", file, config.nr_vsis, config.service_cpu);
	return true;
}

/*
 * Start the VSIs (with VT-x) and the storage path (with or without), then
 * become the service CPU, or hand that role over and run vCPUs.
 */
static __noreturn void run(bool vmx_ok)
{
	u32 svc = 0;
	bool have_config = load_config();

	if (have_config) {
		netsw_init(&config);   /* the switch, before the devices join it */
		storage_init(&config); /* first: a VSI's disk is attached when it is built */
	}
	if (have_config && vmx_ok) {
		vsi_init_all(&config);
		svc = config.service_cpu;
	} else if (have_config && config.nr_vsis) {
		pr_err("hv: %u VSIs configured, none started: VT-x is not usable", config.nr_vsis);
	}
	if (!vmx_ok && !storage_active()) {
		pr_err("hv: halted: VMX could not be enabled on every CPU (see above)");
		for (;;)
			halt();
	}
	pr_info("hv: ready: %u CPUs in VMX root, %u VSIs", nr_cpus, nr_vsis);
	if (svc != 0 && smp_run_on(svc, service_loop, NULL))
		smp_worker_loop(); /* CPU 0 may then run a vCPU */
	service_loop(NULL);
	for (;;)
		halt();
}

static void check_boot_info(const struct boot_info *bi)
{
	if (bi->magic != BOOT_INFO_MAGIC || bi->version != BOOT_INFO_VERSION)
		panic("boot: bad boot_info (magic 0x%llx, version %u): loader and image disagree",
		      (unsigned long long)bi->magic, bi->version);
	memcpy(&boot_info, bi, sizeof(boot_info));
	boot_info.cmdline[BOOT_CMDLINE_MAX - 1] = '\0';
	boot_info.nr_modules = MIN(boot_info.nr_modules, BOOT_MODULES_MAX);
}

__noreturn void kernel_main(const struct boot_info *bi)
{
	uart_init(UART_COM1);
	smp_init_bsp();
	pr_info("hv " HV_VERSION ": microhypervisor starting");
	check_boot_info(bi);
	set_log_level();
	pr_info("boot: loader '%s', command line '%s'", boot_info.loader_name, boot_info.cmdline);
	memory_init();
	paging_init();
	acpi_init();
	lapic_init();
	timer_calibrate();
	selftest_early();
	smp_boot(&acpi);
	selftests();
	netdev_selftest();
	run(vmx_init_all());
}

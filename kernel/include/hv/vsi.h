/*
 * VSIs: isolated guests on dedicated physical CPUs. The service CPU owns
 * every lifecycle change (start, stop, reset, fault); a vCPU that needs one
 * posts a request and returns to its thread, which waits for the next run.
 * See docs/vsi-platform.md for what the guest sees.
 */
#ifndef HV_VSI_H
#define HV_VSI_H

#include <asm/ept.h>
#include <asm/spinlock.h>
#include <asm/vcpu.h>
#include <hv/config.h>
#include <hv/fw_cfg.h>
#include <hv/piix.h>
#include <hv/vioapic.h>
#include <hv/types.h>
#include <hv/vlapic.h>

#define VSI_MAX		  CONFIG_MAX_VSIS
#define VSI_EXIT_COUNTERS 80 /* indexed by the basic exit reason */
#define VSI_UART_LINE	  160
#define VSI_UART_RX	  64 /* bytes of console input waiting for the guest */
#define VSI_REPORT_MAX	  96

enum vsi_state {
	VSI_CREATED = 0, /* memory and EPT ready, never run */
	VSI_RUNNING,
	VSI_STOPPED, /* stopped by the console; RAM zeroed */
	VSI_FAULTED, /* stopped because the guest did something we cannot run */
};

/* What the service CPU is asked to do with a VSI (posted by vCPUs or the console). */
enum vsi_request {
	VSI_REQ_NONE = 0,
	VSI_REQ_STOP,
	VSI_REQ_RESET,
	VSI_REQ_FAULT,
	VSI_REQ_POWEROFF, /* the guest entered ACPI S5 */
};

enum vcpu_run_state {
	VCPU_PARKED = 0, /* in its thread, not running guest code */
	VCPU_WAIT_SIPI,	 /* an AP of a running VSI, waiting for INIT-SIPI */
	VCPU_RUNNING,
};

struct vsi;

struct vcpu {
	struct vsi *vsi;
	u32 index; /* within the VSI; also its APIC ID */
	u32 pcpu;  /* the physical CPU it is pinned to */
	volatile u32 run_state;
	u32 seen_gen; /* the last run generation this vCPU started */
	u64 exits[VSI_EXIT_COUNTERS];
	u64 io_unclaimed;   /* accesses to ports nothing decodes */
	u64 msr_denied;	    /* RDMSR/WRMSR that got #GP */
	u64 ipi_dropped;    /* IPIs to destinations outside the VSI */
	u64 mmio_unclaimed; /* MMIO accesses nothing decodes */
	u64 rom_writes;	    /* of them, writes to the ROM */
	u64 pm_timer_reads; /* through the fast path (OVMF) */
	struct vlapic lapic;
	struct vcpu_arch arch;
};

struct vsi_uart {
	spinlock_t lock;
	u32 len;
	char line[VSI_UART_LINE];
	u8 regs[8];	    /* what the guest wrote to the other registers */
	bool thri_pending;  /* a transmitter-empty interrupt is waiting to be seen */
	u8 rx[VSI_UART_RX]; /* typed on the console while attached, not yet read */
	u32 rx_head, rx_len;
	u64 rx_dropped; /* typed while rx was full */
	bool attached;	/* the console is attached: output goes out as it comes */
};

struct vsi_disk;
struct vsi_net;

/* The VSI's platform devices besides the UART (kernel/vsi_platform.c). */
struct vsi_platform {
	spinlock_t lock; /* every device below */
	struct fw_cfg fw_cfg;
	struct vioapic ioapic;
	u32 pci_addr;	       /* CONFIG_ADDRESS, port 0xCF8 */
	u8 rtc_index;	       /* CMOS index, port 0x70 */
	u8 pic_mask[2];	       /* 8259 IMRs, as written; nothing is ever raised */
	struct vsi_disk *disk; /* virtio-blk at 00:01.0 (00:03.0 with OVMF), or NULL */
	struct vsi_net *net;   /* virtio-net at 00:02.0, or NULL */
	struct piix piix;      /* OVMF's chipset (kernel/vsi_ovmf.c) */
	u64 msi_dropped;       /* MSIs to addresses that are no local APIC */
};

struct vsi {
	u32 id;
	const struct vsi_config *cfg;
	const char *name;
	volatile u32 state;   /* enum vsi_state */
	volatile u32 request; /* enum vsi_request */
	volatile u32 run_gen; /* bumped by every start; vCPU threads wait for it */
	u32 resets;
	bool start_with_disk; /* start once its disk is connected */
	u64 ram_hpa, ram_size;
	u64 rom_hpa, rom_size;
	struct ept ept;
	struct vsi_uart uart;
	struct vsi_platform plat;
	char report[VSI_REPORT_MAX]; /* why it faulted */
	u32 nr_vcpus;
	struct vcpu *vcpus; /* nr_vcpus of them */
};

extern struct vsi vsis[VSI_MAX];
extern u32 nr_vsis;

/* Build every VSI of the configuration (memory, EPT, vCPU threads); autostart. */
int vsi_init_all(const struct hv_config *cfg);
/* Lifecycle, service CPU only. 0 or -errno with a message. */
int vsi_start(struct vsi *v);
int vsi_stop(struct vsi *v);
int vsi_reset(struct vsi *v);
struct vsi *vsi_find(const char *name);
const char *vsi_state_name(u32 state);
/* Handle posted requests and run the VSIs' disks; the service loop calls it. True while disk work is in flight. */
bool vsi_poll(void);

/* From a vCPU: ask the service CPU for a reset/stop/fault; false if one is already pending. */
bool vsi_post_request(struct vsi *v, u32 req);
/* From a vCPU: record why the VSI faults and post VSI_REQ_FAULT. */
void vsi_fault(struct vcpu *vc, const char *fmt, ...) __printf(2, 3);

/* The guest's 16550: one byte written to port base+offset / read from it. */
void vsi_uart_write(struct vsi *v, u32 offset, u8 val);
u8 vsi_uart_read(struct vsi *v, u32 offset);
/* A byte typed for the guest (the console's attach); false if it had to be dropped. */
bool vsi_uart_receive(struct vsi *v, u8 byte);
/*
 * Attach the console to the VSI's COM1 or detach it: while attached its
 * output is printed as it comes, not by lines, so that prompts and echoed
 * input show; an unfinished line is printed first. Returns the bytes
 * dropped since the last attach.
 */
u64 vsi_uart_attach(struct vsi *v, bool attach);
/* Forget unread input (the VSI's reset). */
void vsi_uart_reset(struct vsi *v);

/* Architecture hooks (arch/x86_64/vmx/vcpu.c). */
int vcpu_arch_init(struct vcpu *vc);
/* Put the vCPU's guest state back to the reset state (on its own CPU). */
void vcpu_arch_reset(struct vcpu *vc);
/* The page to map at the xAPIC address for APIC virtualisation, or 0. */
u64 vsi_arch_apic_access_page(void);
/* Which large EPT pages this machine can use. */
void vsi_arch_ept_caps(bool *use_2m, bool *use_1g);
/* Run the vCPU until its VSI has a request; returns to the thread. */
void vcpu_arch_run(struct vcpu *vc);
/* Wake the physical CPU of vc (IPI) so it notices a request or an interrupt. */
void vcpu_kick(struct vcpu *vc);
/* Name of exit counter i (the basic exit reason), for the console. */
const char *vcpu_arch_exit_name(u32 reason);

/* Wake the service CPU (it polls VSI requests and the console). */
void service_kick(void);

/* Host pointer to [gpa, gpa+len) of the VSI's RAM, or NULL unless all of it is RAM. */
void *vsi_gpa_to_hva(struct vsi *v, u64 gpa, u64 len);
/* The same for reading what the guest sees there, ROM and its alias included. */
void *vsi_gpa_to_hva_code(struct vsi *v, u64 gpa, u64 len);

/* Platform devices (kernel/vsi_platform.c), on the vCPU's CPU. */
enum vsi_access {
	VSI_ACCESS_DONE = 0,  /* handled */
	VSI_ACCESS_UNCLAIMED, /* nothing there: reads all-ones, writes dropped (counted) */
	VSI_ACCESS_LEAVE,     /* handled, and the VSI has a request (reset, power-off) */
};
enum vsi_access vsi_io(struct vcpu *vc, u32 port, u32 size, bool in, u32 *val);
enum vsi_access vsi_mmio(struct vcpu *vc, u64 gpa, u32 size, bool write, u64 *val);
void vsi_platform_init(struct vsi *v);
void vsi_platform_reset(struct vsi *v);
/* The OVMF platform (kernel/vsi_ovmf.c): bus 0 as on i440FX, PIIX4 PM registers. */
bool vsi_is_ovmf(const struct vsi *v);
void vsi_ovmf_init(struct vsi *v);
void vsi_ovmf_reset(struct vsi *v);
enum vsi_access vsi_ovmf_pci(struct vsi *v, u32 dev, u32 fn, u32 reg, u32 size, bool in, u32 *val);
enum vsi_access vsi_ovmf_io(struct vsi *v, u32 port, u32 size, bool in, u32 *val);
/* The PM timer read, before any lock or dispatch; false if the access is something else. */
bool vsi_pm_timer_fast(struct vcpu *vc, u32 port, u32 size, bool in, u32 *val);
/* Level of an IOAPIC input pin (any CPU). */
void vsi_platform_set_irq(struct vsi *v, u32 pin, bool level);
/* A local APIC's EOI of a level-triggered vector. */
void vsi_platform_eoi(struct vsi *v, u32 vector);
/* An MSI write (address, data) from a device of the VSI (any CPU). */
void vsi_msi(struct vsi *v, u64 addr, u32 data);
/* Interrupt delivery to one vCPU (arch): fixed, NMI, INIT, SIPI. */
void vcpu_deliver(struct vcpu *target, u32 mode, u32 vector);
/* Accept a fixed interrupt, level-triggered or edge, and wake the vCPU. */
void vcpu_deliver_fixed(struct vcpu *target, u32 vector, bool level);

#define VSI_UART_IRQ 4

#endif

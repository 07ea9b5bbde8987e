/*
 * The hypervisor configuration file (docs/config.md): an INI-like text with a
 * [hypervisor] section and one [vsi NAME] section per VSI. config_parse()
 * checks all of it against what the machine offers before anything is
 * allocated, and reports every problem with its line number and a fix.
 * Portable: builds into the image, the host unit tests and the fuzzer.
 */
#ifndef HV_CONFIG_H
#define HV_CONFIG_H

#include <hv/types.h>
#include <boot_info.h>

#define CONFIG_MAX_VSIS	  16
#define CONFIG_NAME_MAX	  32 /* VSI name: [a-z0-9_-]{1,31} plus the NUL */
#define CONFIG_MAX_ERRORS 16
#define CONFIG_MAX_CPUS	  64  /* CPUs of one VSI */
#define CONFIG_LINE_MAX	  255 /* characters per line, without the line ending */
#define CONFIG_ERR_MAX	  160 /* bytes of one error message, with the NUL */
#define CONFIG_RAM_ALIGN  (2 * MiB)
#define CONFIG_RAM_MAX	  (3 * GiB) /* RAM lies below the 32-bit I/O window */
#define CONFIG_ROM_MAX	  (1 * MiB)

#define CONFIG_EXPORT_MAX  64	 /* NBD export name, NUL included */
#define CONFIG_NBD_PORT	   10809 /* the NBD port (IANA) */
#define CONFIG_IO_DEADLINE 30	 /* seconds a disk request may wait for its server */

enum config_net_mode {
	CONFIG_NET_NONE = 0, /* no disk: the network is not used */
	CONFIG_NET_DHCP,
	CONFIG_NET_STATIC,
};

/* Which NIC a role uses: the first supported one, or the one at a PCI address or with a MAC. */
enum config_nic_by {
	CONFIG_NIC_FIRST = 0,
	CONFIG_NIC_BDF,
	CONFIG_NIC_MAC,
};

struct nic_config {
	u32 by;	       /* enum config_nic_by */
	u32 bdf;       /* CONFIG_NIC_BDF: bus 15:8, device 7:3, function 2:0 (PCI segment 0) */
	u8 mac[6];     /* CONFIG_NIC_MAC */
	u32 line;      /* where it was configured; 0: the default */
	char text[24]; /* as written, for messages */
};

/* A VSI's disk: an NBD export reached by the hypervisor (guests never see this). */
struct disk_config {
	bool present;
	u32 ip; /* host byte order */
	u16 port;
	char export_name[CONFIG_EXPORT_MAX];
	u32 line;
};

enum vsi_fault_policy {
	VSI_ON_FAULT_STOP = 0,
	VSI_ON_FAULT_RESET = 1,
};

struct vsi_config {
	char name[CONFIG_NAME_MAX];
	u32 nr_cpus;
	u32 cpus[CONFIG_MAX_CPUS]; /* physical CPU numbers, in the order given: vCPU i -> cpus[i] */
	u64 ram_size;		   /* bytes, a multiple of CONFIG_RAM_ALIGN */
	char rom[BOOT_MODNAME_MAX]; /* boot module name */
	u32 on_triple_fault;	    /* enum vsi_fault_policy */
	bool autostart;
	struct disk_config disk;
	u32 line; /* line of the [vsi ...] header */
};

struct hv_config {
	u32 service_cpu;
	int log_level;		 /* -1: not set; else enum log_level */
	u32 net_mode;		 /* enum config_net_mode; DHCP by default once a VSI has a disk */
	u32 ip, prefix, gateway; /* static network, host byte order */
	u32 io_deadline;	 /* seconds */
	struct nic_config storage_nic; /* the NIC that reaches the NBD servers */
	u32 nr_vsis;
	struct vsi_config vsi[CONFIG_MAX_VSIS];
};

/* What this machine offers, for validation. */
struct config_env {
	u32 nr_cpus;		    /* valid CPU numbers: 0 .. nr_cpus-1 */
	u64 free_ram;		    /* bytes available for all VSIs' RAM together */
	const char *const *modules; /* names of the boot modules */
	u32 nr_modules;
	const u64 *module_sizes; /* parallel to modules (bytes); NULL: sizes unknown */
};

struct config_error {
	u32 line; /* 1-based; 0 when the problem has no line */
	char msg[CONFIG_ERR_MAX];
};

struct config_errors {
	u32 nr;
	bool truncated; /* more problems than CONFIG_MAX_ERRORS were found */
	struct config_error e[CONFIG_MAX_ERRORS];
};

/*
 * Parse and validate text[0..len) completely (it need not be NUL-terminated
 * and is never read past len). 0, or -EINVAL with every problem found (up to
 * CONFIG_MAX_ERRORS, sorted by line) in errs. out is only meaningful on 0.
 */
int config_parse(const char *text, size_t len, const struct config_env *env, struct hv_config *out,
		 struct config_errors *errs);

/* Print each error as "FILE:LINE: message" through pr_err. */
void config_report(const char *filename, const struct config_errors *errs);

#endif

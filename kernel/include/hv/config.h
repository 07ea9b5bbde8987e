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

/* firmware = ovmf: OVMF.fd is 2 MiB, OVMF_CODE_4M.fd 3.5 MiB */
#define CONFIG_OVMF_MAX	    (4 * MiB)
#define CONFIG_OVMF_RAM_MIN (64 * MiB)

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

/*
 * VSI networks (docs/config.md, "Networks"): [network NAME] sections, a VSI
 * joins one with `net = NAME`. nat: a private subnet behind the
 * hypervisor's uplink address, served by its DHCP server (gateway = the
 * subnet's first address); bridged: the VSI's own MAC on the uplink's LAN;
 * internal: the named VSIs only (a DHCP server when a subnet is given).
 */
#define CONFIG_MAX_NETWORKS 8
#define CONFIG_MAX_FORWARDS 8  /* forward = lines of one VSI */
#define CONFIG_NAT_POOL_MAX 64 /* DHCP addresses of one network */

enum config_network_mode {
	CONFIG_NETWORK_NAT = 0,
	CONFIG_NETWORK_BRIDGED,
	CONFIG_NETWORK_INTERNAL,
};

struct network_config {
	char name[CONFIG_NAME_MAX];
	u32 mode;	    /* enum config_network_mode */
	u32 subnet, prefix; /* nat: required; internal: 0/0 when none (no DHCP) */
	u32 gateway;	    /* the hypervisor on the subnet: its first host address */
	u32 pool_start;	    /* DHCP pool: pool_size addresses from here */
	u32 pool_size;
	u32 line;
};

/* forward = tcp:HOSTPORT:VSIPORT in a VSI's section (its network is nat). */
struct forward_config {
	u16 host_port, vsi_port;
	u32 line;
};

/* A VSI's disk: an NBD export reached by the hypervisor (guests never see this). */
struct disk_config {
	bool present;
	u32 ip; /* host byte order */
	u16 port;
	char export_name[CONFIG_EXPORT_MAX];
	u32 line;
};

/* What the ROM is, and so which platform the VSI gets (docs/vsi-platform.md). */
enum vsi_firmware {
	VSI_FW_NATIVE = 0, /* our firmware or a test ROM: the vsi-pc platform */
	VSI_FW_OVMF,	   /* Debian's OVMF: i440FX, PIIX3/PIIX4, the ACPI PM timer */
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
	char rom[BOOT_MODNAME_MAX];  /* boot module name */
	u32 firmware;		     /* enum vsi_firmware */
	char vars[BOOT_MODNAME_MAX]; /* firmware = ovmf: its variable store module, or "" */
	u32 on_triple_fault;	     /* enum vsi_fault_policy */
	bool autostart;
	struct disk_config disk;
	bool has_net; /* net = NAME was given: the VSI gets a virtio-net device */
	u32 net;      /* index into hv_config.net[] */
	u8 mac[6];    /* mac = , or derived from the name (config_default_mac()) */
	u32 net_line; /* line of net = */
	u32 nr_forwards;
	struct forward_config fwd[CONFIG_MAX_FORWARDS];
	u32 line; /* line of the [vsi ...] header */
};

struct hv_config {
	u32 service_cpu;
	int log_level;		 /* -1: not set; else enum log_level */
	u32 net_mode;		 /* enum config_net_mode; DHCP by default once a VSI has a disk */
	u32 ip, prefix, gateway; /* static network, host byte order */
	u32 io_deadline;	 /* seconds */
	struct nic_config storage_nic; /* the NIC that reaches the NBD servers */
	bool no_uplink;		       /* uplink = none: no nat or bridged networks */
	u16 storage_vlan; /* 1-4094: the stack's frames carry this 802.1Q tag; 0: none */
	u32 nr_networks;
	struct network_config net[CONFIG_MAX_NETWORKS];
	u32 nr_vsis;
	struct vsi_config vsi[CONFIG_MAX_VSIS];
};

/* What this machine offers, for validation. */
struct config_env {
	u32 nr_cpus;		    /* valid CPU numbers: 0 .. nr_cpus-1 */
	u64 free_ram;		    /* bytes available for all VSIs' RAM together */
	const char *const *modules; /* names of the boot modules */
	u32 nr_modules;
	const u64 *module_sizes;	/* parallel to modules (bytes); NULL: sizes unknown */
	const void *const *module_data; /* parallel to modules; NULL: contents unknown */
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

/*
 * The MAC a VSI without mac = gets: locally administered, unicast
 * (02:xx:xx:xx:xx:xx), the rest a hash of the name, so it is the same on
 * every boot.
 */
void config_default_mac(const char *name, u8 mac[6]);

/* Print each error as "FILE:LINE: message" through pr_err. */
void config_report(const char *filename, const struct config_errors *errs);

#endif

/*
 * What the two halves of the configuration parser share: kernel/config.c
 * (the file's syntax, [hypervisor] and [vsi NAME]) and kernel/config_net.c
 * ([network NAME] and the VSIs' net, mac and forward keys). Not an API:
 * everything else goes through hv/config.h.
 */
#ifndef HV_CONFIG_INTERNAL_H
#define HV_CONFIG_INTERNAL_H

#include <hv/config.h>

enum section {
	SEC_NONE,	/* before the first header */
	SEC_HYPERVISOR, /* [hypervisor] */
	SEC_VSI,	/* [vsi NAME] */
	SEC_NETWORK,	/* [network NAME] */
	SEC_SKIP,	/* after a broken header: its keys are not checked */
};

enum hv_key {
	HV_SERVICE_CPU,
	HV_LOG_LEVEL,
	HV_NETWORK,
	HV_ADDRESS,
	HV_GATEWAY,
	HV_IO_DEADLINE,
	HV_STORAGE_NIC,
	HV_UPLINK,
	HV_STORAGE_VLAN,
	NR_HV_KEYS
};
enum vsi_key {
	VSI_CPUS,
	VSI_MEMORY,
	VSI_ROM,
	VSI_ON_TRIPLE_FAULT,
	VSI_AUTOSTART,
	VSI_DISK,
	VSI_NET,
	VSI_MAC,
	VSI_FORWARD,
	VSI_FIRMWARE,
	VSI_VARS,
	NR_VSI_KEYS
};
enum net_key {
	NET_MODE,
	NET_SUBNET,
	NR_NET_KEYS
};

struct parser;

struct key_desc {
	const char *name;
	const char *example; /* a complete line, shown when the key is missing or empty */
	bool required;
	void (*parse)(struct parser *p, char *val);
	bool many; /* may be given more than once in a section */
};

struct section_desc {
	const char *title; /* for messages: "[hypervisor]" */
	const struct key_desc *keys;
	u32 nr_keys;
	const char *key_list; /* for messages: "service_cpu, log_level" */
};

struct parser {
	const struct config_env *env;
	struct hv_config *out;
	struct config_errors *errs;
	u32 line; /* current line, 1-based */
	enum section sec;
	const struct section_desc *desc; /* of the current section */
	u32 *seen;		/* per key of the current section: line it was set on, 0 if not */
	struct vsi_config *vsi; /* the current VSI */
	u32 hv_line;		/* line of the first [hypervisor] header, 0 if none */
	bool service_cpu_bad;	/* service_cpu was given but is invalid */
	u32 hv_seen[NR_HV_KEYS];
	u32 vsi_seen[CONFIG_MAX_VSIS + 1][NR_VSI_KEYS]; /* the last row belongs to spare */
	struct vsi_config spare; /* a VSI past CONFIG_MAX_VSIS: checked, then dropped */
	/* networks (config_net.c) */
	struct network_config *network;			    /* the current network */
	u32 net_seen[CONFIG_MAX_NETWORKS + 1][NR_NET_KEYS]; /* the last row: spare_net */
	bool mode_ok[CONFIG_MAX_NETWORKS + 1];		    /* mode = was given and valid */
	struct network_config spare_net;		    /* a network past CONFIG_MAX_NETWORKS */
	char vsi_net[CONFIG_MAX_VSIS + 1][CONFIG_NAME_MAX]; /* net = NAME, resolved at the end */
	char buf[CONFIG_LINE_MAX + 1];
};

/* config.c: helpers for config_net.c */

/* Record a problem found at a given line. */
void config_error(struct parser *p, u32 line, const char *fmt, ...) __printf(3, 4);
/* A whole string that is one decimal number: 0, -EINVAL, or -ERANGE past 64 bits. */
int config_number(const char *s, u64 *v);
/* "a.b.c.d" up to end (NULL: the whole string) into *ip: 0 or -EINVAL. */
int config_ipv4(const char *s, const char *end, u32 *ip);
/* "52:54:00:12:34:56" (any MAC, multicast and zero included) into mac. */
bool config_scan_mac(const char *s, u8 mac[6]);
/* The name in names[0..n) that word most likely misspells, or NULL. */
const char *config_closest(const char *word, const char *const *names, u32 n);
/* Index of val in names[0..n), or -1 after an error naming the choices (list). */
int config_choice(struct parser *p, const char *key, const char *val, const char *const *names,
		  u32 n, const char *list);
/* "a, b, c" into buf[size], ending in "..." if it does not fit; "none" if n is 0. */
const char *config_name_list(char *buf, size_t size, const char *const *names, u32 n);
/* name is 1 to CONFIG_NAME_MAX - 1 of a-z, 0-9, '_' and '-'. */
bool config_name_ok(const char *name);
/* Index of the boot module called name, or -1. */
int config_find_module(const struct config_env *env, const char *name);
/*
 * "key = val" names one boot module: copied into dst[size]; its index,
 * -ENOENT when no module has that name (nothing reported yet), or -EINVAL
 * after an error (too long, blanks).
 */
int config_module_name(struct parser *p, const char *key, const char *val, char *dst, size_t size);
/* An error on the current line: no module is called name, the nearest and all listed. */
void config_module_missing(struct parser *p, const char *name);
/* An exact size for messages: "3072 MiB", "4 KiB" or "1000 bytes". */
const char *config_size_text(char *buf, size_t size, u64 bytes);

/* config_fw.c: firmware = and vars =, and what OVMF needs of its images and RAM */

void config_parse_firmware(struct parser *p, char *val);
void config_parse_vars(struct parser *p, char *val);
/* VSI i boots OVMF: its images and RAM, once its section has ended. */
void config_check_ovmf(struct parser *p, u32 i);

/* config_vlan.c: storage_vlan = and what it rules out */

void config_parse_storage_vlan(struct parser *p, char *val);
/* Once the file is read: no nat network beside a storage VLAN. */
void config_check_storage_vlan(struct parser *p);

/* config_net.c */

extern const struct section_desc config_network_section;

void config_enter_network(struct parser *p, const char *name);
void config_parse_uplink(struct parser *p, char *val);
void config_parse_net(struct parser *p, char *val);
void config_parse_mac(struct parser *p, char *val);
void config_parse_forward(struct parser *p, char *val);
/* The checks that need the whole file: names resolved, MACs, forwards, subnets. */
void config_check_networks(struct parser *p);
/* The first VSI on a nat or bridged network (it needs the uplink), or -1. */
int config_uplink_user(const struct parser *p);

#endif

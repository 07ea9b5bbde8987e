/*
 * The firmware configuration device a VSI's firmware reads its platform
 * from: QEMU's fw_cfg, legacy I/O form (QEMU docs/specs/fw_cfg.rst), so
 * existing firmware and guest tools understand it. Selector port 0x510
 * (16-bit write), data port 0x511 (8-bit reads, auto-incrementing). No DMA.
 * Portable: the caller routes port accesses here.
 */
#ifndef HV_FW_CFG_H
#define HV_FW_CFG_H

#include <hv/types.h>

#define FW_CFG_PORT_SEL	 0x510
#define FW_CFG_PORT_DATA 0x511

#define FW_CFG_SIGNATURE  0x0000
#define FW_CFG_ID	  0x0001
#define FW_CFG_RAM_SIZE	  0x0003
#define FW_CFG_NB_CPUS	  0x0005
#define FW_CFG_MAX_CPUS	  0x000f
#define FW_CFG_FILE_DIR	  0x0019
#define FW_CFG_FILE_FIRST 0x0020

#define FW_CFG_MAX_FILES     8
#define FW_CFG_NAME_MAX	     56
#define FW_CFG_E820_MAX	     4
#define FW_CFG_E820_RAM	     1
#define FW_CFG_E820_RESERVED 2

struct fw_cfg_file {
	char name[FW_CFG_NAME_MAX];
	const void *data;
	u32 size;
};

struct fw_cfg {
	u16 selector;
	u32 offset; /* next byte of the selected item */
	u64 ram_size;
	u16 nr_cpus;
	u32 nr_files;
	struct fw_cfg_file files[FW_CFG_MAX_FILES];
	u8 dir[4 + 64 * FW_CFG_MAX_FILES]; /* FW_CFG_FILE_DIR, big-endian */
	u8 e820[20 * FW_CFG_E820_MAX];	   /* "etc/e820" */
	u64 bad_reads;			   /* reads of items that do not exist */
};

/* The items of a VSI with ram_size bytes of RAM from 0 and nr_cpus vCPUs. */
void fw_cfg_init(struct fw_cfg *f, u64 ram_size, u16 nr_cpus);
/* Add a file (data must outlive f); -ENOSPC when full, -EINVAL for a bad name. */
int fw_cfg_add_file(struct fw_cfg *f, const char *name, const void *data, u32 size);
void fw_cfg_select(struct fw_cfg *f, u16 key);
/* The next byte of the selected item; 0 past its end or for unknown keys. */
u8 fw_cfg_read(struct fw_cfg *f);

#endif

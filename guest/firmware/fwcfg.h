/*
 * QEMU's firmware configuration interface, legacy I/O only (QEMU
 * docs/specs/fw_cfg.rst): a 16-bit selector write to port 0x510, then byte
 * reads from port 0x511. No DMA, no string I/O. vsi-pc offers the same.
 */
#ifndef FW_FWCFG_H
#define FW_FWCFG_H

#include "fwtypes.h"

#define FW_CFG_SIGNATURE 0x0000
#define FW_CFG_ID	 0x0001
#define FW_CFG_NB_CPUS	 0x0005
#define FW_CFG_FILE_DIR	 0x0019

/* True if the selector/data ports answer with the "QEMU" signature. */
bool fwcfg_present(void);

/* Selects key and reads len bytes from its start into buf. */
void fwcfg_read(u16 key, void *buf, size_t len);

/*
 * Looks name up in the file directory: 0 with *key and *size set,
 * -FW_ENOENT if there is no such file.
 */
int fwcfg_find_file(const char *name, u16 *key, u32 *size);

#endif

/*
 * What an OVMF image holds, read from its bytes: whether it begins with a
 * UEFI variable store. Debian ships OVMF whole (OVMF.fd: the variable store
 * followed by the code) and split (OVMF_CODE_4M.fd plus OVMF_VARS_4M.fd, as
 * QEMU's two pflash drives take them). Portable: unit-tested on the host
 * against Debian's own files.
 */
#ifndef HV_OVMF_IMAGE_H
#define HV_OVMF_IMAGE_H

#include <hv/types.h>

/*
 * Does img[0..len) start with a firmware volume (PI spec vol. 3, 3.2.1,
 * EFI_FIRMWARE_VOLUME_HEADER) whose file system is EFI_SYSTEM_NV_DATA_FV_GUID,
 * that is, OVMF's variable store, and fits in len?
 */
bool ovmf_image_has_var_store(const void *img, u64 len);

#endif

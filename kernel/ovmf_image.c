/*
 * OVMF's variable store, found by its firmware volume header: the vars
 * image, or the front of the whole OVMF.fd. See hv/ovmf_image.h.
 */
#include <hv/ovmf_image.h>
#include <hv/string.h>

/* EFI_FIRMWARE_VOLUME_HEADER (PI spec vol. 3, 3.2.1), the part read here. */
#define FVH_FS_GUID   0x10 /* FileSystemGuid */
#define FVH_LENGTH    0x20 /* FvLength, u64: the volume's size */
#define FVH_SIGNATURE 0x28 /* "_FVH" */
#define FVH_HDR_LEN   0x30 /* HeaderLength, u16 */
#define FVH_MIN	      0x48 /* through one block map entry and its terminator */

/* EFI_SYSTEM_NV_DATA_FV_GUID fff12b8d-7696-4c8b-a985-2747075b4f50, as stored. */
static const u8 nv_data_guid[16] = {
	0x8d, 0x2b, 0xf1, 0xff, 0x96, 0x76, 0x8b, 0x4c,
	0xa9, 0x85, 0x27, 0x47, 0x07, 0x5b, 0x4f, 0x50,
};

bool ovmf_image_has_var_store(const void *img, u64 len)
{
	const u8 *b = img;
	u64 fv_len;
	u16 hdr_len;

	if (!img || len < FVH_MIN || memcmp(b + FVH_SIGNATURE, "_FVH", 4) ||
	    memcmp(b + FVH_FS_GUID, nv_data_guid, sizeof(nv_data_guid)))
		return false;
	memcpy(&fv_len, b + FVH_LENGTH, sizeof(fv_len));
	memcpy(&hdr_len, b + FVH_HDR_LEN, sizeof(hdr_len));
	return hdr_len >= FVH_MIN && fv_len >= hdr_len && fv_len <= len;
}

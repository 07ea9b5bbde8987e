/* bzImage test kernel, 64-bit boot protocol: RSI = struct boot_params. */
#include "tk.h"

#define BP_ACPI_RSDP_ADDR    0x070
#define BP_EXT_RAMDISK_IMAGE 0x0C0
#define BP_EXT_RAMDISK_SIZE  0x0C4
#define BP_EXT_CMD_LINE_PTR  0x0C8
#define BP_E820_ENTRIES	     0x1E8
#define BP_SETUP_SECTS	     0x1F1
#define BP_VERSION	     0x206
#define BP_TYPE_OF_LOADER    0x210
#define BP_LOADFLAGS	     0x211
#define BP_RAMDISK_IMAGE     0x218
#define BP_RAMDISK_SIZE	     0x21C
#define BP_CMD_LINE_PTR	     0x228
#define BP_PREF_ADDRESS	     0x258
#define BP_E820_TABLE	     0x2D0

void tk_main(const uint8_t *bp, uint16_t cs, uint16_t ds);

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

void tk_main(const uint8_t *bp, uint16_t cs, uint16_t ds)
{
	uint64_t cmd = rd32(bp + BP_CMD_LINE_PTR) | (uint64_t)rd32(bp + BP_EXT_CMD_LINE_PTR) << 32;
	uint64_t rd = rd32(bp + BP_RAMDISK_IMAGE) | (uint64_t)rd32(bp + BP_EXT_RAMDISK_IMAGE) << 32;
	uint64_t rs = rd32(bp + BP_RAMDISK_SIZE) | (uint64_t)rd32(bp + BP_EXT_RAMDISK_SIZE) << 32;

	tk_init("linux64");
	tk_report_cpu();
	tk_printf("tk: boot_params %lx cs %x ds %x loader %x loadflags %x version %x "
		  "setup_sects %u pref %lx\n",
		  (unsigned long)(uintptr_t)bp, cs, ds, bp[BP_TYPE_OF_LOADER], bp[BP_LOADFLAGS],
		  bp[BP_VERSION] | bp[BP_VERSION + 1] << 8, bp[BP_SETUP_SECTS],
		  (unsigned long)rd64(bp + BP_PREF_ADDRESS));
	tk_report_cmdline((const char *)(uintptr_t)cmd);
	if (rs)
		tk_report_module(0, rd, rs, "");
	for (uint32_t i = 0; i < bp[BP_E820_ENTRIES]; i++) {
		const uint8_t *e = bp + BP_E820_TABLE + 20 * i;

		tk_report_mem(rd64(e), rd64(e + 8), rd32(e + 16));
	}
	tk_report_acpi(rd64(bp + BP_ACPI_RSDP_ADDR));
	tk_done();
}

/*
 * DSDT of the vsi-pc platform (docs/vsi-platform.md). Compiled by iasl at
 * build time (guest/firmware/acpi.mk) and copied by acpi_build() behind the
 * FADT's X_DSDT. The FADT declares a hardware-reduced platform (ACPI 6.5
 * 4.1), so there are no fixed registers, no SCI and no GPEs: everything the
 * OS needs beyond the static tables is the power-off value below and the
 * devices.
 */
DefinitionBlock ("", "DSDT", 2, "HVMICR", "VSIPC   ", 0x00000001)
{
	/*
	 * S5 (soft off), ACPI 6.5 7.4.2: { SLP_TYPa, SLP_TYPb, reserved, reserved }.
	 * On a hardware-reduced platform the OS writes only SLP_TYPa, into the
	 * FADT's SLEEP_CONTROL_REG (ACPI 6.5 4.8.3.7): bits 4:2 SLP_TYP, bit 5
	 * SLP_EN. Linux first writes 0x80 (WAK_STS, write-1-to-clear) to
	 * SLEEP_STATUS_REG (port 0x601), then the byte (5 << 2) | 0x20 = 0x34
	 * to SLEEP_CONTROL_REG (port 0x600); the hypervisor powers the VSI off
	 * at that write.
	 */
	Name (\_S5, Package (0x04)
	{
		0x05,
		0x05,
		Zero,
		Zero
	})

	Scope (\_SB)
	{
		/*
		 * PCI root bridge, configuration mechanism #1 (ports 0xCF8/0xCFC),
		 * bus 0 only. No _PRT: the only device, virtio-blk-pci at 00:01.0,
		 * interrupts through MSI-X only, so no INTx line needs routing.
		 */
		Device (PCI0)
		{
			Name (_HID, EisaId ("PNP0A03"))
			Name (_SEG, Zero)
			Name (_BBN, Zero)
			Name (_UID, Zero)
			Name (_CRS, ResourceTemplate ()
			{
				WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,
					0x0000,             // Granularity
					0x0000,             // Range Minimum
					0x0000,             // Range Maximum
					0x0000,             // Translation Offset
					0x0001,             // Length
					,, )
				/* The configuration ports themselves, consumed by the bridge. */
				IO (Decode16,
					0x0CF8,             // Range Minimum
					0x0CF8,             // Range Maximum
					0x01,               // Alignment
					0x08,               // Length
					)
				/* Port window for BARs, above the legacy ISA range. */
				WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
					0x0000,             // Granularity
					0x1000,             // Range Minimum
					0xFFFF,             // Range Maximum
					0x0000,             // Translation Offset
					0xF000,             // Length
					,, , TypeStatic, DenseTranslation)
				/* 32-bit MMIO window: from 3 GiB (above the largest RAM) to the IOAPIC. */
				DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite,
					0x00000000,         // Granularity
					0xC0000000,         // Range Minimum
					0xFEBFFFFF,         // Range Maximum
					0x00000000,         // Translation Offset
					0x3EC00000,         // Length
					,, , AddressRangeMemory, TypeStatic)
			})
		}

		/* COM1: the 16550 at 0x3F8, ISA IRQ 4 (IOAPIC pin 4, edge, active high). */
		Device (COM1)
		{
			Name (_HID, EisaId ("PNP0501"))
			Name (_UID, One)
			Name (_CRS, ResourceTemplate ()
			{
				IO (Decode16,
					0x03F8,             // Range Minimum
					0x03F8,             // Range Maximum
					0x01,               // Alignment
					0x08,               // Length
					)
				IRQNoFlags ()
					{4}
			})
		}
	}
}

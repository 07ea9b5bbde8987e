/*
 * DSDT of a VSI whose firmware is OVMF (docs/vsi-platform.md, "OVMF"): the
 * i440FX/PIIX4 bus of QEMU's pc machine as the hypervisor models it. The
 * hypervisor builds it into the tables it serves through fw_cfg, behind a
 * hardware-reduced FADT (ACPI 6.5 4.1) like the vsi-pc platform's: no PM1
 * blocks, PM timer, GPEs or SCI, so the OS sets up no 8259 or PIT (the VSI
 * has neither). Power-off goes through the FADT's sleep registers, which are
 * the high bytes of the PIIX4's PM1 status and control registers.
 */
DefinitionBlock ("", "DSDT", 2, "HVMICR", "VSIPIIX ", 0x00000001)
{
	/*
	 * S5 (soft off), ACPI 6.5 7.4.2: { SLP_TYPa, SLP_TYPb, reserved, reserved }.
	 * The PIIX4 powers off at SUS_TYP 0 (PM1 control bits 12:10) with SUS_EN
	 * (bit 13). SLEEP_CONTROL_REG is PM1 control's high byte (PM base + 5),
	 * where SLP_TYP (bits 4:2) and SLP_EN (bit 5) land on exactly those bits:
	 * Linux writes 0x80 (WAK_STS) to PM base + 1, then 0x20 to PM base + 5.
	 */
	Name (\_S5, Package (0x04)
	{
		Zero,
		Zero,
		Zero,
		Zero
	})

	Scope (\_SB)
	{
		/*
		 * The i440FX host bridge, configuration mechanism #1, bus 0 only.
		 * No _PRT: the virtio devices interrupt through MSI-X only, so no
		 * INTx line needs routing.
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
				IO (Decode16,
					0x0CF8,             // Range Minimum
					0x0CF8,             // Range Maximum
					0x01,               // Alignment
					0x08,               // Length
					)
				/* Legacy ports (COM1, the RTC) and the PIIX4 PM block at 0xB000. */
				WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
					0x0000,             // Granularity
					0x0000,             // Range Minimum
					0x0CF7,             // Range Maximum
					0x0000,             // Translation Offset
					0x0CF8,             // Length
					,, , TypeStatic, DenseTranslation)
				WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
					0x0000,             // Granularity
					0x0D00,             // Range Minimum
					0xFFFF,             // Range Maximum
					0x0000,             // Translation Offset
					0xF300,             // Length
					,, , TypeStatic, DenseTranslation)
				/*
				 * 32-bit MMIO: OVMF's i440FX window ends at 0xFC000000 and
				 * it places BARs from the top down; 3 GiB and up stays clear
				 * of any RAM a VSI has below the I/O hole.
				 */
				DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite,
					0x00000000,         // Granularity
					0xC0000000,         // Range Minimum
					0xFEBFFFFF,         // Range Maximum
					0x00000000,         // Translation Offset
					0x3EC00000,         // Length
					,, , AddressRangeMemory, TypeStatic)
				/*
				 * 64-bit MMIO: OVMF puts 64-bit BARs (the virtio devices')
				 * into an aperture above the RAM, at 32 GiB by default; this
				 * covers any placement from 4 GiB to 64 GiB.
				 */
				QWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, Cacheable, ReadWrite,
					0x0000000000000000, // Granularity
					0x0000000100000000, // Range Minimum
					0x0000000FFFFFFFFF, // Range Maximum
					0x0000000000000000, // Translation Offset
					0x0000000F00000000, // Length
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

# The hypervisor: one entry point.
#   make              build everything (kernel ELF, UEFI loader, ESP, GRUB ISO)
#   make run          boot on the best machine here (QEMU+KVM with nested VMX, else Bochs)
#   make run-uefi     boot the UEFI path under QEMU+OVMF (TCG: no VMX)
#   make test         install what is missing, then every test
#   make format-check / make format / make clean

BUILD	?= build
# V=1 shows every command.
ifeq ($(V),1)
Q :=
else
Q := @
endif
CC	:= gcc
LD	:= ld
NASM	:= nasm
PYTHON	?= python3

# Kernel command line and modules baked into the default images: the demo
# configuration and the guest ROMs it names.
CMDLINE	?= loglevel=info
GUEST_DIR := $(BUILD)/guest
MODULES	?= guest/demo/hv.cfg $(GUEST_DIR)/firmware.rom

INCLUDES := -Ikernel/include -Iarch/x86_64/include -Idrivers -Iboot -Iguest
KCFLAGS	:= -std=gnu11 -O2 -g -ffreestanding -fno-pic -fno-pie -mno-red-zone \
	   -mgeneral-regs-only -mcmodel=small -fno-stack-protector \
	   -fno-omit-frame-pointer -fno-asynchronous-unwind-tables \
	   -Wall -Wextra -Werror -Wno-unused-parameter -MMD -MP -DFW_IN_HV $(INCLUDES)
NASMFLAGS := -f elf64 -Werror
LDFLAGS	:= -nostdlib -static -no-pie -z max-page-size=0x1000 -z noexecstack \
	   --no-warn-rwx-segments -T linker.ld

# The firmware's ACPI builder and DSDTs (guest/firmware/acpi.mk) build the tables of OVMF VSIs.
KERNEL_C := $(wildcard boot/multiboot2/*.c kernel/*.c kernel/*/*.c \
	      arch/x86_64/*.c arch/x86_64/vmx/*.c drivers/*/*.c) guest/firmware/acpi.c
KERNEL_ASM := $(wildcard arch/x86_64/*.asm arch/x86_64/vmx/*.asm)
FW_ACPI_OUT := $(BUILD)/obj/acpi
include guest/firmware/acpi.mk
KERNEL_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(KERNEL_C)) \
	       $(patsubst %.asm,$(BUILD)/obj/%.o,$(KERNEL_ASM)) $(DSDT_OBJ)

KERNEL	:= $(BUILD)/hv.elf
EFI	:= $(BUILD)/efi/BOOTX64.EFI
ISO	:= $(BUILD)/hv.iso
ESP	:= $(BUILD)/esp


.PHONY: bench
.PHONY: all kernel efi iso esp guest deps run run-bochs run-qemu-kvm run-uefi test unit-test \
	system-test format format-check clean
.DELETE_ON_ERROR:

all: kernel efi iso esp guest

kernel: $(KERNEL)
efi: $(EFI)
iso: $(ISO)
esp: $(ESP)/EFI/BOOT/BOOTX64.EFI
guest:
	$(MAKE) -C guest/tests BUILD=$(abspath $(GUEST_DIR))
	$(MAKE) -C guest/firmware BUILD=$(abspath $(GUEST_DIR))

# A ROM the images need is built by the guest tree (which tracks its own sources).
$(GUEST_DIR)/%.rom: | guest
	@test -f $@

deps:
	@sh tools/install-deps.sh

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(KCFLAGS) -c $< -o $@

$(BUILD)/obj/%.o: %.asm
	@mkdir -p $(dir $@)
	@echo "  NASM    $<"
	$(Q)$(NASM) $(NASMFLAGS) $< -o $@

# Two link passes: the second carries the symbol table of the first. The
# table sits after all code, so code addresses must not move; checked below.
$(BUILD)/ksyms0.o: tools/gen-ksyms.py
	@mkdir -p $(BUILD)
	$(Q): > $(BUILD)/ksyms0.nm
	$(Q)$(PYTHON) tools/gen-ksyms.py $(BUILD)/ksyms0.nm $(BUILD)/ksyms0.S
	$(Q)$(CC) -c $(BUILD)/ksyms0.S -o $@

$(KERNEL): $(KERNEL_OBJS) $(BUILD)/ksyms0.o linker.ld tools/gen-ksyms.py
	@echo "  LD      $@"
	$(Q)$(LD) $(LDFLAGS) -o $@.pass1 $(KERNEL_OBJS) $(BUILD)/ksyms0.o
	$(Q)nm -n --defined-only $@.pass1 > $(BUILD)/ksyms.nm
	$(Q)$(PYTHON) tools/gen-ksyms.py $(BUILD)/ksyms.nm $(BUILD)/ksyms.S
	$(Q)$(CC) -c $(BUILD)/ksyms.S -o $(BUILD)/ksyms.o
	$(Q)$(LD) $(LDFLAGS) -o $@ $(KERNEL_OBJS) $(BUILD)/ksyms.o
	@nm -n --defined-only $@ | grep -i ' t ' > $(BUILD)/ksyms.check
	@grep -i ' t ' $(BUILD)/ksyms.nm | cmp -s - $(BUILD)/ksyms.check || \
		{ echo "$@: code moved between link passes" >&2; exit 1; }

$(EFI): $(wildcard boot/efi/*.c boot/efi/*.h boot/efi/Makefile) kernel/mm/memmap.c \
	drivers/uart/uart.c boot/boot_info.h
	$(MAKE) -C boot/efi BUILD=$(abspath $(BUILD)/efi)

$(ISO): $(KERNEL) tools/mkiso.sh $(MODULES) | guest
	@echo "  ISO     $@"
	$(Q)sh tools/mkiso.sh $@ $(KERNEL) "$(CMDLINE)" $(MODULES)

$(ESP)/EFI/BOOT/BOOTX64.EFI: $(KERNEL) $(EFI) tools/mkesp.sh $(MODULES) | guest
	@echo "  ESP     $(ESP) $(BUILD)/esp.img"
	$(Q)sh tools/mkesp.sh --image $(BUILD)/esp.img $(ESP) $(EFI) $(KERNEL) "$(CMDLINE)" $(MODULES)

# The demo's two VSIs boot Linux from disks served by qemu-nbd on loopback (guest/demo/hv.cfg).
DEMO_RUN := --megs 1024 --nbd web=$(BUILD)/disks/demo-web.img@10809 \
	    --nbd db=$(BUILD)/disks/demo-db.img@10810 \
	    --forward 8080 --forward-note "vsi web's port 80 (its pattern): socat - TCP:127.0.0.1:8080 | head -c 300"

run: deps all disks
	$(PYTHON) tools/hvrun.py auto --iso $(ISO) --esp $(ESP) $(DEMO_RUN)

run-bochs: deps all disks
	$(PYTHON) tools/hvrun.py bochs --iso $(ISO) $(DEMO_RUN)

run-uefi: deps all disks
	$(PYTHON) tools/hvrun.py qemu --esp $(ESP) $(DEMO_RUN)

# make test also runs every fuzz target briefly: proof that they build and
# survive; `make fuzz` is the long run.
TEST_FUZZ_SECONDS ?= 10

test: deps
	$(MAKE) format-check
	$(MAKE) disks
	$(MAKE) unit-test
	$(MAKE) fuzz FUZZ_SECONDS=$(TEST_FUZZ_SECONDS)
	$(MAKE) nbd-test
	$(MAKE) hosted-test
	$(MAKE) all
	$(MAKE) disk-test
	$(MAKE) firmware-test
	$(MAKE) system-test

unit-test:
	$(MAKE) -C tests/unit BUILD=$(abspath $(BUILD)/unit) test

system-test: all
	$(PYTHON) tests/system/run.py --build $(BUILD)

bench: deps all
	$(MAKE) -C tests/bench BUILD=$(abspath $(BUILD)/bench) run
	$(PYTHON) tests/bench/run.py --build $(BUILD)
	$(PYTHON) tests/bench/storage.py --build $(BUILD)
	rm -f $(BUILD)/bench/nbd-bench.txt
	$(PYTHON) tests/bench/linux.py --build $(BUILD) --raw-out $(BUILD)/bench/nbd-bench.txt
	$(PYTHON) tests/bench/ovmf.py --build $(BUILD) --bare
	$(PYTHON) tests/bench/net.py --build $(BUILD) --raw $(BUILD)/bench/nbd-bench.txt
	sh tests/hosted/nbd_bench.sh

# make nbd-test: the NBD client against qemu-nbd, nbdkit and nbd-server on 127.0.0.1, with faults.
.PHONY: nbd-test
nbd-test: deps
	bash tests/hosted/nbd_run.sh $(abspath $(BUILD)/hosted)

# make hosted-test: kernel/net on a TAP device in its own network namespace, against socat
# and qemu-nbd there (needs root).
.PHONY: hosted-test
hosted-test: deps
	sh tests/hosted/run.sh $(abspath $(BUILD)/hosted-net)

# make fuzz: every libFuzzer target in tests/fuzz for FUZZ_SECONDS each; fails on a crash.
FUZZ_SECONDS ?= 60
.PHONY: fuzz
fuzz: deps
	$(MAKE) -C tests/fuzz BUILD=$(abspath $(BUILD)/fuzz) FUZZ_SECONDS=$(FUZZ_SECONDS) run

# make disks: guest disk images from Debian's kernel and busybox (docs/guest-disks.md):
# one good disk per name in DISK_NAMES and the broken family bad-KIND.img, in build/disks.
# make disk-test: boots them under QEMU (TCG) and checks them (tests/disks/run.sh).
DISK_NAMES ?= web db
# The demo's own disks, demo-web.img and demo-db.img: the same guests on their
# nat network; web serves its pattern on port 80 (forwarded from the
# hypervisor's port 8080) for ten minutes, db pings the gateway. The plain
# web.img and db.img stay without network steps for the disk and firmware tests.
DEMO_APPEND_WEB := hvtest.net=dhcp hvtest.serve=80 hvtest.hold_s=600 hvtest.timeout=60
DEMO_APPEND_DB := hvtest.net=dhcp hvtest.ping=10.0.3.1 hvtest.timeout=60
DISK_KINDS := nogpt noboot noentries nokernel badkernel
.PHONY: disks disk-test
disks: deps
	$(Q)for n in $(DISK_NAMES); do \
		$(PYTHON) tools/mkdisk.py --build $(BUILD) $(BUILD)/disks/$$n.img --name $$n || exit 1; \
	done
	$(Q)$(PYTHON) tools/mkdisk.py --build $(BUILD) $(BUILD)/disks/demo-web.img --name web \
		--append "$(DEMO_APPEND_WEB)"
	$(Q)$(PYTHON) tools/mkdisk.py --build $(BUILD) $(BUILD)/disks/demo-db.img --name db \
		--append "$(DEMO_APPEND_DB)"
	$(Q)for k in $(DISK_KINDS); do \
		$(PYTHON) tools/mkdisk.py --build $(BUILD) $(BUILD)/disks/bad-$$k.img \
			--kind $$k --name bad-$$k || exit 1; \
	done

disk-test: deps
	sh tests/disks/run.sh $(BUILD)

# make guest-net-test: the guest's network steps under QEMU (TCG) on its user network and
# between two guests, servers on 127.0.0.1 only (tests/guest/net_qemu.sh).
.PHONY: guest-net-test
guest-net-test: deps
	sh tests/guest/net_qemu.sh $(BUILD)

# make firmware-test: the firmware ROM under QEMU (TCG) with test disks and test kernels,
# and with the disks of `make disks` when they exist (tests/firmware/run.py).
.PHONY: firmware-test
firmware-test: deps
	$(PYTHON) tests/firmware/run.py --build $(abspath $(BUILD))

FORMAT_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
format:
	clang-format -i $(FORMAT_FILES)

format-check:
	@clang-format --dry-run --Werror $(FORMAT_FILES) && echo "format-check: clean"

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

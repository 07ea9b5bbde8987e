"""System tests of VSIs on Debian's stock OVMF (docs/vsi-platform.md, "OVMF").

Each case boots the hypervisor under Bochs with a VSI whose firmware is
Debian's unmodified OVMF.fd, from the reset vector to the UEFI shell, an EFI
loader, GRUB or Linux. run.py sets `lib` to itself before calling these cases.
"""
import hashlib
import os
import subprocess
import sys
import time

lib = None  # tests/system/run.py

OVMF_FD = "/usr/share/ovmf/OVMF.fd"  # Debian's package ovmf: the non-SMM build
# The same package's split build, as QEMU's two pflash drives take it: code and variable store.
OVMF_CODE_4M = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS_4M = "/usr/share/OVMF/OVMF_VARS_4M.fd"


def test_bochs_ovmf_to_bds(c):
    """Debian's stock OVMF boots in a VSI from its reset vector through its
    boot device selection into the UEFI shell on the VSI's serial console,
    whose countdown runs on the PM timer, beside a hello guest; the console,
    attached to the VSI's COM1, types a command into the shell, which runs
    it."""
    cfg = """[vsi uefi]
cpus = 1
memory = 128M
rom = OVMF.fd
firmware = ovmf

[vsi web]
cpus = 2
memory = 4M
rom = hello.rom
"""
    path = os.path.join(c.dir, "hv.cfg")
    with open(path, "w") as f:
        f.write(cfg)
    iso = c.iso("loglevel=info", [path, OVMF_FD, os.path.join(c.build, "guest", "hello.rom")])
    t0 = time.monotonic()
    c.machine = lib.hvrun.boot_bochs(c.dir, iso, cpus=3, megs=512)
    c.expect(r"vsi uefi: started")
    t1 = time.monotonic()
    lib.check_hello(c, "web")
    # No disk: BDS falls through to the shell built into OVMF.fd, on COM1.
    c.expect(r"\[uefi\] BdsDxe: starting Boot\d+ \"EFI Internal Shell\"", 300)
    c.expect(r"\[uefi\] .*UEFI Interactive Shell v2")
    print(f"  OVMF reached its shell {time.monotonic() - t1:.1f} s after its VSI started "
          f"({time.monotonic() - t0:.1f} s after Bochs did)")
    # The shell's countdown is a stall loop on the PM timer: it ends only if the timer counts.
    c.expect(r"\[uefi\] .*in 1 seconds to skip", 120)
    print(f"  its 5-second countdown ended {time.monotonic() - t1:.1f} s after the VSI started")
    m = c.console("list", r"uefi +running +1 +128M +0  (\d+)/(\d+)/(\d+)/(\d+)[^\n]*\n"
                  r" +exits:((?:[^\n]*\n)*?) +ovmf: PM timer reads (\d+), ROM writes ignored (\d+)\r?\n")
    print("  unclaimed I/O, denied MSRs, dropped IPIs, unclaimed MMIO: " +
          "/".join(m.group(i) for i in range(1, 5)))
    print("  exits: " + " ".join(m.group(5).split()))
    print(f"  PM timer reads {m.group(6)}, ROM writes ignored {m.group(7)}")
    c.check(int(m.group(6)) > 10000, "the countdown did not run on the PM timer")
    c.check(int(m.group(7)) > 0, "OVMF's flash probe wrote nothing to the ROM")
    c.check(m.group(2) == "0", "OVMF was refused an MSR")
    # Typing into the shell: the console attached to the VSI's COM1.
    # Attaching prints the prompt, an unfinished line until then.
    c.console("attach uefi", r"attached to uefi's COM1; Ctrl-\] detaches")
    c.expect(r"Shell> ", 60)
    t2 = time.monotonic()
    c.machine.write("echo VSIIN\r")
    # The shell echoes each key between cursor moves: only its output is one word.
    c.expect(r"VSIIN", 300)
    print(f"  the shell ran a typed command {time.monotonic() - t2:.1f} s after attach")
    c.console("\x1d", r"detached from uefi; typed bytes dropped, COM1 full: 0")
    c.console("list", r"uefi +running")
    c.expect_absent(r"FATAL|faulted")


OVMF_DISK_CFG = """[hypervisor]
address = 10.0.2.15/24
gateway = 10.0.2.2

[vsi uefi]
cpus = 1
memory = 128M
rom = OVMF.fd
firmware = ovmf
disk = nbd://10.0.2.2:10809/esp
"""


def test_bochs_ovmf_boots_from_disk(c):
    """Stock OVMF, the split build (OVMF_CODE_4M.fd with its variable store
    OVMF_VARS_4M.fd below it), boots in a VSI from the VSI's virtio-blk disk
    (00:03.0, an NBD export) through the removable-media path: a FAT disk holding this
    project's own UEFI loader and kernel, which start inside the VSI, find
    the ACPI tables OVMF installed from fw_cfg (checksums, MADT, FADT), and
    stop for want of VT-x, without a fault."""
    image = os.path.join(c.dir, "esp.img")
    subprocess.run(["sh", os.path.join(lib.ROOT, "tools/mkesp.sh"), "--image", image,
                    os.path.join(c.dir, "esp"), os.path.join(c.build, "efi/BOOTX64.EFI"),
                    os.path.join(c.build, "hv.elf"), "loglevel=info"], check=True)
    path = os.path.join(c.dir, "hv.cfg")
    with open(path, "w") as f:
        f.write(OVMF_DISK_CFG.replace("rom = OVMF.fd", "rom = OVMF_CODE_4M.fd\n"
                                      "vars = OVMF_VARS_4M.fd"))
    iso = c.iso("loglevel=info", [path, OVMF_CODE_4M, OVMF_VARS_4M])
    server = f"qemu-nbd -f raw -t -b 127.0.0.1 -p 10809 -x esp {image} 2>{c.dir}/qemu-nbd.log"
    c.machine = lib.hvrun.boot_bochs(c.dir, iso, cpus=2, megs=512, nic=True, inside=server)
    c.expect(r"vsi uefi: \d+ MiB RAM at host 0x[0-9a-f]+, ROM 'OVMF_CODE_4M.fd' with variable "
             r"store OVMF_VARS_4M.fd 4096 KiB")
    c.expect(r"vsi uefi: disk 16384 sectors at PCI 00:03\.0 \(virtio-blk\)")
    c.expect(r"vsi uefi: started")
    t1 = time.monotonic()
    c.expect(r"\[uefi\] .*BdsDxe: starting Boot\d+ \"[^\"]*\" from PciRoot\(0x0\)/Pci\(0x3,0x0\)",
             300)
    c.expect(r"\[uefi\] hv-loader: kernel 0x")
    print(f"  OVMF started the loader from the disk {time.monotonic() - t1:.1f} s after the VSI "
          "started")
    c.expect(r"\[uefi\] \[cpu0\] I boot: loader 'uefi', command line 'loglevel=info'")
    # The ACPI tables OVMF installed from fw_cfg, checked by the kernel's own parser.
    m = c.expect(r"\[uefi\] \[cpu0\] I acpi: XSDT at 0x[0-9a-f]+, OEM '[^']*': 1 CPUs, "
                 r"1 I/O APICs, FADT at 0x([0-9a-f]+)")
    c.check(int(m.group(1), 16) != 0, "OVMF installed no FADT")
    c.expect(r"\[uefi\] \[cpu0\] E vmx: VT-x is not available")
    c.expect(r"\[uefi\] \[cpu0\] [EI] hv: halted: VMX could not be enabled")
    m = c.console("list", r"uefi +running[^\n]*\n +exits:((?:[^\n]*\n)*?)"
                  r" +ovmf: PM timer reads (\d+),")
    print("  exits: " + " ".join(m.group(1).split()) + f"; PM timer reads {m.group(2)}")
    c.expect_absent(r"FATAL|faulted")


def test_bochs_ovmf_grub_poweroff(c):
    """A disk laid out as distributions install UEFI systems (GPT, an ESP
    with Debian's GRUB EFI on the removable-media path) boots in an OVMF VSI;
    GRUB's halt reaches OVMF's ResetSystem, which powers the VSI off
    through the PIIX4's PM1 control register."""
    grub_cfg = os.path.join(c.dir, "grub.cfg")
    with open(grub_cfg, "w") as f:
        f.write('echo "GRUB: running on OVMF in a VSI"\nhalt\n')
    image = os.path.join(c.dir, "grub.img")
    subprocess.run(["sh", os.path.join(lib.ROOT, "tools/mkgrubdisk.sh"), image, grub_cfg],
                   check=True)
    path = os.path.join(c.dir, "hv.cfg")
    with open(path, "w") as f:
        f.write(OVMF_DISK_CFG)
    iso = c.iso("loglevel=info", [path, OVMF_FD])
    server = f"qemu-nbd -f raw -t -b 127.0.0.1 -p 10809 -x esp {image} 2>{c.dir}/qemu-nbd.log"
    c.machine = lib.hvrun.boot_bochs(c.dir, iso, cpus=2, megs=512, nic=True, inside=server)
    c.expect(r"vsi uefi: started")
    t1 = time.monotonic()
    c.expect(r"\[uefi\] .*GRUB: running on OVMF in a VSI", 300)
    print(f"  GRUB ran {time.monotonic() - t1:.1f} s after the VSI started")
    c.expect(r"vsi uefi: powered off by the guest")
    c.console("list", r"uefi +stopped")
    c.expect_absent(r"FATAL|faulted")


OVMF_LINUX_CFG = """[hypervisor]
address = 10.0.2.15/24
gateway = 10.0.2.2

[vsi uefi]
cpus = 1
memory = 512M
rom = OVMF.fd
firmware = ovmf
disk = nbd://10.0.2.2:10809/linux
"""


def test_bochs_ovmf_linux_grub(c):
    """Stock OVMF -> Debian's GRUB EFI -> Debian's kernel (its EFI stub) ->
    our /init, from a disk laid out as a distribution installs it (GPT, ESP
    with GRUB, an ext4 root holding /boot/vmlinuz and the initramfs, a data
    partition): the guest finds its vCPU and IOAPIC in the ACPI tables the
    hypervisor served OVMF, mounts its root from the virtio-blk disk, writes
    its pattern to the NBD export and powers off; the server's file then
    holds the pattern."""
    image = os.path.join(c.dir, "linux.img")
    subprocess.run([sys.executable, os.path.join(lib.ROOT, "tools/mkdisk.py"), image, "--name",
                    "ovmf", "--layout", "grub", "--build", c.build], check=True,
                   stdout=subprocess.DEVNULL)
    iso = c.vsi_iso(OVMF_LINUX_CFG, [OVMF_FD])
    server = f"qemu-nbd -f raw -t -b 127.0.0.1 -p 10809 -x linux {image} 2>{c.dir}/qemu-nbd.log"
    c.machine = lib.hvrun.boot_bochs(c.dir, iso, cpus=2, megs=1024, nic=True, inside=server)
    c.expect(r"vsi uefi: started")
    t1 = time.monotonic()
    c.expect(r"\[uefi\] .*GRUB: booting /boot/vmlinuz from hd0,gpt2", 300)
    t2 = time.monotonic()
    c.expect(r"\[uefi\] .*Linux version ", 600)
    t3 = time.monotonic()
    c.expect(r"\[uefi\] .*ACPI: FACP 0x[0-9A-F]+ [0-9A-F]+ \(v06 HVMICR")
    c.expect(r"\[uefi\] .*ACPI: DSDT 0x[0-9A-F]+ [0-9A-F]+ \(v02 HVMICR VSIPIIX")
    c.expect(r"\[uefi\] .*hvtest: root /dev/vda2 mounted: ext4", lib.LINUX_TIMEOUT)
    c.expect(r"\[uefi\] .*hvtest: done", lib.LINUX_TIMEOUT)
    t4 = time.monotonic()
    c.expect(r"vsi uefi: powered off by the guest", 120)
    print(f"  after the VSI started: GRUB {t2 - t1:.1f} s, Linux {t3 - t1:.1f} s, "
          f"/init done {t4 - t1:.1f} s")
    c.expect_absent(r"hvtest: FAIL|Kernel panic|faulted and stopped|soft lockup")
    c.machine.stop()
    lib.check_disk(c, image, "ovmf", part=3)


OVMF_INSTALLER_CFG = """[hypervisor]
address = 10.0.2.15/24
gateway = 10.0.2.2

[vsi installer]
cpus = 1
memory = 1G
rom = OVMF.fd
firmware = ovmf
disk = nbd://10.0.2.2:10809/installer
"""


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def guest_stream(c, vsi):
    """What a VSI wrote to its COM1, put back together: the console cuts a
    line without a newline every VSI_UART_LINE - 1 (159) characters, which
    a full-screen program (the installer's dialogs) nearly always has."""
    out = []
    for line in c.guest_lines(vsi):
        out.append(line if len(line) == 159 else line + "\n")
    return "".join(out)


def wait_guest_text(c, vsi, text, timeout):
    """Wait until the VSI's serial output holds text, across cut lines."""
    deadline = time.monotonic() + timeout
    while text not in guest_stream(c, vsi):
        if c.machine.exited():
            raise lib.hvrun.EmulatorExited(c.machine.exit_report(f"before {vsi} showed {text!r}"))
        if time.monotonic() > deadline:
            raise lib.Failure(f"{vsi} never showed {text!r} (waited up to {timeout} s)")
        time.sleep(1)


def test_bochs_ovmf_installer_iso(c):
    """Debian's installer ISO (tools/mkinstaller-iso.sh: grub-mkrescue around
    the netboot installer's kernel and initrd.gz), served read-only by
    qemu-nbd -r, boots in an OVMF VSI from its virtio-blk disk through the
    ISO's EFI System Partition: OVMF -> GRUB -> Linux -> the installer's
    first dialog, "Select a language", on the VSI's serial console. The ISO
    on the server is unchanged afterwards."""
    image = os.path.join(c.dir, "installer.iso")
    t0 = time.monotonic()
    subprocess.run(["sh", os.path.join(lib.ROOT, "tools/mkinstaller-iso.sh"), image], check=True)
    print(f"  ISO of {os.path.getsize(image) >> 20} MiB built in {time.monotonic() - t0:.1f} s")
    before = sha256(image)
    iso = c.vsi_iso(OVMF_INSTALLER_CFG, [OVMF_FD])
    server = (f"qemu-nbd -r -f raw -t -b 127.0.0.1 -p 10809 -x installer {image} "
              f"2>{c.dir}/qemu-nbd.log")
    c.machine = lib.hvrun.boot_bochs(c.dir, iso, cpus=2, megs=1536, nic=True, inside=server)
    c.expect(r"storage: vsi installer: export 'installer' is \d+ MiB \(\d+ bytes\), "
             r"flags 0x[0-9a-f]+: read-only")
    c.expect(r"vsi installer: disk \d+ sectors, read-only at PCI 00:03\.0 \(virtio-blk\)")
    c.expect(r"vsi installer: started")
    t1 = time.monotonic()
    c.expect(r"\[installer\] .*GRUB: loading the installer", 300)
    t2 = time.monotonic()
    c.expect(r"\[installer\] .*Linux version ", 900)
    t3 = time.monotonic()
    c.expect(r"\[installer\] .*Run /init as init process", lib.LINUX_TIMEOUT)
    t4 = time.monotonic()
    wait_guest_text(c, "installer", "[!!] Select a language", lib.LINUX_TIMEOUT)
    wait_guest_text(c, "installer", "Choose the language to be used for the installation process",
                    60)
    t5 = time.monotonic()
    print(f"  after the VSI started: GRUB {t2 - t1:.1f} s, Linux {t3 - t1:.1f} s, "
          f"/init {t4 - t1:.1f} s, the first dialog {t5 - t1:.1f} s")
    # The installer's output goes on meanwhile: the list's lines come between its lines.
    m = c.console("list", r"installer +running +1 +1024M +0 +(\d+)/(\d+)/(\d+)/(\d+)")
    print("  unclaimed I/O, denied MSRs, dropped IPIs, unclaimed MMIO: " +
          "/".join(m.group(i) for i in range(1, 5)))
    c.check(m.group(3) == "0", "a one-vCPU VSI sent IPIs that were dropped")
    c.expect_absent(r"Kernel panic|faulted|FATAL|Low memory|I/O error")
    c.machine.stop()
    c.check(sha256(image) == before, "the read-only ISO changed on the server")


CASES = [test_bochs_ovmf_to_bds, test_bochs_ovmf_boots_from_disk,
         test_bochs_ovmf_grub_poweroff, test_bochs_ovmf_linux_grub,
         test_bochs_ovmf_installer_iso]

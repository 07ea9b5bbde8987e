"""System tests of VSIs on Debian's stock OVMF (docs/vsi-platform.md, "OVMF").

Each case boots the hypervisor under Bochs with a VSI whose firmware is
Debian's unmodified OVMF.fd, from the reset vector to the UEFI shell, an EFI
loader, GRUB or Linux. run.py sets `lib` to itself before calling these cases.
"""
import hashlib
import os
import re
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

[vsi native]
cpus = 2
memory = 256M
rom = firmware.rom
disk = nbd://10.0.2.2:10810/native

[vsi evil]
cpus = 3
memory = 16M
rom = hostile-virtio.rom
disk = nbd://10.0.2.2:10811/evil
"""


def test_bochs_ovmf_linux_grub(c):
    """Stock OVMF -> Debian's GRUB EFI -> Debian's kernel (its EFI stub) ->
    our /init, from a disk laid out as a distribution installs it (GPT, ESP
    with GRUB, an ext4 root holding /boot/vmlinuz and the initramfs, a data
    partition): the guest finds its vCPU and IOAPIC in the ACPI tables the
    hypervisor served OVMF, mounts its root from the virtio-blk disk, writes
    its pattern to the NBD export and powers off; the server's file then
    holds the pattern. Beside it (Bochs, 4 CPUs) a VSI on our own firmware
    boots the same kernel from its own export and writes its pattern, while
    hostile-virtio attacks its own disk device with bad descriptors and
    broken queues, all on the one service CPU: every attack gets its error
    and both Linux guests finish."""
    image = os.path.join(c.dir, "linux.img")
    subprocess.run([sys.executable, os.path.join(lib.ROOT, "tools/mkdisk.py"), image, "--name",
                    "ovmf", "--layout", "grub", "--build", c.build], check=True,
                   stdout=subprocess.DEVNULL)
    native = lib.guest_disk(c, "native")
    evil = os.path.join(c.dir, "evil.img")
    with open(evil, "wb") as f:
        f.truncate(4 << 20)
    subprocess.run(["sgdisk", "-o", "-n", "1:2048:+1M", "-t", "1:8300", evil], check=True,
                   stdout=subprocess.DEVNULL)
    iso = c.vsi_iso(OVMF_LINUX_CFG, [OVMF_FD, "firmware.rom", "hostile-virtio.rom"])
    nbd = "qemu-nbd -f raw -t -b 127.0.0.1"
    servers = (f"{nbd} -p 10809 -x linux {image} 2>{c.dir}/qemu-nbd.log & "
               f"{nbd} -p 10810 -x native {native} 2>{c.dir}/native.log & "
               f"{nbd} -p 10811 -x evil {evil} 2>{c.dir}/evil.log")
    c.machine = lib.hvrun.boot_bochs(c.dir, iso, cpus=4, megs=1536, nic=True, inside=servers)
    c.expect(r"vsi uefi: started")
    t1 = time.monotonic()
    c.expect(r"\[uefi\] .*GRUB: booting /boot/vmlinuz from hd0,gpt2", 300)
    t2 = time.monotonic()
    c.expect(r"\[evil\] GUEST hostile-virtio: done", 600)
    exp = c.expect_guest_ok("evil")
    c.check(len(exp) >= 70, f"hostile-virtio printed {len(exp)} EXPECT lines, want 72")
    c.expect(r"\[uefi\] .*Linux version ", 600)
    t3 = time.monotonic()
    c.expect(r"\[uefi\] .*ACPI: FACP 0x[0-9A-F]+ [0-9A-F]+ \(v06 HVMICR")
    c.expect(r"\[uefi\] .*ACPI: DSDT 0x[0-9A-F]+ [0-9A-F]+ \(v02 HVMICR VSIPIIX")
    c.expect(r"\[uefi\] .*hvtest: root /dev/vda2 mounted: ext4", lib.LINUX_TIMEOUT)
    done = {}
    for vsi in ("native", "uefi"):  # our firmware boots the kernel faster (PVH)
        c.expect(rf"\[{vsi}\] .*hvtest: done", lib.LINUX_TIMEOUT)
        done[vsi] = time.monotonic() - t1
        c.expect(rf"vsi {vsi}: powered off by the guest", 120)
    print(f"  after the VSIs started: GRUB {t2 - t1:.1f} s, Linux {t3 - t1:.1f} s, /init done "
          f"{done['uefi']:.1f} s (OVMF), {done['native']:.1f} s (our firmware)")
    c.console("list", r"\nevil +running")
    c.expect_absent(r"hvtest: FAIL|Kernel panic|faulted and stopped|soft lockup")
    c.machine.stop()
    lib.check_disk(c, image, "ovmf", part=3)
    lib.check_disk(c, native, "native")
    lib.check_disk(c, native, "ovmf", want_ok=False)


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


ERROR_MEDIA_CFG = """[hypervisor]
address = 10.0.2.15/24
gateway = 10.0.2.2

[vsi nomedia]
cpus = 1
memory = 64M
rom = OVMF.fd
firmware = ovmf
disk = nbd://10.0.2.2:10809/nomedia

[vsi badesp]
cpus = 2
memory = 64M
rom = OVMF.fd
firmware = ovmf
disk = nbd://10.0.2.2:10810/badesp

[vsi ro]
cpus = 3
memory = 256M
rom = firmware.rom
disk = nbd://10.0.2.2:10811/ro

[vsi rowrite]
cpus = 4
memory = 16M
rom = hostile-virtio.rom
disk = nbd://10.0.2.2:10812/rowrite
"""

# What OVMF's boot manager prints when the disk holds nothing it can boot
# (docs/vsi-platform.md, "OVMF: when the disk does not boot").
BDS_NOT_FOUND = (r'BdsDxe: failed to load Boot\d+ "UEFI Misc Device" from '
                 r'PciRoot\(0x0\)/Pci\(0x3,0x0\): Not Found')


def error_media_disks(c):
    """The four exports: all zeros; a GPT disk whose ESP's FAT boot sector is
    zeroed; a Linux disk and a bare GPT disk, both to be served read-only."""
    zero = os.path.join(c.dir, "nomedia.img")
    with open(zero, "wb") as f:
        f.truncate(16 << 20)
    grub_cfg = os.path.join(c.dir, "grub.cfg")
    with open(grub_cfg, "w") as f:
        f.write("halt\n")
    badesp = os.path.join(c.dir, "badesp.img")
    subprocess.run(["sh", os.path.join(lib.ROOT, "tools/mkgrubdisk.sh"), badesp, grub_cfg],
                   check=True)
    with open(badesp, "r+b") as f:  # the ESP starts at LBA 2048 (tools/mkgrubdisk.sh)
        f.seek(2048 * 512)
        f.write(bytes(512))
    ro = lib.guest_disk(c, "ro", mode="readonly")
    rowrite = os.path.join(c.dir, "rowrite.img")
    with open(rowrite, "wb") as f:
        f.truncate(4 << 20)
    subprocess.run(["sgdisk", "-o", "-n", "1:2048:+1M", "-t", "1:8300", rowrite], check=True,
                   stdout=subprocess.DEVNULL)
    return zero, badesp, ro, rowrite


def check_no_boot(c, vsi, mapped):
    """OVMF in vsi found nothing to boot on its disk and fell through to its
    shell, whose mapping table shows the disk as mapped says, and no file system."""
    c.expect(rf"\[{vsi}\] .*{BDS_NOT_FOUND}", 300)
    c.expect(rf"\[{vsi}\] .*BdsDxe: starting Boot\d+ \"EFI Internal Shell\"", 120)
    c.expect(rf"\[{vsi}\] .*in 1 seconds to skip", 120)
    # The shell colours its output: ESC [ ... m, with ESC shown as '.'.
    table = re.sub(r"\.\[[0-9;=]*[A-Za-z]", "", "\n".join(c.guest_lines(vsi)))
    table = table[table.rfind("Mapping table"):]
    c.check(re.search(mapped, table), f"{vsi}: the shell's mapping table lacks /{mapped}/:\n"
            f"{table}")
    c.check(not re.search(r"\bFS\d+:", table), f"{vsi}: the shell mapped a file system")
    return table


def test_bochs_ovmf_error_media(c):
    """What a VSI shows when its disk cannot serve it, all in one boot (Bochs,
    5 CPUs): OVMF on an all-zero export and OVMF on a GPT disk whose ESP is
    corrupt (its FAT boot sector zeroed) each print BdsDxe's "Not Found" and
    fall through to the UEFI shell, whose mapping table tells the two apart
    (a partition, but no file system); Linux on a read-only export (qemu-nbd
    -r) sees a read-only disk, its write fails with EPERM and it finishes;
    hostile-virtio writes to its read-only export anyway and gets IOERR
    for each write, which the hypervisor reports once and counts. The
    servers' files do not change."""
    zero, badesp, ro, rowrite = error_media_disks(c)
    before = {p: sha256(p) for p in (ro, rowrite)}
    iso = c.vsi_iso(ERROR_MEDIA_CFG, [OVMF_FD, "firmware.rom", "hostile-virtio.rom"])
    nbd = "qemu-nbd -f raw -t -b 127.0.0.1"
    servers = (f"{nbd} -p 10809 -x nomedia {zero} 2>{c.dir}/nomedia.log & "
               f"{nbd} -p 10810 -x badesp {badesp} 2>{c.dir}/badesp.log & "
               f"{nbd} -r -p 10811 -x ro {ro} 2>{c.dir}/ro.log & "
               f"{nbd} -r -p 10812 -x rowrite {rowrite} 2>{c.dir}/rowrite.log")
    t0 = time.monotonic()
    c.machine = lib.hvrun.boot_bochs(c.dir, iso, cpus=5, megs=1024, nic=True, inside=servers)
    c.expect(r"vsi ro: disk \d+ sectors, read-only at PCI 00:01\.0 \(virtio-blk\)", 300)
    c.expect(r"vsi rowrite: disk 8192 sectors, read-only at PCI 00:01\.0", 300)
    c.expect(r"\[rowrite\] GUEST hostile-virtio: the disk is read-only", 300)
    c.expect(r"vsi rowrite: a write to its disk was refused with an I/O error: export "
             r"'rowrite' is read-only on its server; more are only counted \('list'\)")
    c.expect(r"\[rowrite\] GUEST hostile-virtio: done", 300)
    exp = c.expect_guest_ok("rowrite")
    c.check(any("read-only-writes-refused" in l for l in exp), "no read-only verdict")
    m = c.console("list", r"\nrowrite +running[^\n]*\n(?:[^\n]*\n)*? +disk: export 'rowrite' "
                  r"read-only, reads \d+, writes (\d+), refused as read-only (\d+), "
                  r"I/O errors (\d+)\r?\n")
    c.check(int(m.group(2)) >= 64 and m.group(1) == m.group(2) and m.group(3) == m.group(2),
            f"rowrite: writes {m.group(1)}, refused {m.group(2)}, I/O errors {m.group(3)}: "
            "want at least 64, all refused")
    check_no_boot(c, "nomedia", r"BLK\d+: Alias\(s\):\s*\n +PciRoot\(0x0\)/Pci\(0x3,0x0\)\s*\n")
    c.check("HD(" not in "\n".join(c.guest_lines("nomedia")), "nomedia: OVMF found a partition")
    check_no_boot(c, "badesp", r"PciRoot\(0x0\)/Pci\(0x3,0x0\)/HD\(1,GPT,")
    print(f"  both OVMF VSIs in their shells {time.monotonic() - t0:.1f} s after Bochs started")
    for vsi in ("nomedia", "badesp"):  # their CPUs' time goes to Linux from here
        c.console(f"stop {vsi}", rf"vsi {vsi}: stopped")
    c.expect(r"\[ro\] .*hvtest: write to read-only /dev/vda2 refused: dd: error writing "
             r"'/dev/vda2': Operation not permitted", lib.LINUX_TIMEOUT)
    c.expect(r"\[ro\] .*hvtest: done", 300)
    c.expect(r"vsi ro: powered off by the guest", 120)
    print(f"  Linux done on its read-only disk {time.monotonic() - t0:.1f} s after Bochs started")
    c.console("list", r"\nro +stopped[^\n]*\n(?:[^\n]*\n)*? +disk: export 'ro' read-only, "
              r"reads [1-9]\d*, writes 0, refused as read-only 0, I/O errors 0\r?\n")
    c.check(c.count(r"a write to its disk was refused") == 1,
            "the refused writes were reported more than once")
    c.expect_absent(r"hvtest: FAIL|Kernel panic|faulted and stopped|FATAL")
    c.machine.stop()
    for p, h in before.items():
        c.check(sha256(p) == h, f"{os.path.basename(p)} changed on the server")


CASES = [test_bochs_ovmf_to_bds, test_bochs_ovmf_boots_from_disk,
         test_bochs_ovmf_grub_poweroff, test_bochs_ovmf_linux_grub,
         test_bochs_ovmf_installer_iso, test_bochs_ovmf_error_media]

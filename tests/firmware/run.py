#!/usr/bin/env python3
"""Firmware tests: boot guest/firmware's ROM under QEMU TCG with test disks.

Each case builds a GPT disk with a FAT boot partition (sgdisk, mkfs.vfat,
mtools), boots `qemu-system-x86_64 -machine pc -bios firmware.rom` on it and
checks the serial console: the firmware's "fw: ..." lines, and the "tk: ..."
report of a test kernel (tests/firmware/kernels) that prints what its boot
protocol gave it. Stock Debian kernels from `make disks` (build/disks) are
booted too when those images exist.

    python3 tests/firmware/run.py [--build DIR] [--only SUBSTRING] [-v]

Every failure prints the console output. The last line is "N passed, N failed".
"""

import argparse
import os
import random
import re
import select
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import hvrun  # noqa: E402

EMULATOR_ENV = None  # QEMU's environment: no host display or sound (set in main)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
KDIR = os.path.join(ROOT, "tests", "firmware", "kernels")

TOOLS = {
    "qemu-system-x86_64": "qemu-system-x86",
    "nasm": "nasm",
    "gcc": "gcc",
    "ld": "binutils",
    "objcopy": "binutils",
    "sgdisk": "gdisk",
    "mkfs.vfat": "dosfstools",
    "mcopy": "mtools",
    "mmd": "mtools",
    "iasl": "acpica-tools",
}

E820_RAM, E820_RESERVED, E820_ACPI = 1, 2, 3
PVH_INFO_MAGIC = 0x336EC578
HANDOFF_AREA = (0x80000, 0x90000)  # guest/firmware/layout.h
CMDLINE = "console=ttyS0 tk.test=1 quiet  two-spaces 'quoted'"

CFLAGS = ["-ffreestanding", "-fno-pic", "-fno-pie", "-O2", "-nostdlib",
          "-fno-stack-protector", "-fcf-protection=none", "-mgeneral-regs-only",
          "-fno-asynchronous-unwind-tables", "-Wall", "-Wextra", "-Werror"]


class TestFailure(Exception):
    pass


def run(cmd, **kw):
    """Runs a build command; on failure raises with its output."""
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
    if p.returncode:
        raise TestFailure("command failed (%d): %s\n%s" % (p.returncode, " ".join(cmd), p.stdout))
    return p.stdout


def check_tools():
    missing = sorted({pkg for tool, pkg in TOOLS.items() if not shutil.which(tool)})
    if missing:
        sys.exit("firmware-test: missing tools; install the Debian packages: " + " ".join(missing))


# ---------------------------------------------------------------- kernels

def build_kernels(out):
    """The test kernels: pvh.elf, mb1.elf, mb2.elf (32-bit ELF), mb1aout.elf (Multiboot 1
    address fields) and bz.img (bzImage); loaded low as GRUB and QEMU load them:
    mb1low.elf on the firmware's image (0x20000), mb2low.elf across the firmware's
    end and its hand-off area (0x7E000), mb1hole.elf in the legacy hole (0xA0000)."""
    os.makedirs(out, exist_ok=True)
    o = lambda n: os.path.join(out, n)
    src = lambda n: os.path.join(KDIR, n)
    run(["gcc", "-m32"] + CFLAGS + ["-c", src("tk.c"), "-o", o("tk32.o")])
    with open(src("kernel32.ld")) as f:
        script = f.read()
    for k, c, defs, base in (("pvh", "pvh", ["-DPVH"], None), ("mb1", "mb1", ["-DMB1"], None),
                             ("mb2", "mb2", ["-DMB2"], None),
                             ("mb1aout", "mb1", ["-DMB1", "-DAOUT"], None),
                             ("mb1low", "mb1", ["-DMB1"], 0x20000),
                             ("mb2low", "mb2", ["-DMB2"], 0x7E000),
                             ("mb1hole", "mb1", ["-DMB1"], 0xA0000)):
        ld = src("kernel32.ld")
        if base is not None:
            ld = o("kernel32-%s.ld" % k)
            with open(ld, "w") as f:
                f.write(script.replace(". = 0x100000;", ". = 0x%x;" % base))
        run(["nasm", "-f", "elf32"] + defs + [src("entry32.asm"), "-o", o("e_%s.o" % k)])
        run(["gcc", "-m32"] + CFLAGS + ["-c", src(c + ".c"), "-o", o(c + ".o")])
        run(["ld", "-m", "elf_i386", "--no-warn-rwx-segments", "-T", ld,
             "-o", o(k + ".elf"), o("e_%s.o" % k), o(c + ".o"), o("tk32.o")])
    c64 = ["gcc", "-m64", "-mno-red-zone", "-mcmodel=small"] + CFLAGS
    run(c64 + ["-c", src("tk.c"), "-o", o("tk64.o")])
    run(c64 + ["-c", src("bz.c"), "-o", o("bz.o")])
    run(["nasm", "-f", "elf64", src("entry64.asm"), "-o", o("e64.o")])
    run(["ld", "--no-warn-rwx-segments", "-T", src("kernel64.ld"), "-o", o("bz.elf"),
         o("e64.o"), o("bz.o"), o("tk64.o")])
    run(["objcopy", "-O", "binary", o("bz.elf"), o("bz.pm")])
    end = int(re.search(r"^([0-9a-f]+) \S __end$", run(["nm", o("bz.elf")]), re.M).group(1), 16)
    with open(o("bz.pm"), "rb") as f:
        pm = f.read()
    with open(o("bz.img"), "wb") as f:
        f.write(bzimage_setup(len(pm), end - 0x1000000) + pm)
    return {k: o(k + ".elf") for k in ("pvh", "mb1", "mb2", "mb1aout", "mb1low", "mb2low",
                                        "mb1hole")} | {"bz": o("bz.img")}


def bzimage_setup(pm_size, init_size):
    """Two sectors of real-mode setup with a protocol 2.15 header (boot.rst)."""
    s = bytearray(1024)
    hdr_end = 0x26C
    s[0x1F1] = 1                                        # setup_sects
    struct.pack_into("<I", s, 0x1F4, (pm_size + 15) // 16)   # syssize
    struct.pack_into("<H", s, 0x1FA, 0xFFFF)            # vid_mode
    struct.pack_into("<H", s, 0x1FE, 0xAA55)            # boot_flag
    s[0x200], s[0x201] = 0xEB, hdr_end - 0x202          # jump over the header
    s[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", s, 0x206, 0x020F)            # version 2.15
    s[0x211] = 0x01                                     # loadflags: LOADED_HIGH
    struct.pack_into("<I", s, 0x214, 0x100000)          # code32_start
    struct.pack_into("<I", s, 0x22C, 0x7FFFFFFF)        # initrd_addr_max
    struct.pack_into("<I", s, 0x230, 0x200000)          # kernel_alignment
    s[0x234] = 0                                        # not relocatable
    s[0x235] = 21                                       # min_alignment
    struct.pack_into("<H", s, 0x236, 0x3)               # XLF_KERNEL_64 | CAN_BE_LOADED_ABOVE_4G
    struct.pack_into("<I", s, 0x238, 2047)              # cmdline_size
    struct.pack_into("<Q", s, 0x258, 0x1000000)         # pref_address
    struct.pack_into("<I", s, 0x260, (init_size + 4095) & ~4095)
    return bytes(s)


# ---------------------------------------------------------------- disks

def make_fat(path, sectors, files):
    """A FAT file system image of `sectors` 512-byte sectors holding files {path: bytes}."""
    with open(path, "wb") as f:
        f.truncate(sectors * 512)
    run(["mkfs.vfat", "-n", "BOOT", path])
    dirs = set()
    for dest in files:
        parts = dest.strip("/").split("/")[:-1]
        for i in range(1, len(parts) + 1):
            dirs.add("/" + "/".join(parts[:i]))
    for d in sorted(dirs, key=len):
        run(["mmd", "-i", path, "::" + d])
    with tempfile.TemporaryDirectory() as tmp:
        for i, (dest, data) in enumerate(files.items()):
            src = os.path.join(tmp, "f%d" % i)
            with open(src, "wb") as f:
                f.write(data)
            run(["mcopy", "-i", path, src, "::" + dest])


def make_disk(path, files=None, size_mb=64, part_type="ef00", gpt=True):
    """A GPT disk with one partition (type part_type) from LBA 2048 holding a FAT file system."""
    with open(path, "wb") as f:
        f.truncate(size_mb << 20)
    if not gpt:
        return path
    run(["sgdisk", "-o", "-n", "1:2048:0", "-t", "1:" + part_type, "-c", "1:boot", path])
    info = run(["sgdisk", "-i", "1", path])
    first = int(re.search(r"First sector: (\d+)", info).group(1))
    last = int(re.search(r"Last sector: (\d+)", info).group(1))
    if files is None:
        return path
    part = path + ".fat"
    make_fat(part, last - first + 1, files)
    with open(part, "rb") as src, open(path, "r+b") as dst:
        dst.seek(first * 512)
        shutil.copyfileobj(src, dst, 1 << 20)
    os.unlink(part)
    return path


def bls_entry(title, linux, initrds=(), options=CMDLINE, extra=""):
    text = "title %s\nlinux %s\n" % (title, linux)
    text += "".join("initrd %s\n" % i for i in initrds)
    if options is not None:
        text += "options %s\n" % options
    return (text + extra).encode()


# ---------------------------------------------------------------- QEMU

def qemu(rom, disk, mem="256M", timeout=60, until=("tk: done", "fw: halted"), cpus=1,
         readonly=True, blkdebug=None, device_opts=""):
    """Boots the ROM; returns (console lines with arrival times, exit status or None).

    The CPU is Intel, like vsi-pc's (VT-x hosts). The ACPI tables describe a
    hardware-reduced platform (no PM timer, no HPET), so Linux calibrates the
    TSC against the PIT early, which it does for Intel CPUs and which needs
    consistent timing: -icount shift=0 makes virtual time (and the TSC, 1 GHz)
    follow executed instructions, so that works on a loaded host too and the
    firmware's TSC figures are instruction counts, as under Bochs.
    """
    cmd = ["qemu-system-x86_64", "-machine", "pc", "-cpu", "qemu64,vendor=GenuineIntel",
           "-icount", "shift=0",
           "-bios", rom, "-nodefaults", "-nographic", "-serial", "stdio", "-m", mem,
           "-smp", str(cpus), "-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=4"]
    if disk:
        ro = ",readonly=on" if readonly else ""
        drive = "if=none,id=d0,format=raw,file=" + disk + ro
        if blkdebug:  # QEMU's error injection (docs/devel/blkdebug.txt) under the raw image
            drive = ("if=none,id=d0,driver=blkdebug,config=%s,image.driver=raw,"
                     "image.file.filename=%s%s" % (blkdebug, disk, ro))
        cmd += ["-device", "virtio-blk-pci,disable-legacy=on,drive=d0" + device_opts,
                "-drive", drive]
    start = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, env=EMULATOR_ENV)
    lines, buf, status = [], b"", None
    try:
        while time.monotonic() - start < timeout:
            r, _, _ = select.select([p.stdout], [], [], 0.2)
            if r:
                chunk = os.read(p.stdout.fileno(), 65536)
                if not chunk:
                    break
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    text = line.decode("utf-8", "replace").rstrip("\r")
                    lines.append((time.monotonic() - start, text))
                    if any(text.startswith(u) or u in text for u in until):
                        timeout = min(timeout, time.monotonic() - start + 2)
            elif p.poll() is not None:
                break
    finally:
        if p.poll() is None:
            p.kill()
        status = p.wait()
    if buf:
        lines.append((time.monotonic() - start, buf.decode("utf-8", "replace")))
    return lines, status


class Console:
    def __init__(self, lines, status):
        self.lines, self.status = lines, status
        self.text = [t for _, t in lines]

    def dump(self):
        return "\n".join("  | " + t for t in self.text) + "\n  (QEMU exit status %s)" % self.status

    def find(self, pattern):
        """First match of a regex over the lines, or None."""
        for t in self.text:
            m = re.search(pattern, t)
            if m:
                return m
        return None

    def when(self, pattern):
        for ts, t in self.lines:
            if re.search(pattern, t):
                return ts
        return None

    def expect(self, pattern, what=None):
        m = self.find(pattern)
        if not m:
            raise TestFailure("expected %s (/%s/) on the console" % (what or "a line", pattern))
        return m

    def all(self, pattern):
        return [m for m in (re.search(pattern, t) for t in self.text) if m]


# ---------------------------------------------------------------- checks

def parse_mem(con):
    return [(int(m.group(1), 16), int(m.group(2), 16), int(m.group(3)))
            for m in con.all(r"^tk: mem ([0-9a-f]+) ([0-9a-f]+) (\d+)$")]


def mem_type_at(mem, addr, size=1):
    for a, s, t in mem:
        if a <= addr and addr + size <= a + s:
            return t
    return None


def check_memmap(con, modules, need_rsdp_acpi):
    mem = parse_mem(con)
    if not mem:
        raise TestFailure("the kernel reported no memory map")
    prev_end = 0
    for a, s, t in mem:
        if a < prev_end:
            raise TestFailure("memory map entries overlap or are unsorted at 0x%x" % a)
        prev_end = a + s
    if mem_type_at(mem, 0, 0x1000) not in (E820_RESERVED, None):
        raise TestFailure("page 0 is not reserved in the memory map")
    if mem_type_at(mem, 0xA0000, 0x60000) != E820_RESERVED:
        raise TestFailure("0xA0000-0xFFFFF is not one reserved range in the memory map")
    if mem_type_at(mem, 0x100000, 0x100000) != E820_RAM:
        raise TestFailure("RAM at 1 MiB is missing from the memory map")
    if not any(t == E820_ACPI for _, _, t in mem):
        raise TestFailure("no ACPI reclaimable (type 3) range in the memory map")
    for addr, size in modules:
        if mem_type_at(mem, addr, size) != E820_RAM:
            raise TestFailure("module 0x%x+0x%x is not inside RAM in the map" % (addr, size))
    if need_rsdp_acpi:
        m = con.expect(r"^tk: rsdp ([0-9a-f]+) ", "the RSDP report")
        if mem_type_at(mem, int(m.group(1), 16), 36) != E820_ACPI:
            raise TestFailure("the RSDP is not inside an ACPI (type 3) range")
    return mem


def acpi_tables(con):
    """{signature: bytes} from the kernel's hex dump of the ACPI tables."""
    tables, cur = {}, None
    for t in con.text:
        m = re.match(r"^tk: acpi (\w{4}) ([0-9a-f]+) (\d+)$", t)
        if m:
            cur = m.group(1)
            tables[cur] = bytearray()
            continue
        m = re.match(r"^tk: hex ([0-9a-f]+)$", t)
        if m and cur:
            tables[cur] += bytes.fromhex(m.group(1))
    return tables


def check_acpi(con, tmp):
    con.expect(r"^tk: rsdp [0-9a-f]+ rev 2 checksum ok extended ok xsdt [0-9a-f]+$",
               "an RSDP revision 2 with good checksums")
    bad = con.find(r"^tk: acpi table (\w+) (checksum bad|at .* bad length)")
    if bad:
        raise TestFailure("ACPI table %s is broken: %s" % (bad.group(1), bad.group(0)))
    tables = acpi_tables(con)
    for sig in ("RSDP", "XSDT", "FACP", "APIC", "DSDT"):
        if sig not in tables:
            raise TestFailure("ACPI table %s was not found through the RSDP" % sig)
    outdir = os.path.join(tmp, "acpi")
    os.makedirs(outdir, exist_ok=True)
    for sig, data in tables.items():
        if sig == "RSDP":  # not a table iasl disassembles; its checksums are checked above
            continue
        path = os.path.join(outdir, sig.lower() + ".dat")
        with open(path, "wb") as f:
            f.write(data)
        p = subprocess.run(["iasl", "-d", path], cwd=outdir, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        dsl = path[:-4] + ".dsl"
        if p.returncode or not os.path.exists(dsl):
            raise TestFailure("iasl -d %s.dat failed:\n%s" % (sig.lower(), p.stdout))
    return sorted(tables)


def check_modules(con, expected):
    """expected: list of (bytes, string or None); returns [(addr, size)]."""
    got = con.all(r"^tk: module (\d+) addr ([0-9a-f]+) size (\d+) crc ([0-9a-f]{8}) "
                  r"string \"(.*)\"$")
    if len(got) != len(expected):
        raise TestFailure("the kernel saw %d module(s), expected %d" % (len(got), len(expected)))
    out = []
    for m, (data, string) in zip(got, expected):
        addr, size, crc = int(m.group(2), 16), int(m.group(3)), int(m.group(4), 16)
        if size != len(data) or crc != zlib.crc32(data):
            raise TestFailure("module %s: size %d crc %08x, expected size %d crc %08x"
                              % (m.group(1), size, crc, len(data), zlib.crc32(data)))
        if string is not None and m.group(5) != string:
            raise TestFailure("module %s: string \"%s\", expected \"%s\""
                              % (m.group(1), m.group(5), string))
        out.append((addr, size))
    return out


def check_cpu32(con, tr_expected):
    m = con.expect(r"^tk: cpu cr0 ([0-9a-f]+) cr4 ([0-9a-f]+) eflags ([0-9a-f]+) cs (\w+) "
                   r"ds (\w+) es (\w+) ss (\w+) tr (\w+)$", "the CPU state report")
    cr0, cr4, fl = (int(m.group(i), 16) for i in (1, 2, 3))
    if cr0 & 0x80000001 != 1:
        raise TestFailure("CR0 %x: want protected mode with paging off" % cr0)
    if cr4 != 0:
        raise TestFailure("CR4 %x: want 0" % cr4)
    if fl & (1 << 9) or fl & (1 << 17):
        raise TestFailure("EFLAGS %x: IF and VM must be clear" % fl)
    if tr_expected is not None and int(m.group(8), 16) != tr_expected:
        raise TestFailure("TR %s: want 0x%x" % (m.group(8), tr_expected))


# ---------------------------------------------------------------- cases

class Env:
    def __init__(self, rom, kernels, tmp, verbose):
        self.rom, self.k, self.tmp, self.verbose = rom, kernels, tmp, verbose
        self.rng = random.Random(1234)
        self.timings = []

    def blob(self, n):
        return bytes(self.rng.getrandbits(8) for _ in range(n))

    def kernel(self, name):
        with open(self.k[name], "rb") as f:
            return f.read()

    def disk(self, name, **kw):
        return make_disk(os.path.join(self.tmp, name + ".img"), **kw)

    def boot(self, disk, **kw):
        con = Console(*qemu(self.rom, disk, **kw))
        self.last = con
        return con


def pad4(data):
    return data + bytes(-len(data) % 4)


def expect_handoff(con, proto):
    m = con.expect(r"^fw: handing over to %s entry 0x([0-9a-f]+)$" % re.escape(proto),
                   "the hand-off line for %s" % proto)
    con.expect(r"^fw: tsc reset \d+ handoff \d+ \(\d+ ticks\)$", "the TSC report")
    con.expect(r"^tk: done$", "the test kernel to finish")
    if con.find(r"^tk: FAIL"):
        raise TestFailure(con.find(r"^tk: FAIL.*").group(0))
    return int(m.group(1), 16)


def case_pvh(env):
    a, b = env.blob(100001), env.blob(5003)
    disk = env.disk("pvh", files={
        "/loader/entries/pvh.conf": bls_entry("PVH test", "/boot/pvh.elf",
                                              ["/boot/initrd-a.img", "/boot/b.cpio"]),
        "/boot/pvh.elf": env.kernel("pvh"), "/boot/initrd-a.img": a, "/boot/b.cpio": b})
    con = env.boot(disk)
    con.expect(r'^fw: booting "PVH test"', "the entry title")
    expect_handoff(con, "PVH")
    con.expect(r"^tk: magic 336ec578 info [0-9a-f]+ version 1 ", "start_info version 1")
    check_cpu32(con, 0x20)
    if con.expect(r'^tk: cmdline "(.*)"$').group(1) != CMDLINE:
        raise TestFailure("command line differs: %s" % con.find(r"^tk: cmdline.*").group(0))
    mods = check_modules(con, [(pad4(a) + pad4(b), "/boot/initrd-a.img")])
    mem = check_memmap(con, mods, True)
    info = int(con.expect(r"^tk: magic \w+ info ([0-9a-f]+)").group(1), 16)
    if not HANDOFF_AREA[0] <= info < HANDOFF_AREA[1] or mem_type_at(mem, info) != E820_RESERVED:
        raise TestFailure("start_info at 0x%x is not in the reserved hand-off area" % info)
    tables = check_acpi(con, env.tmp)
    con.expect(r"^tk: low rsdp e0000$", "the RSDP copy at 0xE0000")
    return "tables %s disassembled" % ",".join(tables)


def case_multiboot(env, version, name=None, low=None):
    """low: (segment start, the range it takes from the firmware) for a kernel loaded low."""
    name = name or "mb%d" % version
    mods = [env.blob(70001), env.blob(3), env.blob(4096)]
    paths = ["/boot/m0.bin", "/boot/m1.bin", "/boot/m2.bin"]
    files = {"/loader/entries/%s.conf" % name: bls_entry("Multiboot %d test" % version,
                                                           "/boot/%s.elf" % name, paths),
             "/boot/%s.elf" % name: env.kernel(name)}
    if name == "mb1aout":  # no ELF magic: only the address fields can load it
        files["/boot/%s.elf" % name] = bytes(4) + env.kernel(name)[4:]
    files.update(zip(paths, mods))
    con = env.boot(env.disk(name, files=files))
    expect_handoff(con, "Multiboot" if version == 1 else "Multiboot2")
    if name == "mb1aout":
        con.expect(r"^fw: kernel /boot/mb1aout\.elf: Multiboot, \d+ bytes, 1 segment\(s\) from "
                   r"0x100000, entry 0x1000[0-9a-f]{2}$", "a load by the address fields")
    if low:
        con.expect(r"^fw: kernel segment 0x%x-0x[0-9a-f]+ is the firmware's memory: staged at "
                   r"0x[0-9a-f]+, moved at the jump$" % low[0], "the segment staged")
        con.expect(r"^fw: kernel /boot/%s\.elf: Multiboot2?, \d+ bytes, 1 segment\(s\) from "
                   r"0x%x, entry 0x[0-9a-f]+$" % (name, low[0]), "the load address")
        if low[1] == "hand-off":
            con.expect(r"^fw: hand-off area moved to 0x[0-9a-f]+-0x[0-9a-f]+: the kernel takes "
                       r"0x80000-0x90000$", "the hand-off area moved")
    magic = "2badb002" if version == 1 else "36d76289"
    con.expect(r"^tk: magic %s " % magic, "the loader magic in EAX")
    check_cpu32(con, None)
    if con.expect(r'^tk: cmdline "(.*)"$').group(1) != CMDLINE:
        raise TestFailure("command line differs: %s" % con.find(r"^tk: cmdline.*").group(0))
    con.expect(r'^tk: loader "vsi-pc firmware"$', "the boot loader name")
    got = check_modules(con, list(zip(mods, paths)))
    for addr, _ in got:
        if addr & 0xFFF:
            raise TestFailure("module at 0x%x is not page aligned" % addr)
    mem = check_memmap(con, got, False)
    if low and mem_type_at(mem, low[0], 0x1000) != E820_RAM:
        raise TestFailure("the kernel at 0x%x is not in RAM in the memory map" % low[0])
    info = int(con.expect(r"^tk: magic \w+ info ([0-9a-f]+)").group(1), 16)
    if mem_type_at(mem, info, 64) != E820_RESERVED:
        raise TestFailure("the Multiboot information at 0x%x is not in a reserved range" % info)
    if version == 1:
        m = con.expect(r"mem_lower (\d+) mem_upper (\d+)$")
    else:
        m = con.expect(r"^tk: mem_lower (\d+) mem_upper (\d+)$")
    if int(m.group(1)) != 640 or int(m.group(2)) < 200 * 1024:
        raise TestFailure("mem_lower/mem_upper %s/%s KiB look wrong" % m.groups())
    tables = check_acpi(con, env.tmp)
    return "tables %s disassembled" % ",".join(tables)


def case_bzimage(env):
    rd = env.blob(65537)
    disk = env.disk("bz", files={
        "/loader/entries/linux.conf": bls_entry("bzImage test", "/vmlinuz", ["/initrd.img"]),
        "/vmlinuz": env.kernel("bz"), "/initrd.img": rd})
    con = env.boot(disk)
    entry = expect_handoff(con, "Linux 64-bit")
    if entry != 0x1000200:
        raise TestFailure("64-bit entry 0x%x, expected pref_address + 0x200" % entry)
    m = con.expect(r"^tk: boot_params ([0-9a-f]+) cs (\w+) ds (\w+) loader (\w+) loadflags (\w+) "
                   r"version (\w+) setup_sects (\d+) pref (\w+)$", "the boot_params report")
    if (m.group(2), m.group(3), m.group(4)) != ("10", "18", "ff"):
        raise TestFailure("CS/DS/type_of_loader %s/%s/%s, want 10/18/ff" % m.group(2, 3, 4))
    if int(m.group(5), 16) & 0x81 != 0x81 or m.group(6) != "20f" or m.group(8) != "1000000":
        raise TestFailure("setup header not copied or loadflags wrong: %s" % m.group(0))
    cpu = con.expect(r"^tk: cpu cr0 (\w+) cr4 (\w+) eflags (\w+)")
    if int(cpu.group(3), 16) & (1 << 9):
        raise TestFailure("interrupts are on at the 64-bit entry")
    if con.expect(r'^tk: cmdline "(.*)"$').group(1) != CMDLINE:
        raise TestFailure("command line differs")
    mods = check_modules(con, [(pad4(rd), None)])
    check_memmap(con, mods, True)
    tables = check_acpi(con, env.tmp)
    return "tables %s disassembled" % ",".join(tables)


def case_bls_order(env):
    """Two entries: the newer version sorts first (BLS "Sorting")."""
    k = env.kernel("pvh")
    disk = env.disk("order", files={
        "/loader/entries/linux-6.1.conf": bls_entry("older", "/k.elf", options="which=older"),
        "/loader/entries/linux-6.10.conf": bls_entry("newer", "/k.elf", options="which=newer"),
        "/loader/entries/notes.txt": b"not an entry\n",
        "/k.elf": k})
    con = env.boot(disk)
    con.expect(r'^fw: booting "newer" \(entry linux-6\.10 of 2\)$', "the newer entry chosen")
    expect_handoff(con, "PVH")
    con.expect(r'^tk: cmdline "which=newer"$', "the newer entry's options")


def case_small_queue(env):
    """A 4-entry queue (seg_max 2): one request at a time, header + data + status."""
    rd = env.blob(3 << 20)
    disk = env.disk("smallq", files={
        "/loader/entries/e.conf": bls_entry("small queue", "/k.elf", ["/rd.img"]),
        "/k.elf": env.kernel("pvh"), "/rd.img": rd})
    con = env.boot(disk, device_opts=",queue-size=4")
    con.expect(r"^fw: virtio-blk: queue 4, 1 requests of up to 2048 KiB in flight \(seg_max 2,",
               "the geometry of a 4-entry queue")
    expect_handoff(con, "PVH")
    check_modules(con, [(pad4(rd), "/rd.img")])


def expect_fatal(con, pattern, what):
    con.expect(pattern, what)
    con.expect(r"^fw: halted$", "fw: halted after the error")
    if con.find(r"^tk: "):
        raise TestFailure("a kernel ran despite the error")


def case_bad(env, name):
    k = env.kernel("pvh")
    ok_entry = {"/loader/entries/e.conf": bls_entry("t", "/k.elf"), "/k.elf": k}
    mem, kw, first = "256M", {}, None
    if name == "no-disk":
        disk, pat = None, r"^fw: no virtio-blk device \(PCI 1af4:1042\) on bus 0"
    elif name == "no-gpt":
        disk, pat = env.disk(name, gpt=False), r"^fw: disk: no valid GPT: .+"
    elif name == "no-boot-partition":
        disk = env.disk(name, files=ok_entry, part_type="8300")
        pat = r"^fw: disk: the GPT has no boot partition"
    elif name == "not-fat":
        disk, pat = env.disk(name), r"^fw: boot partition: not a FAT file system: .+"
    elif name == "no-entries":
        disk = env.disk(name, files={"/k.elf": k})
        pat = r"^fw: no boot entries: the boot partition has no /loader/entries directory"
    elif name == "no-usable-entries":
        disk = env.disk(name, files={"/loader/entries/x.conf": b"title no linux key\n"})
        pat = r"^fw: no boot entries: no usable /loader/entries/\*\.conf file"
    elif name == "missing-kernel":
        disk = env.disk(name, files={"/loader/entries/e.conf": bls_entry("t", "/vmlinux")})
        pat = r"^fw: kernel /vmlinux: no such file on the boot partition$"
    elif name == "corrupt-kernel":
        disk = env.disk(name, files={"/loader/entries/e.conf": bls_entry("t", "/k.elf"),
                                     "/k.elf": env.blob(70000)})
        pat = r"^fw: kernel /k\.elf: cannot load it: .+"
    elif name == "truncated-kernel":
        disk = env.disk(name, files={"/loader/entries/e.conf": bls_entry("t", "/k.elf"),
                                     "/k.elf": k[:len(k) // 2]})
        pat = r"^fw: kernel /k\.elf: cannot load it: .+"
    elif name == "kernel-in-legacy-hole":
        disk = env.disk(name, files={"/loader/entries/e.conf": bls_entry("t", "/k.elf"),
                                     "/k.elf": env.kernel("mb1hole")})
        pat = (r"^fw: kernel /k\.elf: cannot load it: 0xa0000-0x[0-9a-f]+ overlaps the legacy "
               r"hole 0xA0000-0xFFFFF$")
    elif name == "missing-initrd":
        disk = env.disk(name, files={"/loader/entries/e.conf":
                                     bls_entry("t", "/k.elf", ["/nope.img"]), "/k.elf": k})
        pat = r"^fw: initrd /nope\.img: no such file on the boot partition$"
    elif name == "initrd-too-big":
        mem = "48M"
        disk = env.disk(name, size_mb=128, files={
            "/loader/entries/e.conf": bls_entry("t", "/k.elf", ["/big.img"]), "/k.elf": k,
            "/big.img": bytes(64 << 20)})
        pat = r"^fw: initrd /big\.img \(67108864 bytes\) does not fit in free RAM below 0x"
    elif name == "disk-io-error":
        disk = env.disk(name, files=ok_entry)
        kw["blkdebug"] = os.path.join(env.tmp, "blkdebug.conf")
        with open(kw["blkdebug"], "w") as f:
            f.write('[inject-error]\nevent = "none"\niotype = "read"\nerrno = "5"\n')
        first = r"^fw: virtio-blk: read of 1 sectors at LBA 1 failed: status 1 \(IOERR\)$"
        pat = r"^fw: disk: reading the GPT failed \(error -5\)$"
    else:
        raise ValueError(name)
    con = env.boot(disk, mem=mem, timeout=60, **kw)
    if first:
        con.expect(first, "the first message for %s" % name)
    expect_fatal(con, pat, "the %s message" % name)
    return con.expect(pat).group(0)


# ---------------------------------------------------------------- Debian disks

DEBIAN_BAD = {  # build/disks/bad-KIND.img (docs/guest-disks.md) -> the firmware's message
    "nogpt": r"^fw: disk: no valid GPT: .+",
    "noboot": r"^fw: disk: the GPT has no boot partition",
    "noentries": r"^fw: no boot entries: no usable /loader/entries/\*\.conf file",
    "nokernel": r"^fw: kernel /vmlinux: no such file on the boot partition$",
    "badkernel": r"^fw: kernel /vmlinux: cannot load it: .+",
}


def debian_good_disk(build):
    """A good disk of `make disks` (web.img first), or None."""
    d = os.path.join(build, "disks")
    if not os.path.isdir(d):
        return None
    names = sorted(n for n in os.listdir(d) if n.endswith(".img") and not n.startswith("bad-"))
    names.sort(key=lambda n: n != "web.img")
    return os.path.join(d, names[0]) if names else None


def case_debian(env, src, proto):
    """The stock kernel to the initramfs's marker; the disk is a copy (the guest writes it)."""
    disk = os.path.join(env.tmp, "debian-%s.img" % ("pvh" if proto == "PVH" else "bz"))
    run(["cp", "--sparse=always", src, disk])
    if proto != "PVH":  # drop the PVH entry (it sorts first) so the bzImage entry boots
        run(["mdel", "-i", disk + "@@1048576", "::/loader/entries/hvtest-1-pvh.conf"])
    con = env.boot(disk, mem="256M", timeout=300, readonly=False,
                   until=("hvtest: done", "hvtest: FAIL", "fw: halted", "Kernel panic"))
    con.expect(r"^fw: handing over to %s entry 0x[0-9a-f]+$" % re.escape(proto),
               "the hand-off line for %s" % proto)
    fail = con.find(r"hvtest: FAIL.*|Kernel panic.*")
    if fail:
        raise TestFailure(fail.group(0))
    t_handoff = con.when(r"^fw: handing over to ")
    t_done = con.when(r"hvtest: done")
    if t_done is None:
        raise TestFailure("the initramfs never printed 'hvtest: done'")
    ticks = int(con.expect(r"^fw: tsc reset \d+ handoff \d+ \((\d+) ticks\)$").group(1))
    read = con.expect(r"^fw: read (\d+) bytes from disk in (\d+) requests")
    env.timings.append("%s via %s: hand-off at %.2f s wall (%d TSC ticks after reset), "
                       "hvtest: done at %.2f s; %s bytes read in %s requests"
                       % (os.path.basename(src), proto, t_handoff, ticks, t_done,
                          read.group(1), read.group(2)))
    return "hand-off %.2f s, hvtest: done %.2f s (wall, QEMU TCG)" % (t_handoff, t_done)


def case_debian_bad(env, path, kind):
    con = env.boot(path, timeout=60)
    expect_fatal(con, DEBIAN_BAD[kind], "the message for %s" % os.path.basename(path))
    return con.expect(DEBIAN_BAD[kind]).group(0)


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--only", default="")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the disks and ACPI dumps")
    args = ap.parse_args()
    check_tools()
    build = os.path.abspath(args.build)
    guest = os.path.join(build, "guest")
    print(run(["make", "-C", os.path.join(ROOT, "guest", "firmware"), "BUILD=" + guest]).rstrip())
    rom = os.path.join(guest, "firmware.rom")
    work = os.path.join(build, "firmware-test")
    os.makedirs(work, exist_ok=True)
    global EMULATOR_ENV
    EMULATOR_ENV = hvrun.emulator_env(work)
    kernels = build_kernels(os.path.join(work, "kernels"))
    tmp = tempfile.mkdtemp(prefix="disks-", dir=work)
    env = Env(rom, kernels, tmp, args.verbose)

    cases = [("pvh", lambda: case_pvh(env)),
             ("multiboot1", lambda: case_multiboot(env, 1)),
             ("multiboot2", lambda: case_multiboot(env, 2)),
             ("multiboot1-address-fields", lambda: case_multiboot(env, 1, "mb1aout")),
             ("multiboot1-low", lambda: case_multiboot(env, 1, "mb1low", (0x20000, "image"))),
             ("multiboot2-low", lambda: case_multiboot(env, 2, "mb2low",
                                                       (0x7E000, "hand-off"))),
             ("bzimage", lambda: case_bzimage(env)),
             ("bls-order", lambda: case_bls_order(env)),
             ("small-queue", lambda: case_small_queue(env))]
    for bad in ("no-disk", "no-gpt", "no-boot-partition", "not-fat", "no-entries",
                "no-usable-entries", "missing-kernel", "corrupt-kernel", "truncated-kernel",
                "missing-initrd", "initrd-too-big", "disk-io-error", "kernel-in-legacy-hole"):
        cases.append(("bad-" + bad, lambda b=bad: case_bad(env, b)))
    good = debian_good_disk(build)
    if good:
        cases.append(("debian-pvh", lambda: case_debian(env, good, "PVH")))
        cases.append(("debian-bzimage", lambda: case_debian(env, good, "Linux 64-bit")))
    else:
        print("note: no build/disks/*.img (make disks): the Debian kernel cases are skipped")
    for kind in DEBIAN_BAD:
        path = os.path.join(build, "disks", "bad-%s.img" % kind)
        if os.path.exists(path):
            cases.append(("debian-bad-" + kind, lambda p=path, k=kind: case_debian_bad(env, p, k)))

    passed = failed = 0
    for name, fn in cases:
        if args.only and args.only not in name:
            continue
        env.last = None
        t0 = time.monotonic()
        try:
            note = fn()
            passed += 1
            print("PASS %-24s %5.1fs %s" % (name, time.monotonic() - t0, note or ""))
            if args.verbose and env.last:
                print(env.last.dump())
        except TestFailure as e:
            failed += 1
            print("FAIL %-24s %s" % (name, e))
            if env.last:
                print(env.last.dump())
        sys.stdout.flush()
    for t in env.timings:
        print("timing " + t)
    if args.keep:
        print("kept disks and ACPI dumps in " + tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())

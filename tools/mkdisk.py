#!/usr/bin/env python3
"""Build a guest disk image from Debian packages, reproducibly.

    tools/mkdisk.py OUT.img [--name NAME] [--mode pattern|bench|readonly|shell]
                            [--kind good|nogpt|noboot|noentries|nokernel|badkernel]
                            [--layout bls|grub]
                            [--options "..."] [--append "..."] [--data-mib N]

The image is a GPT disk: partition 1 an EFI System Partition (FAT) with
/vmlinux (PVH ELF), /vmlinuz (bzImage), /initrd.img and Boot Loader
Specification entries in /loader/entries/; partition 2 a zeroed data
partition the guest's /init writes to. --kind selects a deliberately broken
variant for firmware tests. --layout grub makes the disk a distribution
installs for UEFI instead (tools/mkgrubdisk.sh): GRUB EFI on the ESP, the
bzImage and initramfs in /boot of an ext4 root partition 2 that /init
mounts, the data partition 3. docs/guest-disks.md is the manual.

The kernel, vmlinux and initramfs come from Debian's linux-image-amd64 and
busybox-static; the .debs are cached in BUILD/debs and the boot files in
BUILD/disks/boot, rebuilt only when an input changes. Python standard
library only; the work is done by apt-get, dpkg-deb, depmod, readelf,
qemu-img, sgdisk, mkfs.vfat and mtools.
"""

import argparse
import gzip
import hashlib
import lzma
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INIT_DIR = os.path.join(ROOT, "tools", "guest-initramfs")
MiB = 1 << 20

KINDS = ("good", "nogpt", "noboot", "noentries", "nokernel", "badkernel")
MODES = ("pattern", "bench", "readonly", "shell")

# Kernel command line for a minimal platform; docs/guest-disks.md says why
# each word is there. hvtest.name/hvtest.mode are appended per disk.
DEFAULT_OPTIONS = ("console=ttyS0,115200 earlycon=uart8250,io,0x3f8,115200 "
                   "8250.nr_uarts=1 panic=-1 nokaslr tsc=reliable")

# Modules /init needs to see a virtio-blk PCI disk and a virtio-net PCI NIC;
# their dependencies (virtio_net needs net_failover and failover) are added
# from modules.dep, which also gives the load order. The grub layout's
# initramfs also mounts its ext4 root, whose metadata checksums need crc32c
# (which modules.dep does not name: ext4 asks the crypto API for it).
WANTED_MODULES = ("virtio_pci", "virtio_blk", "virtio_net")
# msr gives /init the TSC (/dev/cpu/0/msr) for its "tsc" marker.
STAMP_MODULES = ("msr",)
ROOT_MODULES = ("crc32c_generic", "ext4")
LAYOUTS = ("bls", "grub")

# The grub layout's root file system UUID (fixed: grub.cfg searches for it).
ROOT_UUID = "5c0f3d6e-8a4b-4c43-9f0e-726f6f746673"

# Longest options line our firmware takes (guest/firmware/bls.h: 1024 bytes
# with the terminating NUL); Linux itself takes 2047 on x86.
OPTIONS_MAX = 1023

# Helper scripts of /init, installed as /etc/hvtest/NAME.
INIT_HELPERS = ("udhcpc.script", "serve-one")

# Timestamps in the cpio archive and on the FAT volume (2024-01-01 UTC)
# unless SOURCE_DATE_EPOCH says otherwise: same inputs, same bytes.
EPOCH = int(os.environ.get("SOURCE_DATE_EPOCH", "1704067200"))

# Namespace for the GUIDs derived from disk names (any fixed UUID will do).
GUID_NS = uuid.UUID("5c0f3d6e-8a4b-4c43-9f0e-687674657374")

VERBOSE = False


class BuildError(Exception):
    pass


def log(msg):
    print("mkdisk: " + msg, file=sys.stderr)


def run(cmd, **kw):
    """Runs cmd (a list), raising BuildError with its stderr on failure."""
    if VERBOSE:
        log("+ " + " ".join(cmd))
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=kw.pop("text", True), **kw)
    if res.returncode != 0:
        err = res.stderr if isinstance(res.stderr, str) else res.stderr.decode()
        raise BuildError("%s failed (%d): %s" % (cmd[0], res.returncode, err.strip()))
    return res.stdout


# ---------------------------------------------------------------------------
# Debian packages: resolve, download once, extract once.

def deb_fields(path):
    out = run(["dpkg-deb", "-f", path, "Package", "Version"])
    fields = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)
    return fields.get("Package"), fields.get("Version")


def apt_lists_stamp():
    """Changes whenever `apt-get update` brings new package lists."""
    lists = "/var/lib/apt/lists"
    try:
        names = sorted(n for n in os.listdir(lists) if "_Packages" in n)
    except OSError:
        return ""
    return " ".join("%s:%d" % (n, os.stat(os.path.join(lists, n)).st_mtime) for n in names)


def apt_candidates(pkgs, debdir):
    """{pkg: (version, depends)} of the candidates apt knows for pkgs.

    One apt-cache call (about a second here: the container keeps no binary
    package cache), remembered in debdir/resolved until the lists change."""
    stamp = apt_lists_stamp()
    memo = os.path.join(debdir, "resolved")
    if stamp and os.path.exists(memo):
        with open(memo) as f:
            lines = f.read().split("\n")
        if lines[0] == stamp:
            found = {}
            for line in lines[1:]:
                if line:
                    pkg, ver, deps = line.split("\t")
                    found[pkg] = (ver, deps)
            if all(p in found for p in pkgs):
                return found
    try:
        out = run(["apt-cache", "show", "--no-all-versions"] + list(pkgs))
    except (BuildError, OSError):
        return {}
    found = {}
    for para in out.split("\n\n"):
        fields = {}
        for line in para.splitlines():
            if ": " in line and not line.startswith(" "):
                key, val = line.split(": ", 1)
                fields.setdefault(key, val)
        if "Package" in fields and "Version" in fields:
            found[fields["Package"]] = (fields["Version"], fields.get("Depends", ""))
    if stamp:
        os.makedirs(debdir, exist_ok=True)
        write_file(memo, (stamp + "\n" + "".join(
            "%s\t%s\t%s\n" % (p, v, d) for p, (v, d) in sorted(found.items()))).encode())
    return found


def cached_debs(debdir, pkg_prefix):
    """Cached .debs whose package name starts with pkg_prefix: {(pkg, ver): path}."""
    found = {}
    if os.path.isdir(debdir):
        for fn in sorted(os.listdir(debdir)):
            if fn.endswith(".deb") and fn.startswith(pkg_prefix):
                path = os.path.join(debdir, fn)
                found[deb_fields(path)] = path
    return found


def fetch_deb(pkg, version, debdir):
    """Path of the .deb of pkg (version, or None if apt does not know it) in
    debdir, downloading it if needed. Without a version the newest cached
    file of the package is used, so an offline rebuild works from the cache."""
    cache = cached_debs(debdir, pkg + "_")
    if version is None:
        if not cache:
            raise BuildError("apt-cache does not know %s and build/debs has no copy "
                             "(run apt-get update)" % pkg)
        key = max(cache, key=lambda k: k[1])
        log("apt-cache does not know %s: using cached %s" % (pkg, cache[key]))
        return cache[key]
    if (pkg, version) in cache:
        return cache[(pkg, version)]
    log("downloading %s %s" % (pkg, version))
    os.makedirs(debdir, exist_ok=True)
    run(["apt-get", "download", "-q", "-o", "APT::Sandbox::User=root",
         "%s=%s" % (pkg, version)], cwd=debdir)
    cache = cached_debs(debdir, pkg + "_")
    if (pkg, version) not in cache:
        raise BuildError("apt-get download %s left no .deb in %s" % (pkg, debdir))
    return cache[(pkg, version)]


def resolve_debs(pin, debdir):
    """(kernel .deb, busybox-static .deb): the image package that
    linux-image-amd64 depends on (or pin), fetched into debdir if needed."""
    cands = apt_candidates(["linux-image-amd64", "busybox-static"] +
                           ([pin] if pin else []), debdir)
    kpkg, kver = pin, cands.get(pin, (None,))[0] if pin else None
    if not pin and "linux-image-amd64" in cands:
        # "Depends: linux-image-6.1.0-NN-amd64 (= 6.1.x-y)"
        for dep in cands["linux-image-amd64"][1].split(","):
            words = dep.replace("(", " ").replace(")", " ").split()
            if words and words[0].startswith("linux-image-6") and words[1:2] == ["="]:
                kpkg, kver = words[0], words[2]
    if kpkg is None:
        cache = cached_debs(debdir, "linux-image-6")
        if not cache:
            raise BuildError("cannot resolve linux-image-amd64 (run apt-get update)")
        kpkg = max(cache, key=lambda k: k[1])[0]
        log("apt-cache cannot resolve linux-image-amd64: using cached %s" % kpkg)
    bver = cands.get("busybox-static", (None,))[0]
    return fetch_deb(kpkg, kver, debdir), fetch_deb("busybox-static", bver, debdir)


def extract_deb(deb, dest):
    """dpkg-deb -x into dest, once: the directory appears only when complete."""
    if os.path.isdir(dest):
        return dest
    tmp = dest + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    run(["dpkg-deb", "-x", deb, tmp])
    os.rename(tmp, dest)
    return dest


# ---------------------------------------------------------------------------
# The kernel: vmlinux out of the bzImage, trimmed, PVH note checked.

XZ_MAGIC = b"\xfd7zXZ\x00"
XEN_ELFNOTE_PHYS32_ENTRY = 18
PT_LOAD, PT_NOTE = 1, 4
SHT_NOBITS = 8
SHF_ALLOC = 0x2
# Indices into the tuples elf_headers() returns (Elf64_Phdr, Elf64_Shdr order).
P_TYPE, P_OFFSET, P_FILESZ, P_MEMSZ = 0, 2, 5, 6
SH_TYPE, SH_FLAGS, SH_OFFSET, SH_SIZE, SH_LINK = 1, 2, 4, 5, 6


def extract_vmlinux(bzimage):
    """The ELF inside an XZ-compressed bzImage, like scripts/extract-vmlinux:
    try each XZ stream start until one decompresses to an ELF."""
    pos = bzimage.find(XZ_MAGIC)
    while pos >= 0:
        try:
            out = lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(bzimage[pos:])
            if out[:4] == b"\x7fELF":
                return out
        except lzma.LZMAError:
            pass
        pos = bzimage.find(XZ_MAGIC, pos + 1)
    raise BuildError("no XZ-compressed ELF found in the bzImage")


def elf_headers(elf):
    """(ehdr fields, program headers, section headers) of an ELF64 LE file."""
    if elf[:4] != b"\x7fELF" or elf[4] != 2 or elf[5] != 1:
        raise BuildError("not a 64-bit little-endian ELF")
    (phoff, shoff, _flags, _ehsize, phentsize, phnum, shentsize, shnum,
     shstrndx) = struct.unpack_from("<QQIHHHHHH", elf, 32)
    phdrs = [list(struct.unpack_from("<IIQQQQQQ", elf, phoff + i * phentsize))
             for i in range(phnum)]
    shdrs = [list(struct.unpack_from("<IIQQQQIIQQ", elf, shoff + i * shentsize))
             for i in range(shnum)]
    return shstrndx, phdrs, shdrs


def pvh_entry(elf):
    """The XEN_ELFNOTE_PHYS32_ENTRY address from the PT_NOTE segments, or None."""
    _, phdrs, _ = elf_headers(elf)
    for ph in phdrs:
        if ph[P_TYPE] != PT_NOTE:
            continue
        pos, end = ph[P_OFFSET], ph[P_OFFSET] + ph[P_FILESZ]
        while pos + 12 <= end:
            namesz, descsz, ntype = struct.unpack_from("<III", elf, pos)
            name = elf[pos + 12:pos + 12 + namesz].rstrip(b"\0")
            desc = pos + 12 + (namesz + 3) // 4 * 4
            if name == b"Xen" and ntype == XEN_ELFNOTE_PHYS32_ENTRY and descsz >= 4:
                return struct.unpack_from("<Q" if descsz >= 8 else "<I", elf, desc)[0]
            pos = desc + (descsz + 3) // 4 * 4
    return None


def trim_vmlinux(elf):
    """A smaller, equivalent vmlinux.

    Drops what follows the ELF (the relocation table the bzImage decompressor
    uses for KASLR), non-allocated sections except .shstrtab, and the zero
    tail of the last PT_LOAD: in Debian's 6.1 vmlinux .bss and .init.scratch
    sit in the file as ~23 MB of zeros. p_filesz shrinks, p_memsz stays, so a
    loader zero-fills the rest as ELF requires. Other segments are untouched."""
    shstrndx, phdrs, shdrs = elf_headers(elf)
    last = max((p for p in phdrs if p[P_TYPE] == PT_LOAD), key=lambda p: p[P_OFFSET])
    start, end = last[P_OFFSET], last[P_OFFSET] + last[P_FILESZ]
    new_end = start + len(elf[start:end].rstrip(b"\0"))
    # A section with file bytes that starts below the cut keeps all of them.
    for sh in shdrs:
        if (sh[SH_TYPE] != SHT_NOBITS and sh[SH_FLAGS] & SHF_ALLOC
                and start <= sh[SH_OFFSET] < new_end):
            new_end = max(new_end, sh[SH_OFFSET] + sh[SH_SIZE])
    new_end = min(end, (new_end + 4095) // 4096 * 4096)
    last[P_FILESZ] = new_end - start

    keep = [i for i, sh in enumerate(shdrs)
            if i == 0 or i == shstrndx or sh[SH_FLAGS] & SHF_ALLOC]
    out = bytearray(elf[:new_end])
    strtab = shdrs[shstrndx]
    str_off = len(out)
    out += elf[strtab[SH_OFFSET]:strtab[SH_OFFSET] + strtab[SH_SIZE]]
    out += b"\0" * (-len(out) % 8)
    shoff = len(out)
    for i in keep:
        sh = list(shdrs[i])
        if i == shstrndx:
            sh[SH_OFFSET] = str_off
        elif i and sh[SH_TYPE] != SHT_NOBITS and sh[SH_OFFSET] >= new_end:
            sh[SH_TYPE] = SHT_NOBITS    # all its bytes were zero and are cut
        if sh[SH_LINK]:
            if sh[SH_LINK] not in keep:
                raise BuildError("section %d links to a dropped section" % i)
            sh[SH_LINK] = keep.index(sh[SH_LINK])
        out += struct.pack("<IIQQQQIIQQ", *sh)
    struct.pack_into("<Q", out, 40, shoff)                              # e_shoff
    struct.pack_into("<HH", out, 60, len(keep), keep.index(shstrndx))   # e_shnum, e_shstrndx
    phoff = struct.unpack_from("<Q", elf, 32)[0]                         # e_phoff
    phentsize = struct.unpack_from("<H", elf, 54)[0]                     # e_phentsize
    for i, ph in enumerate(phdrs):
        struct.pack_into("<IIQQQQQQ", out, phoff + i * phentsize, *ph)
    check_same_image(elf, bytes(out))
    return bytes(out)


def check_same_image(old, new):
    """Every PT_LOAD must produce the same memory contents from both files."""
    _, old_ph, _ = elf_headers(old)
    _, new_ph, _ = elf_headers(new)
    for o, n in zip(old_ph, new_ph):
        if o[P_TYPE] != PT_LOAD:
            continue
        if o[:P_FILESZ] + o[P_MEMSZ:] != n[:P_FILESZ] + n[P_MEMSZ:]:
            raise BuildError("trimming changed a program header")
        image = new[n[P_OFFSET]:n[P_OFFSET] + n[P_FILESZ]]
        image += bytes(o[P_FILESZ] - n[P_FILESZ])
        if old[o[P_OFFSET]:o[P_OFFSET] + o[P_FILESZ]] != image:
            raise BuildError("trimming changed the bytes of a segment")


def check_pvh_readelf(path):
    """readelf -n must show the Xen note of type 18 (PHYS32_ENTRY); binutils
    2.40 prints it as "Unknown note type: (0x00000012)"."""
    res = subprocess.run(["readelf", "-W", "-n", "-l", path], capture_output=True,
                         text=True)
    if res.returncode != 0 or res.stderr.strip():
        raise BuildError("readelf %s: %s" % (path, res.stderr.strip()))
    for line in res.stdout.splitlines():
        words = line.split()
        if words[:1] == ["Xen"] and ("(0x00000012)" in line or "PHYS32" in line):
            return
    raise BuildError("%s has no Xen PHYS32_ENTRY note (type 18)" % path)


# ---------------------------------------------------------------------------
# The initramfs: a cpio "newc" archive written here, so that device nodes
# need no root and every byte is reproducible.

class Cpio:
    def __init__(self):
        self.entries = {}           # path -> (mode, data, rdev)

    def add(self, path, mode, data=b"", rdev=(0, 0)):
        parent = os.path.dirname(path)
        if parent and parent not in self.entries:
            self.add(parent, 0o040755)
        self.entries[path] = (mode, data, rdev)

    def bytes(self):
        out = bytearray()
        for ino, path in enumerate(sorted(self.entries) + ["TRAILER!!!"], 1):
            mode, data, rdev = self.entries.get(path, (0, b"", (0, 0)))
            nlink = 2 if mode & 0o170000 == 0o040000 else 1
            if path == "TRAILER!!!":
                ino, nlink = 0, 1
            name = path.encode() + b"\0"
            hdr = "070701" + "".join("%08X" % v for v in (
                ino, mode, 0, 0, nlink, EPOCH if ino else 0, len(data), 0, 0,
                rdev[0], rdev[1], len(name), 0))
            out += hdr.encode() + name
            out += b"\0" * (-len(out) % 4)
            out += data
            out += b"\0" * (-len(out) % 4)
        return bytes(out)


def module_order(moddir, wanted):
    """Module paths (relative to moddir) in load order: dependencies first."""
    deps = {}
    with open(os.path.join(moddir, "modules.dep")) as f:
        for line in f:
            mod, _, rest = line.partition(":")
            deps[mod] = rest.split()
    byname = {os.path.basename(m)[:-3].replace("-", "_"): m for m in deps}
    order = []

    def visit(mod):
        if mod in order:
            return
        # modules.dep lists the full closure; visiting each one keeps the
        # order right even if that ever changes.
        for dep in reversed(deps[mod]):
            visit(dep)
        order.append(mod)

    for name in wanted:
        if name not in byname:
            raise BuildError("module %s is not in modules.dep" % name)
        visit(byname[name])
    return order


def build_initramfs(kroot, kver, bbroot, compress, wanted):
    """The initramfs bytes: busybox with its applet links, the modules and /init."""
    moddir = os.path.join(kroot, "lib", "modules", kver)
    if not os.path.exists(os.path.join(moddir, "modules.dep")):
        run(["depmod", "-b", kroot, kver])     # the .deb ships no modules.dep
    mods = module_order(moddir, wanted)

    cpio = Cpio()
    for d in ("proc", "sys", "tmp", "root", "mnt", "etc/hvtest"):
        cpio.add(d, 0o040755)
    cpio.add("dev/console", 0o020600, rdev=(5, 1))
    cpio.add("dev/kmsg", 0o020644, rdev=(1, 11))
    cpio.add("dev/null", 0o020666, rdev=(1, 3))
    with open(os.path.join(INIT_DIR, "init"), "rb") as f:
        cpio.add("init", 0o100755, f.read())
    for helper in INIT_HELPERS:
        with open(os.path.join(INIT_DIR, helper), "rb") as f:
            cpio.add("etc/hvtest/" + helper, 0o100755, f.read())

    busybox = os.path.join(bbroot, "bin", "busybox")
    with open(busybox, "rb") as f:
        cpio.add("bin/busybox", 0o100755, f.read())
    for applet in run([busybox, "--list-full"]).split():
        if applet != "bin/busybox":
            cpio.add(applet, 0o120777, b"/bin/busybox")

    listing = []
    for rel in mods:
        dest = "lib/modules/%s/%s" % (kver, rel)
        with open(os.path.join(moddir, rel), "rb") as f:
            cpio.add(dest, 0o100644, f.read())
        listing.append("/" + dest)
    cpio.add("etc/hvtest/modules", 0o100644, ("\n".join(listing) + "\n").encode())

    data = cpio.bytes()
    if compress == "gzip":
        data = gzip.compress(data, compresslevel=9, mtime=0)
    return data, [os.path.basename(m)[:-3] for m in mods]


# ---------------------------------------------------------------------------
# Boot files, cached in BUILD/disks/boot.

def write_file(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def boot_files(args):
    """Builds (or reuses) vmlinux, vmlinuz and initrd.img; returns their dir."""
    kdeb, bdeb = resolve_debs(args.kernel_pkg, os.path.join(args.build, "debs"))

    key = hashlib.sha256()
    for path in [kdeb, bdeb, os.path.abspath(__file__), os.path.join(INIT_DIR, "init")] + [
            os.path.join(INIT_DIR, h) for h in INIT_HELPERS]:
        key.update(os.path.basename(path).encode())
        if not path.endswith(".deb"):
            with open(path, "rb") as f:
                key.update(f.read())
    key.update(args.initrd_compress.encode())
    wanted = WANTED_MODULES + STAMP_MODULES + (ROOT_MODULES if args.layout == "grub" else ())
    key.update(" ".join(wanted).encode())
    key = key.hexdigest()

    # Each layout's initramfs has its own cache, so neither rebuilds the other's.
    out = os.path.join(args.build, "disks", "boot" if args.layout == "bls" else "boot-grub")
    stamp = os.path.join(out, "key")
    if os.path.exists(stamp) and open(stamp).read().strip() == key:
        return out

    pkgdir = os.path.join(args.build, "disks", "pkg")
    kroot = extract_deb(kdeb, os.path.join(pkgdir, os.path.basename(kdeb)[:-4]))
    bbroot = extract_deb(bdeb, os.path.join(pkgdir, os.path.basename(bdeb)[:-4]))
    kvers = os.listdir(os.path.join(kroot, "lib", "modules"))
    if len(kvers) != 1:
        raise BuildError("expected one kernel in %s, found %s" % (kdeb, kvers))
    kver = kvers[0]

    os.makedirs(out, exist_ok=True)
    with open(os.path.join(kroot, "boot", "vmlinuz-" + kver), "rb") as f:
        bzimage = f.read()
    raw = extract_vmlinux(bzimage)
    vmlinux = trim_vmlinux(raw)
    entry = pvh_entry(vmlinux)
    if entry is None:
        raise BuildError("the vmlinux has no PVH entry note")
    write_file(os.path.join(out, "vmlinuz"), bzimage)
    write_file(os.path.join(out, "vmlinux"), vmlinux)
    check_pvh_readelf(os.path.join(out, "vmlinux"))
    initrd, mods = build_initramfs(kroot, kver, bbroot, args.initrd_compress, wanted)
    write_file(os.path.join(out, "initrd.img"), initrd)

    manifest = [
        "kernel-package %s" % os.path.basename(kdeb),
        "busybox-package %s" % os.path.basename(bdeb),
        "kernel-release %s" % kver,
        "pvh-entry 0x%x" % entry,
        "vmlinuz-bytes %d" % len(bzimage),
        "vmlinux-untrimmed-bytes %d" % len(raw),
        "vmlinux-bytes %d" % len(vmlinux),
        "initrd-bytes %d (%s)" % (len(initrd), args.initrd_compress),
        "modules %s" % " ".join(mods),
    ]
    write_file(os.path.join(out, "manifest.txt"), ("\n".join(manifest) + "\n").encode())
    write_file(stamp, (key + "\n").encode())
    log("boot files in %s: vmlinux %d bytes (untrimmed %d), vmlinuz %d, initrd %d"
        % (out, len(vmlinux), len(raw), len(bzimage), len(initrd)))
    return out


# ---------------------------------------------------------------------------
# The disk image.

ESP_TYPE, LINUX_TYPE = "EF00", "8300"
ESP_START = 2048          # sectors: partitions aligned to 1 MiB


def guid(*parts):
    return str(uuid.uuid5(GUID_NS, "/".join(parts))).upper()


def bls_options(args):
    """The kernel command line of the BLS entries: platform options, the
    guest's name and mode, then the words of --append."""
    opts = "%s hvtest.name=%s hvtest.mode=%s" % (args.options, args.name, args.mode)
    if args.append.strip():
        opts += " " + " ".join(args.append.split())
    return opts


def bls_entries(args, kver):
    """{file name: text} of the Boot Loader Specification entries.

    The PVH entry sorts first both by sort-key (what the specification orders
    by) and by file name (what simpler loaders order by)."""
    opts = bls_options(args)
    entries = {}
    for fname, key, title, kernel in (
            ("hvtest-1-pvh.conf", "hvtest-1", "vmlinux, PVH entry", "/vmlinux"),
            ("hvtest-2-bzimage.conf", "hvtest-2", "bzImage", "/vmlinuz")):
        entries[fname] = ("title    hvtest %s (%s)\nversion  %s\nsort-key %s\n"
                          "linux    %s\ninitrd   /initrd.img\noptions  %s\n"
                          % (args.name, title, kver, key, kernel, opts))
    return entries


def corrupt_files(boot):
    """Broken kernels for --kind badkernel: /vmlinux cut to 1 MiB (a valid ELF
    header whose segments run past the end of the file) and /vmlinuz, also
    1 MiB, with its boot-sector and setup-header magics zeroed."""
    with open(os.path.join(boot, "vmlinux"), "rb") as f:
        vmlinux = f.read(MiB)
    with open(os.path.join(boot, "vmlinuz"), "rb") as f:
        vmlinuz = bytearray(f.read(MiB))
    vmlinuz[0x1FE:0x200] = b"\0\0"          # boot_flag 0xAA55
    vmlinuz[0x202:0x206] = b"\0\0\0\0"      # header "HdrS"
    return {"vmlinux": vmlinux, "vmlinuz": bytes(vmlinuz)}


def fat_args(esp_mib, fat):
    """mkfs.vfat size options. FAT32 needs at least 65525 clusters: take the
    largest cluster that still gives that, or FAT16 if even 512 B is too big."""
    sectors = esp_mib * 2048 - 32                   # less the reserved sectors
    if fat in ("auto", "32"):
        for spc in (64, 32, 16, 8, 4, 2, 1):
            # each cluster costs spc sectors plus 2 FAT entries of 4 bytes
            if sectors * 512 // (spc * 512 + 8) >= 66000:
                return ["-F", "32", "-s", str(spc)]
        if fat == "32":
            raise BuildError("an ESP of %d MiB is too small for FAT32" % esp_mib)
    return ["-F", "16"]


def esp_contents(args, boot, kver):
    """{path on the FAT: bytes or a host file} for the boot partition."""
    files = {"/initrd.img": os.path.join(boot, "initrd.img")}
    if args.kind == "badkernel":
        for name, data in corrupt_files(boot).items():
            files["/" + name] = data
    elif args.kind != "nokernel":
        files["/vmlinux"] = os.path.join(boot, "vmlinux")
        files["/vmlinuz"] = os.path.join(boot, "vmlinuz")
    if args.kind != "noentries":
        for fname, text in bls_entries(args, kver).items():
            files["/loader/entries/" + fname] = text.encode()
    return files


def populate_fat(img, offset, files):
    """Copies files onto the FAT at byte offset of img with mtools. mtools
    takes its timestamps from SOURCE_DATE_EPOCH: the image is reproducible."""
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1", MTOOLSRC="/dev/null",
               SOURCE_DATE_EPOCH=str(EPOCH), TZ="UTC")
    target = "%s@@%d" % (img, offset)
    run(["mmd", "-i", target, "::/loader", "::/loader/entries"], env=env)
    with tempfile.TemporaryDirectory(dir=os.path.dirname(os.path.abspath(img))) as tmp:
        for n, (dest, src) in enumerate(sorted(files.items())):
            if isinstance(src, bytes):
                path = os.path.join(tmp, "f%d" % n)
                write_file(path, src)
                src = path
            run(["mcopy", "-i", target, "-o", src, "::" + dest], env=env)


def file_size(src):
    return len(src) if isinstance(src, bytes) else os.path.getsize(src)


def make_disk(args, boot, kver):
    """Writes the disk image args.out of kind args.kind; returns a summary."""
    files = esp_contents(args, boot, kver)
    payload = sum(file_size(s) for s in files.values())
    esp_mib = args.esp_mib or max(36, -(-payload * 21 // 20 // MiB) + 4)
    total_mib = 1 + esp_mib + args.data_mib + 1      # GPT + partitions + backup GPT
    out = args.out
    tmp = out + ".tmp"
    if os.path.exists(tmp):
        os.unlink(tmp)
    run(["qemu-img", "create", "-q", "-f", "raw", tmp, "%dM" % total_mib])
    if args.kind == "nogpt":
        os.replace(tmp, out)
        return "%d MiB of zeros, no partition table" % total_mib

    boot_type = LINUX_TYPE if args.kind == "noboot" else ESP_TYPE
    run(["sgdisk", "--clear", "--disk-guid=" + guid(args.name, args.kind, "disk"),
         "-n", "1:%d:+%dM" % (ESP_START, esp_mib), "-t", "1:" + boot_type,
         "-c", "1:boot", "-u", "1:" + guid(args.name, args.kind, "boot"),
         "-n", "2:0:+%dM" % args.data_mib, "-t", "2:" + LINUX_TYPE,
         "-c", "2:data", "-u", "2:" + guid(args.name, args.kind, "data"), tmp])
    fat = fat_args(esp_mib, args.fat)
    volid = hashlib.sha256(args.name.encode()).hexdigest()[:8]
    run(["mkfs.vfat", "--invariant", "--offset=%d" % ESP_START, "-h", str(ESP_START),
         "-i", volid, "-n", "HVTEST-ESP"] + fat + [tmp, str(esp_mib * 1024)])
    populate_fat(tmp, ESP_START * 512, files)
    os.replace(tmp, out)
    return ("%d MiB: partition 1 %s %d MiB FAT%s (%s), partition 2 data %d MiB"
            % (total_mib, "ESP" if boot_type == ESP_TYPE else "type 8300 (not an ESP)",
               esp_mib, fat[1], ", ".join(sorted(files)), args.data_mib))


def grub_cfg(args):
    """GRUB's configuration for the grub layout: the kernel and initramfs from
    the root file system, found by UUID as distributions do. GRUB first
    prints the TSC (MSR 0x10) when it starts reading its configuration."""
    opts = bls_options(args) + " hvtest.root=2 hvtest.part=3"
    # ext2 first and the hint: search then finds the root without probing
    # (and autoloading) every file system GRUB knows on every partition.
    return ("set timeout=0\n"
            "insmod rdmsr\n"
            "rdmsr -v tsc 0x10\n"
            "echo \"GRUB: tsc $tsc\"\n"
            "insmod part_gpt\n"
            "insmod ext2\n"
            "search --no-floppy --fs-uuid --set=root --hint=hd0,gpt2 %s\n"
            "echo \"GRUB: booting /boot/vmlinuz from $root\"\n"
            "linux /boot/vmlinuz %s\n"
            "initrd /boot/initrd.img\n"
            "boot\n" % (ROOT_UUID, opts))


def make_grub_disk(args, boot):
    """The grub layout through tools/mkgrubdisk.sh; returns a summary."""
    with tempfile.TemporaryDirectory(dir=os.path.dirname(os.path.abspath(args.out))) as tmp:
        root = os.path.join(tmp, "root")
        os.makedirs(os.path.join(root, "boot"))
        for name in ("vmlinuz", "initrd.img"):
            shutil.copyfile(os.path.join(boot, name), os.path.join(root, "boot", name))
        cfg = os.path.join(tmp, "grub.cfg")
        write_file(cfg, grub_cfg(args).encode())
        run(["sh", os.path.join(ROOT, "tools", "mkgrubdisk.sh"), "--root", root,
             "--root-uuid", ROOT_UUID, "--data-mib", str(args.data_mib), args.out + ".tmp", cfg])
    os.replace(args.out + ".tmp", args.out)
    return ("partition 1 ESP with GRUB EFI, partition 2 ext4 root (/boot/vmlinuz, "
            "/boot/initrd.img), partition 3 data %d MiB" % args.data_mib)


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Build a guest disk image (see docs/guest-disks.md).")
    p.add_argument("out", metavar="OUT.img", help="image file to write")
    p.add_argument("--name", default="guest",
                   help="guest name, seeds the data pattern (default: guest)")
    p.add_argument("--mode", choices=MODES, default="pattern",
                   help="what /init does (default: pattern)")
    p.add_argument("--kind", choices=KINDS, default="good",
                   help="good, or a broken variant for firmware tests")
    p.add_argument("--layout", choices=LAYOUTS, default="bls",
                   help="bls (our firmware's) or grub (a distribution's UEFI install)")
    p.add_argument("--options", default=DEFAULT_OPTIONS,
                   help="kernel options replacing the platform defaults")
    p.add_argument("--append", default="", help="kernel options added at the end")
    p.add_argument("--data-mib", type=int, default=16,
                   help="size of the data partition (default: 16)")
    p.add_argument("--esp-mib", type=int, default=0,
                   help="size of the boot partition (default: fitted to the files)")
    p.add_argument("--fat", choices=("auto", "16", "32"), default="auto",
                   help="FAT type (default: FAT32 when the ESP is big enough)")
    p.add_argument("--initrd-compress", choices=("none", "gzip"), default="none",
                   help="initramfs compression (default: none, cheapest to boot)")
    p.add_argument("--kernel-pkg", default="",
                   help="image package to use instead of linux-image-amd64's dependency")
    p.add_argument("--build", default=os.path.join(ROOT, "build"),
                   help="build directory (default: build/ in the tree)")
    p.add_argument("-v", "--verbose", action="store_true", help="show commands")
    args = p.parse_args(argv)
    if not args.name or len(args.name) > 64 or any(
            not (c.isascii() and (c.isalnum() or c in "_.-")) for c in args.name):
        p.error("--name must be 1-64 characters of A-Z a-z 0-9 _ . -")
    if args.data_mib < 1:
        p.error("--data-mib must be at least 1")
    if args.layout == "grub" and args.kind != "good":
        p.error("--kind applies to the bls layout only")
    if any(c in args.options + args.append for c in "\r\n"):
        p.error("--options and --append must be one line (they become the BLS options line)")
    if any(not (" " <= c <= "~") for c in args.options + args.append):
        p.error("--options and --append must be printable ASCII")
    line = bls_options(args)
    if len(line) > OPTIONS_MAX:
        p.error("the kernel command line would be %d characters, at most %d fit "
                "(guest/firmware/bls.h BLS_OPTIONS_MAX)" % (len(line), OPTIONS_MAX))
    return args


def main(argv):
    global VERBOSE
    args = parse_args(argv)
    VERBOSE = args.verbose
    try:
        boot = boot_files(args)
        with open(os.path.join(boot, "manifest.txt")) as f:
            kver = [l.split()[1] for l in f if l.startswith("kernel-release ")][0]
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        if args.layout == "grub":
            summary = make_grub_disk(args, boot)
        else:
            summary = make_disk(args, boot, kver)
    except (BuildError, OSError) as e:
        log("error: %s" % e)
        return 1
    log("%s (%s, name %s, mode %s): %s" % (args.out, args.kind, args.name, args.mode,
                                           summary))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

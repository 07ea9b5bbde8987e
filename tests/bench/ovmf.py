#!/usr/bin/env python3
"""OVMF in a VSI under Bochs: ticks from reset to GRUB and to Linux's /init.

The disk is tools/mkdisk.py --layout grub (GPT, ESP with Debian's GRUB EFI,
ext4 root with Debian's vmlinuz): OVMF -> GRUB -> the kernel's EFI stub ->
/init. Two clocks, both Bochs' TSC (one tick per instruction of a CPU, idle
time included):

- GRUB prints the TSC (`GRUB: tsc HEX`, its rdmsr module) when it starts
  reading its configuration: the OS loader is running.
- /init prints it (`hvtest: tsc N`) after loading its modules; the kernel
  log's clock on that line and on "Run /init" places /init's start.

In a VSI the TSC is not offset: the hypervisor's `vsi NAME: started at TSC
N` is the VSI's reset. Bare Bochs (no hypervisor, OVMF.fd as its BIOS, the
same image on its ATA disk) starts counting at its own reset. The exits by
reason come from the console's `list`, typed when GRUB's line arrives
(within the harness's reaction time) and after /init's marker.

    tests/bench/ovmf.py [--build build] [--bare]

--bare also boots bare Bochs for the ratio (about 5 more minutes).
Reported, never asserted.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import hvrun  # noqa: E402

OVMF_FD = "/usr/share/ovmf/OVMF.fd"
TIMEOUT = 1800
CFG = """[hypervisor]
address = 10.0.2.15/24
gateway = 10.0.2.2

[vsi uefi]
cpus = 1
memory = 512M
rom = OVMF.fd
firmware = ovmf
disk = nbd://10.0.2.2:10809/linux
"""
BARE_RC = """megs: 512
romimage: file={fd}
vgaromimage: file={vga}
display_library: rfb, options="timeout=0"
pci: enabled=1, chipset=i440fx
ata0-master: type=disk, path={disk}, mode=flat
boot: disk
cpu: model=corei7_haswell_4770, count=1, ips=50000000, reset_on_triple_fault=0
clock: sync=none, time0=local
com1: enabled=1, mode=term, dev={slave}
plugin_ctrl: speaker=0, gameport=0, parallel=0
sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy
mouse: enabled=0
log: {log}
"""
LIST_RE = (r"uefi +\S+[^\n]*\n +exits:((?:[^\n]*\n)*?)"
           r" +ovmf: PM timer reads (\d+), ROM writes ignored (\d+)\r?\n")


def points(text, reset):
    """Ticks after reset at GRUB's first command and at "Run /init"."""
    grub = re.search(r"GRUB: tsc (?:0x)?([0-9a-f]+)", text)
    mark = re.search(r"\[\s*(\d+\.\d+)\] hvtest: tsc (\d+)", text)
    run = re.search(r"\[\s*(\d+\.\d+)\] Run /init as init process", text)
    mhz = re.search(r"tsc: Detected ([\d.]+) MHz", text)
    if not (grub and mark and run and mhz):
        return None
    back = (float(mark.group(1)) - float(run.group(1))) * float(mhz.group(1)) * 1e6
    return int(grub.group(1), 16) - reset, int(int(mark.group(2)) - back) - reset, run.group(1)


def listing(m):
    start = len(m.text)
    m.write("list\r")
    if not m.wait_for(LIST_RE, 60, start):
        return "?"
    got = re.search(LIST_RE, m.text[start:])
    return (f"PM timer reads {got.group(2)}, ROM writes ignored {got.group(3)}; exits: "
            + " ".join(got.group(1).split()))


def vsi_run(work, image, build):
    cfg = os.path.join(work, "hv.cfg")
    with open(cfg, "w") as f:
        f.write(CFG)
    iso = os.path.join(work, "hv.iso")
    subprocess.run(["sh", os.path.join(ROOT, "tools/mkiso.sh"), iso,
                    os.path.join(build, "hv.elf"), "loglevel=info", cfg, OVMF_FD], check=True)
    server = f"qemu-nbd -f raw -t -b 127.0.0.1 -p 10809 -x linux {image} 2>{work}/qemu-nbd.log"
    m = hvrun.boot_bochs(work, iso, cpus=2, megs=1024, nic=True, inside=server)
    try:
        lists = []
        for pat in (r"\[uefi\] .*GRUB: tsc", r"\[uefi\] .*hvtest: tsc \d+",
                    r"vsi uefi: powered off by the guest"):
            if not m.wait_for(pat, TIMEOUT):
                raise SystemExit(f"bench: /{pat}/ never came (logs in {work})")
            lists.append(listing(m))
        text = m.text
    finally:
        m.stop()
    reset = re.search(r"vsi uefi: started at TSC (\d+)", text)
    return points(text, int(reset.group(1))), lists, m


def bare_run(work, image):
    disk = os.path.join(work, "bare.img")
    shutil.copyfile(image, disk)
    # Bochs' flat disks are whole cylinders (16 heads, 63 sectors): grow the
    # image to the next one and move the backup GPT to the new end.
    cyl = 16 * 63 * 512
    os.truncate(disk, -(-os.path.getsize(disk) // cyl) * cyl)
    subprocess.run(["sgdisk", "-e", disk], check=True, stdout=subprocess.DEVNULL)
    m = hvrun.Machine(work)
    slave = m.open_pty()
    rc = os.path.join(work, "bochsrc")
    with open(rc, "w") as f:
        f.write(BARE_RC.format(fd=OVMF_FD, vga=hvrun.BOCHS_VGA, disk=disk, slave=slave,
                               log=os.path.join(work, "bochs.log")))
    cont = os.path.join(work, "bochs.cont")
    with open(cont, "w") as f:
        f.write("c\n")
    m.start((hvrun.netns_prefix() or []) + ["bochs-bin", "-q", "-f", rc, "-rc", cont], "Bochs")
    try:
        # Bochs has no virtio-blk: /init stops at its disk, after its marker.
        if not m.wait_for(r"hvtest: tsc \d+", TIMEOUT):
            raise SystemExit(f"bench: bare Bochs never reached /init (logs in {work})")
        text = m.text
    finally:
        m.stop()
    return points(text, 0), m


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--bare", action="store_true", help="also boot bare Bochs for the ratio")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    work = tempfile.mkdtemp(prefix="hv-ovmf-bench-")
    image = os.path.join(work, "linux.img")
    subprocess.run([sys.executable, os.path.join(ROOT, "tools/mkdisk.py"), image, "--name",
                    "ovmf", "--layout", "grub", "--build", build], check=True,
                   stdout=subprocess.DEVNULL)
    pristine = os.path.join(work, "pristine.img")
    shutil.copyfile(image, pristine)
    vsi, lists, _ = vsi_run(work, image, build)
    if not vsi:
        print(f"bench: incomplete OVMF results (logs in {work})", file=sys.stderr)
        return 1
    print("OVMF -> GRUB -> Debian's kernel (EFI stub) -> /init, Bochs (Haswell, 50 M ips)")
    print(f"  VSI: reset -> GRUB {vsi[0]} ticks, -> Run /init {vsi[1]} ticks "
          f"(Linux's clock {vsi[2]} s)")
    for when, got in zip(("at GRUB", "after /init's marker", "at power-off"), lists):
        print(f"  {when}: {got}")
    if args.bare:
        bare_work = os.path.join(work, "bare")
        os.makedirs(bare_work)
        bare, _ = bare_run(bare_work, pristine)
        if not bare:
            print(f"bench: incomplete bare results (logs in {bare_work})", file=sys.stderr)
            return 1
        print(f"  bare Bochs: reset -> GRUB {bare[0]} ticks, -> Run /init {bare[1]} ticks "
              f"(Linux's clock {bare[2]} s)")
        print(f"  VSI / bare: GRUB {vsi[0] / bare[0]:.2f}, /init {vsi[1] / bare[1]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Linux in a VSI under Bochs: boot cost and storage seen by the guest.

Two Bochs boots (Haswell, 2 CPUs: the service CPU and one vCPU), the disk on
qemu-nbd in Bochs' network namespace:

1. Debian's stock kernel (vmlinux by PVH) from a disk in bench mode: the
   firmware reports TSC ticks from reset to its hand-off (Bochs' TSC counts
   instructions, so they are deterministic up to the network's timing);
   Linux's printk clock at "Run /init" adds the kernel's part. The guest's
   /init then measures sequential 1 MiB writes and reads with dd (direct
   I/O) and 4 KiB random reads.
2. selftest=nbd-bench beside a hello VSI: the hypervisor's own NBD client on
   the same emulated network, the raw rate the guest's figures are divided by.

Figures are reported, never asserted.

    tests/bench/linux.py [--build build] [--markdown] [--raw-out FILE]

--raw-out keeps the second boot's BENCH lines for tests/bench/net.py.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import hvrun  # noqa: E402

CFG = """[hypervisor]
address = 10.0.2.15/24
gateway = 10.0.2.2

[vsi bench]
cpus = 1
memory = {mem}
rom = {rom}
disk = nbd://10.0.2.2:10809/bench
"""
TIMEOUT = 1800


def iso(work, cmdline, cfg, roms, build):
    path = os.path.join(work, "hv.cfg")
    with open(path, "w") as f:
        f.write(cfg)
    out = os.path.join(work, "hv.iso")
    subprocess.run(["sh", os.path.join(ROOT, "tools/mkiso.sh"), out,
                    os.path.join(build, "hv.elf"), cmdline, path,
                    *[os.path.join(build, "guest", r) for r in roms]], check=True)
    return out


def boot(work, image, iso_path, until, listing=False):
    server = (f"qemu-nbd -f raw -t -b 127.0.0.1 -p 10809 -x bench {image} "
              f"2>{work}/qemu-nbd.log")
    m = hvrun.boot_bochs(work, iso_path, cpus=2, megs=512, nic=True, inside=server)
    try:
        if not m.wait_for(until, TIMEOUT):
            raise SystemExit(f"bench: /{until}/ never came (logs in {work})")
        if listing:  # the VSI's exit counters, from the console
            start = len(m.text)
            m.write("list\r")
            m.wait_for(r"exits:[^\n]*\n", 60, start)
        return "\n".join(m.lines())
    finally:
        m.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--raw-out", help="write the NBD client's BENCH lines here")
    ap.add_argument("--apicv-off", action="store_true",
                    help="boot the hypervisor with apicv=off (the software local APIC path)")
    args = ap.parse_args()
    build = os.path.abspath(args.build)

    work = tempfile.mkdtemp(prefix="hv-linux-bench-")
    disk = os.path.join(work, "bench.img")
    subprocess.run([sys.executable, os.path.join(ROOT, "tools/mkdisk.py"), disk, "--name",
                    "bench", "--mode", "bench"], check=True, stdout=subprocess.DEVNULL)
    cmdline = "loglevel=info" + (" apicv=off" if args.apicv_off else "")
    text = boot(work, disk, iso(work, cmdline, CFG.format(mem="256M", rom="firmware.rom"),
                                ["firmware.rom"], build),
                r"vsi bench: powered off by the guest", listing=True)
    exits = re.findall(r"exits: ([^\n]*)", text)
    fw = re.search(r"fw: tsc reset (\d+) handoff (\d+) \((\d+) ticks\)", text)
    init = re.search(r"\[\s*(\d+\.\d+)\] Run /init as init process", text)
    hz = re.search(r"timer: TSC ([\d.]+) MHz", text)
    read = re.search(r"fw: read (\d+) bytes from disk in (\d+) requests", text)
    rows = re.findall(r"hvtest: bench (\S+) ops=(\d+) bytes=(\d+) us=(\d+) MBps=([\d.]+) "
                      r"iops=([\d.]+)", text)
    if not (fw and init and hz and rows):
        print(f"bench: incomplete Linux results (logs in {work})", file=sys.stderr)
        return 1
    fw_ticks = int(fw.group(3))
    init_ticks = fw_ticks + int(float(init.group(1)) * float(hz.group(1)) * 1e6)

    work2 = tempfile.mkdtemp(prefix="hv-nbd-bench-")
    raw_disk = os.path.join(work2, "raw.img")
    with open(raw_disk, "wb") as f:
        f.truncate(64 << 20)
    text2 = boot(work2, raw_disk, iso(work2, "selftest=nbd-bench",
                                      CFG.format(mem="16M", rom="hello.rom"), ["hello.rom"], build),
                 r"BENCH rand-read-qd32 [^\n]*\n")
    if args.raw_out:
        os.makedirs(os.path.dirname(os.path.abspath(args.raw_out)), exist_ok=True)
        with open(args.raw_out, "w") as f:
            f.write("".join(line + "\n" for line in text2.splitlines() if "BENCH " in line))
    raw = {n: (int(kib) / 1024, int(iops)) for n, _, _, _, _, kib, iops in re.findall(
        r"BENCH (\S+) requests=(\d+) size=(\d+) qd=(\d+) ms=(\d+) kib_per_s=(\d+) iops=(\d+)",
        text2)}

    print("Linux (Debian 6.1 stock kernel, PVH) in a VSI under Bochs (Haswell, 50 M ips)")
    print(f"  reset -> firmware hand-off: {fw_ticks} ticks "
          f"({read.group(1) if read else '?'} bytes read in {read.group(2) if read else '?'} "
          f"requests)")
    print(f"  reset -> /init:            ~{init_ticks} ticks (hand-off + Linux's clock at "
          f"'Run /init', {init.group(1)} s)")
    print(f"  APIC virtualisation: {'off' if args.apicv_off else 'on where the CPU has it'}; "
          f"exits of the whole run: {exits[-1] if exits else '?'}")
    pairs = {"seqwrite": "seq-write", "seqread": "seq-read", "randread4k": "rand-read-qd1",
             "randread4k-net": "rand-read-qd1"}
    if args.markdown:
        print("\n| test (in the guest) | guest MB/s | guest IOPS | raw NBD | ratio |")
        print("| --- | ---: | ---: | ---: | ---: |")
    for name, ops, nbytes, us, mbs, iops in rows:
        ref = raw.get(pairs.get(name, ""), None)
        ratio = ""
        if name == "spawn":
            continue  # the cost of starting dd, subtracted in randread4k-net
        if ref and name.startswith("seq") and ref[0]:
            ratio = f"{float(mbs) / ref[0]:.2f}"
        elif ref and ref[1]:
            ratio = f"{float(iops) / ref[1]:.2f}"
        ref_s = (f"{ref[0]:.1f} MB/s" if name.startswith("seq") else f"{ref[1]} IOPS") \
            if ref else "-"
        if args.markdown:
            print(f"| {name} | {mbs} | {iops} | {ref_s} | {ratio} |")
        else:
            print(f"  {name:10} {float(mbs):8.2f} MB/s {float(iops):9.1f} IOPS   raw {ref_s:>14}"
                  f"  ratio {ratio}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

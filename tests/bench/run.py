#!/usr/bin/env python3
"""Exit round trips, measured by a guest in TSC ticks under Bochs.

Boots the hypervisor under Bochs with one VSI running guest/tests/bench.c,
which times CPUID (hypervisor leaf), VMCALL, an I/O port exit and an MSR
exit 1000 times each. On Bochs the TSC advances one per instruction, so a
figure is the instruction count of the whole round trip: guest exit, the
hypervisor's handler, VM entry. Reported, never asserted.

    [HV_CMDLINE="loglevel=info apicv=off"] tests/bench/run.py [--build build] [--markdown]

HV_CMDLINE replaces the hypervisor's command line (default loglevel=info).
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

CONFIG = """[vsi bench]
cpus = 1
memory = 4M
rom = bench.rom
"""
NAMES = {"empty": "fenced TSC reads alone", "cpuid": "CPUID 0x40000000",
         "vmcall": "VMCALL (RAX = 0, no-op)",
         "vmcall-unknown": "VMCALL (unknown, -ENOSYS)", "io-in": "IN from an unclaimed port",
         "rdmsr": "RDMSR IA32_MISC_ENABLE"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="hv-bench-")
    cfg = os.path.join(work, "hv.cfg")
    with open(cfg, "w") as f:
        f.write(CONFIG)
    iso = os.path.join(work, "bench.iso")
    subprocess.run(["sh", os.path.join(ROOT, "tools/mkiso.sh"), iso,
                    os.path.join(args.build, "hv.elf"), os.environ.get("HV_CMDLINE", "loglevel=info"), cfg,
                    os.path.join(args.build, "guest", "bench.rom")], check=True)
    m = hvrun.boot_bochs(work, iso, cpus=2, megs=128)
    try:
        done = m.wait_for(r"\[bench\] GUEST bench: done", 300)
    finally:
        m.stop()
    text = "\n".join(m.lines())
    rows = re.findall(r"\[bench\] BENCH (\S+) min=(\d+) median=(\d+) iters=(\d+)", text)
    if not done or not rows:
        print(f"bench: no results (logs in {work})", file=sys.stderr)
        return 1
    print("Exit round trips on Bochs 2.7 (corei7_haswell_4770), TSC ticks = instructions")
    if args.markdown:
        print("\n| operation | min | median | iterations |\n| --- | ---: | ---: | ---: |")
        for name, lo, med, n in rows:
            print(f"| {NAMES.get(name, name)} | {lo} | {med} | {n} |")
    else:
        print(f"{'operation':32} {'min':>8} {'median':>8} {'iters':>6}")
        for name, lo, med, n in rows:
            print(f"{NAMES.get(name, name):32} {lo:>8} {med:>8} {n:>6}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The hypervisor's own storage path, measured under QEMU+OVMF (TCG).

Boots the UEFI image with one VSI disk on nbdkit's memory plugin (on
127.0.0.1, reached through QEMU's user network at 10.0.2.2) and
selftest=nbd-bench: sequential 128 KiB writes and reads at queue depth 8,
and 4 KiB random reads at queue depth 1 and 32, timed by the hypervisor.
Under TCG the figures mostly measure the emulation; they are reported, never
asserted.

    tests/bench/storage.py [--build build] [--markdown]
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))
import hvrun  # noqa: E402
from run import free_port, wait_port  # noqa: E402

ROWS = {"seq-write": "sequential write, 128 KiB, QD 8", "seq-read": "sequential read, 128 KiB, QD 8",
        "rand-read-qd1": "random read 4 KiB, QD 1", "rand-read-qd32": "random read 4 KiB, QD 32"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="hv-storage-bench-")
    port = free_port()
    server = subprocess.Popen(["nbdkit", "-f", "-i", "127.0.0.1", "-p", str(port),
                               "memory", "64M"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.STDOUT)
    m = None
    try:
        if not wait_port(port):
            print("bench: nbdkit did not start", file=sys.stderr)
            return 1
        cfg = os.path.join(work, "hv.cfg")
        with open(cfg, "w") as f:
            f.write(f"[vsi web]\ncpus = 1\nmemory = 4M\nrom = hello.rom\n"
                    f"disk = nbd://10.0.2.2:{port}/web\n")
        esp = os.path.join(work, "esp")
        subprocess.run(["sh", os.path.join(ROOT, "tools/mkesp.sh"), esp,
                        os.path.join(args.build, "efi/BOOTX64.EFI"),
                        os.path.join(args.build, "hv.elf"), "selftest=nbd-bench", cfg,
                        os.path.join(args.build, "guest", "hello.rom")], check=True)
        m = hvrun.boot_qemu(work, esp, cpus=2, mem=256,
                            extra=["-netdev", "user,id=n0", "-device", "e1000,netdev=n0"])
        m.wait_for(r"BENCH rand-read-qd32 [^\n]*\n", 600)
    finally:
        if m:
            m.stop()
        server.terminate()
    rows = re.findall(r"BENCH (\S+) requests=(\d+) size=(\d+) qd=(\d+) ms=(\d+) "
                      r"kib_per_s=(\d+) iops=(\d+)", "\n".join(m.lines() if m else []))
    if len(rows) != 4:
        print(f"bench: incomplete results (logs in {work})", file=sys.stderr)
        return 1
    print("The hypervisor's NBD client under QEMU TCG (e1000, user network, nbdkit memory)")
    if args.markdown:
        print("\n| test | MB/s | IOPS | requests |\n| --- | ---: | ---: | ---: |")
    for name, n, size, qd, ms, kib, iops in rows:
        mbs = int(kib) / 1024
        if args.markdown:
            print(f"| {ROWS[name]} | {mbs:.1f} | {iops} | {n} |")
        else:
            print(f"{ROWS[name]:34} {mbs:8.1f} MB/s {int(iops):8} IOPS  ({n} requests, {ms} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

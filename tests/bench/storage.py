#!/usr/bin/env python3
"""The hypervisor's own storage path, measured under QEMU+OVMF (TCG).

Boots the UEFI image once per NIC model (e1000, e1000e, virtio-net) with one
VSI disk on nbdkit's memory plugin (on 127.0.0.1, reached through QEMU's user
network at 10.0.2.2) and selftest=nbd-bench: sequential 128 KiB writes and
reads at queue depth 8, and 4 KiB random reads at queue depth 1 and 32, timed
by the hypervisor. Then the same NBD client as a host program over loopback
TCP (tests/hosted/nbd_bench.sh), the ceiling without any NIC. One table, a
column per path. Under TCG the figures mostly measure the emulation; they are
reported, never asserted.

    tests/bench/storage.py [--build build] [--markdown] [--nic MODEL ...] [--no-hosted]
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

NICS = {"e1000": "e1000", "e1000e": "e1000e", "virtio-net": "virtio-net-pci"}
ROWS = {"seq-write": "sequential write, 128 KiB, QD 8", "seq-read": "sequential read, 128 KiB, QD 8",
        "rand-read-qd1": "random read 4 KiB, QD 1", "rand-read-qd32": "random read 4 KiB, QD 32"}


def bench_nic(build, nic):
    """One boot with the NIC model: {test: (MB/s, IOPS)}, or None (logs kept)."""
    work = tempfile.mkdtemp(prefix=f"hv-storage-bench-{nic}-")
    port = free_port()
    server = subprocess.Popen(["nbdkit", "-f", "-i", "127.0.0.1", "-p", str(port),
                               "memory", "64M"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.STDOUT)
    m = None
    try:
        if not wait_port(port):
            print("bench: nbdkit did not start", file=sys.stderr)
            return None
        cfg = os.path.join(work, "hv.cfg")
        with open(cfg, "w") as f:
            f.write(f"[vsi web]\ncpus = 1\nmemory = 4M\nrom = hello.rom\n"
                    f"disk = nbd://10.0.2.2:{port}/web\n")
        esp = os.path.join(work, "esp")
        subprocess.run(["sh", os.path.join(ROOT, "tools/mkesp.sh"), esp,
                        os.path.join(build, "efi/BOOTX64.EFI"),
                        os.path.join(build, "hv.elf"), "selftest=nbd-bench", cfg,
                        os.path.join(build, "guest", "hello.rom")], check=True)
        m = hvrun.boot_qemu(work, esp, cpus=2, mem=256,
                            extra=["-netdev", "user,id=n0", "-device", f"{NICS[nic]},netdev=n0"])
        m.wait_for(r"BENCH rand-read-qd32 [^\n]*\n", 600)
    finally:
        if m:
            m.stop()
        server.terminate()
    rows = re.findall(r"BENCH (\S+) requests=(\d+) size=(\d+) qd=(\d+) ms=(\d+) "
                      r"kib_per_s=(\d+) iops=(\d+)", "\n".join(m.lines() if m else []))
    if len(rows) != 4:
        print(f"bench: {nic}: incomplete results (logs in {work})", file=sys.stderr)
        return None
    return {name: (int(kib) / 1024, int(iops)) for name, _, _, _, _, kib, iops in rows}


HOSTED_ROWS = {"seq-write": r"sequential write 1 MiB, QD 8\s*\|\s*(\d+) MB/s",
               "seq-read": r"sequential read 1 MiB, QD 8\s*\|\s*(\d+) MB/s",
               "rand-read-qd1": r"random read 4 KiB, QD 1\s*\|\s*(\d+) IOPS",
               "rand-read-qd32": r"random read 4 KiB, QD 32\s*\|\s*(\d+) IOPS"}


def bench_hosted():
    """The client over loopback TCP on the host: {test: text}, or None."""
    r = subprocess.run(["sh", os.path.join(ROOT, "tests/hosted/nbd_bench.sh")],
                       capture_output=True, text=True)
    out = {}
    for name, pat in HOSTED_ROWS.items():
        m = re.search(pat, r.stdout)
        if not m:
            print(f"bench: hosted client gave no {name} figure", file=sys.stderr)
            return None
        unit = "MB/s" if name.startswith("seq") else "IOPS"
        out[name] = f"{m.group(1)} {unit} (1 MiB)" if unit == "MB/s" else f"{m.group(1)} IOPS"
    return out


def cell(name, v):
    mbs, iops = v
    return f"{mbs:.1f} MB/s" if name.startswith("seq") else f"{iops} IOPS ({mbs:.1f} MB/s)"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--nic", action="append", choices=list(NICS), help="default: all three")
    ap.add_argument("--no-hosted", action="store_true", help="skip the loopback ceiling")
    args = ap.parse_args()
    nics = args.nic or list(NICS)
    results = {nic: bench_nic(args.build, nic) for nic in nics}
    hosted = None if args.no_hosted else bench_hosted()
    cols = nics + (["hosted, loopback"] if hosted else [])
    print("The hypervisor's NBD client under QEMU TCG per NIC model (user network, nbdkit "
          "memory), and the same client on the host over loopback TCP")
    table = [[ROWS[name]] + [cell(name, results[n][name]) if results[n] else "failed"
                             for n in nics] + ([hosted[name]] if hosted else [])
             for name in ROWS]
    if args.markdown:
        print("\n| test | " + " | ".join(cols) + " |\n| --- |" + " ---: |" * len(cols))
        for row in table:
            print("| " + " | ".join(row) + " |")
    else:
        print(f"{'test':34}" + "".join(f"{c:>24}" for c in cols))
        for row in table:
            print(f"{row[0]:34}" + "".join(f"{c:>24}" for c in row[1:]))
    return 0 if all(results.values()) and (hosted or args.no_hosted) else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""VSI networks seen by Linux guests under Bochs: transfer rates and round trips.

One Bochs boot (Haswell, 50 M ips, 5 CPUs: the service CPU and one vCPU per
VSI) with four Linux VSIs on the networks of tests/system/netcases.py, their
disks on qemu-nbd at 10.9.0.2 in Bochs' network namespace:

* cli reads 4 MiB from srv's server on the internal network, then pings it;
* natvm (nat) pings its gateway, then downloads 4 MiB over HTTP from a web
  server outside (10.9.0.1, reached through NAT, the e1000 and slirp);
* bridgevm (bridged, its own lease from slirp) downloads the same;
* then the flood: bridgevm reads its disk and pings its gateway in rounds
  (hvtest.busy: 256 sequential 512-byte O_DIRECT reads, each one NBD
  request through the hypervisor, then 3 pings) while natvm floods its own
  gateway for 10 s (four `ping -i 0.001 -s 1400`: the hypervisor answers
  each on the service CPU, which runs every disk's NBD client too). Each
  round's disk time before, during and after the flood is the storage
  path's latency under that load. (The internal pair cannot reach the
  gates, which are outside.)

One transfer at a time: natvm and bridgevm wait at a gate (hvtest.wait, a
port of 10.9.0.1 this script opens) until the transfer before theirs is done;
the internal pair needs no gate, as the others are still booting or waiting
then. Each figure is the guest's own clock (Bochs' emulated time). Beside
them, the hypervisor's own TCP rate on the same emulated NIC: its NBD client's
sequential read and write (selftest=nbd-bench), taken from FILE (--raw, as
tests/bench/linux.py --raw-out writes it) or from a second, short boot. Then
the switch's counters (the console's `net`). Reported, never asserted.

    tests/bench/net.py [--build build] [--raw FILE] [--markdown]
"""
import argparse
import hashlib
import importlib.util
import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hvrun  # noqa: E402
import linux  # noqa: E402

MIB4 = 4 << 20
SERVE_SECTORS = MIB4 // 512
OUTSIDE_IP = "10.9.0.1"  # the web server and the gates, outside every VSI network
STORAGE_IP = "10.9.0.2"  # the NBD servers (not 10.0.2.2, where slirp's forwards come from)
GATES = {"natvm": 9001, "bridgevm": 9002}
BUSY_GATE, FLOOD_GATE = 9003, 9004  # bridgevm's disk rounds, then natvm's flood
FLOOD_S, BUSY_S = 10, 40
TIMEOUT = 1500  # seconds of wall time for a step
NAMES = ("natvm", "bridgevm", "srv", "cli")

CFG = """[hypervisor]
address = 10.0.2.15/24
gateway = 10.0.2.2

[network outside]
mode = nat
subnet = 10.0.3.0/24

[network lan]
mode = bridged

[network backend]
mode = internal
subnet = 10.0.5.0/24
""" + "".join(f"""
[vsi {name}]
cpus = {i + 1}
memory = 192M
rom = firmware.rom
disk = nbd://{STORAGE_IP}:{10809 + i}/{name}
net = {net}
""" for i, (name, net) in enumerate(zip(NAMES, ("outside", "lan", "backend", "backend"))))

# Listens on OUTSIDE_IP:PORT once the file DIR/gate-PORT exists; every connection is closed.
GATE = """import os, select, socket, sys
d, ports, ls = sys.argv[1], [int(p) for p in sys.argv[2:]], []
while True:
    for p in list(ports):
        if os.path.exists(os.path.join(d, "gate-%d" % p)):
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((OUTSIDE, p))
            s.listen(8)
            ls.append(s)
            ports.remove(p)
    for s in select.select(ls, [], [], 0.5)[0] if ls else []:
        s.accept()[0].close()
    if not ls:
        select.select([], [], [], 0.5)
""".replace("OUTSIDE", repr(OUTSIDE_IP))


def served_sha(name):
    """SHA-256 of what hvtest.serve sends for NAME: SERVE_SECTORS sectors of its pattern."""
    spec = importlib.util.spec_from_file_location(
        "check_disk", os.path.join(ROOT, "tools", "check-disk.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    h = hashlib.sha256()
    for s in range(SERVE_SECTORS):
        h.update(mod.pattern_sector(name, s))
    return h.hexdigest()


def disks(work):
    """A guest disk per VSI with its steps; writes the web server's blob."""
    os.makedirs(os.path.join(work, "www"), exist_ok=True)
    data = bytes((i * 131 + (i >> 9)) & 0xff for i in range(MIB4))
    with open(os.path.join(work, "www", "blob"), "wb") as f:
        f.write(data)
    fetch = f"hvtest.fetch=http://{OUTSIDE_IP}:8000/blob,{hashlib.sha256(data).hexdigest()}"
    common = "hvtest.sectors=256 hvtest.timeout=60 hvtest.xfer_s=1500 hvtest.net=dhcp"
    steps = {
        "natvm": f"hvtest.wait={OUTSIDE_IP}:{GATES['natvm']} hvtest.ping=10.0.3.1 {fetch} "
                 f"hvtest.wait={OUTSIDE_IP}:{FLOOD_GATE} hvtest.flood=10.0.3.1,{FLOOD_S}",
        "bridgevm": f"hvtest.wait={OUTSIDE_IP}:{GATES['bridgevm']} {fetch} "
                    f"hvtest.wait={OUTSIDE_IP}:{BUSY_GATE} hvtest.busy=10.0.2.2,{BUSY_S}",
        "srv": f"hvtest.serve=80 hvtest.serve_sectors={SERVE_SECTORS} hvtest.hold_s={TIMEOUT}",
        "cli": f"hvtest.peer=10.0.5.10:80,{served_sha('srv')} hvtest.ping=10.0.5.10",
    }
    out = {}
    for name in NAMES:
        out[name] = os.path.join(work, f"{name}.img")
        subprocess.run([sys.executable, os.path.join(ROOT, "tools/mkdisk.py"), out[name],
                        "--name", name, "--append", f"{common} {steps[name]}"],
                       check=True, stdout=subprocess.DEVNULL)
    return out


def wait(m, pattern, what, work):
    """Wait for pattern on the console; SystemExit if it never comes or a guest fails first."""
    found = m.wait_for(rf"(?:{pattern})|(?P<bad>hvtest: FAIL[^\n]*|Kernel panic|"
                       r"faulted and stopped)", TIMEOUT)
    if not found or found.group("bad"):
        raise SystemExit(f"bench: {found.group('bad') if found else what + ' never came'} "
                         f"(logs in {work})")


def run_guests(work, build):
    """The boot: console text, and its wall time in seconds."""
    images = disks(work)
    with open(os.path.join(work, "gate.py"), "w") as f:
        f.write(GATE)
    iso = linux.iso(work, "loglevel=info", CFG, ["firmware.rom"], build)
    inside = (f"ip addr add {OUTSIDE_IP}/32 dev lo && ip addr add {STORAGE_IP}/32 dev lo && {{ " +
              " & ".join([f"qemu-nbd -f raw -t -b {STORAGE_IP} -p {10809 + i} -x {n} "
                          f"{images[n]} 2>{work}/nbd-{n}.log" for i, n in enumerate(NAMES)] +
                         [f"python3 -m http.server --bind {OUTSIDE_IP} --directory {work}/www "
                          f"8000 >{work}/http.log 2>&1",
                          f"python3 {work}/gate.py {work} "
                          f"{' '.join(map(str, [*GATES.values(), BUSY_GATE, FLOOD_GATE]))}"])
              + " ; }")
    t0 = time.monotonic()
    m = hvrun.boot_bochs(work, iso, cpus=5, megs=1024, nic=True, inside=inside,
                         slirp=["dhcpstart = 10.0.2.50"])
    try:
        wait(m, r"\[cli\] [^\n]*hvtest: net peer [^\n]*\n", "cli's transfer", work)
        wait(m, r"\[cli\] [^\n]*hvtest: net ping [^\n]*\n", "cli's ping", work)
        for name in ("natvm", "bridgevm"):
            wait(m, rf"\[{name}\] [^\n]*hvtest: net lease", f"{name}'s lease", work)
        for name in ("natvm", "bridgevm"):
            open(os.path.join(work, f"gate-{GATES[name]}"), "w").close()
            wait(m, rf"\[{name}\] [^\n]*hvtest: net fetch [^\n]*\n", f"{name}'s download",
                 work)
        open(os.path.join(work, f"gate-{BUSY_GATE}"), "w").close()
        wait(m, r"\[bridgevm\] [^\n]*hvtest: net busy round 3:", "bridgevm's third disk round",
             work)
        open(os.path.join(work, f"gate-{FLOOD_GATE}"), "w").close()
        wait(m, r"\[natvm\] [^\n]*hvtest: net flood \S+ done", "natvm's flood", work)
        wait(m, r"\[bridgevm\] [^\n]*hvtest: net busy \S+ done", "bridgevm's disk rounds", work)
        start = len(m.text)
        m.write("net\r")
        m.wait_for(r"vsi cli: network[^\n]*\n(?:.*\n){0,6}?\s+device: [^\n]*\n", 120, start)
        return m.text, start, time.monotonic() - t0
    finally:
        m.stop()


def raw_rates(path, build):
    """The NBD client's {test: MB/s}: from path (BENCH lines) or a selftest=nbd-bench boot."""
    if path and os.path.exists(path):
        with open(path) as f:
            text = f.read()
    else:
        work = tempfile.mkdtemp(prefix="hv-net-nbd-bench-")
        disk = os.path.join(work, "raw.img")
        with open(disk, "wb") as f:
            f.truncate(64 << 20)
        text = linux.boot(work, disk, linux.iso(work, "selftest=nbd-bench",
                                                linux.CFG.format(mem="16M", rom="hello.rom"),
                                                ["hello.rom"], build),
                          r"BENCH rand-read-qd32 [^\n]*\n")
    return {n: int(kib) * 1024 / 1e6 for n, kib in re.findall(
        r"BENCH (\S+) requests=\d+ size=\d+ qd=\d+ ms=\d+ kib_per_s=(\d+)", text)}


def flood_rounds(text):
    """bridgevm's busy rounds before / during / after natvm's flood: lists of (disk ms, ping ms);
    and the flood's frame count."""
    start = re.search(r"\[natvm\] [^\n]*hvtest: net flood \S+ for", text)
    done = re.search(r"\[natvm\] [^\n]*hvtest: net flood \S+ done: (\d+) frames", text)
    phases = [[], [], []]
    if not start or not done:
        return phases, None
    for r in re.finditer(r"\[bridgevm\] [^\n]*hvtest: net busy round \d+: disk \d+ reads in (\d+) ms, "
                         r"ping \S+ in (\d+) ms", text):
        phase = 0 if r.start() < start.start() else 1 if r.start() < done.start() else 2
        phases[phase].append((int(r.group(1)), int(r.group(2))))
    return phases, int(done.group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--raw", help="BENCH lines of a selftest=nbd-bench boot (linux.py --raw-out)")
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    work = tempfile.mkdtemp(prefix="hv-net-bench-")
    text, net_at, wall = run_guests(work, build)
    raw = raw_rates(args.raw, build)
    ref = raw.get("seq-read")

    rows = []
    for name, step, label in (("natvm", "fetch", "nat VSI: HTTP download from outside"),
                              ("bridgevm", "fetch", "bridged VSI: HTTP download from outside"),
                              ("cli", "peer", "internal VSI: read from the other VSI")):
        m = re.search(rf"\[{name}\] [^\n]*hvtest: net {step} \S+ sha256 ok (\d+) bytes in (\d+) ms",
                      text)
        mbs = int(m.group(1)) / max(int(m.group(2)), 1) / 1000 if m else None
        rows.append((label, f"{mbs:.2f} MB/s" if mbs else "-",
                     f"{mbs / ref:.2f}" if mbs and ref else "-"))
    for name, ip, label in (("natvm", "10.0.3.1", "nat VSI: ping its gateway"),
                            ("cli", "10.0.5.10", "internal VSI: ping the other VSI")):
        m = re.search(rf"\[{name}\] [^\n]*hvtest: net ping {re.escape(ip)} ok (\d)/3 replies "
                      r"rtt min/avg/max ([\d.]+)/([\d.]+)/([\d.]+) ms", text)
        rows.append((label, f"{m.group(2)}/{m.group(3)}/{m.group(4)} ms ({m.group(1)}/3)"
                     if m else "-", ""))

    print("VSI networks seen by Linux guests under Bochs (Haswell, 50 M ips; guest clocks "
          f"are emulated time), one transfer at a time, 4 MiB each; boot wall time {wall:.0f} s")
    serving = re.search(r"\[srv\] [^\n]*hvtest: net serving", text)
    idle = all(re.search(rf"\[{n}\] [^\n]*hvtest: net lease", text[:serving.start()])
               for n in GATES) if serving else False
    print("the internal transfer began " + ("with the other two guests up, waiting at their gates"
                                            if idle else "while another guest was still booting"))
    print("hypervisor's own TCP on the same e1000 (NBD client, selftest=nbd-bench): "
          + ", ".join(f"{k} {v:.2f} MB/s" for k, v in raw.items() if k.startswith("seq")))
    if args.markdown:
        print("\n| test | guest | ratio to the NBD client's sequential read |")
        print("| --- | ---: | ---: |")
        for label, v, ratio in rows:
            print(f"| {label} | {v} | {ratio} |")
    else:
        for label, v, ratio in rows:
            print(f"  {label:44} {v:>28}" + (f"   ratio {ratio}" if ratio else ""))
    phases, frames = flood_rounds(text)
    print(f"storage under natvm's flood of its gateway ({frames} frames in {FLOOD_S} s): bridgevm's "
          "rounds of 256 sequential 512-byte O_DIRECT reads, disk ms (per read) / 3 pings ms")
    for label, ph in zip(("before", "during", "after"), phases):
        print(f"  {label:6} " + (", ".join(f"{d} ({d / 256:.2f}) / {p}" for d, p in ph) or "-"))
    print("switch counters at the end (console `net`):")
    guest = re.compile(r"^\[(?:%s)\] " % "|".join(NAMES))  # guests' lines in between
    print("\n".join("  " + re.sub(r"^\[cpu\d+\] ", "", line)
                    for line in text[net_at:].splitlines()[1:]
                    if line.strip() and not guest.match(line)))
    return 0 if all(r[1] != "-" for r in rows) and all(phases) else 1


if __name__ == "__main__":
    sys.exit(main())

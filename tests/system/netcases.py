"""System tests of the VSIs' networks (docs/net.md, "VSI networks").

One Bochs boot runs four Linux VSIs, one per network mode and two on the
internal network, each with its own NBD disk. Everything outside lives in
Bochs' network namespace, which slirp reaches through its gateway 10.0.2.2:
the NBD servers (10.9.0.2), a web server (10.9.0.1), and the clients that
come in through slirp's host forwards (seen from 10.0.2.2). run.py sets `lib`
to itself before calling these cases.
"""
import hashlib
import os
import re

lib = None  # tests/system/run.py

FETCH_BYTES = 256 * 1024
PATTERN_SECTORS = 2048  # each guest's disk pattern (1 MiB), checked on the server's file
SERVE_SECTORS = 512  # what each serving guest sends: 256 KiB of its pattern
OUTSIDE_IP = "10.9.0.1"  # the namespace's web server, outside every VSI network
# The NBD servers: another address of the namespace, reached through slirp's
# gateway. Not 10.0.2.2, which is where slirp's host forwards come from.
STORAGE_IP = "10.9.0.2"
# The floods: each FLOODERS VSI sends echo requests to its target for FLOOD_S
# guest seconds once the script opens GATE (every other VSI is busy by then):
# natvm to its gateway, which the hypervisor answers itself, and bridgevm to
# slirp's, through the NIC that carries storage. The others keep reading
# their disks and pinging their gateways (BUSY_S guest seconds), which must
# go on during the floods.
FLOODERS = {"natvm": "10.0.3.1", "bridgevm": "10.0.2.2"}
FLOOD_S = 10
BUSY_S = 50
GATE_PORT = 9000
GATEWAYS = {"natvm": "10.0.3.1", "bridgevm": "10.0.2.2", "srv": "10.0.5.1", "cli": "10.0.5.1"}

NET_CFG = """[hypervisor]
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

[vsi natvm]
cpus = 1
memory = 192M
rom = firmware.rom
disk = nbd://10.9.0.2:10809/natvm
net = outside
forward = tcp:8080:80

[vsi bridgevm]
cpus = 2
memory = 192M
rom = firmware.rom
disk = nbd://10.9.0.2:10810/bridgevm
net = lan

[vsi srv]
cpus = 3
memory = 192M
rom = firmware.rom
disk = nbd://10.9.0.2:10811/srv
net = backend

[vsi cli]
cpus = 4
memory = 192M
rom = firmware.rom
disk = nbd://10.9.0.2:10812/cli
net = backend
"""


def served_sha(name):
    """The SHA-256 of what hvtest.serve sends for NAME (its first SERVE_SECTORS sectors)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        "check_disk", os.path.join(lib.ROOT, "tools", "check-disk.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    h = hashlib.sha256()
    for s in range(SERVE_SECTORS):
        h.update(mod.pattern_sector(name, s))
    return h.hexdigest()


CLIENT = """import socket, sys, time
host, port, want, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
deadline = time.time() + 1500
while time.time() < deadline:
    try:
        s = socket.create_connection((host, port), timeout=30)
        data = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
        s.close()
        if len(data) == want:
            open(out, "wb").write(data)
            sys.exit(0)
    except OSError:
        pass
    time.sleep(3)
sys.exit(1)
"""


# Listens on OUTSIDE_IP:PORT once the file DIR/gate exists; every connection is closed.
GATE = """import os, socket, sys, time
d, port = sys.argv[1], int(sys.argv[2])
while not os.path.exists(os.path.join(d, "gate")):
    time.sleep(0.5)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((OUTSIDE, port))
s.listen(8)
while True:
    s.accept()[0].close()
""".replace("OUTSIDE", repr(OUTSIDE_IP))


def test_bochs_vsi_networks(c):
    """Bochs, 5 CPUs, four Linux VSIs with their stock virtio_net driver.
    nat: a DHCP lease from the hypervisor (its stable address), ping of the
    gateway, a download from a web server outside (SHA-256 compared), and
    its web server reached from outside through forward = tcp:8080:80
    (bytes compared). bridged: a lease from the LAN's DHCP server (slirp),
    the same download, and its server reached directly by its own address.
    internal: one VSI reads the other's server (SHA-256 compared), which the
    nat VSI cannot reach. From
    every mode the NBD server's port and the hypervisor's address are
    unreachable, and those frames are counted as storage drops; frames from
    a forged MAC or source address get no answer and are counted; while every
    VSI's own disk keeps working (each writes and checks its pattern, and
    the server's file holds exactly that). Meanwhile natvm floods its
    gateway (the hypervisor answers every echo request on the service CPU,
    which also runs every disk) and bridgevm slirp's gateway (through the
    NIC that also carries storage), once the internal pair is busy: their
    disk reads and pings must go on during the floods, and the flooders
    must finish their own steps afterwards."""
    names = ("natvm", "bridgevm", "srv", "cli")
    blob = os.path.join(c.dir, "www", "blob")
    os.makedirs(os.path.dirname(blob), exist_ok=True)
    data = bytes((i * 131 + (i >> 9)) & 0xff for i in range(FETCH_BYTES))
    with open(blob, "wb") as f:
        f.write(data)
    blob_sha = hashlib.sha256(data).hexdigest()
    fetch = f"hvtest.fetch=http://{OUTSIDE_IP}:8000/blob,{blob_sha}"
    storage = f"hvtest.noreach={STORAGE_IP}:10809,10.0.2.15:10809"
    serve = (f"hvtest.serve=80 hvtest.serve_sectors={SERVE_SECTORS} hvtest.serve_n=1 "
             "hvtest.hold_s=1500")
    common = f"hvtest.sectors={PATTERN_SECTORS} hvtest.timeout=60 hvtest.xfer_s=600"
    # the FLOODERS flood once the gate opens; the others start their busy
    # rounds first (srv after its spoof, whose forged MAC would drop their pings)
    flood = {n: f"hvtest.wait={OUTSIDE_IP}:{GATE_PORT} hvtest.flood={t},{FLOOD_S}"
             for n, t in FLOODERS.items()}
    busy = {n: f"hvtest.busy={GATEWAYS[n]},{BUSY_S}" for n in names}
    append = {
        "natvm": f"hvtest.net=dhcp {serve} {flood['natvm']} hvtest.ping=10.0.3.1 {fetch} "
                 f"{storage} hvtest.spoof=10.0.3.1 hvtest.noreach=10.0.5.10:80",
        "bridgevm": f"hvtest.net=dhcp {serve} {flood['bridgevm']} {fetch} {storage}",
        "srv": f"hvtest.net=dhcp {serve} hvtest.spoof=10.0.5.1 {busy['srv']} "
               f"hvtest.ping=10.0.5.1 {storage}",
        "cli": f"hvtest.net=dhcp {busy['cli']} hvtest.peer=10.0.5.10:80,{served_sha('srv')} "
               f"hvtest.noreach={OUTSIDE_IP}:8000 {storage}",
    }
    disks = {n: lib.guest_disk(c, n, append=f"{common} {append[n]}") for n in names}
    client = os.path.join(c.dir, "client.py")
    with open(client, "w") as f:
        f.write(CLIENT)
    gate = os.path.join(c.dir, "gate.py")
    with open(gate, "w") as f:
        f.write(GATE)
    if os.path.exists(os.path.join(c.dir, "gate")):
        os.remove(os.path.join(c.dir, "gate"))
    want = SERVE_SECTORS * 512
    addrs = f"ip addr add {OUTSIDE_IP}/32 dev lo && ip addr add {STORAGE_IP}/32 dev lo"
    servers = [f"qemu-nbd -f raw -t -b {STORAGE_IP} -p {10809 + i} -x {n} {disks[n]} "
                f"2>{c.dir}/nbd-{n}.log" for i, n in enumerate(names)]
    servers += [
                f"python3 -m http.server --bind {OUTSIDE_IP} --directory {c.dir}/www 8000 "
                f">{c.dir}/http.log 2>&1",
                f"python3 {client} 127.0.0.1 8080 {want} {c.dir}/via-forward.bin",
                f"python3 {client} 127.0.0.1 8081 {want} {c.dir}/via-bridge.bin",
                f"python3 {gate} {c.dir} {GATE_PORT}"]
    iso = c.vsi_iso(NET_CFG, ["firmware.rom"])
    c.machine = lib.hvrun.boot_bochs(
        c.dir, iso, cpus=5, megs=1024, nic=True,
        inside=f"{addrs} && {{ {' & '.join(servers)} ; }}",
        slirp=["dhcpstart = 10.0.2.50",
               "hostfwd = tcp::8080-10.0.2.15:8080",
               "hostfwd = tcp::8081-10.0.2.50:80"])
    c.expect(r"vsi natvm: on network outside \(nat\), MAC 02:[0-9a-f:]+, address 10\.0\.3\.10 "
             r"by DHCP", timeout=300)
    c.expect(r"vsi srv: on network backend \(internal\), MAC [0-9a-f:]+, address 10\.0\.5\.10")
    c.expect(r"vsi cli: on network backend \(internal\), MAC [0-9a-f:]+, address 10\.0\.5\.11")
    timeout = lib.LINUX_TIMEOUT
    c.expect(r"\[natvm\] .*hvtest: net lease 10\.0\.3\.10/24 gw 10\.0\.3\.1", timeout=timeout)
    c.expect(r"\[bridgevm\] .*hvtest: net lease 10\.0\.2\.50/24 gw 10\.0\.2\.2", timeout=timeout)
    check_flood(c, names)
    for name in names:
        c.expect(rf"\[{name}\] .*hvtest: net done", timeout=timeout)
    for name in ("natvm", "bridgevm", "srv"):
        c.expect(rf"\[{name}\] .*hvtest: net sent 80 transfer 1", timeout=timeout)
    c.expect(r"\[natvm\] .*hvtest: net ping 10\.0\.3\.1 ok")
    c.expect(r"\[srv\] .*hvtest: net ping 10\.0\.5\.1 ok")
    for name in ("natvm", "bridgevm"):
        c.expect(rf"\[{name}\] .*hvtest: net fetch http://{re.escape(OUTSIDE_IP)}:8000/blob "
                 rf"sha256 ok {FETCH_BYTES} bytes")
    c.expect(r"\[cli\] .*hvtest: net peer 10\.0\.5\.10:80 sha256 ok")
    for name, gw in (("natvm", "10.0.3.1"), ("srv", "10.0.5.1")):
        c.expect(rf"\[{name}\] .*hvtest: net spoof {re.escape(gw)} ok")
    # dropped by the switch: no answer at all, so the guest's connect times out
    for name in names:
        for target in (f"{STORAGE_IP}:10809", "10.0.2.15:10809"):
            c.expect(rf"\[{name}\] .*hvtest: net noreach {re.escape(target)} "
                     r"ok \((timeout|unreachable)\)")
    c.expect(rf"\[cli\] .*hvtest: net noreach {re.escape(OUTSIDE_IP)}:8000 ok")
    # a VSI of another network does not reach the internal one's server
    c.expect(r"\[natvm\] .*hvtest: net noreach 10\.0\.5\.10:80 ok", timeout=timeout)
    for name, path in (("natvm", "via-forward.bin"), ("bridgevm", "via-bridge.bin")):
        got = os.path.join(c.dir, path)
        c.check(os.path.exists(got), f"nothing of {name}'s server arrived from outside ({path})")
        with open(got, "rb") as f:
            sha = hashlib.sha256(f.read()).hexdigest()
        c.check(sha == served_sha(name), f"{path}: sha256 {sha}, want {served_sha(name)}")
    c.console("net", r"vsi cli: network[^\n]*\n(?:.*\n){0,6}?\s+device: ")
    text = c.text()[c.text().rfind("uplink "):]
    for name in names:
        m = re.search(rf"vsi {name}: network [^\n]*\n(?:.*\n){{0,6}}?\s+sent:[^\n]*storage (\d+)",
                      text)
        c.check(m and int(m.group(1)) > 0,
                f"{name}'s frames to storage are not counted: {m.group(0) if m else text!r}")
    for name in ("natvm", "srv"):
        m = re.search(rf"vsi {name}: network [^\n]*\n(?:.*\n){{0,6}}?\s+sent:[^\n]*spoofed (\d+)",
                      text)
        c.check(m and int(m.group(1)) >= 4,
                f"{name}'s forged frames are not counted: {m.group(0) if m else text!r}")
    for name in names:
        c.expect(rf"\[{name}\] .*hvtest: done", timeout=timeout)
    c.expect_absent(r"hvtest: FAIL|Kernel panic|faulted and stopped|soft lockup")
    c.machine.stop()
    for name in names:
        lib.check_disk(c, disks[name], name, sectors=PATTERN_SECTORS)


def busy_rounds(text, name):
    """(offset, disk ms, ping ms) of each of NAME's hvtest.busy rounds in text."""
    rx = (rf"\[{name}\] [^\n]*hvtest: net busy round \d+: disk \d+ reads in (\d+) ms, "
          rf"ping \S+ in (\d+) ms")
    return [(m.start(), int(m.group(1)), int(m.group(2))) for m in re.finditer(rx, text)]


def check_flood(c, names):
    """Open the flooders' gate once every other VSI is busy; while any flood
    runs each of them must complete disk reads and pings (busy rounds between
    the first flood's start and the last one's end on the console). Prints
    their round times before, during and after; returns the frames each
    flooder sent."""
    others = [n for n in names if n not in FLOODERS]
    for name in others:
        c.expect(rf"\[{name}\] .*hvtest: net busy round 1:", timeout=lib.LINUX_TIMEOUT)
    open(os.path.join(c.dir, "gate"), "w").close()
    text, frames, spans = None, {}, []
    for name, target in FLOODERS.items():
        rx = rf"\[{name}\] [^\n]*hvtest: net flood {re.escape(target)} "
        c.expect(rx + rf"for {FLOOD_S}s started", timeout=lib.LINUX_TIMEOUT)
        done = c.expect(rx + r"done: (\d+) frames", timeout=lib.LINUX_TIMEOUT)
        frames[name] = int(done.group(1))
        c.check(frames[name] >= 1000, f"{name}'s flood sent only {frames[name]} frames")
    for name in others:
        c.expect(rf"\[{name}\] .*hvtest: net busy \S+ done: \d+ rounds", timeout=lib.LINUX_TIMEOUT)
    text = c.machine.text
    for name, target in FLOODERS.items():
        rx = rf"\[{name}\] [^\n]*hvtest: net flood {re.escape(target)} "
        spans.append((re.search(rx + "for", text).start(), re.search(rx + "done", text).start()))
    start, end = min(s for s, _ in spans), max(e for _, e in spans)
    for name in others:
        rounds = busy_rounds(text, name)
        phases = [[r for r in rounds if r[0] < start],
                  [r for r in rounds if start < r[0] < end],
                  [r for r in rounds if r[0] > end]]
        print(f"  {name} busy rounds, disk/ping ms, before / during / after the floods: " +
              " / ".join(" ".join(f"{d}/{p}" for _, d, p in ph) or "-" for ph in phases))
        c.check(phases[1], f"{name}: no disk read and ping finished during the floods")
    return frames

"""System tests of storage on its own VLAN (docs/net.md, "Storage on its own VLAN").

The LAN is a VDE switch (Debian's vde2) in a network namespace the case
makes: the hypervisor's NIC is on a port that carries VLAN 100 tagged and
the untagged LAN, the NBD server's tap is an untagged member of VLAN 100
only, and the LAN's tap (no address) is on the untagged LAN. The kernel's
own 802.1Q device (`ip link add ... type vlan`) would do as well, but not
every kernel has it (CONFIG_VLAN_8021Q); VDE tags in user space. QEMU+OVMF
without VT-x: the storage path runs, VSIs do not. run.py sets `lib` to
itself before calling these cases.
"""
import os
import shutil
import subprocess
import time

lib = None  # tests/system/run.py

VID = 100
SERVER_IP = "10.77.0.1"  # on the storage VLAN only
HV_ADDRESS = "10.77.0.15/24"
NBD_PORT = 10809


class VlanLan:
    """A namespace with a VDE switch: port 1 the hypervisor (VLAN VID tagged,
    the LAN untagged), port 2 tap stor0 (VLAN VID untagged, the server's
    address), port 3 tap lan0 (the untagged LAN, no address)."""

    def __init__(self, workdir):
        if os.geteuid() != 0:
            raise lib.Failure("the storage VLAN case makes a network namespace: run it as root")
        if not shutil.which("vde_switch") or not shutil.which("vde_plug2tap"):
            raise lib.Failure("the storage VLAN case needs vde_switch and vde_plug2tap "
                              "(Debian's vde2; tools/install-deps.sh)")
        self.dir = workdir
        self.ns = f"hvvlan-{os.getpid()}"
        self.sock = os.path.join(workdir, "vde.sock")
        self.procs = []
        self.nbd_pid = None
        subprocess.run(["ip", "netns", "add", self.ns], check=True)

    def run(self, *cmd, **kw):
        return subprocess.run(["ip", "netns", "exec", self.ns, *cmd], check=True, **kw)

    def spawn(self, name, *cmd, **kw):
        log = open(os.path.join(self.dir, f"{name}.log"), "w")
        p = subprocess.Popen(["ip", "netns", "exec", self.ns, *cmd], stdout=log,
                             stderr=subprocess.STDOUT, **kw)
        self.procs.append(p)
        return p

    def start(self, image):
        rc = os.path.join(self.dir, "vde.rc")
        with open(rc, "w") as f:
            f.write(f"port/create 1\nport/create 2\nport/create 3\nvlan/create {VID}\n"
                    f"port/setvlan 2 {VID}\nvlan/addport {VID} 1\n")
        # vde_switch reads its console on stdin and stops at EOF: keep a pipe open.
        self.spawn("vde_switch", "vde_switch", "-s", self.sock, "-M", self.sock + ".mgmt",
                   "-f", rc, stdin=subprocess.PIPE)
        self.wait_for(lambda: os.path.exists(os.path.join(self.sock, "ctl")), "the VDE switch")
        for port, tap in ((2, "stor0"), (3, "lan0")):
            self.spawn(f"plug-{tap}", "vde_plug2tap", "-s", self.sock, "-p", str(port), tap)
            self.wait_for(lambda: self.run("ip", "link", "show", tap, capture_output=True),
                          f"tap {tap}")
            self.run("ip", "link", "set", tap, "up")
        self.run("ip", "addr", "add", f"{SERVER_IP}/24", "dev", "stor0")
        pidfile = os.path.join(self.dir, "qemu-nbd.pid")
        self.run("qemu-nbd", "--fork", "--pid-file", pidfile, "-f", "raw", "-t", "-b",
                 SERVER_IP, "-p", str(NBD_PORT), "-x", "web", image)
        self.nbd_pid = int(open(pidfile).read().strip())

    def wait_for(self, ready, what, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if ready():
                    return
            except subprocess.CalledProcessError:
                pass
            time.sleep(0.1)
        raise lib.Failure(f"{what} did not come up in {timeout} s")

    def nic_args(self):
        return ["-netdev", f"vde,id=n0,sock={self.sock},port=1", "-device", "e1000,netdev=n0"]

    def stop(self):
        if self.nbd_pid:
            try:
                os.kill(self.nbd_pid, 15)
            except ProcessLookupError:
                pass
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        subprocess.run(["ip", "netns", "del", self.ns], check=False)


def boot(c, lan, vlan_line):
    cfg = os.path.join(c.dir, "hv.cfg")
    with open(cfg, "w") as f:
        f.write(f"[hypervisor]\naddress = {HV_ADDRESS}\n{vlan_line}io_deadline = 60\n\n"
                "[vsi web]\ncpus = 1\nmemory = 4M\nrom = hello.rom\n"
                f"disk = nbd://{SERVER_IP}:{NBD_PORT}/web\n")
    c.qemu("selftest=nbd", modules=[cfg, os.path.join(c.build, "guest", "hello.rom")], cpus=2,
           mem=256, extra=lan.nic_args())
    lib.expect_nic(c, "e1000")


def test_qemu_storage_vlan(c):
    """The hypervisor's NIC on a switch port with VLAN 100 tagged and the
    untagged LAN; the NBD server only on VLAN 100. With storage_vlan = 100
    the disk is reached (ARP and TCP tagged), selftest=nbd writes its
    pattern and the server's file holds exactly it. Without storage_vlan
    the same LAN cannot reach the server: the hypervisor says so."""
    image = os.path.join(c.dir, "web.img")
    with open(image, "wb") as f:
        f.truncate(16 << 20)
    lan = VlanLan(c.dir)
    try:
        lan.start(image)
        boot(c, lan, "")
        c.expect(r"nbd web: connecting failed: ", timeout=90)
        c.expect_absent(r"storage: vsi web: export|storage: on VLAN")
        c.machine.stop()
        c.machine = None
        boot(c, lan, f"storage_vlan = {VID}\n")
        c.expect(rf"storage: on VLAN {VID} of e1000")
        c.expect(r"storage: vsi web: export 'web' is 16 MiB")
        c.expect(r"storage: vsi web: selftest wrote 1024 KiB [^\n]*pattern ok", timeout=180)
        c.expect_absent(r"selftest [^\n]*failed|read back 0x|FATAL|nbd web: connecting failed")
        m = c.console("net", rf"storage VLAN {VID}: in tagged (\d+), untagged \(to the switch\) "
                      r"\d+, other VLAN (\d+), malformed (\d+); out tagged (\d+), not "
                      r"taggable (\d+)")
        tagged_in, other, malformed, tagged_out, bad = (int(x) for x in m.groups())
        c.check(tagged_in > 100 and tagged_out > 100 and not other and not malformed and not bad,
                f"the storage VLAN's counters: {m.group(0)}")
    finally:
        if c.machine:
            c.machine.stop()
        lan.stop()
    with open(image, "rb") as f:
        data = f.read()
    want = lib.pattern(0, 1 << 20)
    c.check(data[:len(want)] == want, "the server's file does not hold the pattern")
    c.check(data[len(want):].count(0) == len(data) - len(want), "bytes written past the pattern")


CASES = [test_qemu_storage_vlan]

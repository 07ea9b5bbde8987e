#!/usr/bin/env python3
"""System tests: boot the real images under Bochs (VT-x) and QEMU+OVMF (UEFI).

Each case builds its image with the command line it needs, boots it through
tools/hvrun.py, reads the serial console, asserts, and stops the emulator
itself. A failure prints the last 50 console lines and where the logs are.

    tests/system/run.py [--build build] [-k NAME] [--list]
"""
import argparse
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import hvrun  # noqa: E402
import netcases  # noqa: E402
import ovmfcases  # noqa: E402
import storagecases  # noqa: E402

BOOT_TIMEOUT = 120  # seconds of wall time for one boot to reach its verdict


class Failure(Exception):
    pass


class Case:
    """Context for one test: builds images, boots, checks the console."""

    def __init__(self, name, build):
        self.name = name
        self.dir = os.path.join(build, "systest", name)
        self.build = build
        self.machine = None
        os.makedirs(self.dir, exist_ok=True)

    def module(self, name, size):
        """A module file of size bytes with a fixed pattern; returns its path."""
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(bytes((i * 7 + 3) & 0xff for i in range(size)))
        return path

    def iso(self, cmdline, modules=()):
        path = os.path.join(self.dir, "hv.iso")
        subprocess.run(["sh", os.path.join(ROOT, "tools/mkiso.sh"), path,
                        os.path.join(self.build, "hv.elf"), cmdline, *modules], check=True)
        return path

    def esp(self, cmdline, modules=()):
        path = os.path.join(self.dir, "esp")
        subprocess.run(["sh", os.path.join(ROOT, "tools/mkesp.sh"), path,
                        os.path.join(self.build, "efi/BOOTX64.EFI"),
                        os.path.join(self.build, "hv.elf"), cmdline, *modules], check=True)
        return path

    def vsi_iso(self, config, roms, cmdline="loglevel=info"):
        """An ISO carrying hv.cfg (the config text) and the named guest ROMs."""
        cfg = os.path.join(self.dir, "hv.cfg")
        with open(cfg, "w") as f:
            f.write(config)
        mods = [cfg] + [os.path.join(self.build, "guest", r) for r in roms]
        return self.iso(cmdline, mods)

    def bochs_vsis(self, config, roms, cmdline="loglevel=info", **kw):
        """Boot Bochs with VSIs and wait for the service console."""
        iso = self.vsi_iso(config, roms, cmdline)
        self.machine = hvrun.boot_bochs(self.dir, iso, **kw)
        self.expect(r"hv: service CPU \d+: console ready")
        return self.machine

    def console(self, command, expect, timeout=60):
        """Type a console command and wait for expect after it; returns the match."""
        start = len(self.machine.text)
        self.machine.write(command + "\r")
        m = self.machine.wait_for(expect, timeout, start)
        if not m:
            raise Failure(f"console command '{command}' never gave /{expect}/")
        return m

    def guest_lines(self, vsi):
        """Lines a VSI printed (its UART), without the [name] prefix."""
        pre = f"[{vsi}] "
        return [l[len(pre):] for l in self.machine.lines() if l.startswith(pre)]

    def count(self, pattern):
        return len(re.findall(pattern, self.text(), re.M))

    def wait_count(self, pattern, n, timeout=BOOT_TIMEOUT):
        """Wait until pattern has matched at least n times on the console."""
        deadline = time.monotonic() + timeout
        while self.count(pattern) < n:
            seen = f"/{pattern}/ seen {self.count(pattern)} times, want {n}"
            if self.machine.exited():
                raise hvrun.EmulatorExited(self.machine.exit_report("while " + seen))
            if time.monotonic() > deadline:
                raise Failure(seen)
            time.sleep(0.2)

    def expect_guest_ok(self, vsi):
        """Every EXPECT line of the VSI says ok, and there is at least one."""
        exp = [l for l in self.guest_lines(vsi) if l.startswith("EXPECT ")]
        self.check(exp, f"VSI {vsi} printed no EXPECT lines")
        bad = [l for l in exp if not l.endswith(": ok")]
        self.check(not bad, f"VSI {vsi}: {bad}")
        return exp

    def bochs(self, cmdline, modules=(), **kw):
        self.machine = hvrun.boot_bochs(self.dir, self.iso(cmdline, modules), **kw)
        return self.machine

    def qemu(self, cmdline, modules=(), **kw):
        self.machine = hvrun.boot_qemu(self.dir, self.esp(cmdline, modules), **kw)
        return self.machine

    def expect(self, pattern, timeout=BOOT_TIMEOUT):
        m = self.machine.wait_for(pattern, timeout)
        if not m:
            raise Failure(f"console never showed /{pattern}/ (waited up to {timeout} s)")
        return m

    def text(self):
        return "\n".join(self.machine.lines())

    def expect_absent(self, pattern):
        m = re.search(pattern, self.text(), re.M)
        if m:
            raise Failure(f"console shows /{pattern}/: {m.group(0)!r}")

    def check(self, cond, what):
        if not cond:
            raise Failure(what)


# --- NBD servers on loopback (QEMU's user network reaches them at 10.0.2.2) ----

def free_port():
    with socket.socket() as sk:
        sk.bind(("127.0.0.1", 0))
        return sk.getsockname()[1]


def wait_port(port, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sk:
            if sk.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.1)
    return False


class NbdServer:
    """One real NBD server on 127.0.0.1 serving a sparse file it creates."""

    def __init__(self, kind, workdir, export, size=16 << 20, filters=()):
        self.kind, self.export, self.workdir, self.filters = kind, export, workdir, filters
        self.port = free_port()
        self.image = os.path.join(workdir, f"{export}.img")
        with open(self.image, "wb") as f:
            f.truncate(size)
        self.start()

    def start(self):
        kind, export, workdir = self.kind, self.export, self.workdir
        log = open(os.path.join(workdir, f"{kind}-{export}.log"), "a")
        self.pidfile = None
        if kind == "qemu-nbd":
            cmd = ["qemu-nbd", "-f", "raw", "-t", "-b", "127.0.0.1", "-p", str(self.port),
                   "-x", export, self.image]
        elif kind == "nbdkit":
            cmd = (["nbdkit", "-f", "-i", "127.0.0.1", "-p", str(self.port)] +
                   [f"--filter={f.split()[0]}" for f in self.filters] + ["file", self.image] +
                   [arg for f in self.filters for arg in f.split()[1:]])
        else:  # nbd-server daemonises; it runs unprivileged with a [generic] port
            conf = os.path.join(workdir, f"nbd-server-{export}.conf")
            self.pidfile = os.path.join(workdir, f"nbd-server-{export}.pid")
            with open(conf, "w") as f:
                f.write(f"[generic]\nport = {self.port}\nlistenaddr = 127.0.0.1\n"
                        f"allowlist = false\n[{export}]\nexportname = {self.image}\n"
                        "flush = true\nfua = true\ntrim = true\n")
            cmd = ["nbd-server", "-C", conf, "-p", self.pidfile]
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        if not wait_port(self.port):
            raise Failure(f"{kind} did not listen on port {self.port}")

    def kill(self):
        """SIGKILL, as a crash: no goodbye to the client."""
        self.proc.kill()
        self.proc.wait()

    def stop(self):
        pid = None
        if self.pidfile and os.path.exists(self.pidfile):
            pid = int(open(self.pidfile).read().strip())
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=5)
        if pid:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def url(self):
        return f"nbd://10.0.2.2:{self.port}/{self.export}"


# The hypervisor's NIC models under QEMU: QEMU device, PCI ID, driver name in the log.
NICS = {
    "e1000": ("e1000", "8086:100e", "e1000"),
    "virtio-net": ("virtio-net-pci", "1af4:1000", "virtio-net"),
    "e1000e": ("e1000e", "8086:10d3", "e1000e"),
}


def nic_args(model, netdev="n0", extra=""):
    """QEMU arguments for one NIC of the model on user networking."""
    return ["-netdev", f"user,id={netdev}", "-device",
            f"{NICS[model][0]},netdev={netdev}{extra}"]


def expect_nic(c, model, bdf=r"[0-9a-f]{2}:[0-9a-f]{2}\.\d"):
    """The driver of the model set up the NIC (at bdf)."""
    _, pci_id, driver = NICS[model]
    c.expect(rf"{driver}: {bdf} {pci_id} MAC ")


def per_nic(fn, models):
    """One case per NIC model: fn(c, model); the e1000 keeps the plain name."""
    cases = []
    for model in models:
        def case(c, model=model):
            return fn(c, model)
        suffix = "" if model == "e1000" else "_" + model.replace("-", "_")
        case.__name__ = fn.__name__ + suffix
        case.__doc__ = f"[{model}] {fn.__doc__}"
        cases.append(case)
    return cases


def pattern(index, size, rnd=0):
    """What selftest=nbd writes in round rnd (kernel/storage.c pattern_word)."""
    mask = (1 << 64) - 1
    return b"".join(struct.pack("<Q", ((o | (index << 56) | (rnd << 48)) * 0x9e3779b97f4a7c15)
                                & mask) for o in range(0, size, 8))


def storage_case(c, server, cmdline, model="e1000", monitor=False):
    """Boot QEMU+OVMF with one VSI whose disk is server, under cmdline, with the NIC model
    (and QEMU's monitor on c.dir/monitor.sock when asked, for set_link)."""
    cfg = os.path.join(c.dir, "hv.cfg")
    with open(cfg, "w") as f:
        f.write(f"[vsi web]\ncpus = 1\nmemory = 4M\nrom = hello.rom\ndisk = {server.url()}\n")
    c.qemu(cmdline, modules=[cfg, os.path.join(c.build, "guest", "hello.rom")], cpus=2,
           mem=256, extra=nic_args(model) + (
               ["-monitor", f"unix:{os.path.join(c.dir, 'monitor.sock')},server=on,wait=off"]
               if monitor else []))
    expect_nic(c, model)
    c.expect(r"storage: vsi web: export 'web' is 16 MiB")


def set_link(c, up, netdev="n0"):
    """Cable in or out: QEMU's set_link on the NIC's network (the monitor of storage_case)."""
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(os.path.join(c.dir, "monitor.sock"))
        s.settimeout(5)
        s.recv(4096)  # the banner and prompt
        s.sendall(f"set_link {netdev} {'on' if up else 'off'}\n".encode())
        time.sleep(0.5)
        s.recv(4096)


def backing_matches(c, server, rnd):
    with open(server.image, "rb") as f:
        data = f.read(1 << 20)
    c.check(data == pattern(0, 1 << 20, rnd),
            f"{server.kind}'s backing file does not hold round {rnd}'s pattern")


def test_qemu_storage_server_killed(c, model="e1000"):
    """The server is killed (SIGKILL) and restarted mid-run, while the NIC's
    link is down for 4 s: the hypervisor's client reconnects once the link is
    back, replays, finishes all 30 rounds, never reads wrong data, and the
    backing file holds the last round's pattern."""
    srv = NbdServer("qemu-nbd", c.dir, "web")
    try:
        storage_case(c, srv, "selftest=nbd-soak", model, monitor=True)
        c.wait_count(r"storage: vsi web: selftest round wrote [^\n]*pattern ok", 3)
        set_link(c, False)
        srv.kill()
        time.sleep(1)
        srv.start()
        time.sleep(3)
        c.check(c.count(r"selftest finished 30 rounds") == 0, "the soak ended with the link down")
        set_link(c, True)
        m = c.expect(r"selftest finished 30 rounds: \d+ requests, (\d+) errors, (\d+) "
                     r"reconnects, (\d+) replays", timeout=240)
        c.check(int(m.group(2)) >= 1, "the client never reconnected")
        c.expect(r"net: tcp [^\n]*(reset|closed|dead)")
        c.expect_absent(r"WRONG DATA|FATAL")
        last = c.text().rsplit("selftest round", 1)[1]
        c.check("pattern ok" in last.splitlines()[0], "the last round did not read back clean")
    finally:
        c.machine and c.machine.stop()
        srv.stop()
    backing_matches(c, srv, 29)


def test_qemu_storage_slow_server(c, model="e1000"):
    """nbdkit's delay filter: slower, nothing lost."""
    srv = NbdServer("nbdkit", c.dir, "web", filters=["delay rdelay=20ms wdelay=20ms"])
    try:
        storage_case(c, srv, "selftest=nbd", model)
        m = c.expect(r"selftest wrote 1024 KiB [^\n]*pattern ok in (\d+) ms", timeout=240)
        c.check(int(m.group(1)) >= 40, f"{m.group(1)} ms: the delay filter did not slow it")
    finally:
        c.machine and c.machine.stop()
        srv.stop()
    backing_matches(c, srv, 0)


def test_qemu_storage_failing_server(c, model="e1000"):
    """nbdkit's error filter (EIO on 10% of requests): the errors reach the
    requests that met them, and no read ever returns wrong data."""
    srv = NbdServer("nbdkit", c.dir, "web", filters=["error error-rate=10% error=EIO"])
    try:
        storage_case(c, srv, "selftest=nbd-soak", model)
        m = c.expect(r"selftest finished 30 rounds: \d+ requests, (\d+) errors", timeout=240)
        c.check(int(m.group(1)) > 0, "no error surfaced at a 10% error rate")
        c.expect(r"selftest round \d+: \d+ failed requests, the other \d+ chunks read back right")
        c.expect_absent(r"WRONG DATA|FATAL")
    finally:
        c.machine and c.machine.stop()
        srv.stop()


# --- shared checks -----------------------------------------------------------

def check_memory(c, ram_mib, modules=()):
    """The printed map is normalised, sums to the printed totals, its usable
    total fits the RAM the emulator was given, and the image and modules are
    taken out of the free memory."""
    text = c.text()
    regions = [(int(a, 16), int(b, 16), t, int(k)) for a, b, t, k in re.findall(
        r"mem: \[0x([0-9a-f]+)-0x([0-9a-f]+)\] (\w+) +(\d+) KiB", text)]
    c.check(regions, "no memory map printed")
    for (a0, b0, _, _), (a1, _, _, _) in zip(regions, regions[1:]):
        c.check(a1 > b0, f"map not sorted/disjoint at 0x{a0:x}-0x{b0:x}, 0x{a1:x}")
    for a, b, t, k in regions:
        c.check((b - a + 1) // 1024 == k, f"region 0x{a:x}-0x{b:x}: size {k} KiB is wrong")
    m = re.search(r"mem: usable (\d+) KiB", text)
    c.check(m, "no memory totals printed")
    usable = int(m.group(1))
    c.check(usable == sum(k for _, _, t, k in regions if t == "usable"),
            f"usable total {usable} KiB is not the sum of the usable regions")
    c.check(0.80 * ram_mib * 1024 <= usable <= ram_mib * 1024,
            f"usable {usable} KiB does not fit {ram_mib} MiB of RAM")
    img = re.search(r"mem: image 0x[0-9a-f]+-0x[0-9a-f]+ \((\d+) KiB\), \d+ modules, (\d+) KiB free",
                    text)
    c.check(img, "no allocator summary printed")
    taken = int(img.group(1))
    for name, size in modules:
        m = re.search(rf"mem: module '{re.escape(name)}' at 0x([0-9a-f]+), (\d+) bytes", text)
        c.check(m, f"module {name} not reported")
        c.check(int(m.group(2)) == size, f"module {name}: {m.group(2)} bytes, want {size}")
        c.check(int(m.group(1), 16) % 4096 == 0, f"module {name} not page-aligned")
        taken += (size + 4095) // 4096 * 4
    c.check(int(img.group(2)) <= usable - taken,
            "free memory does not exclude the hypervisor image and the modules")


def check_all_cpus_up(c, n):
    c.expect(rf"smp: {n} of {n} enabled CPUs online")
    # An AP logs its line after it is counted: on a loaded host it may come later.
    for cpu in range(1, n):
        c.expect(rf"^\[cpu{cpu}\] I smp: CPU {cpu} online, APIC ID \d+$", timeout=30)


# --- the cases ---------------------------------------------------------------

def check_no_host_sound(c):
    """The running emulator sees no display and an ALSA that knows no card, as
    on a machine without one: every boot proves it needs neither."""
    with open(f"/proc/{c.machine.proc.pid}/environ", "rb") as f:
        env = dict(kv.split(b"=", 1) for kv in f.read().split(b"\0") if b"=" in kv)
    c.check(b"DISPLAY" not in env, "the emulator inherited DISPLAY")
    alsa = env.get(b"ALSA_CONFIG_PATH", b"").decode()
    c.check(alsa and os.path.isfile(alsa), f"ALSA_CONFIG_PATH is {alsa!r}, want an empty config")
    with open(alsa) as f:
        c.check(not [l for l in f if l.strip() and not l.startswith("#")],
                f"{alsa} defines sound devices")


def test_bochs_vmx_root(c):
    """Multiboot2 under Bochs, Haswell, 4 CPUs: all up and in VMX root; no host sound card."""
    mod = ("vsi-test.bin", 5000)
    c.bochs("loglevel=debug", modules=[c.module(*mod)], cpus=4, megs=512)
    c.expect(r"hv: (ready|halted)[^\n]*\n")
    check_no_host_sound(c)  # now: during its exec the environment reads empty
    c.expect(r"boot: loader 'GRUB")
    check_all_cpus_up(c, 4)
    feat = c.expect(r"vmx: VMCS revision 0x[0-9a-f]+, features: (.*)$").group(1).split()
    for f in ("ept", "unrestricted-guest", "vpid"):
        c.check(f in feat, f"feature line lacks {f}: {feat}")
    for cpu in range(4):
        c.check(re.search(rf"^\[cpu{cpu}\] I vmx: CPU {cpu} in VMX root operation", c.text(), re.M),
                f"CPU {cpu} did not report VMX root")
    c.expect(r"vmx: 4 of 4 CPUs in VMX root operation")
    c.expect(r"hv: ready: 4 CPUs in VMX root")
    check_memory(c, 512, [mod])
    c.expect_absent(r" [EW] ")


def test_bochs_fault_dump(c):
    """selftest=fault: the dump names vector, CR2, the function, and parks all CPUs."""
    c.bochs("selftest=fault", cpus=2, megs=256)
    c.expect(r"hypervisor halted: [^\n]*\n")
    c.expect(r"hypervisor halted: all 2 CPUs parked")
    c.expect(r"FATAL: #PF page fault in the hypervisor on CPU 0")
    c.expect(r"vector 14, error code 0x2")
    c.expect(r"CR2 0000000000000008")
    c.expect(r"lapic: x2APIC mode")
    c.expect(r"RIP [0-9a-f]{16} <selftest_trigger_fault\+0x[0-9a-f]+>")
    c.expect(r"#0 +[0-9a-f]{16} selftest_trigger_fault\+")
    c.expect(r"#\d +[0-9a-f]{16} kernel_main\+")
    c.expect_absent(r"hv: ready")


def test_bochs_wx_text(c):
    """W^X: a write to the image's text faults (present + write)."""
    c.bochs("selftest=write-text", cpus=1, megs=256)
    c.expect(r"hypervisor halted: [^\n]*\n")
    c.expect(r"FATAL: #PF page fault in the hypervisor on CPU 0")
    c.expect(r"vector 14, error code 0x3\n")
    c.expect(r"RIP [0-9a-f]{16} <selftest_write_text\+0x[0-9a-f]+>")
    c.expect_absent(r"did not fault")


def test_bochs_wx_data(c):
    """W^X: executing from .data faults (present + instruction fetch) at the data address."""
    c.bochs("selftest=exec-data", cpus=1, megs=256)
    c.expect(r"hypervisor halted: [^\n]*\n")
    addr = c.expect(r"selftest: calling into \.data at 0x([0-9a-f]+)").group(1)
    c.expect(r"vector 14, error code 0x11\n")
    c.expect(rf"RIP 0*{addr} <\?>")
    c.expect(rf"CR2 0*{addr} ")
    c.expect(r"#1 +[0-9a-f]{16} kernel_main\+0x[0-9a-f]+ \(return address at RSP\)")
    c.expect_absent(r"did not fault")


def test_bochs_xapic_silent_ap(c):
    """xAPIC (Sandy Bridge has no x2APIC), 3 CPUs, one never answers: it is
    named and left out, the others reach VMX root."""
    c.bochs("selftest=ap-silent:2", cpus=3, megs=256, model="corei7_sandy_bridge_2600k")
    c.expect(r"hv: (ready|halted)[^\n]*\n")
    c.expect(r"lapic: xAPIC mode, registers at 0xfee00000")
    c.expect(r"smp: CPU with APIC ID 2 did not answer INIT-SIPI-SIPI within \d+ ms; left out")
    c.expect(r"smp: CPU 1 online, APIC ID 1")
    c.expect(r"smp: 2 of 3 enabled CPUs online")
    c.expect(r"vmx: 2 of 2 CPUs in VMX root operation")
    c.expect(r"hv: ready: 2 CPUs in VMX root")
    c.expect_absent(r"APIC ID 2\n")


def test_bochs_extable(c):
    """The hypervisor's own XSETBV of a value the CPU refuses is fixed up, not fatal."""
    c.bochs("selftest=extable", cpus=1, megs=128)
    c.expect(r"hv: (ready|halted)[^\n]*\n")
    c.expect(r"selftest: XSETBV XCR0=0 faulted and was fixed up; XCR0=1 went through")
    c.expect(r"hv: ready")
    c.expect_absent(r"FATAL|did not behave")


def test_bochs_no_unrestricted_guest(c):
    """A VMX CPU without unrestricted guest (Lynnfield) gets the named error."""
    c.bochs("loglevel=debug", cpus=1, megs=256, model="corei5_lynnfield_750")
    c.expect(r"hv: (ready|halted)[^\n]*\n")
    c.expect(r"vmx: required VMX feature missing: unrestricted guest")
    c.expect(r"hv: halted: VMX could not be enabled")
    c.expect_absent(r"hv: ready")


def test_bochs_no_ept(c):
    """A VMX CPU without EPT (Penryn) gets the named error."""
    c.bochs("loglevel=debug", cpus=1, megs=256, model="core2_penryn_t9600")
    c.expect(r"hv: (ready|halted)[^\n]*\n")
    c.expect(r"vmx: required VMX feature missing: (secondary|EPT)")
    c.expect_absent(r"hv: ready")


def emulator_must_die(c, boot, own_message):
    """boot() starts an emulator that cannot run: the runner must say so within
    seconds, naming the emulator, its exit status and its own message."""
    t0 = time.monotonic()
    try:
        c.machine = boot()
        c.expect(r"hv: (ready|halted)", timeout=60)
        raise Failure("a broken emulator start went unnoticed")
    except hvrun.EmulatorExited as e:
        report, took = str(e), time.monotonic() - t0
    c.check(took < 10, f"the emulator's death was reported after {took:.1f} s")
    c.check(re.search(r"^(Bochs|QEMU) exited with status [1-9]", report), report)
    c.check(re.search(own_message, report, re.M), f"report lacks /{own_message}/:\n{report}")
    c.machine.stop()
    c.machine = None


def test_runner_emulator_dies(c):
    """Runner: Bochs and QEMU that die at start are reported at once, with their own words."""
    emulator_must_die(c, lambda: c.bochs("loglevel=info", model="no_such_cpu", cpus=1),
                      r"Bochs is exiting with the following message:\n.*cpu directive malformed")
    emulator_must_die(c, lambda: c.qemu("loglevel=info", cpus=1, extra=["-device", "no-such-nic"]),
                      r"'no-such-nic' is not a valid device model name")


def test_qemu_uefi_no_vmx(c):
    """UEFI path under QEMU+OVMF (TCG), 4 CPUs: all up, memory, the no-VMX message."""
    mod = ("guest-rom.bin", 70000)
    c.qemu("loglevel=info", modules=[c.module(*mod)], cpus=4, mem=256)
    c.expect(r"hv: (ready|halted)[^\n]*\n")
    c.expect(r"boot: loader 'uefi'")
    check_all_cpus_up(c, 4)
    c.expect(r"boot: loader 'uefi', command line 'loglevel=info'")
    check_memory(c, 256, [mod])
    c.expect(r"vmx: VT-x is not available: CPUID\.1:ECX\.VMX\[bit 5\] is 0")
    c.expect(r"hv: halted: VMX could not be enabled")
    c.expect_absent(r"FATAL")


def hello_expected(c):
    with open(os.path.join(c.build, "guest", "hello.expected")) as f:
        return f.read().strip()


def check_hello(c, vsi, timeout=BOOT_TIMEOUT):
    c.expect(rf"\[{vsi}\] GUEST hello: done", timeout)
    sums = [l for l in c.guest_lines(vsi) if l.startswith("GUEST hello: checksum")]
    want = hello_expected(c)
    c.check(sums and all(l.split()[-1] == want for l in sums),
            f"VSI {vsi}: checksum lines {sums}, want {want}")
    c.expect_guest_ok(vsi)


def test_bochs_vsi_side_by_side(c):
    """Three VSIs: two hello guests print the right checksum while hostile-msr
    probes MSRs and VMX instructions beside them; then the console stops,
    starts and resets VSIs by name."""
    c.bochs_vsis(VSI_CFG.format(a="hello.rom", b="hello.rom", x="hostile-msr.rom",
                                xname="hostile"),
                 ["hello.rom", "hostile-msr.rom"], cpus=4, megs=512)
    check_hello(c, "web")
    check_hello(c, "db")
    c.expect(r"\[hostile\] GUEST hostile-msr: done")
    c.expect_guest_ok("hostile")
    # XSETBV is hostile-msr's highest exit reason: its entry ends the block.
    m = c.console("list", r"hostile +running[^\n]*\n +exits:((?:[^\n]*\n)*?[^\n]*XSETBV=\d+\n)")
    entries = m.group(1).split()
    c.check("MSR_READ" in m.group(1) and "VMCALL" in m.group(1) and "RDPMC" in m.group(1),
            f"exit counts lack MSR/VMCALL/RDPMC exits: {m.group(1)}")
    bad = [e for e in entries if not re.fullmatch(r"[A-Z_0-9]+=\d+", e)]
    c.check(len(entries) >= 15 and not bad, f"exit counts cut or mangled: {bad} in {entries}")
    c.console("stop db", r"vsi db: stopped, RAM zeroed")
    c.console("list", r"db +stopped")
    c.console("start db", r"vsi db: started")
    c.wait_count(r"^\[db\] GUEST hello: done", 2)
    c.console("reset web", r"vsi web: reset \(1 so far\)")
    c.wait_count(r"^\[web\] GUEST hello: done", 2)
    check_hello(c, "web")
    check_hello(c, "db")
    c.check(c.count(r"^\[web\] EXPECT ram-zero: ok") == 2,
            "web's RAM was not zero again after the reset")
    c.console("stop nosuch", r"no VSI named 'nosuch'")
    c.expect_absent(r"FATAL|faulted")


def test_bochs_vsi_memory_and_ipi_attacks(c):
    """hostile-mem reads and writes beyond its RAM (all ones, writes dropped,
    counted), then jumps there and is stopped with a report naming the
    address; hostile-ipi sends INIT/SIPI/NMI/fixed IPIs outside its VSI, which
    are dropped and counted; hello beside them is intact."""
    c.bochs_vsis(VSI_CFG.format(a="hello.rom", b="hostile-mem.rom", x="hostile-ipi.rom",
                                xname="ipi").replace("[vsi db]", "[vsi mem]"),
                 ["hello.rom", "hostile-mem.rom", "hostile-ipi.rom"], cpus=4, megs=512)
    check_hello(c, "web")
    c.wait_count(r"^\[mem\] EXPECT mem-0x[0-9a-f]+-empty: ok$", 9)
    addr = c.expect(r"\[mem\] GUEST hostile-mem: jumping to 0x([0-9a-f]+)").group(1)
    c.check(int(addr, 16) == 20 * 1024 * 1024, f"jump to 0x{addr}, want RAM end + 4 MiB")
    c.expect(rf"vsi mem: vCPU 0: instruction fetch at guest-physical 0x0*{addr} outside its "
             r"memory: exit EPT_VIOLATION \(48\)")
    c.expect(r"vsi mem: GPA 0x[0-9a-f]+ GLA 0x[0-9a-f]+ RIP 0x[0-9a-f]+")
    c.expect(r"vsi mem: faulted and stopped")
    c.expect(r"\[ipi\] GUEST hostile-ipi: done")
    c.expect_guest_ok("ipi")
    m = c.console("list", r"ipi +running +3 +\d+M +0  (\d+)/(\d+)/(\d+)")
    c.check(int(m.group(3)) > 0, "no IPI was counted as dropped")
    m = c.console("list", r"mem +faulted +\S+ +\d+M +\d+  \d+/\d+/\d+/(\d+) *\r?\n")
    c.check(int(m.group(1)) >= 27, f"{m.group(1)} unclaimed MMIO accesses counted, want 27")
    c.expect_absent(r"mem-[0-9a-fx]+-empty: FAIL|fetch-blocked|FATAL")


def test_bochs_vsi_smp_and_spin(c):
    """An SMP VSI (2 vCPUs) brings up its AP with INIT-SIPI-SIPI; beside it a
    guest spinning with interrupts off is stopped from the console."""
    cfg = """[vsi smp]
cpus = 1,2
memory = 16M
rom = smp.rom

[vsi spin]
cpus = 3
memory = 4M
rom = hostile-spin.rom
"""
    c.bochs_vsis(cfg, ["smp.rom", "hostile-spin.rom"], cpus=4, megs=256)
    c.expect(r"\[smp\] GUEST smp: vcpu 1 apic 1 up")
    c.expect(r"\[smp\] GUEST smp: done")
    exp = c.expect_guest_ok("smp")
    c.check(any("all-vcpus-up" in l for l in exp), "no all-vcpus-up verdict")
    c.expect(r"\[spin\] GUEST hostile-spin: spinning with interrupts off")
    time.sleep(2)
    c.console("stop spin", r"vsi spin: stopped, RAM zeroed")
    c.console("list", r"spin +stopped")
    c.console("list", r"smp +running")
    c.expect_absent(r"did not stop|FATAL")


def test_bochs_vsi_io_flood_and_triple_faults(c):
    """hostile-io floods unclaimed ports (all-ones, counted); a triple fault
    resets the VSI whose policy says reset and stops the one whose policy
    says stop."""
    cfg = """[vsi io]
cpus = 1
memory = 4M
rom = hostile-io.rom

[vsi again]
cpus = 2
memory = 4M
rom = hostile-triple.rom
on_triple_fault = reset

[vsi once]
cpus = 3
memory = 4M
rom = hostile-triple.rom
on_triple_fault = stop
"""
    c.bochs_vsis(cfg, ["hostile-io.rom", "hostile-triple.rom"], cpus=4, megs=256)
    c.wait_count(r"^\[again\] GUEST hostile-triple: start", 3)
    c.expect(r"vsi again: vCPU 0 triple fault at RIP 0x[0-9a-f]+: resetting")
    c.expect(r"vsi once: vCPU 0: triple fault \(on_triple_fault = stop\): exit TRIPLE_FAULT")
    c.expect(r"vsi once: faulted and stopped")
    c.expect(r"\[io\] GUEST hostile-io: done", timeout=300)
    c.expect_guest_ok("io")
    m = c.console("list", r"io +running +1 +4M +0  (\d+)/")
    c.check(int(m.group(1)) >= 100000, f"only {m.group(1)} unclaimed port accesses counted")
    c.console("stop again", r"vsi again: stopped")
    c.check(c.count(r"^\[once\] GUEST hostile-triple: start") == 1, "'once' was restarted")


# What Bochs 2.7 itself does differently from the architecture, with or
# without the hypervisor (docs/vsi-platform.md "Debug registers"): the debug
# guest's verdict for these may be this FAIL, and only this one.
BOCHS_DEBUG_DEVIATIONS = {
    # The #DB held back by MOV SS is lost when INT3/INT1 follows.
    "mov-ss-int3-data-bp": r"FAIL \(1 exceptions, want 2 \(first: vector 3 ",
    "mov-ss-int1-data-bp": r"FAIL \(1 exceptions, want 2 \(first: vector 1 ",
}


def check_debug_guest(c, vsi):
    """The debug guest finished; every verdict is ok or a known Bochs deviation."""
    c.expect(rf"\[{vsi}\] GUEST debug: done")
    exp = [l for l in c.guest_lines(vsi) if l.startswith("EXPECT ")]
    c.check(len(exp) >= 10, f"VSI {vsi}: only {len(exp)} EXPECT lines")
    for line in exp:
        what, verdict = line[len("EXPECT "):].split(": ", 1)
        known = BOCHS_DEBUG_DEVIATIONS.get(what)
        c.check(verdict == "ok" or (known and re.match(known, verdict)),
                f"VSI {vsi}: {line}")


def test_bochs_vsi_nmi_apic_mode(c):
    """Guest NMIs: several arrive, one raised inside the handler arrives after
    its IRET; APIC mode transitions: the illegal ones raise #GP, the legal ones
    work, CPUID follows EN, and a broadcast fixed IPI in x2APIC mode arrives
    once afterwards; string I/O
    (REP with RCX = 0, UART, fw_cfg, long, DF = 1, #PF) and an access
    straddling the end of RAM; finally the fault dump parks every CPU, the
    one whose guest halts inside its NMI handler too."""
    cfg = """[vsi nmi]
cpus = 1
memory = 4M
rom = nmi.rom

[vsi apic]
cpus = 2
memory = 4M
rom = apic-mode.rom

[vsi sio]
cpus = 3
memory = 4M
rom = string-io.rom
"""
    c.bochs_vsis(cfg, ["nmi.rom", "apic-mode.rom", "string-io.rom"],
                 cmdline="loglevel=info selftest=console-fault", cpus=4, megs=256)
    c.expect(r"\[nmi\] GUEST nmi: parking inside its NMI handler")
    exp = c.expect_guest_ok("nmi")
    c.check(len(exp) == 12, f"nmi printed {len(exp)} EXPECT lines, want 12")
    c.expect(r"\[apic\] GUEST apic-mode: done")
    exp = c.expect_guest_ok("apic")
    c.check(len(exp) == 16, f"apic-mode printed {len(exp)} EXPECT lines, want 16")
    c.expect(r"\[sio\] GUEST string-io: done")
    c.expect(r"\[sio\] GUEST string-io: a line by rep outsb")
    exp = c.expect_guest_ok("sio")
    c.check(len(exp) == 9, f"string-io printed {len(exp)} EXPECT lines, want 9")
    c.expect_absent(r"FATAL|faulted")
    # The nmi guest halts inside its NMI handler: the fault dump parks its CPU too.
    c.console("fault", r"hypervisor halted: all 4 CPUs parked")


def test_bochs_vsi_nmi_fallback(c):
    """vnmi=off: the software NMI blocking used where the CPU has no virtual
    NMIs delivers the same NMIs to a guest that returns from its handler to
    code with interrupts on; the fault dump parks the CPU of a guest halted
    inside its NMI handler."""
    cfg = """[vsi nmi]
cpus = 1
memory = 4M
rom = nmi.rom
"""
    c.bochs_vsis(cfg, ["nmi.rom"], cmdline="loglevel=info vnmi=off selftest=console-fault",
                 cpus=2, megs=128)
    c.expect(r"\[nmi\] GUEST nmi: parking inside its NMI handler")
    exp = c.expect_guest_ok("nmi")
    c.check(len(exp) == 12, f"nmi printed {len(exp)} EXPECT lines, want 12")
    c.expect_absent(r"FATAL|faulted")
    c.console("fault", r"hypervisor halted: all 2 CPUs parked")


def test_bochs_vsi_entry_failure(c):
    """selftest=bad-guest-state breaks RFLAGS of the first VSI: the entry
    failure names the SDM rule, that VSI faults, the other runs on. Beside
    them the debug guest single-steps exiting instructions and uses data
    and instruction breakpoints."""
    cfg = """[vsi broken]
cpus = 1
memory = 4M
rom = hello.rom

[vsi fine]
cpus = 2
memory = 4M
rom = hello.rom

[vsi debug]
cpus = 3
memory = 4M
rom = debug.rom
"""
    c.bochs_vsis(cfg, ["hello.rom", "debug.rom"], cmdline="selftest=bad-guest-state", cpus=4,
                 megs=256)
    c.expect(r"vsi broken: vCPU 0: VM entry failed: INVALID_GUEST_STATE")
    c.expect(r"vsi broken: failed check: RFLAGS 0x0: bit 1 must be 1 [^\n]*SDM 26\.3\.1\.4")
    c.expect(r"  RIP 0x000000000000fff0 ")
    c.expect(r"vsi broken: faulted and stopped")
    check_hello(c, "fine")
    check_debug_guest(c, "debug")
    c.expect_absent(r"^\[broken\]")
    c.expect_absent(r"vsi debug: .*(faulted|VM entry failed)")


def test_bochs_vsi_reset_ports(c):
    """Guests reset themselves through port 0xCF9 (0x06) and the keyboard
    controller (0xFE to port 0x64): each comes back at its reset vector again
    and again, the console counts the resets and stops both."""
    cfg = """[vsi cf9]
cpus = 1
memory = 4M
rom = reset-cf9.rom

[vsi kbd]
cpus = 2
memory = 4M
rom = reset-kbd.rom
"""
    c.bochs_vsis(cfg, ["reset-cf9.rom", "reset-kbd.rom"], cpus=3, megs=256)
    for vsi, port in (("cf9", "0xcf9"), ("kbd", "0x64")):
        c.wait_count(rf"^\[{vsi}\] GUEST reset-{vsi}: start ", 3)
        c.expect(rf"\[{vsi}\] GUEST reset-{vsi}: requesting reset through port {port}\n")
        c.expect(rf"vsi {vsi}: reset \(\d+ so far\)")
    for vsi, cpu in (("cf9", 1), ("kbd", 2)):
        m = c.console("list", rf"\n{vsi} +running +{cpu} +4M +(\d+)  ")
        c.check(int(m.group(1)) > 0, f"list shows no resets for {vsi}")
    for vsi in ("cf9", "kbd"):
        c.console(f"stop {vsi}", rf"vsi {vsi}: stopped")
        c.console("list", rf"\n{vsi} +stopped")
    c.expect_absent(r"reset-happened: FAIL|no-unexpected-trap|FATAL|faulted")


def test_qemu_storage_three_servers(c, model="e1000"):
    """UEFI path under QEMU (no VMX: VSIs cannot run, the storage path does):
    three VSI disks on qemu-nbd, nbdkit and nbd-server, reached through the
    hypervisor's own NIC, DHCP, TCP/IP and NBD client; selftest=nbd writes a
    per-VSI pattern, and each server's backing file holds exactly its own."""
    servers = [NbdServer(k, c.dir, e) for k, e in
               (("qemu-nbd", "web"), ("nbdkit", "db"), ("nbd-server", "logs"))]
    try:
        cfg = "[hypervisor]\nnetwork = dhcp\nio_deadline = 60\n"
        for i, srv in enumerate(servers):
            cfg += (f"\n[vsi {srv.export}]\ncpus = {i + 1}\nmemory = 4M\nrom = hello.rom\n"
                    f"disk = {srv.url()}\n")
        path = os.path.join(c.dir, "hv.cfg")
        with open(path, "w") as f:
            f.write(cfg)
        c.qemu("selftest=nbd", modules=[path, os.path.join(c.build, "guest", "hello.rom")],
               cpus=4, mem=256, extra=nic_args(model))
        expect_nic(c, model)
        c.expect(r"storage: network by DHCP")
        c.expect(r"3 VSIs configured, none started: VT-x is not usable")
        for srv in servers:
            c.expect(rf"storage: vsi {srv.export}: export '{srv.export}' is 16 MiB "
                     r"\(16777216 bytes\), flags 0x[0-9a-f]+: writable flush fua")
        for srv in servers:
            c.expect(rf"storage: vsi {srv.export}: selftest wrote 1024 KiB [^\n]*pattern ok",
                     timeout=180)
        c.expect_absent(r"selftest [^\n]*failed|read back 0x|FATAL")
    finally:
        if c.machine:
            c.machine.stop()
        for srv in servers:
            srv.stop()
    for i, srv in enumerate(servers):
        with open(srv.image, "rb") as f:
            data = f.read()
        want = pattern(i, 1 << 20)
        c.check(data[:len(want)] == want,
                f"{srv.kind} backing file: the first MiB is not VSI {i}'s pattern")
        c.check(data[len(want):].count(0) == len(data) - len(want),
                f"{srv.kind} backing file: bytes written past the pattern")


def test_bochs_storage_beside_a_vsi(c):
    """Under Bochs (VT-x on): a VSI runs hello while the service CPU drives its
    disk (e1000 on Bochs' slirp, a static address, qemu-nbd in Bochs' network
    namespace); the self-test pattern lands in the backing file."""
    image = os.path.join(c.dir, "web.img")
    with open(image, "wb") as f:
        f.truncate(4 << 20)
    cfg = """[hypervisor]
address = 10.0.2.15/24
gateway = 10.0.2.2

[vsi web]
cpus = 1
memory = 16M
rom = hello.rom
disk = nbd://10.0.2.2:10809/web
"""
    iso = c.vsi_iso(cfg, ["hello.rom"], cmdline="selftest=nbd")
    server = f"qemu-nbd -f raw -t -b 127.0.0.1 -p 10809 -x web {image} 2>{c.dir}/qemu-nbd.log"
    c.machine = hvrun.boot_bochs(c.dir, iso, cpus=2, megs=256, nic=True, inside=server)
    c.expect(r"storage: network 10\.0\.2\.15/24 via 10\.0\.2\.2")
    c.expect(r"storage: vsi web: export 'web' is 4 MiB")
    check_hello(c, "web")
    c.expect(r"storage: vsi web: selftest wrote 1024 KiB [^\n]*pattern ok", timeout=300)
    c.machine.stop()
    with open(image, "rb") as f:
        data = f.read()
    c.check(data[:1 << 20] == pattern(0, 1 << 20), "the backing file does not hold the pattern")


BAD_EXPORTS_CFG = """[hypervisor]
address = 10.0.2.15/24
gateway = 10.0.2.2

[vsi web]
cpus = 1
memory = 16M
rom = hello.rom
disk = nbd://10.0.2.2:10809/web

[vsi tiny]
cpus = 2
memory = 16M
rom = hello.rom
disk = nbd://10.0.2.2:10810/tiny

[vsi empty]
cpus = 3
memory = 16M
rom = hello.rom
disk = nbd://10.0.2.2:10811/empty

[vsi narrow]
cpus = 4
memory = 16M
rom = hello.rom
disk = nbd://10.0.2.2:10812/narrow
"""


def test_bochs_storage_bad_exports(c):
    """A storage server is outside the trust boundary: an export of 100 bytes
    (nbdkit memory 100), an empty one and one whose maximum block size is 2048
    (nbdkit's blocksize-policy filter) each cost their own VSI its disk, with a
    message naming the export and why, while the healthy VSI beside them gets
    its disk, runs hello and keeps running."""
    image = os.path.join(c.dir, "web.img")
    with open(image, "wb") as f:
        f.truncate(4 << 20)
    servers = (f"qemu-nbd -f raw -t -b 127.0.0.1 -p 10809 -x web {image} 2>{c.dir}/qemu-nbd.log & "
               f"nbdkit -f -i 127.0.0.1 -p 10810 memory 100 2>{c.dir}/tiny.log & "
               f"nbdkit -f -i 127.0.0.1 -p 10811 memory 0 2>{c.dir}/empty.log & "
               f"nbdkit -f -i 127.0.0.1 -p 10812 --filter=blocksize-policy memory 1M "
               f"blocksize-preferred=2048 blocksize-maximum=2048 2>{c.dir}/narrow.log")
    iso = c.vsi_iso(BAD_EXPORTS_CFG, ["hello.rom"])
    c.machine = hvrun.boot_bochs(c.dir, iso, cpus=5, megs=512, nic=True, inside=servers)
    c.expect(r"vsi web: disk 8192 sectors at PCI 00:01\.0", timeout=300)
    c.expect(r"vsi tiny: export 'tiny' refused: it is smaller than one 512-byte sector "
             r"\(100 bytes", timeout=300)
    c.expect(r"vsi empty: export 'empty' refused: it is empty", timeout=300)
    c.expect(r"vsi narrow: export 'narrow' refused: its maximum block size is below "
             r"the 4096 bytes[^\n]*block sizes 1\.\.2048", timeout=300)
    for name in ("tiny", "empty", "narrow"):
        c.expect(rf"vsi {name}: not started: its export was refused", timeout=60)
    check_hello(c, "web")
    c.console("start tiny", r"vsi tiny: not started: its export was refused")
    c.console("list", r"\nweb +running")
    c.expect_absent(r"FATAL|faulted and stopped|vsi (tiny|empty|narrow): started")


def test_bochs_config_errors(c):
    """A bad configuration is reported with file, line and fix; nothing starts."""
    cfg = """[hypervisor]
service_cpu = 0

[vsi web]
cpus = 0
memory = 3M
rom = hello.rom

[vsi web]
cpus = 1
memroy = 16M
rom = nosuch.rom
"""
    c.bochs_vsis(cfg, ["hello.rom"], cpus=2, megs=256)
    c.expect(r"hv.cfg:5: [^\n]*CPU 0 is the service CPU")
    c.expect(r"hv.cfg:6: [^\n]*2 MiB")
    c.expect(r"hv.cfg:9: [^\n]*(duplicate|already)")
    c.expect(r"hv.cfg:11: [^\n]*did you mean 'memory'")
    c.expect(r"hv.cfg:12: [^\n]*nosuch.rom")
    c.expect(r"config: hv.cfg rejected \(\d+ problems\): no VSI started")
    c.expect(r"hv: ready: 2 CPUs in VMX root, 0 VSIs")
    c.console("list", r"no VSIs")
    c.expect_absent(r"vsi web: started|\[web\]")


def check_nic(c, mac, model="e1000"):
    """The NIC self-test's lines: the PCI summary, the NIC with its MAC, link
    up, and the gateway's ARP reply, all before the boot's final verdict."""
    qemu_dev, pci_id, driver = NICS[model]
    n = int(c.expect(r"pci: (\d+) functions on bus 0\n").group(1))
    c.check(n >= 2, f"only {n} PCI functions found")
    c.expect(rf"{driver}: [0-9a-f]{{2}}:[0-9a-f]{{2}}\.\d {pci_id} MAC {mac}, 256 RX / 256 TX")
    c.expect(rf"nic: {driver} link up after \d+ ms")
    c.expect(r"nic: ARP reply from 10\.0\.2\.2 at [0-9a-f]{2}(:[0-9a-f]{2}){5} ")
    text = c.text()
    c.check(text.index("nic: ARP reply") < re.search(r"hv: (ready|halted)", text).start(),
            "the self-test's output came after the boot's verdict")
    c.expect_absent(r"nic: selftest failed|FATAL")


def test_qemu_uefi_nic(c, model="e1000"):
    """UEFI path under QEMU+OVMF with the NIC on user networking: PCI
    enumeration finds it, the driver reads its MAC, the link comes up and the
    slirp gateway answers an ARP request built by hand, before the no-VMX halt."""
    c.qemu("selftest=nic", cpus=1, mem=256, extra=nic_args(model))
    c.expect(r"hv: (ready|halted)[^\n]*\n")
    check_nic(c, "52:54:00:12:34:56", model)
    c.expect(r"hv: halted: VMX could not be enabled")


def storage_nic_case(c, first, second, select):
    """Two NICs of different models; the first one's network cannot reach the
    host, so storage works only if it runs on the second, which the
    configuration names by select ("bdf" or "mac")."""
    srv = NbdServer("qemu-nbd", c.dir, "web")
    mac = "52:54:00:12:34:99"
    name = "00:04.0" if select == "bdf" else mac
    try:
        cfg = os.path.join(c.dir, "hv.cfg")
        with open(cfg, "w") as f:
            f.write(f"[hypervisor]\nstorage_nic = {name}\n\n[vsi web]\ncpus = 1\n"
                    f"memory = 4M\nrom = hello.rom\ndisk = {srv.url()}\n")
        c.qemu("selftest=nbd", modules=[cfg, os.path.join(c.build, "guest", "hello.rom")],
               cpus=2, mem=256,
               extra=["-netdev", "user,id=n0,restrict=on", "-device",
                      f"{NICS[first][0]},netdev=n0,addr=0x3,mac=52:54:00:12:34:57",
                      "-netdev", "user,id=n1", "-device",
                      f"{NICS[second][0]},netdev=n1,addr=0x4,mac={mac}"])
        c.expect(rf"net: NIC for storage: {NICS[second][2]} at 00:04\.0, MAC {mac} "
                 rf"\(storage_nic = {name}, line 2\)")
        c.expect(r"storage: vsi web: selftest wrote 1024 KiB [^\n]*pattern ok", timeout=180)
        c.expect_absent(r"FATAL")
    finally:
        c.machine and c.machine.stop()
        srv.stop()
    backing_matches(c, srv, 0)


def test_qemu_storage_nic_by_address(c):
    """An e1000 (its network cut off from the host) and a virtio-net:
    storage_nic = 00:04.0 puts the disk on the virtio-net, byte for byte."""
    storage_nic_case(c, "e1000", "virtio-net", "bdf")


def test_qemu_storage_nic_by_mac(c):
    """A virtio-net (its network cut off from the host) and an e1000e:
    storage_nic = MAC sets the virtio-net up, sees another MAC, lets it go,
    and runs the disk on the e1000e."""
    storage_nic_case(c, "virtio-net", "e1000e", "mac")


def test_qemu_virtio_net_legacy_refused(c):
    """A legacy-only virtio-net (disable-modern=on) is refused by name, without
    a hang or a fault, and the e1000 behind it becomes the hypervisor's NIC."""
    c.qemu("selftest=nic", cpus=1, mem=256,
           extra=["-netdev", "user,id=n0", "-device",
                  "virtio-net-pci,netdev=n0,disable-modern=on,addr=0x3",
                  "-netdev", "user,id=n1", "-device", "e1000,netdev=n1,addr=0x4,"
                  "mac=52:54:00:12:34:57"])
    c.expect(r"virtio-net: 00:03\.0 1af4:1000 refused: no usable virtio 1\.x [^\n]*legacy-only")
    c.expect(r"hv: (ready|halted)[^\n]*\n")
    check_nic(c, "52:54:00:12:34:57")


def test_qemu_no_supported_nic(c):
    """A machine whose only NICs are models we do not drive (an RTL8139 and an
    82544GC): one message names each network controller (vendor:device, BDF),
    the VSI's disk stays offline, and the boot carries on to its verdict."""
    cfg = os.path.join(c.dir, "hv.cfg")
    with open(cfg, "w") as f:
        f.write("[vsi web]\ncpus = 1\nmemory = 4M\nrom = hello.rom\n"
                "disk = nbd://10.0.2.2:10809/web\n")
    c.qemu("selftest=nbd", modules=[cfg, os.path.join(c.build, "guest", "hello.rom")], cpus=2,
           mem=256, extra=["-netdev", "user,id=n0", "-device", "rtl8139,netdev=n0,addr=0x3",
                           "-netdev", "user,id=n1", "-device", "e1000-82544gc,netdev=n1,addr=0x4"])
    c.expect(r"net: no NIC we drive among \d+ PCI functions; network controllers found: "
             r"10ec:8139 at 00:03\.0, 8086:100c at 00:04\.0 \(supported: ")
    c.expect(r"storage: VSIs have disks but no supported NIC was found")
    c.expect(r"hv: (ready|halted)[^\n]*\n")
    c.check(c.count(r"net: no NIC we drive") == 1, "the missing NIC was reported more than once")
    c.expect_absent(r"FATAL|storage: vsi web: export")


def test_bochs_nic(c):
    """Bochs (1 CPU) with its e1000 on its own slirp: the same self-test, then
    the boot goes on into VMX root."""
    c.bochs("selftest=nic", cpus=1, megs=256, nic=True)
    c.expect(r"hv: (ready|halted)[^\n]*\n")
    check_nic(c, "52:54:00:12:34:56")
    c.expect(r"hv: ready: 1 CPUs in VMX root")


VSI_CFG = """# three VSIs on CPUs 1-3; CPU 0 serves
[hypervisor]
service_cpu = 0

[vsi web]
cpus = 1
memory = 16M
rom = {a}

[vsi db]
cpus = 2
memory = 16M
rom = {b}

[vsi {xname}]
cpus = 3
memory = 8M
rom = {x}
"""


def guest_disk(c, name, mode="pattern", kind="good", append=None):
    """A guest disk from tools/mkdisk.py (Debian's stock kernel, our initramfs);
    append: more words for the kernel command line (hvtest.* steps)."""
    path = os.path.join(c.dir, f"{name}.img")
    extra = ["--append", append] if append else []
    subprocess.run([sys.executable, os.path.join(ROOT, "tools/mkdisk.py"), path, "--name", name,
                    "--mode", mode, "--kind", kind] + extra, check=True, stdout=subprocess.DEVNULL)
    return path


def check_disk(c, image, name, want_ok=True, part=2, sectors=8192):
    """tools/check-disk.py on the server's file: the data partition holds NAME's pattern
    of `sectors` sectors (hvtest.sectors)."""
    r = subprocess.run([sys.executable, os.path.join(ROOT, "tools/check-disk.py"), image, name,
                        "--part", str(part), "--sectors", str(sectors)],
                       capture_output=True, text=True)
    c.check((r.returncode == 0) == want_ok,
            f"check-disk {os.path.basename(image)} {name}: exit {r.returncode}, want "
            f"{'0' if want_ok else 'non-zero'}: {r.stdout.strip()} {r.stderr.strip()}")


LINUX_CFG = """[hypervisor]
address = 10.0.2.15/24
gateway = 10.0.2.2

[vsi alpha]
cpus = 1
memory = {mem}
rom = firmware.rom
disk = nbd://10.0.2.2:10809/alpha

[vsi beta]
cpus = 2, 3
memory = {mem}
rom = firmware.rom
disk = nbd://10.0.2.2:10810/beta

[vsi evil]
cpus = 4
memory = 16M
rom = hostile-virtio.rom
disk = nbd://10.0.2.2:10811/evil
"""


def test_bochs_linux_two_vsis(c):
    """Bochs, 5 CPUs: two VSIs (one with 2 vCPUs) boot Debian's stock kernel
    through the firmware (GPT, FAT, BLS, vmlinux by PVH) from their own NBD
    exports (qemu-nbd and nbdkit), write their pattern to the data
    partition, sync and power off; each export then holds exactly its own
    VSI's data. Beside them hostile-virtio attacks its own virtio-blk device
    with bad descriptors and broken queues: every attack gets its error, and
    the Linux guests finish unharmed."""
    a, b = guest_disk(c, "alpha"), guest_disk(c, "beta")
    evil = os.path.join(c.dir, "evil.img")
    with open(evil, "wb") as f:
        f.truncate(4 << 20)
    subprocess.run(["sgdisk", "-o", "-n", "1:2048:+1M", "-t", "1:8300", evil], check=True,
                   stdout=subprocess.DEVNULL)
    servers = (f"qemu-nbd -f raw -t -b 127.0.0.1 -p 10809 -x alpha {a} 2>{c.dir}/qemu-nbd.log & "
               f"nbdkit -f -i 127.0.0.1 -p 10810 -e beta file {b} 2>{c.dir}/nbdkit.log & "
               f"qemu-nbd -f raw -t -b 127.0.0.1 -p 10811 -x evil {evil} 2>{c.dir}/evil.log")
    iso = c.vsi_iso(LINUX_CFG.format(mem="256M"), ["firmware.rom", "hostile-virtio.rom"])
    c.machine = hvrun.boot_bochs(c.dir, iso, cpus=5, megs=1024, nic=True, inside=servers)
    for name in ("alpha", "beta"):
        c.expect(rf"vsi {name}: disk \d+ sectors at PCI 00:01\.0", timeout=300)
    c.expect(r"\[evil\] GUEST hostile-virtio: done", timeout=600)
    exp = c.expect_guest_ok("evil")
    c.check(len(exp) >= 70, f"hostile-virtio printed {len(exp)} EXPECT lines, want 72")
    for name in ("alpha", "beta"):
        c.expect(rf"\[{name}\] .*hvtest: done", timeout=LINUX_TIMEOUT)
        c.expect(rf"vsi {name}: powered off by the guest \(ACPI S5\)", timeout=120)
    c.expect(r"\[beta\] .*smp: Brought up 1 node, 2 CPUs")
    c.expect_absent(r"hvtest: FAIL|Kernel panic|faulted and stopped|soft lockup")
    c.machine.stop()
    check_disk(c, a, "alpha")
    check_disk(c, b, "beta")
    check_disk(c, a, "beta", want_ok=False)
    check_disk(c, b, "alpha", want_ok=False)


LINUX_TIMEOUT = 1500  # seconds of wall time for Linux guests to finish under Bochs


CASES = [test_bochs_vmx_root, test_bochs_fault_dump, test_bochs_wx_text, test_bochs_wx_data,
         test_bochs_xapic_silent_ap, test_bochs_extable, test_bochs_no_unrestricted_guest, test_bochs_no_ept,
         test_runner_emulator_dies, test_qemu_uefi_no_vmx, test_bochs_vsi_side_by_side,
         test_bochs_vsi_memory_and_ipi_attacks, test_bochs_vsi_smp_and_spin,
         test_bochs_vsi_io_flood_and_triple_faults, test_bochs_vsi_nmi_apic_mode,
         test_bochs_vsi_nmi_fallback,
         test_bochs_vsi_entry_failure,
         test_bochs_vsi_reset_ports, test_bochs_config_errors,
         *per_nic(test_qemu_storage_three_servers, NICS), test_bochs_storage_beside_a_vsi,
         test_bochs_storage_bad_exports,
         *per_nic(test_qemu_storage_server_killed, NICS),
         *per_nic(test_qemu_storage_slow_server, NICS),
         *per_nic(test_qemu_storage_failing_server, NICS),
         *per_nic(test_qemu_uefi_nic, NICS), test_qemu_virtio_net_legacy_refused,
         test_qemu_no_supported_nic, test_qemu_storage_nic_by_address,
         test_qemu_storage_nic_by_mac, test_bochs_nic, test_bochs_linux_two_vsis,
         netcases.test_bochs_vsi_networks, *ovmfcases.CASES,
         *storagecases.CASES]


def run_case(fn, build):
    name = fn.__name__[len("test_"):]
    c = Case(name, build)
    t0 = time.monotonic()
    try:
        fn(c)
        ok, why = True, ""
    except (Failure, hvrun.EmulatorExited) as e:
        ok, why = False, str(e)
    except subprocess.CalledProcessError as e:
        ok, why = False, f"building the image failed: {e}"
    finally:
        if c.machine:
            c.machine.stop()
    dt = time.monotonic() - t0
    print(f"{'PASS' if ok else 'FAIL'} {name} ({dt:.1f} s)", flush=True)
    if not ok:
        print("  " + why.replace("\n", "\n  "))
        lines = c.machine.lines()[-50:] if c.machine else []
        print(f"  last {len(lines)} console lines:")
        for line in lines:
            print("  | " + line)
        print(f"  logs: {c.dir} (serial.log, bochs.log, emulator.out)")
    return ok


def main():
    netcases.lib = sys.modules[__name__]
    ovmfcases.lib = sys.modules[__name__]
    storagecases.lib = sys.modules[__name__]
    ap = argparse.ArgumentParser(description="Boot the real images and check them.")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("-k", dest="pattern", help="run only cases whose name contains this")
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args()
    cases = [f for f in CASES if not args.pattern or args.pattern in f.__name__]
    if args.list:
        for f in cases:
            print(f.__name__[5:], "-", f.__doc__)
        return 0
    if not cases:
        print("no system test matches", file=sys.stderr)
        return 1
    results = [run_case(f, os.path.abspath(args.build)) for f in cases]
    passed = sum(results)
    print(f"system: {passed} passed, {len(results) - passed} failed")
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Boot the hypervisor under an emulator and connect its serial console.

    hvrun.py bochs --iso build/hv.iso [--cpus 4] [--model corei7_haswell_4770]
    hvrun.py qemu  --esp build/esp   [--cpus 4] [--mem 256] [--kvm]
    hvrun.py auto  --iso ISO --esp DIR   (QEMU+KVM when the host offers VMX, else Bochs)
    ... --nbd web=build/disks/demo-web.img@10809 --nbd db=build/disks/demo-db.img@10810

--nbd serves a disk image as an NBD export with qemu-nbd, on loopback only,
for the hypervisor's own NBD client: inside Bochs' private network namespace
(its slirp network reaches it at 10.0.2.2), or on the host's loopback for
QEMU, whose user network reaches it at 10.0.2.2 too. The machine gets a NIC
on that network: Bochs' e1000, or under QEMU the --nic model (virtio-net by
default, what nested QEMU/KVM and clouds offer; e1000 or e1000e on request).

Interactive use (make run): the console is on the terminal; Ctrl-C stops the
emulator. The system tests import this module and drive Machine directly.

The console is a pseudo-terminal the emulator opens as its serial port, so no
socket is involved. Bochs' display (RFB/VNC) listens on TCP: Bochs runs in a
private network namespace made for it, so that listener is reachable by no
one.

Host-facing devices: a run must not depend on what the host happens to have
(a sound card, a display, a joystick, a printer port, a terminal). Every
device that faces the host is named in the configuration written here, and
every one the run does not need is off or a dummy:
  Bochs  display rfb (in the private namespace; no X needed), sound drivers
         dummy (Bochs 2.7 loads its ALSA driver even with the speaker off and
         aborts in its mixer thread on a host without a card), the speaker,
         gameport (joystick) and parallel-port plugins unloaded, no mouse,
         COM1 on the console pty, the e1000 (when asked for) on slirp.
  QEMU   -nodefaults (no VGA, parallel port, floppy, CD-ROM, default NIC or
         monitor), -display none, no audio device, COM1 on the console pty.
Every emulator also runs in emulator_env(): no DISPLAY or sound server
variables, and ALSA pointed at an empty configuration that knows no card, so
any boot that still reached for the host's sound would fail here first.

When the emulator exits before the console shows what a caller waits for,
wait_for() raises EmulatorExited at once, with the exit status or signal and
the last lines of the emulator's own output (emulator.out, bochs.log).
"""
import argparse
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import termios
import threading
import time
import tty

OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"
BOCHS_BIOS = "/usr/share/bochs/BIOS-bochs-latest"
BOCHS_VGA = "/usr/share/vgabios/vgabios.bin"


# Environment variables through which an emulator could reach the host's
# display or sound; emulator_env() removes them.
HOST_DEVICE_VARS = ("DISPLAY", "WAYLAND_DISPLAY", "XAUTHORITY", "PULSE_SERVER",
                    "PULSE_SINK", "AUDIODEV", "SDL_AUDIODRIVER", "SDL_VIDEODRIVER",
                    "QEMU_AUDIO_DRV")


def emulator_env(workdir):
    """The environment an emulator runs in: the caller's, less the display and
    sound variables, with ALSA configured to know no card at all."""
    env = {k: v for k, v in os.environ.items() if k not in HOST_DEVICE_VARS}
    alsa = os.path.join(workdir, "alsa-no-cards.conf")
    with open(alsa, "w") as f:
        f.write("# no sound cards: emulator runs must not need one (tools/hvrun.py)\n")
    env["ALSA_CONFIG_PATH"] = alsa
    return env


class EmulatorExited(Exception):
    """The emulator ended before the console showed what was awaited."""


def tail(path, n):
    """The last n lines of a text file that are not Bochs' info chatter
    ("00000000000i[...] ..."), or [] when it does not exist."""
    try:
        with open(path, errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    return [l for l in lines if not re.match(r"\d+i\[", l)][-n:]


def host_has_vmx():
    """True when KVM can run our image: /dev/kvm usable and the CPU flag vmx."""
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return "vmx" in line.split()
    except OSError:
        pass
    return False


HV_ADDRESS = "10.0.2.15"  # the demo's static address (guest/demo/hv.cfg)


def netns_prefix():
    """A command prefix running the emulator in a new, empty network namespace."""
    if not shutil.which("unshare"):
        return None
    for prefix in (["unshare", "--net", "--"],
                   ["unshare", "--user", "--map-root-user", "--net", "--"]):
        if subprocess.run(prefix + ["true"], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode == 0:
            return prefix
    return None


class Machine:
    """One emulator run with its console on a pty; output kept line by line."""

    def __init__(self, workdir, echo=False):
        self.workdir = workdir
        self.echo = echo
        self.proc = None
        self.master = None
        self.slave = None
        self.text = ""
        self.cond = threading.Condition()
        self.reader = None
        self.serial_log = open(os.path.join(workdir, "serial.log"), "w")

    # --- emulator command lines -------------------------------------------
    def bochs_cmd(self, iso, cpus, model, megs, ips, slave, nic=False, inside=None, slirp=()):
        """inside: a shell command started in Bochs' network namespace first,
        e.g. an NBD server its slirp network reaches at 10.0.2.2. slirp:
        lines of Bochs' slirp configuration (e.g. "hostfwd = tcp::8080-10.0.2.15:80",
        "dhcpstart = 10.0.2.50")."""
        rc = os.path.join(self.workdir, "bochsrc")
        with open(rc, "w") as f:
            f.write(f"""megs: {megs}
romimage: file={BOCHS_BIOS}, options=fastboot
vgaromimage: file={BOCHS_VGA}
display_library: rfb, options="timeout=0"
ata0-master: type=cdrom, path={os.path.abspath(iso)}, status=inserted
boot: cdrom
cpu: model={model}, count={cpus}, ips={ips}, reset_on_triple_fault=0
clock: sync=none, time0=local
com1: enabled=1, mode=term, dev={slave}
plugin_ctrl: speaker=0, gameport=0, parallel=0
sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy
mouse: enabled=0
log: {os.path.join(self.workdir, 'bochs.log')}
""")
            if nic:  # an 82540EM on Bochs' own user-mode network (slirp, 10.0.2.0/24)
                script = ""
                if slirp:
                    conf = os.path.join(self.workdir, "slirp.conf")
                    with open(conf, "w") as sc:
                        # Bochs requires this first line (docs/examples/slirp.conf)
                        sc.write("# slirp config\n" + "".join(line + "\n" for line in slirp))
                    script = f", script={conf}"
                f.write(f"e1000: enabled=1, mac=52:54:00:12:34:56, ethmod=slirp{script}\n")
        cont = os.path.join(self.workdir, "bochs.cont")
        with open(cont, "w") as f:
            f.write("c\n")  # this Bochs build has its debugger on: continue
        prefix = netns_prefix()
        if prefix is None:
            print("hvrun: warning: cannot make a network namespace; Bochs' VNC "
                  "display will listen on port 5900", file=sys.stderr)
            prefix = []
        bochs = ["bochs-bin", "-q", "-f", rc, "-rc", cont]
        if inside:
            if not prefix:
                raise RuntimeError("a command inside Bochs' namespace needs unshare")
            # slirp's 10.0.2.2 is this namespace's loopback: bring it up first
            return prefix + ["sh", "-c", f"ip link set lo up && {{ {inside} & }} && "
                             f"exec {' '.join(bochs)}"]
        return prefix + bochs

    def qemu_cmd(self, esp, cpus, mem, kvm, slave, extra):
        vars_copy = os.path.join(self.workdir, "OVMF_VARS.fd")
        shutil.copyfile(OVMF_VARS, vars_copy)
        cmd = ["qemu-system-x86_64", "-machine", "q35", "-smp", str(cpus),
               "-m", str(mem), "-nodefaults", "-display", "none", "-monitor", "none",
               "-no-reboot", "-serial", slave,
               "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
               "-drive", f"if=pflash,format=raw,readonly=on,file={OVMF_CODE}",
               "-drive", f"if=pflash,format=raw,file={vars_copy}",
               "-drive", f"format=raw,file=fat:rw:{os.path.abspath(esp)}",
               "-nic", "none"]
        cmd += ["-enable-kvm", "-cpu", "host,+vmx"] if kvm else ["-cpu", "max"]
        return cmd + list(extra)

    # --- running -----------------------------------------------------------
    def start(self, cmd, name):
        """Start cmd (the emulator called name in reports) on the console pty."""
        # The slave stays open here too: with no slave open, reads on the
        # master fail (EIO) until the emulator opens its end.
        self.master, self.slave = self._pty
        with open(os.path.join(self.workdir, "command"), "w") as f:
            f.write(" ".join(cmd) + "\n")
        self.name = name
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL,
            stdout=open(os.path.join(self.workdir, "emulator.out"), "w"),
            stderr=subprocess.STDOUT, start_new_session=True, cwd=self.workdir,
            env=emulator_env(self.workdir))
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def open_pty(self):
        """Create the console pty; returns the slave's path for the emulator."""
        master, slave = pty.openpty()
        tty.setraw(slave)
        self._pty = (master, slave)
        return os.ttyname(slave)

    def _read(self):
        while True:
            try:
                r, _, _ = select.select([self.master], [], [], 0.2)
                if not r:
                    if self.proc.poll() is not None:
                        break
                    continue
                data = os.read(self.master, 4096)
            except OSError:
                break
            if not data:
                break
            s = data.decode("utf-8", "replace").replace("\r", "")
            self.serial_log.write(s)
            self.serial_log.flush()
            if self.echo:
                sys.stdout.write(s)
                sys.stdout.flush()
            with self.cond:
                self.text += s
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def write(self, s):
        os.write(self.master, s.encode() if isinstance(s, str) else s)

    def wait_for(self, pattern, timeout, start=0):
        """Wait until regex pattern matches the console output after offset
        start; returns the match, or None on timeout. Raises EmulatorExited
        as soon as the emulator has ended (and its output is read) without it."""
        rx = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                m = rx.search(self.text, start)
                if m:
                    return m
                if self.exited():
                    raise EmulatorExited(self.exit_report(f"before the console showed /{pattern}/"))
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(min(left, 0.5))

    def exited(self):
        """True once the emulator has ended and the console reader drained it."""
        return self.proc.poll() is not None and not self.reader.is_alive()

    def exit_report(self, when):
        """Why the emulator is gone: its status or signal, when, and the last
        lines of its own output and (for Bochs) its log."""
        rc = self.proc.poll()
        if rc is not None and rc < 0:
            try:
                how = f"was killed by {signal.Signals(-rc).name}"
            except ValueError:
                how = f"was killed by signal {-rc}"
        else:
            how = f"exited with status {rc}"
        lines = [f"{self.name} {how} {time.monotonic() - self.started:.1f} s after start, {when}"]
        for log in ("emulator.out", "bochs.log"):
            last = tail(os.path.join(self.workdir, log), 12)
            if last:
                lines.append(f"last lines of {log}:")
                lines += ["  " + l for l in last]
        return "\n".join(lines)

    def lines(self):
        with self.cond:
            return self.text.splitlines()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=3)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait()
        if self.reader:
            self.reader.join(timeout=2)
        for fd in (self.master, self.slave):
            if fd is not None:
                os.close(fd)
        self.master = self.slave = None
        self.serial_log.close()


def boot_bochs(workdir, iso, cpus=4, model="corei7_haswell_4770", megs=512,
               ips=50000000, echo=False, nic=False, inside=None, slirp=()):
    m = Machine(workdir, echo)
    slave = m.open_pty()
    m.start(m.bochs_cmd(iso, cpus, model, megs, ips, slave, nic, inside, slirp), "Bochs")
    return m


def boot_qemu(workdir, esp, cpus=4, mem=256, kvm=False, extra=(), echo=False):
    m = Machine(workdir, echo)
    slave = m.open_pty()
    m.start(m.qemu_cmd(esp, cpus, mem, kvm, slave, extra), "QEMU")
    return m


def interactive(m):
    """Bridge the terminal and the console until the emulator exits or Ctrl-C.
    Returns 0 after Ctrl-C; 1, with the emulator's report, when it ended itself."""
    status = 0
    stdin_tty = sys.stdin.isatty()
    saved = termios.tcgetattr(sys.stdin) if stdin_tty else None
    try:
        if stdin_tty:
            tty.setcbreak(sys.stdin)  # keys go through, Ctrl-C stays a signal
        while m.proc.poll() is None:
            if stdin_tty:
                r, _, _ = select.select([sys.stdin], [], [], 0.2)
                if r:
                    m.write(os.read(sys.stdin.fileno(), 256))
            else:
                time.sleep(0.2)
        m.reader.join(timeout=2)
        print("\nhvrun: " + m.exit_report("by itself"), file=sys.stderr)
        status = 1
    except KeyboardInterrupt:
        print("\nhvrun: stopping the emulator", file=sys.stderr)
    finally:
        if saved:
            termios.tcsetattr(sys.stdin, termios.TCSADRAIN, saved)
        m.stop()
    return status


def nbd_server_cmd(name, image, port, log):
    """qemu-nbd serving image as export name on 127.0.0.1:port until killed."""
    return (f"qemu-nbd -f raw -t -b 127.0.0.1 -p {int(port)} -x {name} "
            f"{os.path.abspath(image)} 2>>{log}")


def parse_nbd(spec):
    """NAME=IMAGE@PORT -> (name, image, port)."""
    m = re.fullmatch(r"([A-Za-z0-9_.-]+)=(.+)@(\d+)", spec)
    if not m:
        raise argparse.ArgumentTypeError(f"--nbd {spec}: want NAME=IMAGE@PORT")
    if not os.path.exists(m.group(2)):
        raise argparse.ArgumentTypeError(f"--nbd {spec}: no such image (make disks builds them)")
    return m.group(1), m.group(2), int(m.group(3))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("machine", choices=["auto", "bochs", "qemu"])
    ap.add_argument("--iso", default="build/hv.iso")
    ap.add_argument("--esp", default="build/esp")
    ap.add_argument("--cpus", type=int, default=4)
    ap.add_argument("--model", default="corei7_haswell_4770")
    ap.add_argument("--megs", type=int, default=512, help="RAM (MiB)")
    ap.add_argument("--kvm", action="store_true", help="QEMU with KVM")
    ap.add_argument("--nic", choices=["virtio-net-pci", "e1000", "e1000e"],
                    default="virtio-net-pci", help="QEMU's NIC for the hypervisor")
    ap.add_argument("--workdir", help="keep logs here (default: a temp dir)")
    ap.add_argument("--forward", type=int, action="append", default=[], metavar="PORT",
                    help="make the hypervisor's TCP PORT (a VSI's forward =) reachable "
                    "at the host's 127.0.0.1:PORT")
    ap.add_argument("--forward-note", help="what the forwards reach, printed at start")
    ap.add_argument("--nbd", type=parse_nbd, action="append", default=[],
                    metavar="NAME=IMAGE@PORT", help="serve a disk image to the hypervisor")
    args = ap.parse_args()

    # `kill` (SIGTERM) unwinds like Ctrl-C: the emulator, servers and relays stop with us.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    machine, kvm = args.machine, args.kvm
    if machine == "auto":
        kvm = host_has_vmx()
        machine = "qemu" if kvm else "bochs"
        print("hvrun: %s" % ("/dev/kvm offers VMX: QEMU with KVM" if kvm else
                            "no VMX from /dev/kvm: Bochs (emulated VT-x; slow)"),
              file=sys.stderr)
    workdir = args.workdir or tempfile.mkdtemp(prefix="hvrun-")
    os.makedirs(workdir, exist_ok=True)
    print(f"hvrun: logs in {workdir}; Ctrl-C stops", file=sys.stderr)
    log = os.path.join(workdir, "qemu-nbd.log")
    servers = [nbd_server_cmd(n, i, p, log) for n, i, p in args.nbd]
    for n, i, p in args.nbd:
        print(f"hvrun: serving {i} as NBD export '{n}' on port {p}", file=sys.stderr)
    hosted = []
    if machine == "bochs":
        m = boot_bochs(workdir, args.iso, args.cpus, args.model, args.megs, echo=True,
                       nic=bool(servers), inside=" & ".join(servers) if servers else None,
                       slirp=[f"hostfwd = tcp::{p}-{HV_ADDRESS}:{p}" for p in args.forward])
        # slirp listens inside Bochs' namespace: relay the host's port into it
        hosted = [subprocess.Popen(
            ["socat", f"TCP-LISTEN:{p},bind=127.0.0.1,reuseaddr,fork",
             f"EXEC:nsenter --net=/proc/{m.proc.pid}/ns/net socat STDIO TCP\\:127.0.0.1\\:{p}"],
            start_new_session=True) for p in args.forward if servers]
    else:
        # QEMU's user network reaches the host's loopback at 10.0.2.2.
        hosted = [subprocess.Popen(["sh", "-c", "exec " + cmd], start_new_session=True)
                  for cmd in servers]
        fwd = "".join(f",hostfwd=tcp:127.0.0.1:{p}-{HV_ADDRESS}:{p}" for p in args.forward)
        extra = (["-netdev", f"user,id=n0{fwd}", "-device", f"{args.nic},netdev=n0"]
                 if servers else [])
        m = boot_qemu(workdir, args.esp, args.cpus, args.megs if args.megs != 512 else 256,
                      kvm, extra=extra, echo=True)
    for p in args.forward if servers else []:
        print(f"hvrun: host 127.0.0.1:{p} -> the hypervisor's {HV_ADDRESS}:{p}"
              + (f": {args.forward_note}" if args.forward_note else ""), file=sys.stderr)
    try:
        status = interactive(m)
    finally:
        for p in hosted:
            p.terminate()
            p.wait()
    return status


if __name__ == "__main__":
    sys.exit(main())

#!/bin/sh
# tests/guest/net_qemu.sh [BUILD]: the network steps of the guest's /init
# (hvtest.net, .ping, .fetch, .serve, .peer, .noreach, .hold_s), proven under
# plain QEMU (TCG) without the hypervisor, on a modern-only virtio-net PCI NIC:
#
#   user   QEMU's user network (slirp): DHCP gives 10.0.2.15/24, gateway
#          10.0.2.2 is the host's loopback, where an HTTP server on 127.0.0.1
#          serves a file to fetch; the guest's served port is forwarded to
#          127.0.0.1 and read back here
#   static the same network with hvtest.net=static:...
#   peers  two guests on one L2 segment (QEMU socket netdev over 127.0.0.1),
#          static addresses, each serving and reading the other (b checks a
#          closed port of a first: a powers off once b has read it)
#   fails  wrong checksum, a reachable noreach, a bad parameter: each ends in
#          its "hvtest: FAIL ..." and a power-off
#
# Every server binds 127.0.0.1 only. Ends with "net-qemu: N passed, N failed";
# exit status 1 if any failed. Console logs stay in BUILD/guest-net/*.log.
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build}
mkdir -p "$BUILD"
BUILD=$(cd "$BUILD" && pwd)
OUT=$BUILD/guest-net
PYTHON=${PYTHON:-python3}
QEMU_TIMEOUT=${QEMU_TIMEOUT:-300}
export MTOOLS_SKIP_CHECK=1 MTOOLSRC=/dev/null
unset DISPLAY WAYLAND_DISPLAY XAUTHORITY PULSE_SERVER AUDIODEV SDL_AUDIODRIVER QEMU_AUDIO_DRV

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "PASS: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

PIDS=''
cleanup() {
	for pid in $PIDS; do
		kill "$pid" 2> /dev/null || true
	done
}
trap cleanup EXIT INT TERM

free_port() {
	"$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# pattern_sha NAME SECTORS: sha256 of NAME's pattern, as hvtest.serve sends it.
pattern_sha() {
	"$PYTHON" - "$ROOT/tools/check-disk.py" "$1" "$2" << 'EOF'
import hashlib, importlib.util, sys
spec = importlib.util.spec_from_file_location("check_disk", sys.argv[1])
cd = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cd)
h = hashlib.sha256()
for s in range(int(sys.argv[3])):
    h.update(cd.pattern_sector(sys.argv[2], s))
print(h.hexdigest())
EOF
}

# read_port PORT SECONDS: connects to 127.0.0.1:PORT (retrying until a
# connection yields data or SECONDS pass), reads to EOF; prints "BYTES SHA256".
read_port() {
	"$PYTHON" - "$1" "$2" << 'EOF'
import hashlib, socket, sys, time
end = time.time() + int(sys.argv[2])
data = b""
while not data and time.time() < end:
    try:
        with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5) as s:
            while True:
                d = s.recv(65536)
                if not d:
                    break
                data += d
    except OSError:
        pass
    if not data:
        time.sleep(0.5)
print(len(data), hashlib.sha256(data).hexdigest())
EOF
}

# qemu TAG OPTIONS NETDEV_ARGS...: boots the kernel and initrd of $IMG's PVH
# entry with the entry's options plus OPTIONS, a copy of $IMG as its disk
# and a virtio-net NIC; console in $OUT/TAG.log. Sets BOOT_RC and BOOT_MS.
qemu() {
	tag=$1 extra=$2
	shift 2
	cp "$IMG" "$OUT/$tag.img"
	t0=$(now_ms)
	BOOT_RC=0
	timeout "$QEMU_TIMEOUT" qemu-system-x86_64 -machine pc -m 256 \
		-nodefaults -display none -serial stdio -no-reboot \
		-kernel "$OUT/kernel" -initrd "$OUT/initrd" -append "$OPTIONS $extra" \
		-drive "if=none,id=d0,format=raw,file=$OUT/$tag.img" \
		-device virtio-blk-pci,disable-legacy=on,drive=d0 \
		-device virtio-net-pci,disable-legacy=on,netdev=n0,mac="${MAC:-52:54:00:12:34:56}" \
		"$@" < /dev/null > "$OUT/$tag.log" 2>&1 || BOOT_RC=$?
	BOOT_MS=$(($(now_ms) - t0))
	rm -f "$OUT/$tag.img"
}

markers() {
	tr -d '\r' < "$OUT/$1.log" | sed -n 's/.*\] hvtest: /hvtest: /p'
}

# expect TAG REGEX...: QEMU powered off by itself, no FAIL marker, and a
# marker matching each (extended, whole-line) REGEX.
expect() {
	tag=$1
	shift
	ok=1
	[ "$BOOT_RC" -eq 0 ] || { fail "$tag: QEMU exit status $BOOT_RC"; ok=0; }
	if markers "$tag" | grep -q '^hvtest: FAIL'; then
		fail "$tag: $(markers "$tag" | grep '^hvtest: FAIL' | head -1)"
		ok=0
	fi
	for re in "$@"; do
		if ! markers "$tag" | grep -Eqx "$re"; then
			fail "$tag: no marker matching '$re' (see $OUT/$tag.log)"
			ok=0
		fi
	done
	[ $ok -eq 0 ] || pass "$tag: all markers, QEMU wall ${BOOT_MS} ms"
	markers "$tag" | grep '^hvtest: net' | sed 's/^/  /'
}

# expect_fail TAG REGEX: the run ended in a FAIL marker matching REGEX, then
# a power-off.
expect_fail() {
	got=$(markers "$1" | grep '^hvtest: FAIL' | head -1)
	if [ "$BOOT_RC" -eq 0 ] && echo "$got" | grep -Eqx "$2"; then
		pass "$1: '$got', then power-off"
	else
		fail "$1: QEMU status $BOOT_RC, wanted a FAIL matching '$2', got '$got'"
	fi
}

rm -rf "$OUT"
mkdir -p "$OUT/www"
IMG=$OUT/guest.img
"$PYTHON" "$ROOT/tools/mkdisk.py" --build "$BUILD" "$IMG" --name netguest
OPTIONS=$(mtype -i "$IMG@@1M" ::/loader/entries/hvtest-1-pvh.conf | sed -n 's/^options *//p')
mcopy -i "$IMG@@1M" ::/vmlinux "$OUT/kernel"
mcopy -i "$IMG@@1M" ::/initrd.img "$OUT/initrd"

# A file to fetch (3 MB, fixed content) from an HTTP server on 127.0.0.1.
"$PYTHON" -c 'import sys, hashlib
sys.stdout.buffer.write(b"".join(hashlib.sha256(b"%d" % i).digest() for i in range(98304)))' \
	> "$OUT/www/blob"
BLOB_SHA=$(sha256sum "$OUT/www/blob" | cut -d' ' -f1)
HTTP=$(free_port)
(cd "$OUT/www" && exec "$PYTHON" -m http.server --bind 127.0.0.1 "$HTTP") \
	> "$OUT/http.log" 2>&1 &
PIDS="$PIDS $!"
CLOSED=$(free_port)   # nothing listens there

echo "== user network: dhcp, ping, fetch, serve, noreach"
FWD=$(free_port)
SERVE_SHA=$(pattern_sha netguest 2048)
read_port "$FWD" 120 > "$OUT/received" &
reader=$!
qemu user "hvtest.net=dhcp hvtest.ping=10.0.2.2 hvtest.fetch=http://10.0.2.2:$HTTP/blob,$BLOB_SHA hvtest.serve=80 hvtest.noreach=10.0.2.2:$CLOSED hvtest.serve_n=1 hvtest.hold_s=60" \
	-netdev "user,id=n0,restrict=off,hostfwd=tcp:127.0.0.1:$FWD-:80"
wait "$reader" || true
expect user "hvtest: verified pattern netguest" \
	"hvtest: net lease 10\.0\.2\.15/24 gw 10\.0\.2\.2 mac 52:54:00:12:34:56" \
	"hvtest: net serving 80 1048576 bytes sha256 $SERVE_SHA" \
	"hvtest: net ping 10\.0\.2\.2 ok [1-3]/3 replies" \
	"hvtest: net fetch http://10\.0\.2\.2:$HTTP/blob sha256 ok 3145728 bytes in [0-9]+ ms" \
	"hvtest: net noreach 10\.0\.2\.2:$CLOSED ok \(refused\)" \
	"hvtest: net sent 80 transfer 1" "hvtest: net served 80 1 transfers" \
	"hvtest: net done" "hvtest: done"
if [ "$(cat "$OUT/received")" = "1048576 $SERVE_SHA" ]; then
	pass "user: read 1048576 bytes of netguest's pattern through the forwarded port"
else
	fail "user: read '$(cat "$OUT/received")' from the forwarded port, want 1048576 $SERVE_SHA"
fi

echo "== user network, static address"
qemu static "hvtest.net=static:10.0.2.15/24:10.0.2.2 hvtest.ping=10.0.2.2 hvtest.fetch=http://10.0.2.2:$HTTP/blob,$BLOB_SHA" \
	-netdev "user,id=n0"
expect static "hvtest: net static 10\.0\.2\.15/24 gw 10\.0\.2\.2 mac 52:54:00:12:34:56" \
	"hvtest: net ping 10\.0\.2\.2 ok [1-3]/3 replies" \
	"hvtest: net fetch http://10\.0\.2\.2:$HTTP/blob sha256 ok 3145728 bytes in [0-9]+ ms" \
	"hvtest: net done" "hvtest: done"

echo "== two guests on one segment: serve and read each other"
SEG=$(free_port)
A_SHA=$(pattern_sha netguest 4096)
B_SHA=$(pattern_sha netguest 512)
MAC=52:54:00:00:00:0a qemu peer-a "hvtest.net=static:192.168.77.1/24 hvtest.serve=7000 hvtest.serve_sectors=4096 hvtest.ping=192.168.77.2 hvtest.peer=192.168.77.2:7000,$B_SHA hvtest.serve_n=1 hvtest.hold_s=60 hvtest.timeout=60" \
	-netdev "socket,id=n0,listen=127.0.0.1:$SEG" &
peer_a=$!
sleep 1
MAC=52:54:00:00:00:0b qemu peer-b "hvtest.net=static:192.168.77.2/24 hvtest.serve=7000 hvtest.serve_sectors=512 hvtest.noreach=192.168.77.1:7001 hvtest.peer=192.168.77.1:7000,$A_SHA hvtest.serve_n=1 hvtest.hold_s=60 hvtest.timeout=60" \
	-netdev "socket,id=n0,connect=127.0.0.1:$SEG"
rc_b=$BOOT_RC ms_b=$BOOT_MS
BOOT_RC=0
wait "$peer_a" || BOOT_RC=$?
BOOT_MS='(in the background)'
expect peer-a "hvtest: net static 192\.168\.77\.1/24 gw none mac 52:54:00:00:00:0a" \
	"hvtest: net serving 7000 2097152 bytes sha256 $A_SHA" \
	"hvtest: net ping 192\.168\.77\.2 ok [1-3]/3 replies" \
	"hvtest: net peer 192\.168\.77\.2:7000 sha256 ok 262144 bytes in [0-9]+ ms" \
	"hvtest: net served 7000 1 transfers" "hvtest: net done" "hvtest: done"
BOOT_RC=$rc_b BOOT_MS=$ms_b
expect peer-b "hvtest: net serving 7000 262144 bytes sha256 $B_SHA" \
	"hvtest: net peer 192\.168\.77\.1:7000 sha256 ok 2097152 bytes in [0-9]+ ms" \
	"hvtest: net noreach 192\.168\.77\.1:7001 ok \(refused\)" \
	"hvtest: net served 7000 1 transfers" "hvtest: net done" "hvtest: done"

echo "== failures"
qemu badsum "hvtest.net=dhcp hvtest.fetch=http://10.0.2.2:$HTTP/blob,$SERVE_SHA" -netdev user,id=n0
expect_fail badsum "hvtest: FAIL net fetch http://10\.0\.2\.2:$HTTP/blob: sha256 $BLOB_SHA of 3145728 bytes, want $SERVE_SHA"
qemu reachable "hvtest.net=dhcp hvtest.noreach=10.0.2.2:$HTTP" -netdev user,id=n0
expect_fail reachable "hvtest: FAIL net noreach 10\.0\.2\.2:$HTTP: connected"
# A NIC on a hub with nothing else on it: nobody answers DHCP.
qemu nodhcp "hvtest.net=dhcp hvtest.timeout=3" -netdev hubport,id=n0,hubid=0
expect_fail nodhcp "hvtest: FAIL net: no DHCP lease after 3s: .*"
qemu badparam "hvtest.net=dhcp hvtest.ping=10.0.2.256" -netdev user,id=n0
expect_fail badparam "hvtest: FAIL bad address '10\.0\.2\.256' in hvtest\.ping"
qemu nopeer "hvtest.net=dhcp hvtest.timeout=3 hvtest.peer=10.0.2.2:$CLOSED,$BLOB_SHA" -netdev user,id=n0
expect_fail nopeer "hvtest: FAIL net peer 10\.0\.2\.2:$CLOSED: .*Connection refused for 3s"

echo "net-qemu: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

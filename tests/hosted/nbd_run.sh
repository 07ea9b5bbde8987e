#!/usr/bin/env bash
# Interop and fault tests of the NBD client (kernel/blk/nbd.c) over a POSIX
# socket against real servers on 127.0.0.1: qemu-nbd, nbdkit (memory and
# file plugins, error, delay and blocksize-policy filters), nbd-server and a
# scripted misbehaving server (nbd_script_server.py). After each run the
# server's backing file is compared byte for byte with the image the test
# program says every acknowledged write left. Exits non-zero on any failure.
#   tests/hosted/nbd_run.sh [BUILD_DIR]
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=$(realpath -m "${1:-$ROOT/build/hosted}")
W=$B/work
PROG=$B/hosted_nbd
EXPORT=vsi0
SIZE=16M
pass=0
fail=0
pids=()

mkdir -p "$B" "$W"

cleanup() {
	for p in "${pids[@]}"; do
		kill -9 "$p" 2>/dev/null
	done
	wait 2>/dev/null
}
trap cleanup EXIT

need() {
	command -v "$1" >/dev/null || { echo "nbd_run: $1 is missing (tools/install-deps.sh)"; exit 1; }
}
need qemu-nbd
need nbdkit
need nbd-server
need cc
need python3

echo "nbd_run: building $PROG"
cc -std=gnu11 -O1 -g -Wall -Wextra -Werror -fsanitize=address,undefined \
	-fno-sanitize-recover=all -I"$ROOT/kernel/include" -o "$PROG" \
	"$ROOT/tests/hosted/hosted_nbd.c" "$ROOT/tests/hosted/hosted_nbd_sock.c" \
	"$ROOT/kernel/blk/nbd.c" "$ROOT/kernel/blk/nbd_handshake.c" "$ROOT/kernel/vdev/virtio_blk.c" "$ROOT/kernel/vdev/virtio_pci.c" \
	"$ROOT/kernel/vdev/virtqueue.c" || exit 1

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Wait until something accepts connections on 127.0.0.1:$1.
wait_port() {
	for _ in $(seq 1 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.05
	done
	echo "nbd_run: nothing listens on port $1"
	return 1
}

fresh_image() {
	rm -f "$1"
	truncate -s "$SIZE" "$1"
}

result() { # name status
	if [ "$2" = 0 ]; then
		echo "nbd_run: PASS $1"
		pass=$((pass + 1))
	else
		echo "nbd_run: FAIL $1"
		fail=$((fail + 1))
	fi
}

# The image must equal what the program expects, byte for byte.
compare() { # name image expect
	if cmp "$2" "$3"; then
		echo "nbd_run: $1: backing file matches the acknowledged writes byte for byte"
		return 0
	fi
	return 1
}

start_bg() { # log command...
	local log=$1
	shift
	"$@" >"$log" 2>&1 &
	last_pid=$!
	pids+=("$last_pid")
}

stop() {
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

run_prog() { # name args...
	local name=$1
	shift
	"$PROG" "$@" >"$W/$name.out" 2>"$W/$name.err"
	local rc=$?
	grep '^hosted_nbd:' "$W/$name.out" | sed "s/^/    /"
	[ $rc = 0 ] || tail -n 20 "$W/$name.err" | sed "s/^/    err: /"
	return $rc
}

# --- qemu-nbd -----------------------------------------------------------------
t_qemu() {
	local img=$W/qemu.img port rc
	port=$(free_port)
	fresh_image "$img"
	start_bg "$W/qemu-nbd.log" qemu-nbd -f raw -t -b 127.0.0.1 -p "$port" -x "$EXPORT" "$img"
	local srv=$last_pid
	wait_port "$port" || return 1
	run_prog qemu-probe probe --port "$port" --export nope --wait 1000
	grep -q "export 'nope' not found on server" "$W/qemu-probe.out" || { echo "    unknown export not reported"; stop $srv; return 1; }
	run_prog qemu selftest --port "$port" --export "$EXPORT" --ops 3000 --seed 11 --expect "$W/qemu.expect"
	rc=$?
	stop $srv
	[ $rc = 0 ] && compare qemu-nbd "$img" "$W/qemu.expect"
}

# --- nbdkit -------------------------------------------------------------------
t_nbdkit_memory() {
	local port rc
	port=$(free_port)
	start_bg "$W/nbdkit-memory.log" nbdkit --exit-with-parent -f -i 127.0.0.1 -p "$port" memory 64M
	local srv=$last_pid
	wait_port "$port" || return 1
	run_prog nbdkit-memory selftest --port "$port" --export "$EXPORT" --ops 5000 --seed 12
	rc=$?
	stop $srv
	return $rc
}

t_nbdkit_file() {
	local img=$W/nbdkit.img port rc
	port=$(free_port)
	fresh_image "$img"
	start_bg "$W/nbdkit-file.log" nbdkit --exit-with-parent -f -i 127.0.0.1 -p "$port" file "$img"
	local srv=$last_pid
	wait_port "$port" || return 1
	run_prog nbdkit-file selftest --port "$port" --export "$EXPORT" --ops 3000 --seed 13 --expect "$W/nbdkit.expect"
	rc=$?
	stop $srv
	[ $rc = 0 ] && compare nbdkit-file "$img" "$W/nbdkit.expect"
}

# --- nbd-server ---------------------------------------------------------------
# Unprivileged on any port: a [generic] section with port and listenaddr. In
# the foreground (-d) it serves a single connection, so it runs as a daemon
# with a PID file (-p) instead.
t_nbd_server() {
	local img=$W/nbd-server.img port rc pid
	port=$(free_port)
	fresh_image "$img"
	rm -f "$W/nbd-server.pid"
	cat >"$W/nbd-server.conf" <<-EOF
	[generic]
	    port = $port
	    listenaddr = 127.0.0.1
	    allowlist = false
	[$EXPORT]
	    exportname = $img
	    flush = true
	    fua = true
	    trim = true
	EOF
	nbd-server -C "$W/nbd-server.conf" -p "$W/nbd-server.pid" >"$W/nbd-server.log" 2>&1 || return 1
	wait_port "$port" || return 1
	pid=$(cat "$W/nbd-server.pid")
	pids+=("$pid")
	run_prog nbd-server selftest --port "$port" --export "$EXPORT" --ops 3000 --seed 14 --expect "$W/nbd-server.expect"
	rc=$?
	kill "$pid" 2>/dev/null
	sleep 0.2
	[ $rc = 0 ] && compare nbd-server "$img" "$W/nbd-server.expect"
}

# --- faults -------------------------------------------------------------------
# nbdkit's error filter fails 10% of all calls with EIO: errors must surface as
# -EIO, every successful read must match, the final file must match.
t_fault_errors() {
	local img=$W/errors.img port rc
	port=$(free_port)
	fresh_image "$img"
	start_bg "$W/nbdkit-error.log" nbdkit --exit-with-parent -f -i 127.0.0.1 -p "$port" \
		--filter=error file "$img" error-rate=10%
	local srv=$last_pid
	wait_port "$port" || return 1
	run_prog fault-errors fault --port "$port" --export "$EXPORT" --seconds 10 --seed 15 \
		--expect "$W/errors.expect" --ack-log "$W/errors.acks"
	rc=$?
	stop $srv
	[ $rc = 0 ] || return 1
	grep -q ' [1-9][0-9]* EIO' "$W/fault-errors.out" || { echo "    no injected error surfaced"; return 1; }
	compare error-filter "$img" "$W/errors.expect"
}

# 50 ms on every read and write: slower, nothing lost.
t_fault_delay() {
	local img=$W/delay.img port rc
	port=$(free_port)
	fresh_image "$img"
	start_bg "$W/nbdkit-delay.log" nbdkit --exit-with-parent -f -i 127.0.0.1 -p "$port" \
		--filter=delay file "$img" rdelay=50ms wdelay=50ms
	local srv=$last_pid
	wait_port "$port" || return 1
	run_prog fault-delay selftest --port "$port" --export "$EXPORT" --ops 600 --seed 16 \
		--expect "$W/delay.expect"
	rc=$?
	stop $srv
	[ $rc = 0 ] && compare delay-filter "$img" "$W/delay.expect"
}

# The server is killed (SIGKILL) and restarted on the same file three times
# while requests are in flight (a 2 ms delay keeps some on the wire): the
# client reconnects and replays; the file must hold exactly what was
# acknowledged.
kill_server() { # log
	start_bg "$1" nbdkit --exit-with-parent -f -i 127.0.0.1 -p "$port" --filter=delay \
		file "$img" rdelay=2ms wdelay=2ms
}

t_fault_kill() {
	local img=$W/kill.img port prog rc i
	port=$(free_port)
	fresh_image "$img"
	kill_server "$W/kill-server.log"
	local srv=$last_pid
	wait_port "$port" || return 1
	"$PROG" fault --port "$port" --export "$EXPORT" --seconds 14 --seed 17 --expect "$W/kill.expect" \
		--ack-log "$W/kill.acks" >"$W/fault-kill.out" 2>"$W/fault-kill.err" &
	prog=$!
	for i in 1 2 3; do
		sleep 2.5
		kill -9 "$srv"
		wait "$srv" 2>/dev/null
		echo "    killed the server (SIGKILL), restart $i"
		sleep 0.7
		kill_server "$W/kill-server.log"
		srv=$last_pid
	done
	wait "$prog"
	rc=$?
	grep '^hosted_nbd:' "$W/fault-kill.out" | sed "s/^/    /"
	stop "$srv"
	[ $rc = 0 ] || { tail -n 20 "$W/fault-kill.err" | sed "s/^/    err: /"; return 1; }
	grep -q ' [3-9] reconnects' "$W/fault-kill.out" || { echo "    expected 3 reconnects"; return 1; }
	grep -q ' [1-9][0-9]* replays' "$W/fault-kill.out" || { echo "    nothing was replayed"; return 1; }
	echo "    $(wc -l <"$W/kill.acks") acknowledged writes logged in $W/kill.acks"
	compare kill-restart "$img" "$W/kill.expect"
}

# --- the scripted server: misbehaviour no real server produces ---------------
# tests/hosted/nbd_script_server.py breaks the protocol one way on its first
# connection(s). The client must count it (violation or reconnect), replay, and
# leave exactly the acknowledged writes in the file; no request may fail but
# the FLUSH that reports the lost connection (docs/nbd.md "What acknowledged means").
script_case() { # script what-must-grow server-args -- program-args
	local s=$1 want=$2 img=$W/script-$1.img port rc sargs=() pargs=()
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do sargs+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	pargs=("$@")
	port=$(free_port)
	fresh_image "$img"
	start_bg "$W/script-$s.log" python3 "$ROOT/tests/hosted/nbd_script_server.py" \
		--port "$port" --image "$img" --script "$s" "${sargs[@]}"
	local srv=$last_pid
	wait_port "$port" || return 1
	run_prog "script-$s" selftest --port "$port" --export "$EXPORT" --ops 300 --qd 16 \
		--seed 21 --expect "$W/script-$s.expect" --lost-flush-ok "${pargs[@]}"
	rc=$?
	stop $srv
	[ $rc = 0 ] || return 1
	grep -q "misbehaved: $s" "$W/script-$s.log" || { echo "    the server never misbehaved"; return 1; }
	grep -Eq " [1-9][0-9]* $want" "$W/script-$s.out" || { echo "    no $want counted"; return 1; }
	compare "script-$s" "$img" "$W/script-$s.expect"
}

t_script_violations() {
	local rc=0
	# A reply to a WRITE still being sent (a small send buffer keeps its data on our side).
	script_case early-reply "protocol violations" -- --sndbuf 4096 || rc=1
	script_case truncated-reply reconnects || rc=1
	script_case bad-magic "protocol violations" || rc=1
	script_case wrong-handle "protocol violations" || rc=1
	script_case structured "protocol violations" || rc=1
	script_case shutdown reconnects || rc=1
	script_case info-length "protocol violations" || rc=1
	script_case bad-block-sizes "protocol violations" || rc=1
	script_case stall reconnects -- --stall 1000 || rc=1
	return $rc
}

# A server silent for 16.5 s on a request, with a 40 s deadline: slow, not dead.
# The stall limit follows the deadline (20 s here), so nothing is torn down.
t_script_slow() {
	script_case slow connects --delay 16500 -- --deadline 40000 --stall 0 || return 1
	grep -q " 0 reconnects, 0 replays" "$W/script-slow.out" || { echo "    the slow server was torn down"; return 1; }
}

# Sizes and block sizes the server may advertise: the client connects and the
# disk device's verdict names the reason (kernel/vdisk.c refuses the same way).
probe_case() { # expect server-args...
	local want=$1 img=$W/script-probe.img port rc
	shift
	port=$(free_port)
	fresh_image "$img"
	start_bg "$W/script-probe.log" python3 "$ROOT/tests/hosted/nbd_script_server.py" \
		--port "$port" --image "$img" "$@"
	local srv=$last_pid
	wait_port "$port" || return 1
	run_prog script-probe probe --port "$port" --export "$EXPORT"
	rc=$?
	stop $srv
	[ $rc = 0 ] || return 1
	grep -q "as a VSI disk: $want" "$W/script-probe.out" || { echo "    expected: $want"; return 1; }
}

t_script_odd_exports() {
	local rc=0
	probe_case "refused: it is smaller than one 512-byte sector" --size 100 || rc=1
	probe_case "refused: it is empty" --size 0 || rc=1
	probe_case "refused: its minimum block size" --block-sizes 4096,4096,33554432 || rc=1
	probe_case "refused: its maximum block size" --block-sizes 1,512,2048 || rc=1
	probe_case "usable" --block-sizes 512,4096,33554432 || rc=1
	return $rc
}

# The same with real servers: nbdkit's memory plugin at 100 bytes, and its
# blocksize-policy filter advertising a large minimum or a small maximum.
nbdkit_probe() { # expect nbdkit-args...
	local want=$1 port rc
	shift
	port=$(free_port)
	start_bg "$W/nbdkit-probe.log" nbdkit --exit-with-parent -f -i 127.0.0.1 -p "$port" "$@"
	local srv=$last_pid
	wait_port "$port" || return 1
	run_prog nbdkit-probe probe --port "$port" --export "$EXPORT"
	rc=$?
	stop $srv
	[ $rc = 0 ] || return 1
	grep -q "as a VSI disk: $want" "$W/nbdkit-probe.out" || { echo "    expected: $want"; return 1; }
}

t_nbdkit_odd_exports() {
	local rc=0
	nbdkit_probe "refused: it is smaller than one 512-byte sector" memory 100 || rc=1
	nbdkit_probe "refused: its minimum block size" --filter=blocksize-policy memory 1M \
		blocksize-minimum=4096 || rc=1
	nbdkit_probe "refused: its maximum block size" --filter=blocksize-policy memory 1M \
		blocksize-preferred=2048 \
		blocksize-maximum=2048 || rc=1
	return $rc
}

for t in ${NBD_TESTS:-t_qemu t_nbdkit_memory t_nbdkit_file t_nbd_server t_fault_errors t_fault_delay t_fault_kill t_script_violations t_script_slow t_script_odd_exports t_nbdkit_odd_exports}; do
	echo "nbd_run: ${t#t_}"
	$t
	result "${t#t_}" $?
done
echo "nbd_run: $pass passed, $fail failed"
[ $fail = 0 ]

#!/usr/bin/env bash
# Interop and fault tests of the NBD client (kernel/blk/nbd.c) over a POSIX
# socket against real servers on 127.0.0.1: qemu-nbd, nbdkit (memory and
# file plugins, error and delay filters) and nbd-server. After each run the
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

echo "nbd_run: building $PROG"
cc -std=gnu11 -O1 -g -Wall -Wextra -Werror -fsanitize=address,undefined \
	-fno-sanitize-recover=all -I"$ROOT/kernel/include" -o "$PROG" \
	"$ROOT/tests/hosted/hosted_nbd.c" "$ROOT/tests/hosted/hosted_nbd_sock.c" \
	"$ROOT/kernel/blk/nbd.c" || exit 1

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

for t in ${NBD_TESTS:-t_qemu t_nbdkit_memory t_nbdkit_file t_nbd_server t_fault_errors t_fault_delay t_fault_kill}; do
	echo "nbd_run: ${t#t_}"
	$t
	result "${t#t_}" $?
done
echo "nbd_run: $pass passed, $fail failed"
[ $fail = 0 ]

#!/bin/sh
# Hosted test of the kernel/net TCP/IP stack: the same sources built as a
# Linux program (hosted_net.c, tap.c) that drives a TAP device inside a
# network namespace this script creates, against real servers in that
# namespace only:
#   1. socat echo server: 8 MiB of a pattern sent, read back, compared
#   2. the same under loss: 5% each way and 20 ms delay (netem on the TAP
#      when the kernel has it, else emulated in the TAP shim)
#   3. qemu-nbd: NBD handshake with NBD_OPT_GO, export size, one READ
#   4. qemu-nbd again, through the real NBD client (kernel/blk/nbd.c): a
#      pattern written, flushed, read back and found in the image file; then
#      the benchmark table (reported, not asserted)
# Sets up and tears down the namespace; exits non-zero on any failure.
#   tests/hosted/run.sh [BUILD_DIR]      (root required)
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=$(realpath -m "${1:-$ROOT/build/hosted-net}")
PROG=$B/hosted_net
NS=hvnet-$$
TAP=tap0
HOST_IP=10.99.0.1
STACK_IP=10.99.0.2
ECHO_PORT=7777
NBD_PORT=10809
BYTES=8388608
pids=""
fail=0

if [ "$(id -u)" -ne 0 ]; then
	echo "hosted-test: needs root (it creates a network namespace and a TAP device)" >&2
	exit 1
fi
for tool in ip socat qemu-nbd cc; do
	command -v $tool >/dev/null || { echo "hosted-test: $tool is missing" >&2; exit 1; }
done

cleanup() {
	# Our servers, and whatever they forked inside our namespace.
	for p in $pids $(ip netns pids $NS 2>/dev/null); do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	ip netns del $NS 2>/dev/null
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Two builds: optimised for the throughput figure, sanitized (ASan, UBSan)
# for the runs that take the stack through loss and recovery.
mkdir -p "$B"
echo "hosted-test: building $PROG and $PROG-san"
SRCS="$ROOT/tests/hosted/hosted_net.c $ROOT/tests/hosted/hosted_net_nbd.c
$ROOT/tests/hosted/hosted_net_nbdc.c $ROOT/kernel/blk/nbd.c $ROOT/kernel/blk/nbd_handshake.c
$ROOT/tests/hosted/tap.c $(ls "$ROOT"/kernel/net/*.c)"
CFLAGS="-std=gnu11 -g -Wall -Wextra -Werror -I$ROOT/kernel/include"
cc $CFLAGS -O2 -o "$PROG" $SRCS || exit 1
cc $CFLAGS -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -o "$PROG-san" \
	$SRCS || exit 1

nsx() {
	ip netns exec $NS "$@"
}

ip netns add $NS || exit 1
nsx ip link set lo up
nsx ip tuntap add dev $TAP mode tap
nsx ip addr add $HOST_IP/24 dev $TAP
nsx ip link set $TAP up

# Wait until something listens on TCP port $1 in the namespace.
wait_listen() {
	for _ in $(seq 1 100); do
		nsx ss -ltn "sport = :$1" | grep -q LISTEN && return 0
		sleep 0.05
	done
	echo "hosted-test: nothing listens on port $1"
	return 1
}

# run NAME PROGRAM ARGS...: one test, its verdict on one line.
run() {
	name=$1
	prog=$2
	shift 2
	if nsx "$prog" --tap $TAP --ip $STACK_IP --gw $HOST_IP "$@"; then
		echo "hosted-test: PASS $name"
	else
		echo "hosted-test: FAIL $name"
		fail=1
	fi
}

nsx socat TCP-LISTEN:$ECHO_PORT,bind=$HOST_IP,reuseaddr,fork EXEC:cat &
pids="$pids $!"
wait_listen $ECHO_PORT || exit 1

run echo "$PROG" echo $HOST_IP $ECHO_PORT $BYTES

if nsx tc qdisc add dev $TAP root netem loss 5% delay 20ms 2>/dev/null; then
	echo "hosted-test: netem on $TAP: 5% loss, 20 ms delay towards the stack;" \
	     "5% loss from it in the shim"
	run echo-loss "$PROG-san" --tx-loss 5 --seed 7 echo $HOST_IP $ECHO_PORT $BYTES
	nsx tc qdisc del dev $TAP root
else
	echo "hosted-test: no netem in this kernel: 5% loss each way and 20 ms delay" \
	     "emulated in the TAP shim"
	run echo-loss "$PROG-san" --tx-loss 5 --rx-loss 5 --delay 20 --seed 7 \
		echo $HOST_IP $ECHO_PORT $BYTES
fi

IMG=$B/nbd-disk.img
head -c 16777216 /dev/urandom > "$IMG"
nsx qemu-nbd -f raw -x vsi0 -b $HOST_IP -p $NBD_PORT -t "$IMG" &
pids="$pids $!"
wait_listen $NBD_PORT || exit 1
run nbd "$PROG-san" nbd $HOST_IP $NBD_PORT vsi0 "$IMG"
# The hypervisor's own NBD client on this stack: pattern, image compare, benchmark.
run nbd-client "$PROG" nbd-client $HOST_IP $NBD_PORT vsi0 "$IMG"

[ $fail = 0 ] && echo "hosted-test: all passed" || echo "hosted-test: FAILED"
exit $fail

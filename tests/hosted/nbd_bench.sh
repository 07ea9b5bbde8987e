#!/usr/bin/env bash
# Benchmark of the NBD client against nbdkit's memory plugin on 127.0.0.1:
# sequential MB/s and 4 KiB random-read IOPS at QD 1 and 32. Reports only.
#   tests/hosted/nbd_bench.sh [BUILD_DIR]
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=$(realpath -m "${1:-$ROOT/build/hosted}")
mkdir -p "$B"
cc -std=gnu11 -O2 -g -Wall -Wextra -Werror -I"$ROOT/kernel/include" -o "$B/hosted_nbd_bench" \
	"$ROOT/tests/hosted/hosted_nbd_bench.c" "$ROOT/tests/hosted/hosted_nbd_sock.c" \
	"$ROOT/kernel/blk/nbd.c" "$ROOT/kernel/blk/nbd_handshake.c"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
nbdkit --exit-with-parent -f -i 127.0.0.1 -p "$port" memory 256M &
srv=$!
trap 'kill $srv 2>/dev/null; wait $srv 2>/dev/null' EXIT
for _ in $(seq 1 100); do
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
	sleep 0.05
done
"$B/hosted_nbd_bench" --port "$port" --seconds "${NBD_BENCH_SECONDS:-3}"

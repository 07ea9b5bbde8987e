#!/bin/sh
# tests/disks/run.sh [BUILD]: the guest disks of tools/mkdisk.py, proven
# without the hypervisor. Builds disks, then boots them the way our firmware
# will: reads a Boot Loader Specification entry from the disk's ESP, copies
# its kernel and initrd out (mtools) and boots them with its options under
# QEMU (TCG; an ELF vmlinux boots through its PVH note), with the disk on a
# modern-only virtio-blk PCI device. Checks the guest's "hvtest:" markers and
# the data partition (tools/check-disk.py), the bench output, the failure
# path, the broken disk family and that images are reproducible.
# Ends with "disk-test: N passed, N failed"; exit status 1 if any failed.
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build}
mkdir -p "$BUILD"
BUILD=$(cd "$BUILD" && pwd)
OUT=$BUILD/disks/test
PYTHON=${PYTHON:-python3}
QEMU_TIMEOUT=${QEMU_TIMEOUT:-300}
export MTOOLS_SKIP_CHECK=1 MTOOLSRC=/dev/null
# QEMU gets no host display or sound (tools/hvrun.py, "Host-facing devices").
unset DISPLAY WAYLAND_DISPLAY XAUTHORITY PULSE_SERVER AUDIODEV SDL_AUDIODRIVER QEMU_AUDIO_DRV

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "PASS: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }

now_ms() { echo $(($(date +%s%N) / 1000000)); }

mkdisk() {
	"$PYTHON" "$ROOT/tools/mkdisk.py" --build "$BUILD" "$@"
}

check_disk() {
	"$PYTHON" "$ROOT/tools/check-disk.py" "$@"
}

# entry_key IMG ENTRY KEY: the value of KEY in /loader/entries/ENTRY on IMG.
entry_key() {
	mtype -i "$1@@1M" "::/loader/entries/$2" | sed -n "s/^$3[[:space:]]\{1,\}//p"
}

# boot IMG ENTRY TAG [EXTRA_OPTIONS]: boots what ENTRY on IMG names, with IMG
# as the virtio-blk disk (read-only when RO_DRIVE is ",readonly=on"); the
# console goes to $OUT/TAG.log. Sets BOOT_RC and BOOT_MS (wall time of the
# whole QEMU run).
RO_DRIVE=
boot() {
	img=$1 entry=$2 tag=$3 extra=${4:-}
	dir=$OUT/$tag.files
	rm -rf "$dir" && mkdir -p "$dir"
	linux=$(entry_key "$img" "$entry" linux)
	initrd=$(entry_key "$img" "$entry" initrd)
	options=$(entry_key "$img" "$entry" options)
	mcopy -i "$img@@1M" "::$linux" "$dir/kernel"
	mcopy -i "$img@@1M" "::$initrd" "$dir/initrd"
	echo "  boot $tag: $entry: linux $linux, options $options $extra"
	t0=$(now_ms)
	BOOT_RC=0
	timeout "$QEMU_TIMEOUT" qemu-system-x86_64 -machine pc -m 256 \
		-nodefaults -display none -serial stdio -no-reboot \
		-kernel "$dir/kernel" -initrd "$dir/initrd" \
		-append "$options $extra" \
		-drive "if=none,id=d0,format=raw,file=$img$RO_DRIVE" \
		-device virtio-blk-pci,disable-legacy=on,drive=d0 \
		< /dev/null > "$OUT/$tag.log" 2>&1 || BOOT_RC=$?
	BOOT_MS=$(($(now_ms) - t0))
	rm -rf "$dir"
}

# The "hvtest: ..." markers of a console log, one per line.
markers() {
	tr -d '\r' < "$OUT/$1.log" | sed -n 's/.*\] hvtest: /hvtest: /p'
}

# expect_markers TAG LINE...: every LINE is among the markers, no FAIL is,
# and QEMU ended by itself (power-off) in time.
expect_markers() {
	tag=$1
	shift
	ok=1
	if [ "$BOOT_RC" -ne 0 ]; then
		fail "$tag: QEMU exit status $BOOT_RC (124: timed out after ${QEMU_TIMEOUT}s)"
		ok=0
	fi
	if markers "$tag" | grep -q '^hvtest: FAIL'; then
		fail "$tag: $(markers "$tag" | grep '^hvtest: FAIL' | head -1)"
		ok=0
	fi
	for want in "$@"; do
		if ! markers "$tag" | grep -qxF "$want"; then
			fail "$tag: no marker '$want' (see $OUT/$tag.log)"
			ok=0
		fi
	done
	done_at=$(tr -d '\r' < "$OUT/$tag.log" |
		sed -n 's/^\[ *\([0-9.]*\)\] hvtest: done$/\1/p')
	[ $ok -eq 0 ] || pass "$tag: markers seen; QEMU wall ${BOOT_MS} ms," \
		"guest clock at 'hvtest: done' ${done_at}s"
}

# expect_status WANT DESCRIPTION COMMAND...: COMMAND exits with WANT.
expect_status() {
	want=$1 what=$2
	shift 2
	rc=0
	msg=$("$@" 2>&1) || rc=$?
	if [ "$rc" -eq "$want" ]; then
		pass "$what: $msg"
	else
		fail "$what: exit status $rc, wanted $want: $msg"
	fi
}

rm -rf "$OUT"
mkdir -p "$OUT"

echo "== building"
t0=$(now_ms)
mkdisk "$OUT/a.img" --name a
pass "built a.img in $(($(now_ms) - t0)) ms"
mkdisk "$OUT/a2.img" --name a
if cmp -s "$OUT/a.img" "$OUT/a2.img"; then
	pass "reproducible: two builds of a.img are identical"
else
	fail "two builds of a.img differ"
fi
rm -f "$OUT/a2.img"
mkdisk "$OUT/b.img" --name b
mkdisk "$OUT/bench.img" --name bench --mode bench
first=$(mdir -b -i "$OUT/a.img@@1M" ::/loader/entries | sed 's|.*/||' | sort | head -1)
if [ "$first" = hvtest-1-pvh.conf ] && [ "$(entry_key "$OUT/a.img" "$first" linux)" = /vmlinux ]; then
	pass "the first entry ($first) boots /vmlinux"
else
	fail "first entry is '$first', not the vmlinux one"
fi
expect_status 1 "fresh data partition is reported as zeros" check_disk "$OUT/a.img" a

echo "== pattern through the PVH entry (vmlinux)"
boot "$OUT/a.img" hvtest-1-pvh.conf pvh-a
expect_markers pvh-a "hvtest: init" "hvtest: name a mode pattern" \
	"hvtest: modules loaded" "hvtest: wrote pattern a 8192 sectors" \
	"hvtest: verified pattern a" "hvtest: done"
expect_status 0 "check-disk a.img a" check_disk "$OUT/a.img" a
expect_status 1 "check-disk a.img b (another name)" check_disk "$OUT/a.img" b

echo "== pattern through the bzImage entry"
boot "$OUT/b.img" hvtest-2-bzimage.conf bzimage-b
expect_markers bzimage-b "hvtest: wrote pattern b 8192 sectors" \
	"hvtest: verified pattern b" "hvtest: done"
expect_status 0 "check-disk b.img b" check_disk "$OUT/b.img" b

echo "== bench"
boot "$OUT/bench.img" hvtest-1-pvh.conf bench
expect_markers bench "hvtest: name bench mode bench" "hvtest: done"
for t in seqwrite seqread randread4k spawn randread4k-net; do
	line=$(markers bench | grep "^hvtest: bench $t " || true)
	if echo "$line" | grep -Eq "^hvtest: bench $t ops=[0-9]+ bytes=[0-9]+ us=[0-9]+ MBps=[0-9.]+ iops=[0-9.]+$"; then
		pass "bench line: $line"
	else
		fail "bench $t: no parseable line (got '$line')"
	fi
done

echo "== read-only disk"
mkdisk "$OUT/ro.img" --name ro --mode readonly
sum=$(sha256sum < "$OUT/ro.img")
RO_DRIVE=,readonly=on
boot "$OUT/ro.img" hvtest-1-pvh.conf readonly
RO_DRIVE=''
expect_markers readonly "hvtest: name ro mode readonly" \
	"hvtest: write to read-only /dev/vda2 refused: dd: error writing '/dev/vda2': Operation not permitted" \
	"hvtest: read-only /dev/vda2 reads" "hvtest: done"
if [ "$(sha256sum < "$OUT/ro.img")" = "$sum" ]; then
	pass "ro.img unchanged"
else
	fail "ro.img changed although QEMU served it read-only"
fi
rm -f "$OUT/ro.img"

echo "== failure path: no disk"
cp "$OUT/b.img" "$OUT/nodisk.img"
boot "$OUT/nodisk.img" hvtest-1-pvh.conf nodisk "hvtest.timeout=2 hvtest.disk=vdb"
if [ "$BOOT_RC" -eq 0 ] && markers nodisk | grep -q '^hvtest: FAIL no /dev/vdb'; then
	pass "no disk: '$(markers nodisk | grep '^hvtest: FAIL')', then power-off"
else
	fail "no disk: QEMU status $BOOT_RC, markers: $(markers nodisk | tr '\n' '|')"
fi
rm -f "$OUT/nodisk.img"

echo "== the broken disk family"
for kind in nogpt noboot noentries nokernel badkernel; do
	mkdisk "$OUT/bad-$kind.img" --kind "$kind" --name "bad-$kind"
done
expect_status 2 "nogpt: no GPT" check_disk "$OUT/bad-nogpt.img" x
if sgdisk -p "$OUT/bad-noboot.img" | grep -q ' EF00 '; then
	fail "noboot: has an EF00 partition"
else
	pass "noboot: a GPT without an EFI System Partition"
fi
if [ -z "$(mdir -b -i "$OUT/bad-noentries.img@@1M" ::/loader/entries)" ] &&
	mdir -b -i "$OUT/bad-noentries.img@@1M" ::/vmlinux > /dev/null 2>&1; then
	pass "noentries: kernels present, /loader/entries empty"
else
	fail "noentries: unexpected ESP contents"
fi
if [ "$(entry_key "$OUT/bad-nokernel.img" hvtest-1-pvh.conf linux)" = /vmlinux ] &&
	! mdir -b -i "$OUT/bad-nokernel.img@@1M" ::/vmlinux > /dev/null 2>&1 &&
	! mdir -b -i "$OUT/bad-nokernel.img@@1M" ::/vmlinuz > /dev/null 2>&1; then
	pass "nokernel: entries name /vmlinux and /vmlinuz, which are missing"
else
	fail "nokernel: unexpected ESP contents"
fi
mcopy -o -i "$OUT/bad-badkernel.img@@1M" ::/vmlinux "$OUT/bad.vmlinux"
mcopy -o -i "$OUT/bad-badkernel.img@@1M" ::/vmlinuz "$OUT/bad.vmlinuz"
if [ "$(head -c 4 "$OUT/bad.vmlinux" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] &&
	[ "$(stat -c %s "$OUT/bad.vmlinux")" -eq 1048576 ] &&
	! dd if="$OUT/bad.vmlinuz" bs=1 skip=514 count=4 2>/dev/null | grep -q HdrS; then
	pass "badkernel: /vmlinux truncated to 1 MiB, /vmlinuz without its HdrS magic"
else
	fail "badkernel: kernels not corrupted as intended"
fi
rm -f "$OUT/bad.vmlinux" "$OUT/bad.vmlinuz"

echo "== sizes"
ls -ls "$OUT"/*.img | awk '{printf "  %-48s %4d MiB, %4d MiB allocated\n", $NF, $6 / 1048576, $1 / 1024}'

echo "disk-test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/bin/sh
# Build a BIOS-bootable GRUB ISO that loads the hypervisor through Multiboot2.
# Usage: mkiso.sh OUT.iso KERNEL.elf CMDLINE [MODULE_FILE...]
# Each module is loaded with its file name as its name (module2 ... NAME).
set -eu

if [ $# -lt 3 ]; then
	echo "usage: $0 OUT.iso KERNEL.elf CMDLINE [MODULE_FILE...]" >&2
	exit 2
fi
out=$1 kernel=$2 cmdline=$3
shift 3

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/boot/grub" "$tmp/boot/hv"
cp "$kernel" "$tmp/boot/hv/hv.elf"
{
	echo "set timeout=0"
	echo "set default=0"
	echo "menuentry \"hv\" {"
	echo "	multiboot2 /boot/hv/hv.elf $cmdline"
	for m in "$@"; do
		[ -f "$m" ] || { echo "mkiso: no such module: $m" >&2; exit 1; }
		name=$(basename "$m")
		cp "$m" "$tmp/boot/hv/$name"
		echo "	module2 /boot/hv/$name $name"
	done
	echo "	boot"
	echo "}"
} > "$tmp/boot/grub/grub.cfg"
# Only the BIOS platform: Bochs and BIOS machines. UEFI uses the ESP instead.
grub-mkrescue -d /usr/lib/grub/i386-pc -o "$out" "$tmp" >"$tmp.log" 2>&1 || {
	cat "$tmp.log" >&2
	rm -f "$tmp.log"
	exit 1
}
rm -f "$tmp.log"

#!/bin/sh
# A bootable installer ISO from Debian's netboot installer (package
# debian-installer-12-netboot-amd64): its text-frontend kernel and initrd.gz
# behind GRUB (grub-mkrescue: grub-efi-amd64-bin, xorriso, mtools), with the
# installer's console on the first serial port.
#   tools/mkinstaller-iso.sh [--dir DIR] [--timeout SECONDS] [--append OPTIONS] OUT.iso
# DIR holds `linux` and `initrd.gz` (default: the package's text images).
# OPTIONS are added to the kernel command line after console=ttyS0,115200n8
# (e.g. "priority=low"). The ISO is a hybrid: El Torito for CDs (BIOS and
# UEFI) and a GPT whose EFI System Partition is GRUB's efi.img, so that UEFI
# firmware also boots it as a disk with 512-byte blocks (a USB stick, a
# virtio-blk disk), where it does not read El Torito.
set -eu

DI=/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64

usage() {
	echo "usage: ${0##*/} [--dir DIR] [--timeout SECONDS] [--append OPTIONS] OUT.iso" >&2
	echo "  DIR: holds linux and initrd.gz (default $DI," >&2
	echo "       from: apt install debian-installer-12-netboot-amd64)" >&2
	exit 2
}

die() {
	echo "${0##*/}: $*" >&2
	exit 1
}

dir=$DI timeout=5 append=''
while [ $# -gt 0 ]; do
	case "$1" in
	--dir) [ $# -ge 2 ] || usage; dir=$2; shift 2 ;;
	--timeout) [ $# -ge 2 ] || usage; timeout=$2; shift 2 ;;
	--append) [ $# -ge 2 ] || usage; append=" $2"; shift 2 ;;
	-*) usage ;;
	*) break ;;
	esac
done
[ $# -eq 1 ] || usage
out=$1
case "$timeout" in
'' | *[!0-9]*) die "--timeout: '$timeout' is not a number of seconds" ;;
esac
for f in linux initrd.gz; do
	[ -f "$dir/$f" ] || die "no $dir/$f (apt install debian-installer-12-netboot-amd64, or give --dir)"
done
command -v grub-mkrescue >/dev/null || die "no grub-mkrescue (apt install grub-common)"
[ -d /usr/lib/grub/x86_64-efi ] || die "no GRUB for UEFI (apt install grub-efi-amd64-bin)"
command -v xorriso >/dev/null || die "no xorriso (apt install xorriso)"
command -v mformat >/dev/null || die "no mformat (apt install mtools)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Where Debian's own installer ISOs keep them.
mkdir -p "$tmp/iso/install.amd" "$tmp/iso/boot/grub"
cp "$dir/linux" "$tmp/iso/install.amd/vmlinuz"
cp "$dir/initrd.gz" "$tmp/iso/install.amd/initrd.gz"
# GRUB's own console: on UEFI that is the firmware's, which OVMF (and most
# servers' firmware) also puts out on the serial port. Options after "---"
# are the ones the installer copies to the installed system.
cat >"$tmp/iso/boot/grub/grub.cfg" <<EOF
set timeout=$timeout
menuentry "Install Debian (serial console)" {
	echo "GRUB: loading the installer"
	linux /install.amd/vmlinuz console=ttyS0,115200n8$append ---
	initrd /install.amd/initrd.gz
}
EOF
grub-mkrescue -o "$out.tmp" "$tmp/iso" --locales= --fonts= --themes= \
	>"$tmp/mkrescue.log" 2>&1 || {
	cat "$tmp/mkrescue.log" >&2
	rm -f "$out.tmp"
	die "grub-mkrescue failed"
}
# UEFI firmware on a 512-byte-block disk finds the loader only through the
# partition table: check that the EFI System Partition is in it.
sgdisk -p "$out.tmp" 2>/dev/null | grep -q ' EF00 ' || {
	rm -f "$out.tmp"
	die "grub-mkrescue made no EFI System Partition (is grub-efi-amd64-bin installed?)"
}
mv "$out.tmp" "$out"

#!/bin/sh
# A GPT disk laid out as distributions install UEFI systems: an EFI System
# Partition holding GRUB EFI (Debian's grub-efi-amd64-bin, grub-mkstandalone)
# on the removable-media path \EFI\BOOT\BOOTX64.EFI, with GRUB_CFG built in;
# optionally an ext4 root partition made from a directory and a zeroed data
# partition.
#   tools/mkgrubdisk.sh [--root DIR] [--root-uuid UUID] [--data-mib N] OUT.img GRUB_CFG [ESP_MIB]
# Partitions: 1 the ESP (from 1 MiB to ESP_MIB - 1, default 16: the disk
# size when there is nothing else), 2 the root (ext4 with DIR's
# contents, sized to fit, label "root", UUID fixed so that GRUB_CFG can
# `search --fs-uuid` it), then the data partition (N MiB) when asked for.
set -eu

usage() {
	echo "usage: ${0##*/} [--root DIR] [--root-uuid UUID] [--data-mib N] OUT.img GRUB_CFG [ESP_MIB]" >&2
	exit 2
}

root='' uuid=5c0f3d6e-0000-4000-8000-726f6f746673 data=0
while [ $# -gt 0 ]; do
	case "$1" in
	--root) [ $# -ge 2 ] || usage; root=$2; shift 2 ;;
	--root-uuid) [ $# -ge 2 ] || usage; uuid=$2; shift 2 ;;
	--data-mib) [ $# -ge 2 ] || usage; data=$2; shift 2 ;;
	-*) usage ;;
	*) break ;;
	esac
done
[ $# -ge 2 ] || usage
out=$1
cfg=$2
esp=${3:-16}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Only what the configuration needs: a smaller image reads faster over NBD.
grub-mkstandalone -O x86_64-efi -o "$tmp/BOOTX64.EFI" \
	--install-modules="normal configfile echo halt reboot part_gpt fat sleep ext2 linux search search_fs_uuid rdmsr" \
	--modules="part_gpt fat" --locales= --fonts= --themes= \
	"boot/grub/grub.cfg=$cfg"

rootmib=0
if [ -n "$root" ]; then
	# DIR's size plus half again and 4 MiB for ext4's metadata and journal.
	used=$(du -sm "$root" | cut -f1)
	rootmib=$((used + used / 2 + 4))
	# No root needed: mkfs.ext4 -d copies DIR in, owned by root.
	mkfs.ext4 -q -F -L root -U "$uuid" -E root_owner=0:0 -d "$root" \
		"$tmp/root.img" "${rootmib}M"
fi

rm -f "$out"
truncate -s "$((esp + rootmib + data))M" "$out"
# The ESP from 1 MiB, the others right behind it; the backup GPT takes the
# last MiB.
set -- -o -n 1:2048:+$((esp - 2))M -t 1:ef00 -c 1:"EFI System"
if [ -n "$root" ]; then
	set -- "$@" -n 2:$(((esp - 1) * 2048)):+${rootmib}M -t 2:8300 -c 2:root
fi
if [ "$data" -gt 0 ]; then
	set -- "$@" -n 0:$(((esp - 1 + rootmib) * 2048)):+${data}M -t 0:8300 -c 0:data
fi
sgdisk "$@" "$out" >/dev/null
# mtools reaches the ESP at its offset and is told its size.
part="$out@@1M"
mformat -i "$part" -T $(((esp - 2) * 2048)) -h 64 -s 32 -v ESP ::
mmd -i "$part" ::/EFI ::/EFI/BOOT
mcopy -i "$part" "$tmp/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI
if [ -n "$root" ]; then
	dd if="$tmp/root.img" of="$out" bs=1M seek=$((esp - 1)) conv=notrunc status=none
fi

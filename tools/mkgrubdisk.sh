#!/bin/sh
# A GPT disk laid out as distributions install UEFI systems: one EFI System
# Partition holding GRUB EFI (Debian's grub-efi-amd64-bin, grub-mkstandalone)
# on the removable-media path \EFI\BOOT\BOOTX64.EFI, with GRUB_CFG built in.
#   tools/mkgrubdisk.sh OUT.img GRUB_CFG [SIZE_MIB]
set -eu

[ $# -ge 2 ] || { echo "usage: ${0##*/} OUT.img GRUB_CFG [SIZE_MIB]" >&2; exit 2; }
out=$1
cfg=$2
size=${3:-16}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Only what the configuration needs: a smaller image reads faster over NBD.
grub-mkstandalone -O x86_64-efi -o "$tmp/BOOTX64.EFI" \
	--install-modules="normal configfile echo halt reboot part_gpt fat sleep" \
	--modules="part_gpt fat" --locales= --fonts= --themes= \
	"boot/grub/grub.cfg=$cfg"

rm -f "$out"
truncate -s "${size}M" "$out"
# The ESP from 1 MiB to 1 MiB before the end (the backup GPT is there);
# mtools reaches it at that offset and is told its size.
sgdisk -o -n 1:2048:+$((size - 2))M -t 1:ef00 -c 1:"EFI System" "$out" >/dev/null
part="$out@@1M"
mformat -i "$part" -T $(((size - 2) * 2048)) -h 64 -s 32 -v ESP ::
mmd -i "$part" ::/EFI ::/EFI/BOOT
mcopy -i "$part" "$tmp/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI

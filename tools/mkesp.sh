#!/bin/sh
# Lay out an EFI System Partition folder for the UEFI boot path, and
# optionally a FAT disk image of it:
#   OUTDIR/EFI/BOOT/BOOTX64.EFI   the loader (boot/efi)
#   OUTDIR/hv/hv.elf              the kernel
#   OUTDIR/hv/cmdline.txt         the kernel command line (may be empty)
#   OUTDIR/hv/<module>            one boot module per file
set -eu

prog=${0##*/}

usage() {
	cat >&2 <<EOF
usage: $prog [--image FILE.img] OUTDIR BOOTX64.EFI KERNEL.elf CMDLINE [MODULE_FILE...]

  OUTDIR       folder to create (removed first), usable as QEMU fat:rw:OUTDIR
  BOOTX64.EFI  the UEFI loader
  KERNEL.elf   the hypervisor kernel, installed as hv/hv.elf
  CMDLINE      kernel command line, installed as hv/cmdline.txt ('' for none)
  MODULE_FILE  files installed as hv/<basename>, handed to the kernel as modules
  --image F    also write a raw FAT disk image of OUTDIR to F (bootable by OVMF)
EOF
	exit 2
}

die() {
	echo "$prog: $*" >&2
	exit 1
}

# A FAT image of folder $1 in file $2: the file bytes (not du: cp keeps
# holes) plus 32 KiB per file for cluster rounding, a quarter and 2 MiB on
# top, at least 8 MiB. mkfs.vfat picks FAT12/16/32 for the size.
make_image() {
	bytes=$(find "$1" -type f -exec cat {} + | wc -c)
	files=$(find "$1" | wc -l)
	kib=$((bytes / 1024 + files * 32))
	kib=$((kib + kib / 4 + 2048))
	[ "$kib" -ge 8192 ] || kib=8192
	kib=$(((kib + 1023) / 1024 * 1024))
	rm -f "$2"
	mkfs.vfat -C -n HV_ESP "$2" "$kib" >/dev/null
	MTOOLS_SKIP_CHECK=1 mcopy -s -Q -i "$2" "$1/EFI" "$1/hv" ::/
}

image=""
while [ $# -gt 0 ]; do
	case $1 in
	--image)
		[ $# -ge 2 ] || usage
		image=$2
		shift 2
		;;
	--image=*)
		image=${1#--image=}
		shift
		;;
	-h | --help) usage ;;
	--)
		shift
		break
		;;
	-*) die "unknown option '$1' (try --help)" ;;
	*) break ;;
	esac
done
[ $# -ge 4 ] || usage

outdir=$1 loader=$2 kernel=$3 cmdline=$4
shift 4
case $outdir in
'' | / | . | ..) die "refusing OUTDIR '$outdir'" ;;
esac
[ -f "$loader" ] || die "loader '$loader' not found"
[ -f "$kernel" ] || die "kernel '$kernel' not found"
if [ -n "$image" ]; then
	command -v mkfs.vfat >/dev/null || die "--image needs mkfs.vfat (apt-get install dosfstools)"
	command -v mcopy >/dev/null || die "--image needs mcopy (apt-get install mtools)"
fi

# FAT names are case-insensitive: catch clashes now, not as a missing module at boot.
seen=" hv.elf cmdline.txt "
for m in "$@"; do
	[ -f "$m" ] || die "module '$m' not found"
	name=$(basename "$m" | tr 'A-Z' 'a-z')
	case $seen in
	*" $name "*) die "module '$m': name clashes with another file in hv/" ;;
	esac
	seen="$seen$name "
done

rm -rf "$outdir"
mkdir -p "$outdir/EFI/BOOT" "$outdir/hv"
cp "$loader" "$outdir/EFI/BOOT/BOOTX64.EFI"
cp "$kernel" "$outdir/hv/hv.elf"
if [ -n "$cmdline" ]; then
	printf '%s\n' "$cmdline" >"$outdir/hv/cmdline.txt"
else
	: >"$outdir/hv/cmdline.txt"
fi
for m in "$@"; do
	cp "$m" "$outdir/hv/$(basename "$m")"
done

if [ -n "$image" ]; then
	make_image "$outdir" "$image"
fi

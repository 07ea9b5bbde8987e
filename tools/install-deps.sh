#!/bin/sh
# Install the Debian packages the build, `make run` and `make test` need.
# Idempotent: does nothing when every package is already installed.
set -eu

PKGS="build-essential nasm binutils gnu-efi mtools dosfstools xorriso
grub-pc-bin grub-common grub-efi-amd64-bin bochs bochsbios vgabios qemu-system-x86 ovmf
libcmocka-dev clang-format python3 clang libclang-rt-14-dev
qemu-utils nbdkit nbd-server socat iproute2 gdisk acpica-tools kmod vde2
debian-installer-12-netboot-amd64"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing

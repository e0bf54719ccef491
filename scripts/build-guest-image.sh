#!/usr/bin/env bash
# Build the Debian 12 guest image that `proxmox-sim --guests qemu` boots
# (issue 22): a small bookworm root file system with a kernel, cloud-init,
# qemu-guest-agent and openssh-server, made with mmdebstrap from Debian's
# archive only.
#
#   scripts/build-guest-image.sh [OUTDIR]
#
# OUTDIR gets:
#   root.qcow2   a whole-disk ext4 file system (no partition table), made with
#                `mkfs.ext4 -d ROOTFS` on a sparse raw file (no loop device, no
#                mount) and converted to qcow2
#   vmlinuz      the kernel, for direct kernel boot
#   initrd.img   its initramfs (virtio_blk and ext4 included: checked)
#   done         written last: a directory without it is never reused
# Boot: -kernel vmlinuz -initrd initrd.img -append "root=/dev/vda rw console=ttyS0"
#
# The default OUTDIR is ${XDG_CACHE_HOME:-$HOME/.cache}/pve-gitops/guest-image/
# <first 16 hex digits of this script's sha256>/, so a changed script builds a
# new image and an unchanged one reuses the old. A complete OUTDIR is reused
# as it is (no root needed then); otherwise the image is built in a temporary
# directory beside it and renamed into place, so an interrupted build is never
# taken for a finished one. The last line on stdout is OUTDIR.
#
# The image has no root password, no authorized key and no SSH host keys:
# cloud-init (NoCloud datasource only) creates the user, installs the keys and
# generates the host keys on first boot. It has no apt sources either: a guest
# in a test has no network beyond the host, and cloud-init's package_upgrade
# must not try to reach one. openssh-sftp-server: Ansible copies its modules
# over SFTP (a Recommends of openssh-server, which are not installed).
set -euo pipefail

prog=build-guest-image
say() { echo "$prog: $*" >&2; }
die() {
	say "$*"
	exit 1
}

script=$(readlink -f "${BASH_SOURCE[0]}")
hash=$(sha256sum "$script" | cut -c1-16)

if [[ $# -gt 1 ]]; then
	die "usage: $0 [OUTDIR]"
fi
if [[ $# -eq 1 ]]; then
	outdir=$1
else
	outdir=${XDG_CACHE_HOME:-$HOME/.cache}/pve-gitops/guest-image/$hash
fi
outdir=$(readlink -m "$outdir")

complete() {
	[[ -f $1/done && -s $1/root.qcow2 && -s $1/vmlinuz && -s $1/initrd.img ]]
}

if complete "$outdir"; then
	say "reusing $outdir"
	echo "$outdir"
	exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
	die "building the image needs root (mmdebstrap --mode=root and mkfs.ext4 -d" \
		"must create and read root-owned files); run it as root, or once as root" \
		"to fill the cache at $outdir"
fi
for tool in mmdebstrap mkfs.ext4 qemu-img flock; do
	command -v "$tool" >/dev/null 2>&1 ||
		die "$tool not found (scripts/install-deps.sh installs mmdebstrap, e2fsprogs, qemu-utils)"
done

parent=$(dirname "$outdir")
mkdir -p "$parent"

# One build at a time for this OUTDIR: a second caller waits, then reuses.
exec 9>"$outdir.lock"
flock 9
if complete "$outdir"; then
	say "reusing $outdir (built while waiting)"
	echo "$outdir"
	exit 0
fi

tmp=$(mktemp -d "$parent/.build.$(basename "$outdir").XXXXXX")
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT
rootfs=$tmp/rootfs

mirror=http://deb.debian.org/debian
security=http://deb.debian.org/debian-security
packages=(
	linux-image-amd64 initramfs-tools systemd-sysv udev dbus
	cloud-init qemu-guest-agent openssh-server openssh-sftp-server sudo python3
	e2fsprogs ifupdown iproute2 netbase
)

say "mmdebstrap bookworm into $rootfs (takes a few minutes)"
start=$(date +%s)
# An initramfs with every block and file system driver (MODULES=most, which
# is also initramfs-tools' default) so it finds /dev/vda on virtio-blk; it is
# written before the kernel's postinst runs update-initramfs.
mmdebstrap --mode=root --variant=minbase \
	--aptopt='APT::Install-Recommends "false"' \
	--include="$(
		IFS=,
		echo "${packages[*]}"
	)" \
	--setup-hook='mkdir -p "$1/etc/initramfs-tools/conf.d"' \
	--setup-hook='echo MODULES=most > "$1/etc/initramfs-tools/conf.d/pve-gitops"' \
	--customize-hook='chroot "$1" systemctl enable ssh.service' \
	bookworm "$rootfs" \
	"deb $mirror bookworm main" \
	"deb $mirror bookworm-updates main" \
	"deb $security bookworm-security main" >&2

say "configuring the image"
cat >"$rootfs/etc/fstab" <<'EOF'
/dev/vda / ext4 defaults,errors=remount-ro 0 1
EOF
echo localhost >"$rootfs/etc/hostname"
cat >"$rootfs/etc/hosts" <<'EOF'
127.0.0.1 localhost
::1 localhost ip6-localhost ip6-loopback
EOF
# cloud-init's ifupdown renderer writes interfaces.d/50-cloud-init.
cat >"$rootfs/etc/network/interfaces" <<'EOF'
auto lo
iface lo inet loopback

source /etc/network/interfaces.d/*
EOF
mkdir -p "$rootfs/etc/network/interfaces.d"
# NoCloud only (the cloud-init drive Proxmox attaches), and no growpart: the
# root file system is the whole disk, there is no partition to grow.
cat >"$rootfs/etc/cloud/cloud.cfg.d/90_dpkg.cfg" <<'EOF'
# pve-gitops guest image: the NoCloud drive only
datasource_list: [ NoCloud, None ]
EOF
# No locale module either: the image has no locales package, and
# cc_locale's update-locale would fail and leave cloud-init in "error".
cat >"$rootfs/etc/cloud/cloud.cfg.d/91_pve-gitops.cfg" <<'EOF'
# pve-gitops guest image: / is the whole of /dev/vda (no partition)
growpart:
  mode: "off"
# no locales package in the image
locale: false
EOF
# No host keys (cloud-init generates them on first boot), no machine id (systemd
# makes one on first boot), no root password (the root account stays locked).
rm -f "$rootfs"/etc/ssh/ssh_host_*
: >"$rootfs/etc/machine-id"
rm -f "$rootfs/var/lib/dbus/machine-id"
chroot "$rootfs" passwd -l root >/dev/null
# No apt sources and no package lists (size, and no network to reach).
rm -f "$rootfs/etc/apt/sources.list" "$rootfs"/etc/apt/sources.list.d/*
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin \
	"$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/log/*.log \
	"$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* \
	"$rootfs"/usr/share/locale/*

kernel=$(readlink -f "$rootfs/vmlinuz")
initrd=$(readlink -f "$rootfs/initrd.img")
[[ -f $kernel && -f $initrd ]] || die "no /vmlinuz or /initrd.img in the root file system"
# The rootfs's own lsinitramfs: the host need not have initramfs-tools.
modules=$(chroot "$rootfs" lsinitramfs "/${initrd#"$rootfs"/}")
for mod in virtio_blk ext4 virtio_pci; do
	grep -q "/$mod\.ko" <<<"$modules" || die "the initramfs lacks $mod.ko"
done
cp "$kernel" "$tmp/vmlinuz"
cp "$initrd" "$tmp/initrd.img"
# The guest boots from the copies outside (direct kernel boot); inside, drop
# the initramfs and the drivers no QEMU guest of ours has (sound, GPUs,
# wireless, media, ...): that halves the image.
rm -f "$initrd"
kver=$(basename "$(dirname "$(find "$rootfs/usr/lib/modules" -name modules.dep | head -1)")")
mods=$rootfs/usr/lib/modules/$kver/kernel
rm -rf "$mods/sound" "$mods/net/wireless" "$mods/net/mac80211" "$mods/net/bluetooth" \
	"$mods/drivers/gpu" "$mods/drivers/media" "$mods/drivers/net/wireless" \
	"$mods/drivers/net/ethernet" "$mods/drivers/infiniband" "$mods/drivers/staging" \
	"$mods/drivers/bluetooth" "$mods/drivers/iio" "$mods/drivers/isdn" \
	"$mods/drivers/mtd" "$mods/drivers/hwmon" "$mods/drivers/usb" "$mods/drivers/hid" \
	"$mods/drivers/input/touchscreen" "$mods/drivers/video" "$mods/drivers/thunderbolt" \
	"$mods/drivers/net/can" "$mods/drivers/net/usb" "$mods/drivers/scsi/qla2xxx" \
	"$mods/drivers/scsi/lpfc" "$mods/drivers/scsi/mpt3sas" "$mods/drivers/scsi/megaraid"
chroot "$rootfs" depmod "$kver"

say "mkfs.ext4 -d the root file system into a 2 GiB sparse file"
truncate -s 2G "$tmp/root.raw"
mkfs.ext4 -q -F -L root -d "$rootfs" "$tmp/root.raw" >&2
qemu-img convert -f raw -O qcow2 "$tmp/root.raw" "$tmp/root.qcow2"
rm -rf "$tmp/root.raw" "$rootfs"
printf 'script-sha256 %s\nbuilt %s in %ss\n' "$(sha256sum "$script" | cut -d' ' -f1)" \
	"$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(($(date +%s) - start))" >"$tmp/done"

chmod 755 "$tmp"
rm -rf "$outdir"
mv "$tmp" "$outdir"
trap - EXIT
say "built $outdir ($(du -sh "$outdir" | cut -f1))"
echo "$outdir"

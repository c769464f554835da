#!/bin/bash
# Builds a small phony guest disk image with guestfish (ours by default):
# real partitions and filesystems holding the files inspection looks at.
#
#   make-phony-guest.sh debian OUT.img     Debian 12: /boot (fstab by device), / by UUID
#   make-phony-guest.sh fedora OUT.img     Fedora 39: /boot by UUID, root and swap on LVM
#   LUKS_KEY=pass make-phony-guest.sh debian-luks OUT.img
#                                          the Debian guest with / on LUKS
#
# GUESTFISH names the guestfish binary to use.
set -euo pipefail
kind=$1 out=$2
fish=${GUESTFISH:-guestfish}
here=$(cd "$(dirname "$0")" && pwd)
rm -f "$out"
truncate -s 128M "$out"
case $kind in
debian|debian-luks)
    # debian-luks: the same guest with / encrypted (LUKS on /dev/sda2,
    # passphrase in $LUKS_KEY); the script goes in a file so that stdin
    # can carry the passphrase.
    root=/dev/sda2 mkroot="mkfs ext4 /dev/sda2 label:debroot"
    if [ $kind = debian-luks ]; then
        root=/dev/mapper/root
        mkroot="luks-format /dev/sda2 0
cryptsetup-open /dev/sda2 root
mkfs ext4 /dev/mapper/root label:debroot"
    fi
    script=$(mktemp)
    trap 'rm -f "$script"' EXIT
    cat >"$script" <<EOF2
run
part-init /dev/sda mbr
part-add /dev/sda p 2048 67583
part-add /dev/sda p 67584 -2048
mkfs ext2 /dev/sda1
$mkroot
mount $root /
mkdir-p /etc
mkdir-p /usr/bin
mkdir-p /var/lib/dpkg
mkdir /boot
ln-s usr/bin /bin
mount /dev/sda1 /boot
upload $here/debian/os-release /etc/os-release
write /etc/debian_version "12.4\n"
write /etc/hostname "debian.example.org\n"
upload $here/debian/fstab /etc/fstab
upload /bin/ls /usr/bin/ls
upload $here/debian/dpkg-status /var/lib/dpkg/status
touch /boot/vmlinuz-6.1.0-13-amd64
EOF2
    printf '%s\n%s\n' "${LUKS_KEY:-}" "${LUKS_KEY:-}" | "$fish" --keys-from-stdin -a "$out" -f "$script"
    ;;
fedora)
    # An RPM database (SQLite, as Fedora's) with two packages, when the host
    # has rpmbuild (Debian package rpm); otherwise the guest has none.
    rpmtar=
    if command -v rpmbuild >/dev/null; then
        tmp=$(mktemp -d)
        trap 'rm -rf "$tmp"' EXIT
        for spec in "$here"/fedora/*.spec; do
            rpmbuild --quiet --define "_topdir $tmp/build" -bb "$spec" >/dev/null 2>&1
        done
        rpm --root "$tmp/root" --dbpath /usr/lib/sysimage/rpm --initdb
        rpm --root "$tmp/root" --dbpath /usr/lib/sysimage/rpm -i --justdb --nodeps --noscripts \
            "$tmp"/build/RPMS/noarch/*.rpm 2>/dev/null
        tar -C "$tmp/root/usr/lib/sysimage/rpm" -cf "$tmp/rpmdb.tar" .
        rpmtar="mkdir-p /usr/lib/sysimage/rpm
tar-in $tmp/rpmdb.tar /usr/lib/sysimage/rpm
mkdir-p /var/lib
ln-s ../../usr/lib/sysimage/rpm /var/lib/rpm"
    fi
    "$fish" -a "$out" <<EOF2
run
part-init /dev/sda gpt
part-add /dev/sda p 2048 67583
part-add /dev/sda p 67584 -2048
mkfs ext4 /dev/sda1 label:BOOT
pvcreate /dev/sda2
vgcreate fedora /dev/sda2
lvcreate root fedora 48
lvcreate swap fedora 8
mkfs ext4 /dev/fedora/root
mount /dev/fedora/root /
mkdir-p /etc
mkdir-p /usr/lib
mkdir-p /usr/bin
mkdir /boot
ln-s usr/bin /bin
upload $here/fedora/os-release /usr/lib/os-release
ln-s ../usr/lib/os-release /etc/os-release
write /etc/hostname "fedora.example.com\n"
upload $here/fedora/fstab /etc/fstab
upload /bin/ls /usr/bin/bash
$rpmtar
EOF2
    ;;
*) echo "unknown phony guest: $kind" >&2; exit 2 ;;
esac

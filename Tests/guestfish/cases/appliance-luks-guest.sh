. "$(dirname "$0")/common.inc"
# An encrypted guest: the phony Debian guest with / on LUKS on /dev/sda2.
# guestfish -i and the virt tools open it with --key
# (by device or LUKS UUID, key string or key file) or a passphrase read
# from stdin, then inspect what is inside. The random UUID prints as UUID.
v() { "$VIRT_TOOLS" "$@" 2>&1 | sed "s/$uuid/UUID/g"; echo "rc=${PIPESTATUS[0]}"; }
gu() { "$GUESTFISH" "$@" 2>&1 | sed "s/$uuid/UUID/g"; echo "rc=${PIPESTATUS[0]}"; }
phony=$(dirname "$0")/../../phony-guests/make-phony-guest.sh
LUKS_KEY=secret "$phony" debian-luks luks.img >/dev/null 2>&1 || echo "making luks.img failed"
uuid=$("$GUESTFISH" --ro -a luks.img -- run : luks-uuid /dev/sda2)
printf secret >keyfile

# closed, the LUKS container is no filesystem; opened, what is inside is
printf 'secret\n' | gu --ro --keys-from-stdin -a luks.img -- run : list-filesystems : echo -- \
    : cryptsetup-open /dev/sda2 inner : list-filesystems : list-dm-devices

# the passphrase from stdin, from --key by device, by UUID from a file
printf 'secret\n' | v cat --keys-from-stdin -a luks.img /etc/hostname
v cat --key /dev/sda2:key:secret -a luks.img /etc/hostname
v cat --key "$uuid:file:keyfile" -a luks.img /etc/hostname
# several keys for one device: the one that fits is used
v cat --key /dev/sda2:key:wrong --key /dev/sda2:key:secret -a luks.img /etc/hostname
v filesystems --key /dev/sda2:key:secret -a luks.img --all --long
v inspector --key /dev/sda2:key:secret -a luks.img | grep -E '<(name|hostname|mountpoint)'
printf 'secret\n' | gu --ro --keys-from-stdin -a luks.img -i -- cat /etc/hostname : list-dm-devices
gu --ro --key /dev/sda2:key:secret -a luks.img -i -- inspect-get-roots : inspect-get-mountpoints /dev/mapper/luks-$uuid

# errors: a wrong key, a key file that is not there, a malformed --key,
# no key at all (stdin empty)
v cat --key /dev/sda2:key:wrong -a luks.img /etc/hostname
v cat --key /dev/sda2:file:no-such-keyfile -a luks.img /etc/hostname
v cat --key /dev/sda2 -a luks.img /etc/hostname
v cat --key /dev/sda2:password:x -a luks.img /etc/hostname
v cat --keys-from-stdin -a luks.img /etc/hostname </dev/null
gu --ro --key nonsense -a luks.img -i
printf 'wrong\n' | gu --ro --keys-from-stdin -a luks.img -i -- cat /etc/hostname

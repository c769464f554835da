. "$(dirname "$0")/common.inc"
# virt-copy-in, virt-copy-out, virt-edit and virt-log on the phony Debian
# guest (found by inspection), virt-format and virt-alignment-scan on blank
# disks, run through $VIRT_TOOLS.
v() { "$VIRT_TOOLS" "$@"; echo "rc=$?"; }
phony=$(dirname "$0")/../../phony-guests/make-phony-guest.sh
"$phony" debian debian.img >/dev/null 2>&1 || echo "making debian.img failed"
mkdir -p src/sub src/empty out
echo one > src/a.txt; echo two > src/sub/b.txt; ln -s a.txt src/link; chmod 640 src/sub/b.txt
echo single > single.txt
v copy-in -a debian.img src single.txt /boot
v cat -a debian.img /boot/src/sub/b.txt /boot/single.txt
v copy-out -a debian.img /boot/src /etc/fstab out
diff -r src out/src && echo copy round trip ok
stat -c '%a %F' out/src/sub/b.txt out/src/link out/src/empty
head -1 out/fstab
# errors: nothing copied, the disk unchanged
v copy-in -a debian.img no-such-file /boot
v copy-in -a debian.img src /no-such-dir
v copy-out -a debian.img /etc/hostname no-such-local-dir
v copy-out -a debian.img /no-such-guest-file out

# virt-edit -e: every line through a Perl expression; -b keeps the original
v edit -a debian.img /etc/hostname -e 's/^.*$/renamed/'
v cat -a debian.img /etc/hostname
v edit -a debian.img -b .orig /etc/hostname -e '$_ = uc $_ if $lineno == 1'
v cat -a debian.img /etc/hostname /etc/hostname.orig
# $EDITOR, with arguments; owner, mode and xattrs carried over
g -a debian.img -i -- chmod 0604 /etc/hostname : chown 12 34 /etc/hostname : setxattr user.tag kept 4 /etc/hostname
EDITOR="sed -i s/RENAMED/edited/" v edit -a debian.img /etc/hostname
g --ro -a debian.img -i -- cat /etc/hostname : getxattr /etc/hostname user.tag
g --ro -a debian.img -i -- stat /etc/hostname | grep -E '^(mode|uid|gid):'
g --ro -a debian.img -i -- ls /etc | grep -c virt-edit
# an editor that leaves the file alone changes nothing; one that fails is an error
EDITOR=true v edit -a debian.img /etc/hostname
EDITOR=false v edit -a debian.img /etc/hostname
v edit -a debian.img /etc -e 1
v edit -a debian.img /etc/no-such-file -e 1
v edit -a debian.img /etc/hostname -e 'this is not perl ('
v cat -a debian.img /etc/hostname

# virt-format: the disk erased, then partition table, LVM, filesystem as asked
truncate -s 64M blank.img
v format --format=raw -a blank.img --filesystem=ext4 --label=DATA
g --ro -a blank.img -- run : list-filesystems : vfs-label /dev/sda1 : part-get-parttype /dev/sda : part-get-mbr-id /dev/sda 1
v format -a blank.img --lvm=/dev/vg0/data --filesystem=ext2
g --ro -a blank.img -- run : list-filesystems : lvs : part-get-mbr-id /dev/sda 1
v format -a blank.img --partition=none --filesystem=ext4
g --ro -a blank.img -- run : list-filesystems : list-partitions
v format -a blank.img --partition=gpt
g --ro -a blank.img -- run : list-filesystems : part-get-parttype /dev/sda : lvs
v format -a blank.img --lvm=nonsense
v format

# virt-log: a guest without a log prints nothing; /var/log/syslog as it is;
# a disk without an operating system is an error; no operands are taken
v log -a debian.img
printf 'Nov 22 10:00:00 debian cron[99]: (root) CMD (true)\nNov 22 10:01:00 debian kernel: eth0 up\n' >syslog.txt
g -a debian.img -i -- mkdir-p /var/log : upload syslog.txt /var/log/syslog
v log -a debian.img
v log -a blank.img
v log -a debian.img /etc/hostname

# virt-alignment-scan: sector 63 (512 bytes), 1 MiB, 4K but not 64K; the
# worst decides the exit status (3, 2, 0); -q prints nothing
truncate -s 64M align.img
g -a align.img -- run : part-init /dev/sda mbr : part-add /dev/sda p 63 1023 : part-add /dev/sda p 1024 2047 : part-add /dev/sda p 2056 4095
v alignment-scan --format=raw -a align.img
v alignment-scan -a align.img --format=raw
v alignment-scan -q -a align.img
g -a align.img -- run : part-del /dev/sda 1
v alignment-scan -a align.img
g -a align.img -- run : part-del /dev/sda 3
v alignment-scan -a align.img
v alignment-scan -a blank.img
v alignment-scan

. "$(dirname "$0")/common.inc"
. "$(dirname "$0")/libvirt.inc"
# -d really attaches the domain's disks: formats, writes, read-only disks.
g -N disk.img=fs:ext4:64M -m /dev/sda1 -- write /f "written with -a"
qemu-img create -q -f qcow2 extra.qcow2 32M
libvirt_node
sum_before=$(md5sum < extra.qcow2)
# -d marks the <readonly/> qcow2 disk read-only: writes to it are thrown away.
g -c "$U" -d off -m /dev/sda1 -- cat /f : echo : write /f "written with -d" : list-devices : blockdev-getsize64 /dev/sdb : mkfs ext2 /dev/sdb
[ "$(md5sum < extra.qcow2)" = "$sum_before" ] && echo extra.qcow2 unchanged
g --ro -c "$U" -d running -m /dev/sda1 -- cat /f : echo : list-devices
g --ro -c "$U" -d "$OFF_UUID" -- run : list-filesystems

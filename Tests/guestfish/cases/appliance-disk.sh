. "$(dirname "$0")/common.inc"
# Make a disk, then open it with -a/-m, read-write and read-only.
g -N disk.img=fs:ext4:64M -m /dev/sda1 -- write /f "first" : mkdir /d
g -a disk.img -m /dev/sda1 -- cat /f : echo : write-append /f " second" : ls /
g --ro -a disk.img -m /dev/sda1 -- cat /f : echo
g --ro -a disk.img -m /dev/sda1 -- write /g "x" 2>&1 | sed 's/[0-9]/N/g'
g --format=raw -a disk.img -- run : mount /dev/sda1 / : cat /f : echo : list-devices
# Options in the -m argument: mountpoint, options, fstype.
g -a disk.img -m /dev/sda1:/:ro:ext4 -- cat /f : echo
# Prepared LVM and boot/root layouts.
g -N lvfs:/dev/VG/LV:ext4:64M -m /dev/VG/LV -- lvs : vgs : write /x y : cat /x : echo
g -N bootroot:ext2:ext4:64M:16M -- list-filesystems
g -N part:32M:gpt -- part-get-parttype /dev/sda : list-partitions
g -N disk:8M -- list-partitions : blockdev-getsize64 /dev/sda

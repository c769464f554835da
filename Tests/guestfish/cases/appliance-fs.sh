. "$(dirname "$0")/common.inc"
# -N fs:ext4 prepares /dev/sda1; -m mounts it. Timestamps and UUIDs are
# filtered out of the output.
g -N fs:ext4:64M -m /dev/sda1 -- \
    write /hello "hello world" : cat /hello : ls / : \
    mkdir-mode /dir 0750 : touch /dir/f : ls /dir : is-dir /dir : is-file /dir : \
    exists /nope : filesize /hello : pread /hello 5 6 : echo : \
    stat /hello : lstatlist / "hello dir" : part-list /dev/sda : vfs-type /dev/sda1 : \
    list-partitions : list-filesystems : umask 022 : get-umask : \
    lvs : mounts : statvfs / : command-lines "/nonexistent" \
  | grep -Ev '^ *(atime|mtime|ctime|dev|ino|fsid|bfree|bavail|blocks|files|ffree|favail): '
ls test1.img
# An error inside the appliance, with and without "-".
g -N fs:ext4:32M -m /dev/sda1 -- cat /nonexistent
printf '%s\n' '-cat /nonexistent' 'echo after' 'mkdir /x' 'mkdir /x' 'echo not reached' > s.gf
g -N fs:ext4:32M -m /dev/sda1 -f s.gf

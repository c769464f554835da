. "$(dirname "$0")/common.inc"
# guestfish --listen with a disk and --remote commands, as shell scripts
# use them: run, partition, mkfs, mount, write/cat/ls, failing commands,
# stdin passed to upload, then exit (which syncs the disk).
export TMPDIR=$PWD SHELL=/bin/bash
unset XDG_RUNTIME_DIR GUESTFISH_PID
# Do not leave a server behind if the case goes wrong.
trap '[ -n "${GUESTFISH_PID:-}" ] && "$GUESTFISH" --remote exit >/dev/null 2>&1' EXIT
truncate -s 64M disk.img
eval "$("$GUESTFISH" --listen -a disk.img)"; echo "listen rc=$?"
g --remote run
g --remote list-devices
g --remote part-disk /dev/sda mbr : mkfs ext4 /dev/sda1
g --remote mount /dev/sda1 /
g --remote write /hello "hello world"
g --remote=$GUESTFISH_PID cat /hello
g --remote ls /
g --remote cat /nonexistent
g --remote mkdir /d : mkdir /d : echo not reached
echo "from stdin" | "$GUESTFISH" --remote upload - /up; echo "rc=$?"
printf '%s\n' 'cat /up' 'ls / | sort -r' 'is-dir /d' | "$GUESTFISH" --remote; echo "rc=$?"
g --remote exit
g --remote ls / 2>&1 | sed 's/(pid .*/(...)/'
# exit shut the appliance down: the data is on the disk.
g --ro -a disk.img -m /dev/sda1 -- cat /hello : cat /up

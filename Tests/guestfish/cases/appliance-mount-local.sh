. "$(dirname "$0")/common.inc"
# mount-local + mount-local-run: guestfish serves the guest filesystem on
# the host through FUSE; a background shell uses it with ordinary tools and
# unmounts it, which ends mount-local-run; then guestfish checks the guest.
mkdir mp
(
    for i in $(seq 600); do mountpoint -q mp && break; sleep 0.1; done
    ls mp
    cat mp/hello; echo
    echo "from the host" > mp/new
    mkdir mp/d
    ln -s hello mp/link
    readlink mp/link
    rm mp/gone
    mv mp/new mp/renamed
    ls -1F mp
    stat -c '%s %F' mp/hello mp/d
    fusermount3 -u mp
) > host.out 2>&1 &
g -N fs:ext4:32M -m /dev/sda1 -- write /hello "hi there" : touch /gone : \
    mount-local mp : mount-local-run : cat /renamed : ls / : is-dir /d : readlink /link
wait
cat host.out
# Read-only: writes fail with EROFS.
(
    for i in $(seq 600); do mountpoint -q mp && break; sleep 0.1; done
    cat mp/hello; echo
    touch mp/x 2>&1 | sed 's/^touch: //'
    fusermount3 -u mp
) > host.out 2>&1 &
g -N fs:ext4:32M -m /dev/sda1 -- write /hello "read only" : mount-local mp readonly:true : mount-local-run : exists /x
wait
cat host.out
# Errors: no mount-local first; umount-local with nothing mounted; a missing directory.
g -N fs:ext4:32M -m /dev/sda1 -- mount-local-run
g -N fs:ext4:32M -m /dev/sda1 -- umount-local
g -N fs:ext4:32M -m /dev/sda1 -- mount-local nowhere

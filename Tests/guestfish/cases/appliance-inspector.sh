. "$(dirname "$0")/common.inc"
# -i: inspection finds the phony guest's root and mounts its filesystems as
# its fstab says (a logical volume root, /boot by label); no OS and two OSes
# are errors with exit status 1.
phony=$(dirname "$0")/../../phony-guests/make-phony-guest.sh
"$phony" debian debian.img >/dev/null 2>&1 || echo "making debian.img failed"
"$phony" fedora fedora.img >/dev/null 2>&1 || echo "making fedora.img failed"
g --ro -a fedora.img -i -- mounts : cat /etc/hostname : inspect-get-roots : \
    inspect-get-mountpoints /dev/fedora/root : inspect-get-product-name /dev/fedora/root : \
    inspect-get-arch /dev/fedora/root
# The RPM database (made with the host's rpmbuild: tools/setup.sh test installs rpm).
command -v rpmbuild >/dev/null || echo "rpmbuild is missing: the phony Fedora guest has no RPM database"
g --ro -a fedora.img -i <<'SCRIPT'
inspect-list-applications2 /dev/fedora/root | grep -E '^  app2_(name|epoch|version|release|source_package):'
SCRIPT
g -a debian.img -i <<'SCRIPT'
inspect-get-roots
inspect-get-distro /dev/sda2
inspect-get-major-version /dev/sda2
inspect-get-minor-version /dev/sda2
inspect-get-package-management /dev/sda2
inspect-get-osinfo /dev/sda2
ls /boot
write /boot/new "written through -i\n"
inspect-list-applications /dev/sda2 | grep -E '^  app_(name|version|release|epoch):'
SCRIPT
g --ro -a debian.img -m /dev/sda1 -- cat /new
truncate -s 16M blank.img
g --ro -a blank.img -i -- echo not reached
g --ro -a debian.img -a fedora.img -i -- echo not reached

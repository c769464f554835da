# Inspection through the Python binding, the way libguestfs's inspect_vm
# example uses it: a phony Debian guest is built with the binding itself,
# then inspected read-only with python_return_dict=True.

import os

import pytest

import guestfs

pytestmark = pytest.mark.appliance

OS_RELEASE = b'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n'
DPKG_STATUS = b"""Package: hello
Status: install ok installed
Architecture: amd64
Version: 2.10-3
Description: example package based on GNU hello

Package: gone
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0-1
Description: removed

"""


def make_guest(path):
    g = guestfs.GuestFS(python_return_dict=True)
    g.disk_create(path, "raw", 96 * 1024 * 1024)
    g.add_drive_opts(path, format="raw")
    g.launch()
    g.part_init("/dev/sda", "mbr")
    g.part_add("/dev/sda", "p", 2048, 34815)
    g.part_add("/dev/sda", "p", 34816, -2048)
    g.mkfs("ext4", "/dev/sda2")
    g.mkfs("ext2", "/dev/sda1", label="BOOT")
    uuid = g.vfs_uuid("/dev/sda2")
    g.mount("/dev/sda2", "/")
    for d in ("/boot", "/etc", "/usr/bin", "/var/lib/dpkg"):
        g.mkdir_p(d)
    g.mount("/dev/sda1", "/boot")
    g.write("/etc/os-release", OS_RELEASE)
    g.write("/etc/debian_version", b"12.5\n")
    g.write("/etc/hostname", b"pyguest\n")
    g.write("/etc/fstab", ("UUID=%s / ext4 defaults 0 1\nLABEL=BOOT /boot ext2 defaults 0 2\n" % uuid).encode())
    g.upload("/bin/ls", "/usr/bin/ls")
    g.ln_s("usr/bin", "/bin")
    g.write("/var/lib/dpkg/status", DPKG_STATUS)
    g.shutdown()
    g.close()


def test_inspect_phony_debian(tmp_path):
    path = str(tmp_path / "debian.img")
    make_guest(path)

    g = guestfs.GuestFS(python_return_dict=True)
    g.add_drive_opts(path, format="raw", readonly=1)
    g.launch()
    roots = g.inspect_os()
    assert roots == ["/dev/sda2"]
    root = roots[0]
    assert g.inspect_get_type(root) == "linux"
    assert g.inspect_get_distro(root) == "debian"
    assert (g.inspect_get_major_version(root), g.inspect_get_minor_version(root)) == (12, 5)
    assert g.inspect_get_hostname(root) == "pyguest"
    assert g.inspect_get_arch(root) == os.uname().machine
    assert g.inspect_get_osinfo(root) == "debian12"
    mps = g.inspect_get_mountpoints(root)
    assert mps == {"/": "/dev/sda2", "/boot": "/dev/sda1"}
    for mp in sorted(mps, key=len):
        g.mount_ro(mps[mp], mp)
    apps = g.inspect_list_applications2(root)
    assert [(a["app2_name"], a["app2_version"], a["app2_release"]) for a in apps] == [("hello", "2.10", "3")]
    assert g.cat("/etc/hostname") == "pyguest\n"
    with pytest.raises(RuntimeError, match="/dev/sda1"):
        g.inspect_get_distro("/dev/sda1")
    g.close()

# The module itself: that it is ours, loads our C library without
# LD_LIBRARY_PATH, and exposes the python3-guestfs module-level API.

import os
import shutil
import subprocess
import sys

import pytest

import guestfs
import libguestfsmod

from conftest import loaded_libguestfs

# Debian's libguestfs (and its python3-guestfs) live here; we must never load them.
SYSTEM_DIRS = ("/usr/lib/x86_64-linux-gnu/", "/usr/lib/aarch64-linux-gnu/", "/lib/x86_64-linux-gnu/",
               "/usr/lib64/", "/usr/lib/python3/", "/usr/lib/python3.")


def test_modules_are_ours():
    for mod in (guestfs, libguestfsmod):
        assert not mod.__file__.startswith(SYSTEM_DIRS), mod.__file__
    # Installed side by side.
    assert os.path.dirname(guestfs.__file__) == os.path.dirname(libguestfsmod.__file__)
    # Our generated guestfs.py, not libguestfs's.
    with open(guestfs.__file__) as f:
        assert "swift-guestfs" in f.read(2000)
    expected = os.environ.get("GUESTFS_PY_EXPECT_SITE")
    if expected:
        assert os.path.realpath(guestfs.__file__).startswith(os.path.realpath(expected))


def test_loaded_library_is_ours():
    guestfs.GuestFS().close()
    libs = loaded_libguestfs()
    assert libs, "libguestfs.so is not mapped"
    for lib in libs:
        real = os.path.realpath(lib)
        assert not real.startswith(SYSTEM_DIRS), "loaded the system libguestfs: %s" % real
    expected = os.environ.get("GUESTFS_PY_EXPECT_LIBDIR")
    if expected:
        expected = os.path.realpath(expected)
        for lib in libs:
            assert os.path.dirname(os.path.realpath(lib)) == expected, (lib, expected)


@pytest.mark.skipif(shutil.which("readelf") is None, reason="readelf not installed")
def test_extension_has_run_path():
    out = subprocess.run(["readelf", "-d", libguestfsmod.__file__], check=True,
                         capture_output=True, text=True).stdout
    assert "libguestfs.so" in out            # DT_NEEDED
    assert "RUNPATH" in out or "RPATH" in out, out


def test_loads_without_ld_library_path():
    env = dict(os.environ)
    env.pop("LD_LIBRARY_PATH", None)
    code = (
        "import guestfs, libguestfsmod\n"
        "g = guestfs.GuestFS(); g.set_memsize(600); assert g.get_memsize() == 600; g.close()\n"
        "libs = {l.split()[5] for l in open('/proc/self/maps') if len(l.split()) >= 6 and '/libguestfs.so' in l.split()[5]}\n"
        "import os; print('\\n'.join(sorted(os.path.realpath(p) for p in libs)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    assert out
    for lib in out:
        assert not lib.startswith(SYSTEM_DIRS), lib


def test_event_constants():
    assert guestfs.EVENT_CLOSE == 0x1
    assert guestfs.EVENT_SUBPROCESS_QUIT == 0x2
    assert guestfs.EVENT_LAUNCH_DONE == 0x4
    assert guestfs.EVENT_PROGRESS == 0x8
    assert guestfs.EVENT_APPLIANCE == 0x10
    assert guestfs.EVENT_LIBRARY == 0x20
    assert guestfs.EVENT_TRACE == 0x40
    assert guestfs.EVENT_ENTER == 0x80
    assert guestfs.EVENT_LIBVIRT_AUTH == 0x100
    assert guestfs.EVENT_WARNING == 0x200
    assert guestfs.EVENT_ALL == 0x3ff


def test_event_to_string():
    assert guestfs.event_to_string(guestfs.EVENT_CLOSE) == "close"
    assert guestfs.event_to_string(guestfs.EVENT_PROGRESS) == "progress"
    assert guestfs.event_to_string(guestfs.EVENT_CLOSE | guestfs.EVENT_TRACE) == "close,trace"
    allnames = guestfs.event_to_string(guestfs.EVENT_ALL).split(",")
    assert allnames == ["close", "subprocess_quit", "launch_done", "progress", "appliance",
                        "library", "trace", "enter", "libvirt_auth", "warning"]
    assert libguestfsmod.event_to_string(0) == ""


def test_create_flag_constants():
    assert libguestfsmod.GUESTFS_CREATE_NO_ENVIRONMENT == 1
    assert libguestfsmod.GUESTFS_CREATE_NO_CLOSE_ON_EXIT == 2


def test_closed_handle_is_value_error():
    assert issubclass(guestfs.ClosedHandle, ValueError)


def test_api_surface():
    # A sample of python3-guestfs methods scripts commonly use.
    for name in ("add_drive_opts", "add_drive", "add_drive_ro", "launch", "shutdown", "close",
                 "list_filesystems", "list_partitions", "mount", "mount_ro", "umount_all",
                 "part_disk", "mkfs", "upload", "download", "statns", "ls",
                 "tune2fs_l", "blkid", "write", "cat", "read_file", "set_event_callback",
                 "delete_event_callback", "set_trace", "get_trace", "set_verbose",
                 "get_verbose", "set_memsize", "get_memsize", "disk_create"):
        assert callable(getattr(guestfs.GuestFS, name)), name
    assert guestfs.GuestFS.add_drive_opts is guestfs.GuestFS.add_drive

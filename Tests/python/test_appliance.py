# End to end through a real appliance, written the way a python3-guestfs
# script is: create a disk, partition, mkfs with optargs, mount, upload and
# download a multi-megabyte file, stat, list, hashtables, errors, events.
# Then a second, read-only session checks the data persisted and reads a
# hashtable with python_return_dict=True.

import errno
import hashlib
import os
import threading

import pytest

import guestfs

pytestmark = pytest.mark.appliance

DISK_SIZE = 256 * 1024 * 1024
BIG_SIZE = 6 * 1024 * 1024 + 12345      # a few megabytes, not chunk-aligned


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("appliance")


@pytest.fixture(scope="module")
def big_file(workdir):
    path = workdir / "big.bin"
    path.write_bytes(os.urandom(BIG_SIZE))
    return path


@pytest.fixture(scope="module")
def session(workdir):
    """One launched handle shared by the tests below (launch is slow)."""
    disk = str(workdir / "disk.img")
    events = []

    g = guestfs.GuestFS(python_return_dict=False)

    def cb(ev, eh, buf, array):
        events.append((ev, buf, list(array)))

    eh = g.set_event_callback(cb, guestfs.EVENT_ALL & ~guestfs.EVENT_APPLIANCE)
    g.disk_create(disk, "raw", DISK_SIZE)
    assert os.path.getsize(disk) == DISK_SIZE
    g.add_drive_opts(disk, format="raw")
    g.set_trace(True)
    g.launch()
    yield {"g": g, "disk": disk, "events": events, "eh": eh}
    if g._o:
        g.close()


def test_launch_and_devices(session):
    g = session["g"]
    assert g.get_state() == 2 or g.is_ready()
    assert g.list_devices() == ["/dev/sda"]
    events = session["events"]
    assert any(ev == guestfs.EVENT_LAUNCH_DONE for ev, _, _ in events), \
        sorted({ev for ev, _, _ in events})
    # Trace events for launch itself (set_trace was on).
    assert any(ev == guestfs.EVENT_TRACE and buf.startswith(b"launch") for ev, buf, _ in events)


def test_partition_and_mkfs(session):
    g = session["g"]
    g.part_disk("/dev/sda", "mbr")
    assert g.list_partitions() == ["/dev/sda1"]
    g.mkfs("ext4", "/dev/sda1", blocksize=4096, label="PYTEST")
    assert g.vfs_type("/dev/sda1") == "ext4"
    assert g.vfs_label("/dev/sda1") == "PYTEST"
    g.mount("/dev/sda1", "/")
    assert ("/dev/sda1", "ext4") in g.list_filesystems()


def test_upload_download_sha256(session, big_file, workdir):
    g = session["g"]
    before = len(session["events"])
    g.upload(str(big_file), "/big.bin")
    out = workdir / "big.out"
    g.download("/big.bin", str(out))
    assert os.path.getsize(out) == BIG_SIZE
    assert sha256_file(out) == sha256_file(big_file)
    assert g.checksum("sha256", "/big.bin") == sha256_file(big_file)
    # Progress events, if the daemon sends them, carry
    # [proc_nr, serial, position, total].
    progress = [arr for ev, _, arr in session["events"][before:] if ev == guestfs.EVENT_PROGRESS]
    for arr in progress:
        assert len(arr) == 4
        assert 0 <= arr[2] <= arr[3]


def test_write_read_bytes(session):
    g = session["g"]
    data = bytes(range(256)) * 4
    g.write("/bin.dat", data)
    assert g.read_file("/bin.dat") == data
    g.write("/hello.txt", b"hello, world\n")
    assert g.cat("/hello.txt") == "hello, world\n"


def test_statns(session):
    g = session["g"]
    st = g.statns("/big.bin")
    assert isinstance(st, dict)
    for key in ("st_dev", "st_ino", "st_mode", "st_nlink", "st_uid", "st_gid", "st_rdev",
                "st_size", "st_blksize", "st_blocks", "st_atime_sec", "st_atime_nsec",
                "st_mtime_sec", "st_mtime_nsec", "st_ctime_sec", "st_ctime_nsec"):
        assert key in st, key
        assert isinstance(st[key], int), key
    assert st["st_size"] == BIG_SIZE
    assert st["st_mode"] & 0o170000 == 0o100000      # regular file
    assert st["st_nlink"] == 1
    assert st["st_uid"] == 0
    d = g.statns("/")
    assert d["st_mode"] & 0o170000 == 0o040000       # directory


def test_ls(session):
    g = session["g"]
    names = g.ls("/")
    assert isinstance(names, list)
    assert {"big.bin", "bin.dat", "hello.txt", "lost+found"} <= set(names)
    assert names == sorted(names)


def test_hashtables_as_tuples(session):
    g = session["g"]
    t = g.tune2fs_l("/dev/sda1")
    assert isinstance(t, list) and all(isinstance(p, tuple) and len(p) == 2 for p in t)
    d = dict(t)
    assert d["Filesystem volume name"] == "PYTEST"
    assert d["Block size"] == "4096"
    b = g.blkid("/dev/sda1")
    assert isinstance(b, list)
    bd = dict(b)
    assert bd["TYPE"] == "ext4"
    assert bd["LABEL"] == "PYTEST"


def test_errors_name_the_path(session):
    g = session["g"]
    with pytest.raises(RuntimeError) as ei:
        g.cat("/no/such/file")
    assert "/no/such/file" in str(ei.value)
    assert ei.value.errno == errno.ENOENT
    with pytest.raises(RuntimeError) as ei:
        g.mkdir("/big.bin/sub")
    assert "/big.bin" in str(ei.value)
    assert ei.value.errno == errno.ENOTDIR
    with pytest.raises(RuntimeError):
        g.mount("/dev/sdz9", "/mnt")
    # The handle still works after errors.
    assert g.exists("/big.bin")


def test_upload_error_missing_local_file(session, workdir):
    g = session["g"]
    missing = str(workdir / "does-not-exist")
    with pytest.raises(RuntimeError) as ei:
        g.upload(missing, "/x")
    assert missing in str(ei.value)
    assert g.exists("/big.bin")


def test_trace_events_during_calls(session):
    g = session["g"]
    events = session["events"]
    before = len(events)
    g.ls("/")
    traced = [buf for ev, buf, _ in events[before:] if ev == guestfs.EVENT_TRACE]
    assert any(buf.startswith(b"ls") for buf in traced), traced


def test_shutdown_and_close(session):
    g = session["g"]
    g.umount_all()
    g.sync()
    g.delete_event_callback(session["eh"])
    closed = []
    g.set_event_callback(lambda ev, *a: closed.append(ev), guestfs.EVENT_CLOSE)
    g.shutdown()
    g.close()
    assert closed == [guestfs.EVENT_CLOSE]
    with pytest.raises(guestfs.ClosedHandle):
        g.ls("/")


def test_second_session_readonly_dict(session, big_file, workdir):
    # Runs after test_shutdown_and_close: the disk is free again.
    assert session["g"]._o is None, "first session must be closed first"
    g = guestfs.GuestFS(python_return_dict=True)
    appliance_msgs = []
    threads = set()

    def on_appliance(ev, eh, buf, array):
        assert ev == guestfs.EVENT_APPLIANCE
        appliance_msgs.append(buf)
        threads.add(threading.get_ident())

    try:
        # Verbose: the appliance's console output arrives as EVENT_APPLIANCE,
        # typically from a library thread (the callback takes the GIL itself).
        g.set_verbose(True)
        g.set_event_callback(on_appliance, guestfs.EVENT_APPLIANCE)
        g.add_drive_opts(session["disk"], format="raw", readonly=True)
        g.launch()
        assert appliance_msgs, "no EVENT_APPLIANCE messages with verbose set"
        assert all(isinstance(m, bytes) for m in appliance_msgs)
        g.mount_ro("/dev/sda1", "/")
        assert g.checksum("sha256", "/big.bin") == sha256_file(big_file)
        t = g.tune2fs_l("/dev/sda1")
        assert isinstance(t, dict)
        assert t["Filesystem volume name"] == "PYTEST"
        b = g.blkid("/dev/sda1")
        assert isinstance(b, dict) and b["TYPE"] == "ext4" and b["LABEL"] == "PYTEST"
        with pytest.raises(RuntimeError):
            g.write("/new", b"read-only mount")
        g.shutdown()
    finally:
        g.close()

# Handles without an appliance: lifecycle, properties, optargs, errors,
# return-value conversions (through the internal_test* bindings-test
# actions, which run entirely in the library) and events.

import errno
import gc
import os
import threading

import pytest

import guestfs
import libguestfsmod


# ---------------------------------------------------------------- lifecycle

def test_create_close():
    g = guestfs.GuestFS()
    assert g._o is not None
    g.close()
    assert g._o is None


def test_close_twice_raises_closed_handle():
    g = guestfs.GuestFS()
    g.close()
    with pytest.raises(guestfs.ClosedHandle):
        g.close()


def test_methods_after_close_raise_closed_handle():
    g = guestfs.GuestFS()
    g.close()
    with pytest.raises(guestfs.ClosedHandle):
        g.get_memsize()
    with pytest.raises(ValueError):
        g.set_trace(True)
    with pytest.raises(guestfs.ClosedHandle):
        g.set_event_callback(lambda *a: None, guestfs.EVENT_ALL)


def test_del_closes():
    events = []
    g = guestfs.GuestFS()
    g.set_event_callback(lambda ev, eh, buf, arr: events.append(ev), guestfs.EVENT_CLOSE)
    del g
    gc.collect()
    assert events == [guestfs.EVENT_CLOSE]


def test_capsule_level_close_is_idempotent():
    c = libguestfsmod.create(0)
    libguestfsmod.close(c)
    libguestfsmod.close(c)
    # A closed capsule gives a clear error, not a crash.
    with pytest.raises(ValueError, match="closed"):
        libguestfsmod.get_memsize(c)
    with pytest.raises(guestfs.ClosedHandle):
        libguestfsmod.get_memsize(c)


@pytest.mark.parametrize("bad", [None, 42, "handle", object()])
def test_invalid_capsule(bad):
    with pytest.raises(TypeError, match="handle"):
        libguestfsmod.get_memsize(bad)


def test_capsule_dropped_without_close():
    # The capsule's destructor closes the handle; nothing leaks or crashes.
    for _ in range(20):
        libguestfsmod.create(0)
    gc.collect()


def test_many_handles():
    hs = [guestfs.GuestFS() for _ in range(10)]
    for i, h in enumerate(hs):
        h.set_memsize(256 + i)
    assert [h.get_memsize() for h in hs] == [256 + i for i in range(10)]
    for h in hs:
        h.close()


def test_close_on_exit_false():
    g = guestfs.GuestFS(close_on_exit=False)
    g.set_memsize(512)
    g.close()


def test_python_return_dict_positional():
    g = guestfs.GuestFS(True)
    assert g._python_return_dict is True
    g.close()


# ---------------------------------------------------------------- properties

def test_memsize(g):
    g.set_memsize(640)
    assert g.get_memsize() == 640
    assert isinstance(g.get_memsize(), int)


def test_trace_and_verbose(g):
    g.set_trace(True)
    assert g.get_trace() is True or g.get_trace() == 1
    g.set_trace(False)
    assert not g.get_trace()
    g.set_verbose(1)
    assert g.get_verbose()
    g.set_verbose(0)
    assert not g.get_verbose()


def test_program(g):
    g.set_program("pytest-prog")
    assert g.get_program() == "pytest-prog"


def test_config_state(g):
    assert g.is_config()
    assert g.get_state() == 0


def test_version_struct(g):
    v = g.version()
    assert isinstance(v, dict)
    assert set(v) == {"major", "minor", "release", "extra"}
    assert isinstance(v["major"], int) and isinstance(v["extra"], str)


# ---------------------------------------------------------------- errors

def test_error_is_runtime_error_with_path(g, tmp_path):
    missing = str(tmp_path / "no-such-disk.img")
    with pytest.raises(RuntimeError) as ei:
        g.add_drive(missing, format="raw")
    assert missing in str(ei.value)
    assert type(ei.value) is RuntimeError
    assert ei.value.errno == errno.ENOENT


def test_error_invalid_optarg_value(g, tmp_path):
    img = tmp_path / "d.img"
    img.write_bytes(b"\0" * 1024 * 1024)
    with pytest.raises(RuntimeError):
        g.add_drive(str(img), format="raw", discard="sometimes")


def test_error_from_internal_test(g):
    with pytest.raises(RuntimeError, match="error"):
        g.internal_test_rinterr()
    for name in ("rint64err", "rboolerr", "rconststringerr", "rstringerr", "rstringlisterr",
                 "rstructerr", "rstructlisterr", "rhashtableerr", "rbufferouterr"):
        with pytest.raises(RuntimeError):
            getattr(g, "internal_test_" + name)()
    # The error carries an errno attribute (None when the library set none).
    try:
        g.internal_test_rint("not a number")
    except RuntimeError as e:
        assert e.errno == errno.EINVAL
    else:
        pytest.fail("expected RuntimeError")


def test_wrong_argument_types(g):
    with pytest.raises(TypeError):
        g.set_memsize("a lot")
    with pytest.raises(TypeError):
        g.internal_test_rstring(None)
    with pytest.raises(TypeError):
        g.add_drive("/dev/null", format=42)


def test_call_needing_appliance_fails_before_launch(g):
    with pytest.raises(RuntimeError):
        g.list_filesystems()


# ---------------------------------------------------------------- optargs

def test_optargs_keywords(g, tmp_path):
    img = str(tmp_path / "opt.qcow2")
    g.disk_create(img, "qcow2", 16 * 1024 * 1024, preallocation="metadata", compat="1.1")
    assert os.path.exists(img)
    assert g.disk_format(img) == "qcow2"
    assert g.disk_virtual_size(img) == 16 * 1024 * 1024
    g.add_drive_opts(img, format="qcow2", readonly=True, cachemode="unsafe", label="opt")
    g.add_drive_opts("/dev/null", format="raw")


def test_optargs_unknown_keyword(g):
    with pytest.raises(TypeError):
        g.add_drive_opts("/dev/null", no_such_option=1)


def write_test_output(g, tmp_path, fn):
    out = tmp_path / "test-output"
    g.internal_test_set_output(str(out))
    try:
        fn()
    finally:
        g.internal_test_close_output()
    return out.read_text()


def test_internal_test_argument_marshalling(g, tmp_path):
    text = write_test_output(g, tmp_path, lambda: g.internal_test(
        "abc", None, ["x", "y"], True, 42, -(2 ** 40), "/in", "/out", b"\x00\x01\xff",
        obool=False, oint=-7, oint64=2 ** 40, ostring="opt", ostringlist=("p", "q")))
    assert text.splitlines() == [
        "abc", "null", '["x", "y"]', "true", "42", str(-(2 ** 40)), "/in", "/out",
        "<00><01><ff>", "false", "-7", str(2 ** 40), "opt", '["p", "q"]']


def test_internal_test_unset_optargs(g, tmp_path):
    text = write_test_output(g, tmp_path, lambda: g.internal_test(
        "", "opt", [], False, 0, 0, "", "", b""))
    assert text.splitlines() == ["", "opt", "[]", "false", "0", "0", "", "", "",
                                 "unset", "unset", "unset", "unset", "unset"]


def test_internal_test_string_list_forms(g, tmp_path):
    # Tuples, generators and lists are all accepted for list arguments.
    for arg in (("a", "b"), (s for s in ["a", "b"]), ["a", "b"]):
        text = write_test_output(g, tmp_path, lambda: g.internal_test(
            "s", None, arg, False, 0, 0, "", "", b""))
        assert text.splitlines()[2] == '["a", "b"]'
    with pytest.raises(TypeError):
        g.internal_test("s", None, [1, 2], False, 0, 0, "", "", b"")


def test_internal_test_unicode(g, tmp_path):
    text = write_test_output(g, tmp_path, lambda: g.internal_test(
        "héllo ☃", None, ["ü"], False, 0, 0, "", "", b""))
    assert text.splitlines()[:3] == ["héllo ☃", "null", '["ü"]']
    assert g.internal_test_rstring("ünïcødé ☃") == "ünïcødé ☃"


def test_only_optargs_and_63_optargs(g, tmp_path):
    assert write_test_output(g, tmp_path, lambda: g.internal_test_only_optargs()) == "unset\n"
    assert write_test_output(g, tmp_path, lambda: g.internal_test_only_optargs(test=3)) == "3\n"
    text = write_test_output(g, tmp_path, lambda: g.internal_test_63_optargs(opt1=1, opt32=32, opt63=63))
    assert text.splitlines() == ["opt1: 1", "opt32: 32", "opt63: 63"]


def test_bufferin_accepts_str_like_python3_guestfs(g, tmp_path):
    text = write_test_output(g, tmp_path, lambda: g.internal_test(
        "s", None, [], False, 0, 0, "", "", "AB"))
    assert text.splitlines()[8] == "<41><42>"


def test_environment_flag_like_python3_guestfs():
    guestfs.GuestFS(environment=False).close()


# ---------------------------------------------------------------- returns

def test_return_types(g):
    assert g.internal_test_rint("10") == 10
    assert g.internal_test_rint64(str(2 ** 50)) == 2 ** 50
    assert g.internal_test_rbool("true") is True
    assert g.internal_test_rbool("false") is False
    assert g.internal_test_rconststring("x") == "static string"
    assert g.internal_test_rconstoptstring("x") == "static string"
    assert g.internal_test_rconstoptstringerr() is None
    assert g.internal_test_rstring("hello") == "hello"
    assert g.internal_test_rstringlist("3") == ["0", "1", "2"]
    assert g.internal_test_rstringlist("0") == []
    assert g.internal_test_rbufferout("abc") == b"abc"
    assert isinstance(g.internal_test_rbufferout(""), bytes)


def test_struct_returns(g):
    pv = g.internal_test_rstruct("name")
    assert isinstance(pv, dict)
    assert pv["pv_name"] == "name"
    assert pv["pv_uuid"] in ("12345678901234567890123456789012", b"12345678901234567890123456789012")
    assert pv["pv_size"] == 0
    pvs = g.internal_test_rstructlist("3")
    assert [p["pv_name"] for p in pvs] == ["0", "1", "2"]
    assert [p["pv_size"] for p in pvs] == [0, 1, 2]
    assert g.internal_test_rstructlist("0") == []


def test_uuid_is_str_like_python3_guestfs(g):
    assert g.internal_test_rstruct("x")["pv_uuid"] == "12345678901234567890123456789012"


def test_hashtable_as_list_of_tuples(g):
    r = g.internal_test_rhashtable("3")
    assert isinstance(r, list)
    assert all(isinstance(t, tuple) and len(t) == 2 for t in r)
    assert sorted(r) == [("0", "0"), ("1", "1"), ("2", "2")]


def test_hashtable_as_dict(gd):
    r = gd.internal_test_rhashtable("3")
    assert r == {"0": "0", "1": "1", "2": "2"}
    assert gd.internal_test_rhashtable("0") == {}


# ---------------------------------------------------------------- events

def test_close_event(g):
    seen = []

    def cb(ev, eh, buf, array):
        seen.append((ev, eh, buf, array))

    eh = g.set_event_callback(cb, guestfs.EVENT_CLOSE)
    assert isinstance(eh, int)
    g.close()
    assert len(seen) == 1
    ev, got_eh, buf, array = seen[0]
    assert ev == guestfs.EVENT_CLOSE
    assert got_eh == eh
    assert isinstance(buf, bytes)
    assert isinstance(array, list)


def test_trace_events(g):
    seen = []
    g.set_event_callback(lambda ev, eh, buf, arr: seen.append((ev, buf)), guestfs.EVENT_TRACE)
    g.set_trace(True)
    g.set_memsize(700)
    assert g.get_memsize() == 700
    g.set_trace(False)
    msgs = [buf for ev, buf in seen]
    assert all(ev == guestfs.EVENT_TRACE for ev, _ in seen)
    assert any(b"set_memsize" in m and b"700" in m for m in msgs), msgs
    assert any(b"get_memsize" in m for m in msgs), msgs


def test_delete_event_callback(g):
    seen = []
    eh = g.set_event_callback(lambda *a: seen.append(a), guestfs.EVENT_TRACE)
    g.set_trace(True)
    g.get_memsize()
    n = len(seen)
    assert n > 0
    g.delete_event_callback(eh)
    g.get_memsize()
    assert len(seen) == n


def test_callback_exception_does_not_propagate(g, capfd):
    def bad(ev, eh, buf, arr):
        raise ValueError("boom from callback")

    g.set_event_callback(bad, guestfs.EVENT_TRACE)
    g.set_trace(True)
    assert g.get_memsize() > 0
    g.set_trace(False)
    assert "boom from callback" in capfd.readouterr().err


def test_callback_not_callable(g):
    with pytest.raises(TypeError):
        g.set_event_callback(42, guestfs.EVENT_ALL)


def test_callback_refcount_released_on_close():
    import sys
    g = guestfs.GuestFS()

    def cb(*a):
        pass

    before = sys.getrefcount(cb)
    g.set_event_callback(cb, guestfs.EVENT_ALL)
    assert sys.getrefcount(cb) == before + 1
    g.close()
    assert sys.getrefcount(cb) == before


def test_events_from_python_threads():
    # Calls from several Python threads, each with its own handle, while
    # callbacks take the GIL: no deadlock, every thread sees its events.
    results = {}

    def worker(i):
        h = guestfs.GuestFS()
        seen = []
        h.set_event_callback(lambda ev, eh, buf, arr: seen.append(buf), guestfs.EVENT_TRACE)
        h.set_trace(True)
        for k in range(50):
            h.set_memsize(300 + k)
        h.close()
        results[i] = len(seen)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
        assert not t.is_alive()
    assert len(results) == 4 and all(n >= 50 for n in results.values()), results

# Shared fixtures for the swift-guestfs Python binding tests.
#
# Run through Tests/python/run.sh, which installs bindings/python into a
# temporary directory and puts it on PYTHONPATH.  These tests must exercise
# OUR module and OUR libguestfs.so.0, never libguestfs's python3-guestfs or
# its libguestfs.so.0 (which may be installed as an interop test peer).

import os
import sys

import pytest

import guestfs
import libguestfsmod


def loaded_libguestfs():
    """Paths of every libguestfs.so* mapped into this process."""
    paths = set()
    with open("/proc/self/maps") as f:
        for line in f:
            fields = line.split()
            if len(fields) >= 6 and "/libguestfs.so" in fields[5]:
                paths.add(fields[5])
    return paths


def pytest_configure(config):
    config.addinivalue_line("markers", "appliance: needs a working appliance (qemu launch)")


def pytest_report_header(config):
    return [
        "guestfs module: %s" % guestfs.__file__,
        "libguestfsmod:  %s" % libguestfsmod.__file__,
        "libguestfs:     %s" % ", ".join(sorted(loaded_libguestfs())),
        "LIBGUESTFS_PATH=%s" % os.environ.get("LIBGUESTFS_PATH", "(unset)"),
    ]


def pytest_collection_modifyitems(config, items):
    if os.environ.get("GUESTFS_PY_SKIP_APPLIANCE"):
        skip = pytest.mark.skip(reason="GUESTFS_PY_SKIP_APPLIANCE is set")
        for item in items:
            if "appliance" in item.keywords:
                item.add_marker(skip)


@pytest.fixture
def g():
    """A fresh handle, closed afterwards."""
    h = guestfs.GuestFS(python_return_dict=False)
    yield h
    if h._o:
        h.close()


@pytest.fixture
def gd():
    """A fresh handle with python_return_dict=True."""
    h = guestfs.GuestFS(python_return_dict=True)
    yield h
    if h._o:
        h.close()

# Scripts written for python3-guestfs, run unchanged in a fresh interpreter.

import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.mark.appliance
def test_create_disk_script(tmp_path):
    env = dict(os.environ)
    env.pop("LD_LIBRARY_PATH", None)
    r = subprocess.run([sys.executable, os.path.join(HERE, "scripts", "create_disk.py"),
                        str(tmp_path / "disk.img")],
                       env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-4000:]
    assert r.stdout.strip().endswith("OK")

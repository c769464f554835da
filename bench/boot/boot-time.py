#!/usr/bin/env python3
"""Measure swift-guestfs appliance launch time: qemu start -> launch flag.

The host listens on a unix socket; qemu connects to it as the chardev of the
virtserialport named org.libguestfs.channel.0 (the same way the library will
do it).  The guest's /init (daemon or appliance/test stand-in) writes the
4-byte big-endian launch flag 0xF5F55FF5 once it has opened the port.  We time
from just before spawning qemu to receiving those 4 bytes.

Usage:
  bench/boot/boot-time.py [--layout microvm|pc] [--runs 3] [--appliance DIR]
                          [--append-extra '...'] [--print-cmd] [--keep-logs]

Appliance DIR defaults to .build-appliance/appliance (see
appliance/build-appliance.sh); it must contain kernel, vmlinux, initrd, root,
root.uuid.
"""
import argparse
import os
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import time

LAUNCH_FLAG = b"\xf5\xf5\x5f\xf5"
CHANNEL = "org.libguestfs.channel.0"
HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))

# Kernel command line shared by both layouts (measured; see appliance/README.md).
BASE_APPEND = [
    "panic=1",            # reboot (-> qemu exits with -no-reboot) on panic
    "quiet",              # also makes supermin's init silent
    "loglevel=3",
    "mitigations=off",
    "tsc=reliable",       # skip TSC watchdog / clocksource calibration
    "no_timer_check",
    "noreplace-smp",
    "cryptomgr.notests",  # skip crypto self tests
    "8250.nr_uarts=1",    # don't probe 4 legacy UARTs
    "random.trust_cpu=on",
]


def host_tsc_khz():
    """TCG guests see the host TSC rate.  On hosts whose TSC is constant
    (constant_tsc + nonstop_tsc, or tsc_known_freq) /proc/cpuinfo's "cpu MHz"
    is the TSC frequency.  Passing it as tsc_early_khz= makes the guest skip
    PIT-based TSC calibration, which under TCG fails randomly (then the guest
    marks the TSC unstable and hangs)."""
    try:
        txt = open("/proc/cpuinfo").read()
    except OSError:
        return None
    flags = next((l.split(":", 1)[1].split() for l in txt.splitlines()
                  if l.startswith("flags")), [])
    if "constant_tsc" not in flags:
        return None
    for line in txt.splitlines():
        if line.startswith("cpu MHz"):
            return int(float(line.split(":", 1)[1]) * 1000)
    return None


def qemu_cmd(args, appdir, sock, console_log, user_disk):
    root = os.path.join(appdir, "root")
    initrd = os.path.join(appdir, "initrd")
    append = list(BASE_APPEND)
    cmd = [args.qemu, "-nodefaults", "-display", "none", "-no-reboot",
           "-no-user-config", "-accel", "tcg" + (",thread=" + args.tcg_thread if args.tcg_thread else ""),
           "-cpu", args.cpu, "-m", str(args.mem), "-smp", str(args.smp),
           "-rtc", "driftfix=slew"]
    if args.layout == "microvm":
        kernel = os.path.join(appdir, "vmlinux")
        cmd += ["-M", "microvm,acpi=on,pit=on,pic=off,rtc=on,isa-serial=on,"
                "x-option-roms=off,auto-kernel-cmdline=off"]
        # virtio-mmio devices: the kernel numbers vdX in *reverse* order of
        # creation on microvm (see README), so user disks are added first
        # and the appliance root last -> root is /dev/vda ... see README.
        drives = []
        if user_disk:
            drives.append(("hd0", user_disk, "raw", False))
        drives.append(("appliance", root, "raw", True))
        for i, (did, path, fmt, snap) in enumerate(drives):
            cache = "unsafe" if snap else "writeback"
            cmd += ["-drive", f"file={path},format={fmt},if=none,id={did},cache={cache}"
                    + (",snapshot=on" if snap else "")
                    + ",aio=threads",
                    "-device", f"virtio-blk-device,drive={did}"]
        cmd += ["-device", "virtio-serial-device",
                "-chardev", f"socket,path={sock},id=channel0",
                "-device", f"virtserialport,chardev=channel0,name={CHANNEL}"]
        # root is the last virtio-blk-device -> /dev/vd<N+1> (N = user disks)
        root_dev = args.microvm_root or "/dev/vd" + "abcdefghijklmnopqrstuvwxyz"[len(drives) - 1]
        append += [f"root={root_dev}"]
    else:
        kernel = os.path.join(appdir, "vmlinux" if args.pc_vmlinux else "kernel")
        cmd += ["-M", args.pc_machine,
                "-device", "virtio-scsi-pci,id=scsi"]
        n = 0
        if user_disk:
            cmd += ["-drive", f"file={user_disk},format=raw,if=none,id=hd0,cache=writeback",
                    "-device", f"scsi-hd,drive=hd0,bus=scsi.0,channel=0,scsi-id={n},lun=0"]
            n += 1
        cmd += ["-drive", f"file={root},format=raw,if=none,id=appliance,cache=unsafe,snapshot=on",
                "-device", f"scsi-hd,drive=appliance,bus=scsi.0,channel=0,scsi-id={n},lun=0",
                "-device", "virtio-serial-pci",
                "-chardev", f"socket,path={sock},id=channel0",
                "-device", f"virtserialport,chardev=channel0,name={CHANNEL}"]
        with open(os.path.join(appdir, "root.uuid")) as f:
            uuid = f.read().strip()
        append += [f"root=UUID={uuid}"]
    if args.console == "ttyS0":
        cmd += ["-serial", f"file:{console_log}"]
        append += ["console=ttyS0"]
    if args.tsc_khz == "auto":
        khz = host_tsc_khz()
        if khz:
            append += [f"tsc_early_khz={khz}"]
    elif args.tsc_khz != "none":
        append += [f"tsc_early_khz={int(args.tsc_khz)}"]
    append += shlex.split(args.append_extra)
    append = [a for a in append if a]
    cmd += ["-kernel", kernel, "-initrd", initrd, "-append", " ".join(append)]
    cmd += shlex.split(args.qemu_extra)
    return cmd


def one_run(args, appdir, tmpdir, idx):
    sock = os.path.join(tmpdir, f"guestfsd{idx}.sock")
    console_log = os.path.join(tmpdir, f"console{idx}.log")
    user_disk = None
    if args.user_disk:
        user_disk = os.path.join(tmpdir, "disk.img")
        if not os.path.exists(user_disk):
            with open(user_disk, "wb") as f:
                f.truncate(64 * 1024 * 1024)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(sock)
    srv.listen(1)
    cmd = qemu_cmd(args, appdir, sock, console_log, user_disk)
    if args.print_cmd and idx == 0:
        print(" ".join(shlex.quote(c) for c in cmd), file=sys.stderr)
    qlog = open(os.path.join(tmpdir, f"qemu{idx}.log"), "wb")
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=qlog, stderr=qlog)
    srv.settimeout(args.timeout)
    result = None
    try:
        conn, _ = srv.accept()
        t_conn = time.monotonic() - t0
        conn.settimeout(max(0.1, args.timeout - t_conn))
        buf = b""
        while len(buf) < 4:
            chunk = conn.recv(4 - len(buf))
            if not chunk:
                break
            buf += chunk
        t_flag = time.monotonic() - t0
        if buf == LAUNCH_FLAG:
            result = t_flag
        else:
            print(f"run {idx}: bad/short launch flag {buf!r}", file=sys.stderr)
        if args.linger:
            time.sleep(args.linger)
        try:
            conn.sendall(b"quit")
        except OSError:
            pass
        conn.close()
    except socket.timeout:
        print(f"run {idx}: timeout after {args.timeout}s", file=sys.stderr)
    finally:
        srv.close()
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        qlog.close()
    if args.show_console or result is None:
        for name in (f"console{idx}.log", f"qemu{idx}.log"):
            p = os.path.join(tmpdir, name)
            if os.path.exists(p):
                sys.stderr.write(f"--- {name} ---\n")
                sys.stderr.write(open(p, errors="replace").read()[-6000:])
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--layout", choices=["microvm", "pc"], default="microvm")
    ap.add_argument("--appliance", default=os.path.join(TOP, ".build-appliance", "appliance"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--qemu", default="qemu-system-x86_64")
    ap.add_argument("--cpu", default="max")
    ap.add_argument("--mem", type=int, default=1280)
    ap.add_argument("--smp", type=int, default=1)
    ap.add_argument("--tcg-thread", default="", help="single|multi (default qemu's)")
    ap.add_argument("--pc-machine", default="pc", help="pc or q35 (pc layout)")
    ap.add_argument("--pc-vmlinux", action="store_true", help="pc layout: boot vmlinux via PVH")
    ap.add_argument("--microvm-root", default="",
                    help="root= for microvm (default /dev/vdX of the last disk; UUID=... works too)")
    ap.add_argument("--console", choices=["ttyS0", "none"], default="ttyS0")
    ap.add_argument("--user-disk", action="store_true", default=True)
    ap.add_argument("--no-user-disk", dest="user_disk", action="store_false")
    ap.add_argument("--tsc-khz", default="auto", help="auto|none|KHZ: tsc_early_khz= for the guest")
    ap.add_argument("--append-extra", default="")
    ap.add_argument("--qemu-extra", default="")
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--linger", type=float, default=0.0,
                    help="seconds to keep the guest alive after the flag (console output)")
    ap.add_argument("--print-cmd", action="store_true")
    ap.add_argument("--show-console", action="store_true")
    ap.add_argument("--keep-logs", action="store_true")
    args = ap.parse_args()

    tmpdir = tempfile.mkdtemp(prefix="boot-time-")
    times = []
    for i in range(args.runs):
        t = one_run(args, args.appliance, tmpdir, i)
        print(f"run {i}: {'FAILED' if t is None else f'{t:.3f} s'}", file=sys.stderr)
        if t is not None:
            times.append(t)
    if args.keep_logs:
        print(f"logs in {tmpdir}", file=sys.stderr)
    else:
        subprocess.run(["rm", "-rf", tmpdir])
    if not times:
        print(f"{args.layout}: all runs failed")
        return 1
    print(f"{args.layout}: median {statistics.median(times):.3f} s  "
          f"min {min(times):.3f}  max {max(times):.3f}  runs {len(times)}/{args.runs}")
    return 0 if len(times) == args.runs else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""The same measurements as guestfs-bench, on libguestfs (Debian's python3-guestfs),
as the side-by-side reference. Prints one JSON object."""
import json, os, sys, tempfile, time
import guestfs  # Debian's python3-guestfs: libguestfs itself, the reference

launches = int(sys.argv[1]) if len(sys.argv) > 1 else 3
calls = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
mib = int(sys.argv[3]) if len(sys.argv) > 3 else 256

tmp = tempfile.mkdtemp(prefix="libguestfs-bench-")
times = []
for i in range(launches + 1):
    g = guestfs.GuestFS(python_return_dict=True)
    g.add_drive_scratch(64 << 20)
    t0 = time.time()
    g.launch()
    if i > 0:
        times.append(time.time() - t0)
    g.shutdown()
    g.close()
times.sort()

disk = os.path.join(tmp, "disk.img")
with open(disk, "wb") as f:
    f.truncate((mib * 2 + 256) << 20)
g = guestfs.GuestFS(python_return_dict=True)
g.add_drive_opts(disk, format="raw")
g.launch()
g.mkfs("ext4", "/dev/sda")
g.mount("/dev/sda", "/")
t1 = time.time()
for _ in range(calls):
    g.is_file("/nonexistent")
rt = (time.time() - t1) * 1000 / calls
payload = os.path.join(tmp, "payload")
with open(payload, "wb") as f:
    for _ in range(mib):
        f.write(os.urandom(1 << 20))
t2 = time.time()
g.upload(payload, "/payload")
g.sync()
up = mib * 1.048576 / (time.time() - t2)
back = os.path.join(tmp, "back")
t3 = time.time()
g.download("/payload", back)
down = mib * 1.048576 / (time.time() - t3)
g.shutdown()
g.close()
for p in (payload, back, disk):
    os.unlink(p)
os.rmdir(tmp)
print(json.dumps({"impl": "libguestfs", "launch_median_s": times[len(times) // 2], "launch_all_s": times,
                  "roundtrip_ms": rt, "upload_MBps": up, "download_MBps": down, "mib": mib}))

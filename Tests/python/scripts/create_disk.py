# A script in the style of python3-guestfs's examples, using only its API
# and idioms (str content for write, int flags, python_return_dict, list
# results indexed directly).  It must run unchanged on swift-guestfs.
import sys

import guestfs

output = sys.argv[1]

g = guestfs.GuestFS(python_return_dict=True)
g.disk_create(output, "raw", 128 * 1024 * 1024)
g.set_trace(1)
g.add_drive_opts(output, format="raw", readonly=0)
g.launch()

devices = g.list_devices()
assert len(devices) == 1
g.part_disk(devices[0], "mbr")
partitions = g.list_partitions()
assert len(partitions) == 1
g.mkfs("ext4", partitions[0])
g.mount(partitions[0], "/")
g.mkdir("/foo")
g.write("/foo/hello", "Hello, world\n")
g.touch("/foo/empty")
assert g.cat("/foo/hello") == "Hello, world\n"
assert sorted(g.ls("/foo")) == ["empty", "hello"]
assert g.blkid(partitions[0])["TYPE"] == "ext4"
g.shutdown()
g.close()
print("OK")

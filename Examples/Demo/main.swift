// A real demo: make a disk image, partition it, make ext4, write and read
// files, list them. Runs the full stack: library -> qemu appliance -> daemon.
import Foundation
import Guestfs

let image = FileManager.default.temporaryDirectory.appendingPathComponent("guestfs-demo-\(getpid()).img").path
defer { try? FileManager.default.removeItem(atPath: image) }

do {
    let g = try Guestfs()
    try g.diskCreate(image, "raw", 256 * 1024 * 1024)
    try g.addDrive(image, format: "raw")
    let start = Date()
    try g.launch()
    print(String(format: "appliance ready in %.2f s", Date().timeIntervalSince(start)))

    try g.partDisk("/dev/sda", "mbr")
    try g.mkfs("ext4", "/dev/sda1", label: "DEMO")
    try g.mount("/dev/sda1", "/")
    try g.mkdirP("/etc/demo")
    try g.write("/etc/demo/hello.txt", Array("Hello from swift-guestfs\n".utf8))
    try g.writeAppend("/etc/demo/hello.txt", Array("second line\n".utf8))

    print("partitions:", try g.listPartitions())
    print("filesystem:", try g.vfsType("/dev/sda1"), "label:", try g.vfsLabel("/dev/sda1"))
    print("files in /etc/demo:", try g.ls("/etc/demo"))
    print("contents of /etc/demo/hello.txt:")
    print(try g.cat("/etc/demo/hello.txt"), terminator: "")
    let st = try g.statns("/etc/demo/hello.txt")
    print("size:", st.stSize, "mode:", String(st.stMode, radix: 8))
    try g.shutdown()
    g.close()
    print("demo finished: \(image) was really partitioned, formatted and written")
} catch {
    FileHandle.standardError.write(Data("demo failed: \(error)\n".utf8))
    exit(1)
}

// blockdev_* through the block-device ioctls.

import Glibc

extension Handlers {
    func withDevice<T>(_ device: String, write: Bool = false, op: String, _ body: (Int32) throws -> T) throws -> T {
        let fd = open(device, (write ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NONBLOCK)
        let fd2 = fd >= 0 ? fd : open(device, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        if fd2 < 0 { throw DaemonError.posix(op, device) }
        defer { close(fd2) }
        return try body(fd2)
    }

    private func ioctlInt(_ device: String, _ req: UInt, op: String) throws -> Int64 {
        try withDevice(device, op: op) { fd in
            var v: UInt64 = 0
            if ioctl(fd, req, &v) != 0 { throw DaemonError.posix(op, device) }
            return Int64(bitPattern: v)
        }
    }

    func blockdevSetro(_ ctx: CallContext, device: String) throws {
        try withDevice(device, op: "ioctl BLKROSET") { fd in
            var one: Int32 = 1
            if ioctl(fd, Sys.BLKROSET, &one) != 0 { throw DaemonError.posix("ioctl BLKROSET", device) }
        }
    }

    func blockdevSetrw(_ ctx: CallContext, device: String) throws {
        try withDevice(device, op: "ioctl BLKROSET") { fd in
            var zero: Int32 = 0
            if ioctl(fd, Sys.BLKROSET, &zero) != 0 { throw DaemonError.posix("ioctl BLKROSET", device) }
        }
    }

    func blockdevGetro(_ ctx: CallContext, device: String) throws -> Bool {
        try withDevice(device, op: "ioctl BLKROGET") { fd in
            var v: Int32 = 0
            if ioctl(fd, Sys.BLKROGET, &v) != 0 { throw DaemonError.posix("ioctl BLKROGET", device) }
            return v != 0
        }
    }

    func blockdevGetss(_ ctx: CallContext, device: String) throws -> Int32 {
        try withDevice(device, op: "ioctl BLKSSZGET") { fd in
            var v: Int32 = 0
            if ioctl(fd, Sys.BLKSSZGET, &v) != 0 { throw DaemonError.posix("ioctl BLKSSZGET", device) }
            return v
        }
    }

    func blockdevGetbsz(_ ctx: CallContext, device: String) throws -> Int32 {
        // The kernel stores an int although the request is declared with size_t.
        Int32(truncatingIfNeeded: try ioctlInt(device, Sys.BLKBSZGET, op: "ioctl BLKBSZGET") & 0xFFFF_FFFF)
    }

    func blockdevGetsize64(_ ctx: CallContext, device: String) throws -> Int64 {
        try ioctlInt(device, Sys.BLKGETSIZE64, op: "ioctl BLKGETSIZE64")
    }

    func blockdevGetsz(_ ctx: CallContext, device: String) throws -> Int64 {
        try blockdevGetsize64(ctx, device: device) / 512
    }

    func blockdevFlushbufs(_ ctx: CallContext, device: String) throws {
        try withDevice(device, op: "ioctl BLKFLSBUF") { fd in
            if ioctl(fd, Sys.BLKFLSBUF, 0) != 0 { throw DaemonError.posix("ioctl BLKFLSBUF", device) }
        }
    }

    func blockdevRereadpt(_ ctx: CallContext, device: String) throws {
        try withDevice(device, op: "ioctl BLKRRPART") { fd in
            if ioctl(fd, Sys.BLKRRPART, 0) != 0 { throw DaemonError.posix("ioctl BLKRRPART", device) }
        }
    }
}

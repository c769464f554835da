// virtio-9p shares: list_9p lists the mount tags of the virtio 9p devices
// (the library adds one with `config -virtfs ...`), mount_9p mounts one
// under the sysroot.

import Glibc

extension Handlers {
    static let ninePDriverDir = "/sys/bus/virtio/drivers/9pnet_virtio"

    /// Loads the 9p transport (and so binds any 9p devices) when needed.
    /// Running modprobe costs a little under TCG, so only when the driver is
    /// not there yet.
    private func loadNinePTransport() {
        if !Sys.exists(Handlers.ninePDriverDir) {
            _ = try? Command.run(["modprobe", "9pnet_virtio"])
        }
    }

    /// Mount tags of the 9p devices, sorted.
    private func ninePTags() -> [String] {
        loadNinePTransport()
        var tags: [String] = []
        for entry in Sys.listDirectory(Handlers.ninePDriverDir) ?? [] {
            // Bound devices appear as links named after the device (virtio3).
            guard entry.hasPrefix("virtio"),
                  let raw = Sys.readText("\(Handlers.ninePDriverDir)/\(entry)/mount_tag") else { continue }
            // The kernel gives the tag with its terminating NUL.
            let tag = String(raw.unicodeScalars.prefix { $0 != "\0" && $0 != "\n" })
            if !tag.isEmpty { tags.append(tag) }
        }
        return tags.sorted()
    }

    func list9p(_ ctx: CallContext) throws -> [String] {
        ninePTags()
    }

    func mount9p(_ ctx: CallContext, mounttag: String, mountpoint: String, options: String?) throws {
        guard !mounttag.isEmpty else { throw DaemonError(EINVAL, "mount_9p: the mount tag is empty") }
        let mp = try hostMountpoint(ctx, mountpoint)
        let tags = ninePTags()
        guard tags.contains(mounttag) else {
            let known = tags.isEmpty ? "the appliance has no 9p shares" : "known tags: \(tags.joined(separator: ", "))"
            throw DaemonError(ENOENT, "mount_9p: \(mounttag): no virtio 9p share has this mount tag (\(known))")
        }
        var opts = "trans=virtio"
        if let options, !options.isEmpty { opts += "," + options }
        let r = try Command.run(["mount", "-t", "9p", "-o", opts, "--", mounttag, mp])
        if !r.ok {
            let text = r.err.trimmed().replacingAll(mp, with: mountpoint)
            throw DaemonError(message: "mount_9p: \(mounttag) on \(mountpoint): \(text.isEmpty ? "failed" : text)")
        }
    }
}

// -i / --inspector: find the guest's operating system and mount its
// filesystems where the guest itself mounts them.

import Guestfs
import GuestfsToolSupport

enum Inspector {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// What to do instead of -i, printed after an inspection failure.
    static let hint = """

        Without -i, start the appliance with 'run', list what the disks hold
        with 'list-filesystems' and mount the ones you want with 'mount' or
        'mount-ro' (or name them on the command line with -m).
        """

    /// Inspects, then mounts every filesystem of the one root found, shortest
    /// mount point first (so / comes before /boot). Returns the lines the
    /// interactive shell prints under its banner.
    static func mount(_ sh: Shell, readOnly: Bool) throws -> String {
        // Encrypted devices first, so the filesystems inside are inspected.
        try GuestDecryption.openAll(sh.g, keys: sh.keys, readOnly: readOnly)
        let roots = try sh.g.inspectOs()
        if roots.isEmpty {
            throw Failure(description: "no operating system was found on this disk\n" + hint)
        }
        if roots.count > 1 {
            throw Failure(description: "multi-boot operating systems are not supported\n" + hint)
        }
        let root = roots[0]
        let mountpoints = try sh.g.inspectGetMountpointsPairs(root)
            .sorted { ($0.key.count, $0.key) < ($1.key.count, $1.key) }
        var report = "Operating system: \(try sh.g.inspectGetProductName(root))\n"
        var failed = false
        for (mp, dev) in mountpoints {
            do {
                if readOnly { try sh.g.mountRo(dev, mp) } else { try sh.g.mount(dev, mp) }
                report += "\(dev) mounted on \(mp)\n"
            } catch {
                // A filesystem that will not mount (a missing disk, an
                // unsupported type) should not stop the shell.
                if let e = error as? GuestfsError { Out.errLine("libguestfs: error: \(e.message)") } else { Out.errLine("guestfish: \(error)") }
                failed = true
            }
        }
        if failed { Out.errLine("guestfish: some filesystems could not be mounted (ignored)") }
        return report
    }
}

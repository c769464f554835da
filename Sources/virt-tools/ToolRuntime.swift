// What every virt-* tool does around its own work: open a handle, add the
// disks, launch, and (for the tools that read files) find the guest's
// filesystems by inspection or by -m, then report errors the same way.

import Foundation
import Guestfs
import GuestfsToolSupport

/// One virt-* program.
protocol VirtTool {
    /// The program name, e.g. "virt-cat".
    static var name: String { get }
    /// The usage lines shown by --help, after "Usage:".
    static var usage: String { get }
    /// What the tool does, one line.
    static var summary: String { get }
    init()
    /// The tool's own options (the common ones are added by the runner).
    func options(_ common: CommonOptions) -> [ToolOption]
    /// Whether -m and inspection apply (tools that read guest files).
    var mountsGuest: Bool { get }
    /// Whether the disks are opened read-only.
    var readOnly: Bool { get }
    /// Runs with the operands left after the options; returns the exit status.
    func run(_ common: CommonOptions, _ operands: [String]) throws -> Int32
}

extension VirtTool {
    var mountsGuest: Bool { true }
    var readOnly: Bool { true }
}

/// An error the tool reports as "tool: message" with exit status 1.
struct ToolError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

enum ToolIO {
    static func err(_ tool: String, _ msg: String) {
        FileHandle.standardError.write(Data("\(tool): \(msg)\n".utf8))
    }

    /// stdout through one buffered stream so long listings are cheap.
    static func out(_ s: String) {
        fputs(s, stdout)
    }

    static func line(_ s: String) {
        fputs(s, stdout)
        fputc(10, stdout)
    }
}

enum ToolRunner {
    static func main<T: VirtTool>(_ type: T.Type, _ argv: [String]) -> Int32 {
        let tool = T()
        let common = CommonOptions()
        let opts = common.options(withMount: tool.mountsGuest) + tool.options(common)
        let operands: [String]
        do {
            operands = try parseCommandLine(argv, options: opts)
            if common.formatPending && !common.disks.isEmpty {
                throw UsageError(description: "--format must come before the -a it applies to")
            }
        } catch {
            ToolIO.err(T.name, "\(error)")
            ToolIO.err(T.name, "Try '\(T.name) --help' for more information.")
            return 1
        }
        if common.showHelp {
            printHelp(T.self, opts)
            return 0
        }
        if common.showVersion {
            ToolIO.line("\(T.name) \(versionString())")
            return 0
        }
        do {
            return try tool.run(common, operands)
        } catch let e as GuestfsError {
            ToolIO.err(T.name, "error: \(e.message)")
        } catch let e as UsageError {
            ToolIO.err(T.name, e.description)
            ToolIO.err(T.name, "Try '\(T.name) --help' for more information.")
        } catch {
            ToolIO.err(T.name, "\(error)")
        }
        fflush(stdout)
        return 1
    }

    static func printHelp<T: VirtTool>(_ type: T.Type, _ opts: [ToolOption]) {
        var s = "\(T.name): \(T.summary)\n\nUsage:\n"
        for u in T.usage.split(separator: "\n") { s += "  \(u)\n" }
        s += "Options:\n"
        for o in opts.sorted(by: { sortKey($0) < sortKey($1) }) { s += "  \(o.help)\n" }
        s += "\nSee \(T.name)(1) for more.\n"
        ToolIO.out(s)
    }

    static func sortKey(_ o: ToolOption) -> String {
        (o.long.first ?? o.short.first.map(String.init) ?? "").lowercased()
    }

    static func versionString() -> String {
        guard let g = try? Guestfs(), let v = try? g.version() else { return "" }
        return "\(v.major).\(v.minor).\(v.release)\(v.extra)"
    }
}

/// A launched handle with the command line's disks. With `unlock` (tools
/// that look inside filesystems), encrypted devices are opened with the
/// --key keys or a passphrase asked for, as libguestfs's tools do.
func openGuest(_ common: CommonOptions, tool: String, readOnly: Bool, unlock: Bool = true) throws -> Guestfs {
    guard !common.disks.isEmpty else {
        throw UsageError(description: "you must give at least one -a or -d option")
    }
    let g = try Guestfs()
    if common.verbose { try g.setVerbose(true) }
    if common.trace { try g.setTrace(true) }
    for d in common.disks {
        switch d {
        case let .file(path, format, blocksize):
            try g.addDrive(path, readonly: readOnly, format: format, blocksize: blocksize.map(Int32.init))
        case let .domain(name):
            _ = try g.addDomain(name, libvirturi: common.libvirtURI, readonly: readOnly, allowuuid: true,
                                readonlydisk: readOnly ? nil : "read")
        }
    }
    try g.launch()
    if unlock {
        do {
            try GuestDecryption.openAll(g, keys: common.keys, readOnly: readOnly)
        } catch {
            g.close()
            throw error
        }
    }
    return g
}

/// Mounts what -m names, or else inspects and mounts the one guest found
/// as it mounts itself. Returns the inspected root, if any.
@discardableResult
func mountGuest(_ g: Guestfs, _ common: CommonOptions, tool: String, readOnly: Bool,
                hasMountOption: Bool = true) throws -> String? {
    if !common.mounts.isEmpty {
        for spec in common.mounts {
            let parts = spec.split(separator: ":", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
            let dev = parts[0]
            let mp = parts.count > 1 && !parts[1].isEmpty ? parts[1] : "/"
            var opts = parts.count > 2 ? parts[2] : ""
            if readOnly { opts = opts.isEmpty ? "ro" : "ro,\(opts)" }
            if parts.count > 3 {
                try g.mountVfs(opts, parts[3], dev, mp)
            } else {
                try g.mountOptions(opts, dev, mp)
            }
        }
        return nil
    }
    let roots = try g.inspectOs()
    if roots.isEmpty {
        let hint = hasMountOption ? """
            Use virt-filesystems to see what the disk holds, then name
            the filesystem to use with -m (for example -m /dev/sda1), or open it
            with guestfish.
            """ : """
            Use virt-filesystems to see what the disk holds, and guestfish
            to open it.
            """
        throw ToolError("""
            no operating system was found on this disk.

            This tool only works on disks that hold an operating system it can
            recognise. \(hint)
            """)
    }
    if roots.count > 1 {
        throw ToolError("multi-boot operating systems are not supported (found \(roots.count) roots: \(roots.joined(separator: ", "))); use -m to choose the filesystems")
    }
    let root = roots[0]
    try mountInspected(g, root, readOnly: readOnly) { dev, mp, e in
        ToolIO.err(tool, "warning: \(dev) could not be mounted on \(mp): \(e.message)")
    }
    return root
}

/// Mounts an inspected root's filesystems where the guest mounts them,
/// shortest mount point first. A filesystem that will not mount (swap
/// listed with a mount point, a missing disk) goes to `failed`, not up.
func mountInspected(_ g: Guestfs, _ root: String, readOnly: Bool,
                    failed: (String, String, GuestfsError) -> Void = { _, _, _ in }) throws {
    let mps = try g.inspectGetMountpointsPairs(root).sorted { ($0.key.count, $0.key) < ($1.key.count, $1.key) }
    for (mp, dev) in mps {
        do {
            if readOnly { try g.mountRo(dev, mp) } else { try g.mount(dev, mp) }
        } catch let e as GuestfsError {
            failed(dev, mp, e)
        }
    }
}

/// The guest path for `path`: on Windows guests "C:\Windows\..." style
/// paths are turned into the case-correct path on the right drive.
func guestPath(_ g: Guestfs, root: String?, _ path: String) throws -> String {
    guard let root, (try? g.inspectGetType(root)) == "windows" else { return path }
    var p = path
    let chars = Array(p)
    if chars.count >= 2, chars[0].isLetter, chars[1] == ":" {
        let letter = String(chars[0]).uppercased()
        let maps = try g.inspectGetDriveMappingsPairs(root)
        guard let dev = maps.first(where: { $0.key.uppercased() == letter })?.value else {
            throw ToolError("drive \(letter): not found in the guest's drive mappings")
        }
        try g.umountAll()
        try g.mountRo(dev, "/")
        p = String(chars.dropFirst(2))
    }
    p = p.replacingOccurrences(of: "\\", with: "/")
    if !p.hasPrefix("/") { p = "/" + p }
    return (try? g.caseSensitivePath(p)) ?? p
}

/// Guest bytes written straight to fd 1 must come after what stdio buffered.
func fflushStdout() { fflush(stdout) }

// Command-line handling shared by the virt-* tools: the disk options every
// tool takes (-a, -d, -c, --format, …) plus each tool's own, parsed the way
// libguestfs's tools parse them (bundled short flags, --opt=value).

import Foundation
import Guestfs
import GuestfsToolSupport

/// One option a tool accepts.
struct ToolOption {
    var long: [String]
    var short: [Character]
    var takesValue: Bool
    /// `--opt` alone is allowed as well as `--opt=value` (like --format).
    var valueOptional = false
    var help: String
    var apply: (String?) throws -> Void
}

/// A disk to add, in command-line order.
enum DiskSource {
    case file(String, format: String?, blocksize: Int?)
    case domain(String)
}

struct UsageError: Error, CustomStringConvertible {
    var description: String
}

/// The state every tool shares: disks, libvirt URI, verbosity, -m mounts.
final class CommonOptions {
    var disks: [DiskSource] = []
    var libvirtURI: String?
    var format: String?
    /// --format was given and no -a came after it to take it: an error,
    /// since the user surely meant it for a disk.
    var formatPending = false
    var blocksize: Int?
    var verbose = false
    var trace = false
    var mounts: [String] = []
    var inspector = false
    var showHelp = false
    var showVersion = false
    /// --key, --keys-from-stdin, --echo-keys: keys for encrypted guests.
    let keys = KeyStore()

    /// The options every tool takes; `withMount` adds -m and -i.
    func options(withMount: Bool) -> [ToolOption] {
        var o: [ToolOption] = [
            ToolOption(long: ["add"], short: ["a"], takesValue: true, help: "-a|--add image       Add a disk image") {
                self.disks.append(.file($0!, format: self.format, blocksize: self.blocksize))
                self.formatPending = false
            },
            ToolOption(long: ["blocksize"], short: [], takesValue: true, valueOptional: true,
                       help: "--blocksize[=512|4096] Sector size of the disks added after it") { v in
                guard let v else { self.blocksize = nil; return }
                guard let b = Int(v), b == 512 || b == 4096 else { throw UsageError(description: "--blocksize: invalid sector size '\(v)'") }
                self.blocksize = b
            },
            ToolOption(long: ["connect"], short: ["c"], takesValue: true, help: "-c|--connect uri    Libvirt URI for -d") {
                self.libvirtURI = $0
            },
            ToolOption(long: ["domain"], short: ["d"], takesValue: true, help: "-d|--domain guest   Add the disks of a libvirt guest (name or UUID)") {
                self.disks.append(.domain($0!))
            },
            ToolOption(long: ["echo-keys"], short: [], takesValue: false, help: "--echo-keys         Show passphrases as they are typed") { _ in
                self.keys.echoKeys = true
            },
            ToolOption(long: ["format"], short: [], takesValue: true, valueOptional: true,
                       help: "--format[=raw|..]   Format of the disks added after it (default: probe)") { v in
                self.format = (v == nil || v == "auto") ? nil : v
                self.formatPending = true
            },
            ToolOption(long: ["help"], short: [], takesValue: false, help: "--help              Show this help") { _ in self.showHelp = true },
            ToolOption(long: ["key"], short: [], takesValue: true,
                       help: "--key ID:key:KEY|ID:file:FILE Key for the encrypted device ID (device or LUKS UUID)") {
                try self.keys.add(selector: $0!)
            },
            ToolOption(long: ["keys-from-stdin"], short: [], takesValue: false, help: "--keys-from-stdin   Read passphrases from stdin") { _ in
                self.keys.keysFromStdin = true
            },
            ToolOption(long: ["verbose"], short: ["v"], takesValue: false, help: "-v|--verbose        Verbose messages") { _ in self.verbose = true },
            ToolOption(long: ["version"], short: ["V"], takesValue: false, help: "-V|--version        Show the version and exit") { _ in self.showVersion = true },
            ToolOption(long: [], short: ["x"], takesValue: false, help: "-x                  Trace libguestfs calls") { _ in self.trace = true },
        ]
        if withMount {
            o.append(ToolOption(long: ["mount"], short: ["m"], takesValue: true,
                                help: "-m|--mount dev[:mnt[:opts[:fstype]]] Mount dev on mnt instead of inspecting") {
                self.mounts.append($0!)
            })
        }
        return o
    }
}

/// Splits argv into options (applied as they come) and operands.
func parseCommandLine(_ argv: [String], options: [ToolOption]) throws -> [String] {
    var operands: [String] = []
    var i = 0
    func find(long name: String) throws -> ToolOption {
        guard let o = options.first(where: { $0.long.contains(name) }) else {
            throw UsageError(description: "unrecognized option '--\(name)'")
        }
        return o
    }
    while i < argv.count {
        let a = argv[i]
        if a == "--" {
            operands += argv[(i + 1)...]
            break
        }
        if a.hasPrefix("--") {
            var name = String(a.dropFirst(2))
            var inline: String?
            if let eq = name.firstIndex(of: "=") {
                inline = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            let o = try find(long: name)
            if o.takesValue && inline == nil && !o.valueOptional {
                i += 1
                guard i < argv.count else { throw UsageError(description: "option '--\(name)' requires an argument") }
                inline = argv[i]
            } else if !o.takesValue && inline != nil {
                throw UsageError(description: "option '--\(name)' doesn't allow an argument")
            }
            try o.apply(inline)
        } else if a.hasPrefix("-") && a.count > 1 {
            var chars = Array(a.dropFirst())
            while !chars.isEmpty {
                let c = chars.removeFirst()
                guard let o = options.first(where: { $0.short.contains(c) }) else {
                    throw UsageError(description: "invalid option -- '\(c)'")
                }
                if o.takesValue {
                    var v: String
                    if !chars.isEmpty { v = String(chars); chars = [] } else {
                        i += 1
                        guard i < argv.count else { throw UsageError(description: "option requires an argument -- '\(c)'") }
                        v = argv[i]
                    }
                    try o.apply(v)
                } else {
                    try o.apply(nil)
                }
            }
        } else {
            operands.append(a)
        }
        i += 1
    }
    return operands
}

import Foundation
import Guestfs
import GuestfsToolSupport

/// What the command line asked for.
struct Options {
    enum Drive {
        case file(String, format: String?, blocksize: Int?)
        case prepared(PreparedDisk)
        /// -d: the disks of a libvirt domain (name or UUID).
        case domain(String)
    }
    var drives: [Drive] = []
    var mounts: [String] = []
    /// -c: the libvirt URI for -d.
    var libvirtURI: String?
    var file: String?
    var inspector = false
    var readOnly = false
    var verbose = false
    var trace = false
    var network = false
    var noSync = false
    /// --key, --keys-from-stdin, --echo-keys.
    let keys = KeyStore()
    var progressBars: Bool?
    var listen = false
    var csh = false
    var remote: String?
    var commands: [String] = []
}

func usageExit(_ status: Int32) -> Never {
    if status != 0 {
        Out.errLine("Try 'guestfish --help' for more information.")
        exit(status)
    }
    Out.write("""
    guestfish: the guest filesystem shell
    Reads and changes virtual machine disk images.

    Usage:
      guestfish [--options] cmd [: cmd : cmd ...]
    Options:
      -h|--cmd-help        List the available commands
      -h|--cmd-help cmd    Show the help of 'cmd'
      -a|--add image       Add a disk image
      -c|--connect uri     Libvirt URI for -d
      -d|--domain guest    Add the disks of the libvirt domain guest (name or UUID)
      --blocksize[=512|4096]
                           Sector size of the disks added with -a after it
      --echo-keys          Show passphrases as they are typed
      -f|--file file       Read commands from file
      --format[=raw|..]    Format of the disks added with -a after it
      --help               Show this help
      -i|--inspector       Find and mount the guest's filesystems
      --key ID:key:KEY|ID:file:FILE
                           Key for the encrypted device ID (with -i)
      --keys-from-stdin    Read passphrases from stdin
      --csh                With --listen, print csh syntax
      --listen             Run in the background, serving --remote commands
      -m|--mount dev[:mnt[:opts[:fstype]]]
                           Mount dev on mnt (/ if omitted)
      --network            Enable the network in the appliance
      -N|--new [filename=]type
                           Create a prepared disk (test<N>.img or filename); -N help lists types
      -n|--no-sync         Do not sync disks when exiting
      --no-dest-paths      Do not tab-complete guest paths
      --pipe-error         Fail when a '| pipeline' fails
      --progress-bars      Show progress bars even when not interactive
      --no-progress-bars   Never show progress bars
      --remote[=pid]       Send commands to a listening guestfish
      -r|--ro              Open disks read-only (recommended for live guests)
      --selinux            Accepted for compatibility; does nothing
      -v|--verbose         Verbose messages
      -V|--version         Show the version and exit
      -w|--rw              Open disks read-write (the default)
      -x                   Trace each command before running it

    Examples:
      guestfish --ro -a disk.img -m /dev/sda1
      guestfish -N fs:ext4 -m /dev/sda1 -- write /hello 'hi' : cat /hello

    See guestfish(1) for everything else.

    """)
    exit(0)
}

func fail(_ msg: String) -> Never {
    Out.errLine("guestfish: \(msg)")
    exit(1)
}

func parseOptions(_ argv: [String]) -> Options {
    var o = Options()
    var format: String?
    var blocksize: Int?
    var preparedCount = 0
    var i = 0
    func needArg(_ name: String, _ inline: String?) -> String {
        if let inline { return inline }
        i += 1
        guard i < argv.count else {
            Out.errLine("guestfish: option '\(name)' requires an argument")
            usageExit(1)
        }
        return argv[i]
    }
    func cmdHelp(_ inline: String?) -> Never {
        var cmd = inline
        if cmd == nil, i + 1 < argv.count, !argv[i + 1].hasPrefix("-") { cmd = argv[i + 1] }
        if let cmd {
            exit(Help.showCommand(cmd) ? 0 : 1)
        }
        Help.listCommands()
        exit(0)
    }
    func addPrepared(_ spec: String) {
        if spec == "help" || spec == "list" {
            PreparedDisk.listHelp()
            exit(0)
        }
        preparedCount += 1
        do { o.drives.append(.prepared(try PreparedDisk(spec, n: preparedCount))) } catch {
            Out.errLine("\(error)")
            exit(1)
        }
    }
    while i < argv.count {
        let a = argv[i]
        if a == "--" {
            o.commands += argv[(i + 1)...]
            break
        }
        if a.hasPrefix("--") {
            var name = String(a.dropFirst(2))
            var inline: String?
            if let eq = name.firstIndex(of: "=") {
                inline = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            switch name {
            case "add": o.drives.append(.file(needArg(a, inline), format: format, blocksize: blocksize))
            case "blocksize":
                if let inline {
                    guard let b = Int(inline), b == 512 || b == 4096 else { fail("--blocksize: invalid sector size '\(inline)'") }
                    blocksize = b
                } else { blocksize = nil }
            case "cmd-help": cmdHelp(inline)
            case "connect": o.libvirtURI = needArg(a, inline)
            case "domain": o.drives.append(.domain(needArg(a, inline)))
            case "csh": o.csh = true
            case "echo-keys": o.keys.echoKeys = true
            case "file": o.file = needArg(a, inline)
            case "format": format = (inline == nil || inline == "auto") ? nil : inline
            case "help": usageExit(0)
            case "inspector": o.inspector = true
            case "key":
                do { try o.keys.add(selector: needArg(a, inline)) } catch { fail("\(error)") }
            case "keys-from-stdin": o.keys.keysFromStdin = true
            case "listen": o.listen = true
            case "mount": o.mounts.append(needArg(a, inline))
            case "network": o.network = true
            case "new": addPrepared(needArg(a, inline))
            case "no-dest-paths": Completion.guestPaths = false
            case "no-sync": o.noSync = true
            case "pipe-error": break
            case "progress-bars": o.progressBars = true
            case "no-progress-bars": o.progressBars = false
            case "remote": o.remote = inline ?? ""
            case "ro": o.readOnly = true
            case "rw": o.readOnly = false
            case "selinux": break
            case "verbose": o.verbose = true
            case "version": printVersion()
            case "trace": o.trace = true
            default:
                Out.errLine("guestfish: unrecognized option '\(a)'")
                usageExit(1)
            }
            i += 1
            continue
        }
        if a.hasPrefix("-") && a.count > 1 {
            var chars = Array(a.dropFirst())
            while !chars.isEmpty {
                let c = chars.removeFirst()
                let rest: String? = chars.isEmpty ? nil : String(chars)
                switch c {
                case "a": o.drives.append(.file(needArg("-a", rest), format: format, blocksize: blocksize)); chars = []
                case "c": o.libvirtURI = needArg("-c", rest); chars = []
                case "d": o.drives.append(.domain(needArg("-d", rest))); chars = []
                case "D": Completion.guestPaths = false
                case "f": o.file = needArg("-f", rest); chars = []
                case "h": cmdHelp(rest)
                case "i": o.inspector = true
                case "m": o.mounts.append(needArg("-m", rest)); chars = []
                case "n": o.noSync = true
                case "N": addPrepared(needArg("-N", rest)); chars = []
                case "r": o.readOnly = true
                case "w": o.readOnly = false
                case "v": o.verbose = true
                case "V": printVersion()
                case "x": o.trace = true
                default:
                    Out.errLine("guestfish: invalid option -- '\(c)'")
                    usageExit(1)
                }
            }
            i += 1
            continue
        }
        o.commands += argv[i...]
        break
    }
    return o
}

func printVersion() -> Never {
    if let g = try? Guestfs(), case let .structure(f)? = try? g.callAction("version", []) {
        func field(_ n: String) -> String { f.first { $0.name == n }.map { ResultPrinter.fieldText($0.value) } ?? "" }
        let extra = field("extra")
        let sep = extra.first.map { $0.isLetter || $0.isNumber } ?? false ? " " : ""
        Out.line("guestfish \(field("major")).\(field("minor")).\(field("release"))\(sep)\(extra)")
    } else {
        Out.line("guestfish")
    }
    exit(0)
}

/// Splits command-line words into commands at ":" words.
func splitCommands(_ words: [String]) -> [[String]] {
    var out: [[String]] = []
    var cur: [String] = []
    for w in words {
        if w == ":" {
            if !cur.isEmpty { out.append(cur) }
            cur = []
        } else {
            cur.append(w)
        }
    }
    if !cur.isEmpty { out.append(cur) }
    return out
}

func mainProgram() -> Int32 {
    setlocale(LC_ALL, "")
    signal(SIGPIPE, SIG_IGN)
    let o = parseOptions(Array(CommandLine.arguments.dropFirst()))

    if o.listen && o.remote != nil { fail("cannot use --listen and --remote options at the same time") }
    if let spec = o.remote {
        if !o.drives.isEmpty || !o.mounts.isEmpty || o.inspector {
            fail("--remote: disks and mounts (-a, -N, -m, -i) belong to the --listen side")
        }
        if o.file != nil { fail("cannot use --remote and --file options at the same time") }
        return Remote.client(spec, splitCommands(o.commands))
    }
    if o.listen {
        if !o.commands.isEmpty { fail("extra parameters on the command line with --listen flag") }
        if o.file != nil { fail("cannot use --listen and --file options at the same time") }
    }
    // --listen: the server is a child in the background that does all the
    // setup below; the parent returns once it listens (or has failed).
    let readyFD: Int32? = o.listen
        ? Remote.daemonize(csh: o.csh || (ProcessInfo.processInfo.environment["SHELL"] ?? "").hasSuffix("csh"))
        : nil

    let sh: Shell
    do { sh = try Shell() } catch {
        Out.errLine("guestfish: guestfs_create: failed to create handle: \(error)")
        return 1
    }
    sh.readOnly = o.readOnly
    sh.verbose = o.verbose
    sh.trace = o.trace
    sh.network = o.network
    sh.autosync = !o.noSync
    sh.keys = o.keys

    let commands = splitCommands(o.commands)
    let scriptFromStdin = commands.isEmpty && o.file == nil
    let interactive = scriptFromStdin && isatty(0) != 0
    sh.interactive = interactive
    sh.exitOnError = !interactive
    sh.progressBars = o.progressBars ?? (interactive && isatty(2) != 0)
    if let f = o.file { sh.inputName = f }

    do { try sh.configureHandle() } catch {
        sh.report(error)
        return 1
    }

    // Drives, in command-line order.
    var prepared: [(PreparedDisk, Int)] = []
    var index = 0
    for d in o.drives {
        do {
            switch d {
            case let .file(path, format, blocksize):
                var opt: [String: ActionArgument] = [:]
                if o.readOnly { opt["readonly"] = .bool(true) }
                if let format { opt["format"] = .string(format) }
                if let blocksize { opt["blocksize"] = .int(Int64(blocksize)) }
                try sh.call("add_drive", [.string(path)], opt)
            case let .prepared(p):
                try p.create(sh)
                prepared.append((p, index))
            case let .domain(name):
                // As libguestfs's guestfish: UUIDs accepted, disks the domain
                // marks <readonly/> added read-only, --ro for the rest.
                var opt: [String: ActionArgument] = ["allowuuid": .bool(true), "readonlydisk": .string("read")]
                if let uri = o.libvirtURI { opt["libvirturi"] = .string(uri) }
                if o.readOnly { opt["readonly"] = .bool(true) }
                if case let .int(n) = try sh.call("add_domain", [.string(name)], opt) { index += Int(n) - 1 }
            }
        } catch {
            sh.report(error)
            return 1
        }
        index += 1
    }

    // -N, -m and -i need the appliance.
    if !prepared.isEmpty || !o.mounts.isEmpty || o.inspector {
        do {
            try sh.call("launch")
            if o.inspector { sh.inspectorReport = try Inspector.mount(sh, readOnly: o.readOnly) }
            for (p, idx) in prepared {
                guard case let .string(dev) = try sh.call("device_name", [.int(Int64(idx))]) else { continue }
                try p.prepare(sh, device: dev)
            }
            for m in o.mounts { try mount(sh, m, readOnly: o.readOnly) }
        } catch {
            sh.report(error)
            _ = sh.shutdown()
            return 1
        }
    }

    if let readyFD { Remote.serve(sh, ready: readyFD) }

    var ok = true
    do {
        if !commands.isEmpty {
            sh.fromCommandLine = true
            sh.lineNo = 0
            for c in commands {
                if !(try sh.issue(c[0], Array(c.dropFirst()), pipe: nil)) {
                    ok = false
                    break
                }
            }
        } else if let f = o.file {
            guard let text = try? String(contentsOfFile: f, encoding: .utf8) else {
                Out.errLine("guestfish: open: \(f): \(String(cString: strerror(errno == 0 ? ENOENT : errno)))")
                return 1
            }
            var lines = text.components(separatedBy: "\n")
            if lines.last == "" { lines.removeLast() }
            var it = lines.makeIterator()
            ok = try sh.runScript { it.next() }
        } else if interactive {
            ok = Interactive.run(sh)
        } else {
            ok = try sh.runScript { readLine(strippingNewline: true) }
        }
    } catch is QuitRequest {
        // quit
    } catch {
        sh.report(error)
        ok = false
    }
    if !sh.shutdown() { ok = false }
    sh.g.close()
    return ok ? 0 : 1
}

/// -m dev[:mountpoint[:options[:fstype]]]
func mount(_ sh: Shell, _ spec: String, readOnly: Bool) throws {
    let parts = spec.split(separator: ":", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
    let dev = parts[0]
    let mp = parts.count > 1 && !parts[1].isEmpty ? parts[1] : "/"
    let opts = parts.count > 2 && !parts[2].isEmpty ? parts[2] : (readOnly ? "ro" : "")
    if parts.count > 3 && !parts[3].isEmpty {
        try sh.call("mount_vfs", [.string(opts), .string(parts[3]), .string(dev), .string(mp)])
    } else {
        try sh.call("mount_options", [.string(opts), .string(dev), .string(mp)])
    }
}

exit(mainProgram())

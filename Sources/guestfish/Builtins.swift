import Foundation
import Guestfs

/// A guestfish command that is not an API action.
struct Builtin {
    let name: String
    let aliases: [String]
    let usages: [String]
    let summary: String
    let help: String
    /// Shown in the `-h` command list (help and quit are listed specially).
    var listed = true
    let run: (Shell, String, [String]) throws -> Void
}

enum Builtins {
    static func find(_ cmd: String) -> Builtin? {
        let c = cmd.replacingOccurrences(of: "_", with: "-")
        return index[c]
    }

    private static let index: [String: Builtin] = {
        var d: [String: Builtin] = [:]
        for b in all {
            d[b.name] = b
            for a in b.aliases { d[a] = b }
        }
        return d
    }()

    /// Every command name, for completion.
    static var names: [String] { all.flatMap { [$0.name] + $0.aliases } }

    static func usageError(_ cmd: String, _ usage: String) -> FishError {
        FishError("use '\(usage)' (see 'help \(cmd)')")
    }

    static let all: [Builtin] = [
        Builtin(name: "help", aliases: [], usages: ["help", "help cmd", "help -l|--list"],
                summary: "display a list of commands or help on a command",
                help: "Without an argument, prints a short introduction; 'help -l' lists every command and\n'help CMD' describes one.", listed: false) { _, _, args in
            switch args.count {
            case 0: Help.intro()
            case 1 where args[0] == "-l" || args[0] == "--list": Help.listCommands()
            case 1: if !Help.showCommand(args[0]) { throw FishError("", silent: true) }
            default: throw FishError("use 'help', 'help <cmd>' or 'help -l|--list' to list all commands")
            }
        },
        Builtin(name: "quit", aliases: ["exit", "q"], usages: ["quit"], summary: "quit guestfish",
                help: "Leaves guestfish (the appliance is shut down first).", listed: false) { _, _, _ in
            throw QuitRequest()
        },
        Builtin(name: "alloc", aliases: ["allocate"], usages: ["alloc filename size"],
                summary: "allocate and add a disk file",
                help: "Creates the local file filename, size bytes long and fully allocated (zeroed), and\nadds it as the next drive. size takes the suffixes k, M, G, T (powers of 1024) and\nb (512-byte sectors). Use 'sparse' to make a file that does not take space up\nfront. This must be done before 'run'.") { sh, cmd, args in
            guard args.count == 2 else { throw usageError(cmd, "alloc file size") }
            try createDisk(sh, args[0], size: try parseSize(args[1], cmd), sparse: false)
        },
        Builtin(name: "sparse", aliases: [], usages: ["sparse filename size"],
                summary: "create a sparse disk image and add",
                help: "Like 'alloc', but the file is sparse: it reads as zeroes and only takes host space\nas data is written to it.") { sh, cmd, args in
            guard args.count == 2 else { throw usageError(cmd, "sparse file size") }
            try createDisk(sh, args[0], size: try parseSize(args[1], cmd), sparse: true)
        },
        Builtin(name: "copy-in", aliases: [], usages: ["copy-in local [local ...] /remotedir"],
                summary: "copy local files or directories into an image",
                help: "Copies the local files or directory trees into the guest directory remotedir,\nwhich must exist. Directories are copied recursively with ownership and\npermissions (using a tar stream).") { sh, cmd, args in
            guard args.count >= 2 else { throw usageError(cmd, "copy-in <local> [<local>...] <remotedir>") }
            try copyIn(sh, Array(args.dropLast()), args.last!)
        },
        Builtin(name: "copy-out", aliases: [], usages: ["copy-out remote [remote ...] localdir"],
                summary: "copy remote files or directories out of an image",
                help: "Copies the guest files or directory trees into the local directory localdir, which\nmust exist. Directories are copied recursively (using a tar stream).") { sh, cmd, args in
            guard args.count >= 2 else { throw usageError(cmd, "copy-out <remote> [<remote>...] <localdir>") }
            try copyOut(sh, Array(args.dropLast()), args.last!)
        },
        Builtin(name: "delete-event", aliases: [], usages: ["delete-event name"],
                summary: "delete a previously registered event handler",
                help: "Removes every event handler registered under name with 'event'.") { sh, cmd, args in
            guard args.count == 1 else { throw usageError(cmd, "delete-event <name>") }
            let matching = sh.events.filter { $0.name == args[0] }
            if matching.isEmpty { throw FishError("delete-event: \(args[0]): no such event handler") }
            for e in matching { sh.g.deleteEventCallback(e.handle) }
            sh.events.removeAll { $0.name == args[0] }
        },
        Builtin(name: "display", aliases: [], usages: ["display filename"],
                summary: "display an image",
                help: "Downloads the guest file filename and shows it with the local program named by\n$GUESTFISH_DISPLAY_IMAGE (default: display, from ImageMagick).") { sh, cmd, args in
            guard args.count == 1 else { throw usageError(cmd, "display <filename>") }
            let viewer = ProcessInfo.processInfo.environment["GUESTFISH_DISPLAY_IMAGE"] ?? "display"
            try withDownloaded(sh, args[0]) { local in
                if Subprocess.shell("\(viewer) '\(local.replacingOccurrences(of: "'", with: "'\\''"))'") != 0 {
                    throw FishError("display: \(viewer) failed")
                }
                return false
            }
        },
        Builtin(name: "echo", aliases: [], usages: ["echo [params ...]"],
                summary: "display a line of text",
                help: "Prints its arguments, separated by spaces, followed by a newline.") { _, _, args in
            Out.line(args.joined(separator: " "))
        },
        Builtin(name: "edit", aliases: ["vi", "emacs"], usages: ["edit filename"],
                summary: "edit a file",
                help: "Downloads the guest file filename to a local temporary file, runs an editor on it\nand, if it was changed, uploads it back. 'edit' uses $EDITOR (default vi); 'vi'\nand 'emacs' run those editors.") { sh, cmd, args in
            guard args.count == 1 else { throw usageError(cmd, "edit <filename>") }
            var editor = ProcessInfo.processInfo.environment["EDITOR"] ?? "vi"
            if cmd == "vi" { editor = "vi" } else if cmd == "emacs" { editor = "emacs -nw" }
            try withDownloaded(sh, args[0]) { local in
                let before = try Data(contentsOf: URL(fileURLWithPath: local))
                if Subprocess.shell("\(editor) '\(local.replacingOccurrences(of: "'", with: "'\\''"))'") != 0 {
                    throw FishError("edit: the editor failed; the file was not changed")
                }
                let after = try Data(contentsOf: URL(fileURLWithPath: local))
                return before != after
            }
        },
        Builtin(name: "event", aliases: [], usages: ["event name eventset \"shell script ...\""],
                summary: "register a handler for an event or events",
                help: "Runs the shell script whenever one of the events in eventset (comma-separated\nnames such as close, trace, progress, or *) happens. The script sees the event name\nin $EVENT and the message and numbers as $1, $2, ... name lets 'delete-event'\nremove the handler.") { sh, cmd, args in
            guard args.count == 3 else { throw usageError(cmd, "event <name> <eventset> <script>") }
            let set = try EventSet(names: args[1])
            let h = sh.registerEvent(args[0], set, args[2])
            sh.events.append((args[0], set, args[2], h))
        },
        Builtin(name: "glob", aliases: [], usages: ["glob command args..."],
                summary: "expand wildcards in command",
                help: "Expands the wildcards (*, ? and [...]) in guest paths among args and runs command\nonce for each combination of matches. A pattern matching nothing is passed as is.") { sh, cmd, args in
            guard !args.isEmpty else { throw usageError(cmd, "glob <command> [<args> ...]") }
            try Glob.run(sh, args[0], Array(args.dropFirst()))
        },
        Builtin(name: "hexedit", aliases: [], usages: ["hexedit filename|device", "hexedit filename|device max", "hexedit filename|device start max"],
                summary: "edit with a hex editor",
                help: "Edits a guest file or device with the local hex editor $HEXEDITOR (default\nhexedit). With max, only the first max bytes are edited; with start and max,\nthe max bytes from offset start. The region is downloaded, edited and written\nback in place.") { sh, cmd, args in
            guard (1...3).contains(args.count) else { throw usageError(cmd, "hexedit <file|device> [[<start>] <max>]") }
            try hexedit(sh, args)
        },
        Builtin(name: "lcd", aliases: [], usages: ["lcd directory"],
                summary: "change working directory",
                help: "Changes guestfish's local working directory (where relative local file names\npoint), like cd in the shell.") { _, cmd, args in
            guard args.count == 1 else { throw usageError(cmd, "lcd directory") }
            if chdir(args[0]) != 0 { throw FishError("\(args[0]): \(String(cString: strerror(errno)))") }
        },
        Builtin(name: "list-events", aliases: [], usages: ["list-events"],
                summary: "list event handlers",
                help: "Lists the event handlers registered with 'event'.") { sh, cmd, args in
            guard args.isEmpty else { throw usageError(cmd, "list-events") }
            for e in sh.events { Out.line("\"\(e.name)\" (\(e.handle)): \(e.events): \(e.script)") }
        },
        Builtin(name: "man", aliases: ["manual"], usages: ["man"],
                summary: "open the manual",
                help: "Shows the guestfish(1) manual page.") { _, _, _ in
            Out.flush()
            if Subprocess.shell("man 1 guestfish") != 0 { throw FishError("man: could not show the guestfish manual page") }
        },
        Builtin(name: "more", aliases: ["less"], usages: ["more filename", "less filename"],
                summary: "view a file",
                help: "Shows the guest file filename with the local pager: $PAGER (default more) for\n'more', less for 'less'.") { sh, cmd, args in
            guard args.count == 1 else { throw usageError(cmd, "\(cmd) <filename>") }
            let pager = cmd == "less" ? "less" : (ProcessInfo.processInfo.environment["PAGER"] ?? "more")
            try withDownloaded(sh, args[0]) { local in
                Subprocess.shell("\(pager) '\(local.replacingOccurrences(of: "'", with: "'\\''"))'")
                return false
            }
        },
        Builtin(name: "not", aliases: [], usages: ["not command [args ...]"],
                summary: "opposite of a command",
                help: "Runs command and succeeds if it failed, fails if it succeeded. Useful in tests.") { sh, cmd, args in
            guard !args.isEmpty else { throw usageError(cmd, "not <command> [<args> ...]") }
            var failed = false
            do { try sh.run(args[0], Array(args.dropFirst())) } catch is QuitRequest { throw QuitRequest() } catch {
                sh.report(error)
                failed = true
            }
            if !failed { throw FishError("not: \(args[0]) succeeded") }
        },
        Builtin(name: "reopen", aliases: [], usages: ["reopen"],
                summary: "close and reopen the libguestfs handle",
                help: "Closes the handle (shutting the appliance down) and opens a fresh one with the same\ncommand-line settings. Added drives are forgotten.") { sh, cmd, args in
            guard args.isEmpty else { throw usageError(cmd, "reopen") }
            _ = sh.shutdown()
            sh.g.close()
            sh.g = try Guestfs()
            try sh.configureHandle()
        },
        Builtin(name: "setenv", aliases: [], usages: ["setenv VAR value"],
                summary: "set an environment variable",
                help: "Sets the environment variable VAR to value for guestfish and the programs it runs.") { _, _, args in
            guard args.count == 2 else { throw FishError("use 'setenv VAR value' to set an environment variable") }
            setenv(args[0], args[1], 1)
        },
        Builtin(name: "unsetenv", aliases: [], usages: ["unsetenv VAR"],
                summary: "unset an environment variable",
                help: "Removes the environment variable VAR.") { _, _, args in
            guard args.count == 1 else { throw FishError("use 'unsetenv VAR' to unset an environment variable") }
            unsetenv(args[0])
        },
        Builtin(name: "supported", aliases: [], usages: ["supported"],
                summary: "list supported groups of commands",
                help: "Lists each optional group of commands and whether the appliance supports it (the\nappliance must be running).") { sh, cmd, args in
            guard args.isEmpty else { throw usageError(cmd, "supported") }
            try supported(sh)
        },
        Builtin(name: "time", aliases: [], usages: ["time command args"],
                summary: "print elapsed time taken to run a command",
                help: "Runs command and then prints how long it took.") { sh, cmd, args in
            guard !args.isEmpty else { throw usageError(cmd, "time <command> [<args> ...]") }
            let t0 = Date()
            try sh.run(args[0], Array(args.dropFirst()))
            Out.line(String(format: "elapsed time: %.2f seconds", Date().timeIntervalSince(t0)))
        },
    ]

    // MARK: sizes and disks

    /// "10M", "1G", "512", "100b" (sectors).
    static func parseSize(_ s: String, _ cmd: String) throws -> Int64 {
        var body = Substring(s)
        var mult: Int64 = 1
        let scale: [Character: Int64] = ["b": 512, "k": 1 << 10, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40, "P": 1 << 50, "E": 1 << 60]
        if let last = body.last, let m = scale[last] {
            mult = m
            body = body.dropLast()
            if body.hasSuffix("i") || body.hasSuffix("I") { body = body.dropLast() }
        } else if body.hasSuffix("iB") || body.hasSuffix("B"), let l = body.dropLast(body.hasSuffix("iB") ? 2 : 1).last, let m = scale[l] {
            mult = m
            body = body.dropLast(body.hasSuffix("iB") ? 3 : 2)
        }
        guard let v = Int64(body), v >= 0 else {
            throw FishError("parse_size: invalid integer parameter (xstrtoull returned \(body.isEmpty || Int64(body.prefix { $0.isNumber }) == nil ? 4 : 2))")
        }
        let (r, o) = v.multipliedReportingOverflow(by: mult)
        if o { throw FishError("\(cmd): size specification '\(s)' is too large") }
        return r
    }

    static func createDisk(_ sh: Shell, _ file: String, size: Int64, sparse: Bool) throws {
        if sh.isLaunched {
            throw FishError("can't allocate or add disks after launching")
        }
        let fd = open(file, O_WRONLY | O_CREAT | O_NOCTTY | O_TRUNC, 0o666)
        if fd < 0 { throw FishError("\(file): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        if sparse {
            if ftruncate(fd, off_t(size)) != 0 { throw FishError("\(file): \(String(cString: strerror(errno)))") }
        } else {
            let r = posix_fallocate(fd, 0, off_t(size))
            if r != 0 {
                // Filesystems without fallocate: write zeroes.
                if ftruncate(fd, 0) != 0 { throw FishError("\(file): \(String(cString: strerror(r)))") }
                let chunk = [UInt8](repeating: 0, count: 1 << 20)
                var left = size
                while left > 0 {
                    let n = Int(min(Int64(chunk.count), left))
                    if Glibc.write(fd, chunk, n) != n { throw FishError("\(file): \(String(cString: strerror(errno)))") }
                    left -= Int64(n)
                }
            }
        }
        try sh.call("add_drive", [.string(file)], ["format": .string("raw")])
    }

    // MARK: temp files

    static func makeTempDir() throws -> String {
        let base = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
        var template = Array("\(base)/guestfishXXXXXX".utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw FishError("mkdtemp: \(String(cString: strerror(errno)))")
        }
        return String(cString: template)
    }

    /// Downloads a guest file to a temporary local file, calls body with its
    /// name and uploads it back if body returns true.
    static func withDownloaded(_ sh: Shell, _ remote: String, _ body: (String) throws -> Bool) throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let base = (remote as NSString).lastPathComponent
        let local = "\(dir)/\(base.isEmpty ? "file" : base)"
        try sh.call("download", [.string(remote), .string(local)])
        Out.flush()
        if try body(local) {
            try sh.call("upload", [.string(local), .string(remote)])
        }
    }

    // MARK: copy-in / copy-out

    static func copyIn(_ sh: Shell, _ locals: [String], _ remote: String) throws {
        guard sh.bool(try sh.call("is_dir", [.string(remote)])) else {
            throw FishError("copy-in: target '\(remote)' is not a directory")
        }
        for local in locals {
            guard FileManager.default.fileExists(atPath: local) else {
                throw FishError("copy-in: \(local): No such file or directory")
            }
            // The library's copy_in runs the local tar and streams it with tar_in.
            try sh.call("copy_in", [.string(local), .string(remote)])
        }
    }

    static func copyOut(_ sh: Shell, _ remotes: [String], _ local: String) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: local, isDirectory: &isDir), isDir.boolValue else {
            throw FishError("copy-out: target '\(local)' is not a directory")
        }
        for remote in remotes {
            let isFile = sh.bool(try sh.call("is_file", [.string(remote)]))
            guard try isFile || sh.bool(sh.call("is_dir", [.string(remote)])) else {
                throw FishError("copy-out: '\(remote)' is not a file or directory")
            }
            // The library's copy_out downloads a file, or unpacks tar_out's stream locally.
            try sh.call("copy_out", [.string(remote), .string(local)])
        }
    }

    // MARK: hexedit

    static func hexedit(_ sh: Shell, _ args: [String]) throws {
        let target = args[0]
        let size: Int64
        if target.hasPrefix("/dev/") {
            guard case let .int(v) = try sh.call("blockdev_getsize64", [.string(target)]) else { return }
            size = v
        } else {
            guard case let .int(v) = try sh.call("filesize", [.string(target)]) else { return }
            size = v
        }
        var start: Int64 = 0
        var max = size
        if args.count == 2 { max = try parseSize(args[1], "hexedit") }
        if args.count == 3 {
            start = try parseSize(args[1], "hexedit")
            max = try parseSize(args[2], "hexedit")
        }
        if start >= size && size > 0 { throw FishError("hexedit: start offset is beyond the end of \(target)") }
        if start + max > size { max = size - start }
        if args.count == 1 && max > 1 << 20 {
            throw FishError("hexedit: \(target) is larger than 1M: give the max (and start) parameters to edit part of it")
        }
        let editor = ProcessInfo.processInfo.environment["HEXEDITOR"] ?? "hexedit"
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let local = "\(dir)/hexedit.bin"
        try sh.call("download_offset", [.string(target), .string(local), .int(start), .int(max)])
        let before = try Data(contentsOf: URL(fileURLWithPath: local))
        Out.flush()
        if Subprocess.shell("\(editor) '\(local)'") != 0 { throw FishError("hexedit: \(editor) failed") }
        let after = try Data(contentsOf: URL(fileURLWithPath: local))
        if before != after {
            try sh.call("upload_offset", [.string(local), .string(target), .int(start)])
        }
    }

    // MARK: supported

    static func supported(_ sh: Shell) throws {
        let groups = Set(ActionInfo.all.compactMap(\.optionalGroup)).sorted()
        if sh.g.state != .ready {
            throw GuestfsError("supported: call launch before using this function\n(in guestfish, don't forget to use the 'run' command)")
        }
        var s = ""
        for grp in groups {
            let pad = grp.count < 10 ? String(repeating: " ", count: 10 - grp.count) : ""
            var answer = "no"
            do {
                answer = sh.bool(try sh.call("feature_available", [.stringList([grp])])) ? "yes" : "no"
            } catch { answer = "error" }
            s += "\(pad)\(grp) \(answer)\n"
        }
        Out.write(s)
    }
}

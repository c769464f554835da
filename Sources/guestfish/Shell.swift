import Foundation
import Guestfs
import GuestfsToolSupport

/// A guestfish-level error: printed as is (no "libguestfs: error:" prefix).
struct FishError: Error, CustomStringConvertible {
    var message: String
    /// True when the message has already been printed.
    var silent = false
    init(_ message: String, silent: Bool = false) {
        self.message = message
        self.silent = silent
    }
    var description: String { message }
}

/// Thrown by `quit`.
struct QuitRequest: Error {}

/// The state of one guestfish session: the handle, where commands come
/// from (for error messages) and how errors are handled.
final class Shell {
    var g: Guestfs
    /// Where the current command came from, for "FILE:LINE: " prefixes.
    var inputName = "*stdin*"
    var lineNo = 0
    var interactive = false
    /// Non-interactive sessions stop at the first failing command.
    var exitOnError = true
    /// Commands come from guestfish's own command line (for the hint after
    /// an unknown command).
    var fromCommandLine = false
    var readOnly = false
    /// -i: the operating system and what got mounted, shown under the banner.
    var inspectorReport: String?
    var progressBars = false
    /// --key selectors, --keys-from-stdin, --echo-keys: keys for key
    /// arguments and for unlocking encrypted guests under -i.
    var keys = KeyStore()
    var keysFromStdin: Bool {
        get { keys.keysFromStdin }
        set { keys.keysFromStdin = newValue }
    }
    var verbose = false
    var trace = false
    var network = false
    var autosync = true
    var progress: ProgressBar?
    /// User event handlers: name -> (eventset, script, handle id).
    var events: [(name: String, events: EventSet, script: String, handle: Int)] = []

    init() throws {
        g = try Guestfs()
    }

    // MARK: error reporting

    func reportLibraryError(_ e: GuestfsError) {
        var prefix = ""
        if !interactive { prefix = "\(inputName):\(lineNo): " }
        Out.errLine("\(prefix)libguestfs: error: \(e.message)")
    }

    func report(_ error: Error) {
        switch error {
        case let e as GuestfsError: reportLibraryError(e)
        case let e as FishError: if !e.silent && !e.message.isEmpty { Out.errLine(e.message) }
        case let e as ParseError: Out.errLine("guestfish: \(e.message)")
        default: Out.errLine("guestfish: \(error)")
        }
    }

    // MARK: running lines

    /// Runs a sequence of lines (a script, stdin, the output of `<!`).
    /// Returns false when a command failed and the session must stop.
    func runScript(_ nextLine: () -> String?) throws -> Bool {
        while let line = nextLine() {
            lineNo += 1
            let ok = try runLine(line)
            if !ok && exitOnError { return false }
        }
        return true
    }

    /// Parses and runs one line; returns false on failure (unless the line
    /// is prefixed by `-`). Throws QuitRequest for quit.
    func runLine(_ line: String) throws -> Bool {
        let parsed: ParsedLine
        do {
            parsed = try Lexer.parse(line)
        } catch {
            report(error)
            return false
        }
        if let local = parsed.localCommand {
            Out.flush()
            let st = Subprocess.shell(local)
            return st == 0
        }
        if let inline = parsed.inlineCommand {
            Out.flush()
            guard let (status, output) = Subprocess.capture(inline), status == 0 else {
                Out.errLine("guestfish: command failed: \(inline.trimmingCharacters(in: .whitespaces))")
                return false
            }
            var lines = output.components(separatedBy: "\n")
            if lines.last == "" { lines.removeLast() }
            var it = lines.makeIterator()
            let savedLine = lineNo
            defer { lineNo = savedLine }
            return try runScript { it.next() }
        }
        if parsed.command.isEmpty { return true }
        let ok = try issue(parsed.command, parsed.args, pipe: parsed.pipe)
        return ok || parsed.ignoreError
    }

    /// Runs a command, optionally with its output sent to a local pipeline.
    func issue(_ cmd: String, _ args: [String], pipe: String?) throws -> Bool {
        guard let pipe else {
            return try runCommandReporting(cmd, args)
        }
        let redirect = try StdoutRedirect(pipeline: pipe)
        var ok = false
        do {
            ok = try runCommandReporting(cmd, args)
        } catch {
            _ = redirect.finish()
            throw error
        }
        _ = redirect.finish()
        return ok
    }

    func runCommandReporting(_ cmd: String, _ args: [String]) throws -> Bool {
        do {
            try Interrupt.during(g) { try run(cmd, args) }
            return true
        } catch is QuitRequest {
            throw QuitRequest()
        } catch {
            report(error)
            return false
        }
    }

    // MARK: dispatch

    /// Runs a command by name; throws on failure.
    func run(_ cmd: String, _ rawArgs: [String]) throws {
        let args = rawArgs
        if let b = Builtins.find(cmd) {
            try b.run(self, cmd, args.map(Lexer.decoded))
            return
        }
        if let info = Shell.findAction(cmd) {
            try runAction(info, cmd, args)
            return
        }
        var msg = "\(cmd): unknown command"
        if fromCommandLine {
            msg += "\nDid you mean to open a disk image?  guestfish -a disk.img\n"
            msg += "For a list of commands:             guestfish -h\n"
            msg += "For complete documentation:         man guestfish"
        }
        throw FishError(msg)
    }

    /// The action a guestfish command names: the action's name with `-` or
    /// `_`, one of its aliases or a fish alias.
    static func findAction(_ cmd: String) -> ActionInfo? {
        let u = cmd.replacingOccurrences(of: "-", with: "_")
        guard let info = ActionInfo.find(cmd) ?? ActionInfo.find(u), info.inGuestfish else { return nil }
        return info
    }

    /// The command names an action answers to in guestfish.
    static func commandNames(_ info: ActionInfo) -> [String] {
        var names = [info.name.replacingOccurrences(of: "_", with: "-")]
        names += info.aliases.map { $0.replacingOccurrences(of: "_", with: "-") }
        names += info.fishAliases
        return names
    }

    // MARK: actions

    static func isStringKind(_ k: ActionInfo.ArgKind) -> Bool {
        switch k {
        case .string, .pathname, .device, .mountable, .deviceOrPath, .mountableOrPath, .guid, .filename: return true
        default: return false
        }
    }

    func usage(_ info: ActionInfo) -> String {
        Help.actionUsage(info)
    }

    func runAction(_ info: ActionInfo, _ cmd: String, _ rawArgs: [String]) throws {
        let positional = info.args.filter { $0.kind != .key && $0.kind != .pointer }
        let n = positional.count
        if rawArgs.count < n || rawArgs.count > n + info.optargs.count {
            throw FishError("error: incorrect number of arguments\nusage: \(usage(info))\ntype 'help \(cmd)' for more help on \(cmd)")
        }
        var args: [ActionArgument] = []
        var ai = 0
        for a in info.args {
            if a.kind == .key {
                args.append(.string(try readKey(a.name)))
                continue
            }
            args.append(try convert(rawArgs[ai], kind: a.kind, cmd: cmd, argName: a.name))
            ai += 1
        }
        var optargs: [String: ActionArgument] = [:]
        for raw in rawArgs[n...] {
            let word = Lexer.decoded(raw)
            guard let colon = word.firstIndex(of: ":"),
                  let opt = info.optargs.first(where: { $0.name == String(word[..<colon]) }) else {
                throw FishError("\(cmd): unknown optional argument \"\(word)\"")
            }
            if optargs[opt.name] != nil {
                throw FishError("\(cmd): optional argument \"\(opt.name)\" given more than once")
            }
            let value = String(raw[raw.index(after: raw.firstIndex(of: ":")!)...])
            optargs[opt.name] = try convert(value, kind: opt.kind, cmd: cmd, argName: opt.name, isOptarg: true)
        }
        let showProgress = progressBars && info.isDaemonAction
        if showProgress { progress?.reset() }
        defer { if showProgress { progress?.finish() } }
        let r = try g.callAction(info.name, args, optargs: optargs)
        if showProgress { progress?.finish() }
        ResultPrinter.print(r, info: info)
    }

    func convert(_ raw: String, kind: ActionInfo.ArgKind, cmd: String, argName: String, isOptarg: Bool = false) throws -> ActionArgument {
        let s = Lexer.decoded(raw)
        switch kind {
        case .string, .pathname, .device, .mountable, .deviceOrPath, .mountableOrPath, .guid, .filename, .key:
            return .string(s)
        case .fileIn:
            return .string(s == "-" ? "/dev/stdin" : s)
        case .fileOut:
            if s == "-" { Out.flush(); return .string("/dev/stdout") }
            return .string(s)
        case .optString:
            return s.isEmpty && !isOptarg ? .null : .string(s)
        case .stringList, .deviceList, .filenameList, .pathnameList:
            // Like guestfish: words separated by blanks, quotes not special.
            return .stringList(s.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map(String.init))
        case .bool:
            guard let b = ActionArgument.parseBool(s) else {
                throw FishError("guestfish: '\(s)': invalid boolean value, use 'true' or 'false'")
            }
            return .bool(b)
        case .int, .int64:
            let v = try Shell.parseInteger(s, cmd: cmd, argName: argName)
            if kind == .int && (v < Int64(Int32.min) || v > Int64(Int32.max)) {
                throw FishError("\(cmd): \(argName): integer out of range")
            }
            return .int(v)
        case .buffer:
            return .buffer(Lexer.rawBytes(raw))
        case .pointer:
            throw FishError("\(cmd): \(argName): this argument cannot be given in guestfish")
        }
    }

    /// Integers as guestfish reads them (strtoll base 0 plus an optional
    /// k/K/M/G/T/P/E multiplier suffix), with its error messages.
    static func parseInteger(_ s: String, cmd: String, argName: String) throws -> Int64 {
        func fail(_ code: Int) -> FishError {
            FishError("\(cmd): \(argName): invalid integer parameter (xstrtoll returned \(code))")
        }
        var body = Substring(s.trimmingCharacters(in: .whitespaces))
        var multiplier: Int64 = 1
        let digitsEnd = body.firstIndex { c in
            !(c.isHexDigit || c == "x" || c == "X" || c == "-" || c == "+")
        }
        if let e = digitsEnd {
            let suffix = body[e...]
            let scale: [Character: Int64] = ["k": 1 << 10, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40, "P": 1 << 50, "E": 1 << 60]
            guard e != body.startIndex else { throw fail(4) }
            guard suffix.count == 1, let m = scale[suffix.first!] else { throw fail(2) }
            multiplier = m
            body = body[..<e]
        }
        guard let v = ActionArgument.parseInt(String(body)) else {
            // Digits followed by junk that looked like hex (e.g. "12ab").
            let clean = body.prefix { $0.isNumber || $0 == "-" || $0 == "+" }
            if clean.isEmpty { throw fail(4) }
            if body.count > 18 { throw FishError("\(cmd): \(argName): integer out of range") }
            throw fail(2)
        }
        let (r, overflow) = v.multipliedReportingOverflow(by: multiplier)
        if overflow { throw FishError("\(cmd): \(argName): integer out of range") }
        return r
    }

    // MARK: keys

    func readKey(_ name: String) throws -> String {
        do { return try keys.ask(name) } catch { throw FishError("guestfish: \(error)") }
    }

    // MARK: handle helpers

    /// Calls an action by name, throwing library errors.
    @discardableResult
    func call(_ name: String, _ args: [ActionArgument] = [], _ optargs: [String: ActionArgument] = [:]) throws -> ActionResult {
        try g.callAction(name, args, optargs: optargs)
    }

    var isLaunched: Bool { g.state != .config }

    func stringList(_ r: ActionResult) -> [String] {
        if case let .stringList(l) = r { return l }
        return []
    }

    func bool(_ r: ActionResult) -> Bool {
        if case let .bool(b) = r { return b }
        return false
    }

    /// Applies the session's settings to a (new) handle.
    func configureHandle() throws {
        // Keep the appliance out of the terminal's process group, so a
        // Ctrl-C cancels the current transfer instead of killing qemu.
        try call("set_pgroup", [.bool(true)])
        if verbose { try call("set_verbose", [.bool(true)]) }
        if trace { try call("set_trace", [.bool(true)]) }
        if network { try call("set_network", [.bool(true)]) }
        if !autosync { try call("set_autosync", [.bool(false)]) }
        progress = ProgressBar(handle: g, enabled: { [weak self] in self?.progressBars ?? false })
        for i in events.indices {
            events[i].handle = registerEvent(events[i].name, events[i].events, events[i].script)
        }
    }

    func registerEvent(_ name: String, _ set: EventSet, _ script: String) -> Int {
        g.setEventCallback(events: set) { event, _, buffer, array in
            Out.flush()
            var args = ["-c", script, "guestfish-event"]
            if !buffer.isEmpty { args.append(String(decoding: buffer, as: UTF8.self)) }
            args += array.map { String($0) }
            var env = ProcessInfo.processInfo.environment
            env["EVENT"] = event.description
            _ = Subprocess.run("/bin/sh", args, environment: env)
        }
    }

    /// Shuts the appliance down at exit; returns false if that failed.
    func shutdown() -> Bool {
        do {
            try call("shutdown")
            return true
        } catch {
            report(error)
            return false
        }
    }
}

extension Out {
    /// Nothing is buffered (every write goes straight to the descriptor);
    /// this also flushes Foundation's stdout in case anything used print.
    static func flush() { fflush(stdout) }
}

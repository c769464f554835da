import CReadline
import Foundation

/// Remote control: `guestfish --listen` (a server in the background) and
/// `guestfish --remote[=PID] cmd args...` (a client).
///
/// The server listens on the unix stream socket DIR/socket-PID, where DIR is
/// a private per-user directory (mode 0700, owned by the user; both ends
/// refuse anything else): $XDG_RUNTIME_DIR/guestfish when XDG_RUNTIME_DIR is
/// set, otherwise ${TMPDIR:-/tmp}/.guestfish-UID. It serves one connection
/// at a time, one command per connection, and only clients of its own uid
/// (SO_PEERCRED).
///
/// Framing (both ends are guestfish; integers are big-endian u32, a string
/// is a u32 byte count followed by the bytes):
///
///     request:  "GFR1" | argc | argc x string (command, args) | string cwd
///     reply:    "GFR1" | exit status (0 or 1)
///
/// The client's stdin, stdout and stderr travel with the request's first
/// bytes as SCM_RIGHTS; the server makes them its own fds 0, 1 and 2 and
/// changes to cwd while it runs the command through the shell's dispatcher,
/// so the output streams straight to the client's descriptors and looks
/// exactly as it would from `guestfish cmd args`. `exit`/`quit` shut the
/// appliance down (syncing the disks) and remove the socket before the
/// reply, so the client returns once the server is done with the disks.
enum Remote {
    static let magic: [UInt8] = Array("GFR1".utf8)
    static let maxArgs = 100_000
    static let maxString = 64 << 20

    // MARK: socket directory

    static func directory() -> String {
        let env = ProcessInfo.processInfo.environment
        if let x = env["XDG_RUNTIME_DIR"], !x.isEmpty {
            return x + "/guestfish"
        }
        var tmp = env["TMPDIR"] ?? ""
        if tmp.isEmpty { tmp = "/tmp" }
        return "\(tmp)/.guestfish-\(getuid())"
    }

    static func socketPath(_ pid: pid_t) -> String {
        "\(directory())/socket-\(pid)"
    }

    /// Checks (creating it if asked) that the socket directory is a real
    /// directory owned by us and private; returns an error message if not.
    static func checkDirectory(create: Bool) -> String? {
        let dir = directory()
        if create && mkdir(dir, 0o700) != 0 && errno != EEXIST {
            return "cannot create \(dir): \(String(cString: strerror(errno)))"
        }
        var st = stat()
        if lstat(dir, &st) != 0 { return "\(dir): \(String(cString: strerror(errno)))" }
        if (st.st_mode & S_IFMT) != S_IFDIR { return "\(dir) is not a directory" }
        if st.st_uid != getuid() { return "\(dir) is not owned by you" }
        if (st.st_mode & 0o077) != 0 { return "\(dir) is accessible to other users (it must be mode 0700)" }
        return nil
    }

    // MARK: wire helpers

    static func u32(_ v: Int, into b: inout [UInt8]) {
        let x = UInt32(truncatingIfNeeded: v)
        b += [UInt8(x >> 24), UInt8((x >> 16) & 0xff), UInt8((x >> 8) & 0xff), UInt8(x & 0xff)]
    }

    static func string(_ s: String, into b: inout [UInt8]) {
        let bytes = Array(s.utf8)
        u32(bytes.count, into: &b)
        b += bytes
    }

    /// Reads exactly n bytes (false on EOF or error).
    static func readExact(_ fd: Int32, _ n: Int) -> [UInt8]? {
        var buf = [UInt8](repeating: 0, count: n)
        var off = 0
        while off < n {
            let r = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress! + off, n - off) }
            if r < 0 && errno == EINTR { continue }
            if r <= 0 { return nil }
            off += r
        }
        return buf
    }

    static func readU32(_ fd: Int32) -> Int? {
        guard let b = readExact(fd, 4) else { return nil }
        return Int(b[0]) << 24 | Int(b[1]) << 16 | Int(b[2]) << 8 | Int(b[3])
    }

    static func readString(_ fd: Int32) -> String? {
        guard let n = readU32(fd), n <= maxString, let b = readExact(fd, n) else { return nil }
        return String(decoding: b, as: UTF8.self)
    }

    // MARK: server

    /// Forks: the parent waits until the child is listening (or has failed
    /// to set up, having said why on stderr), prints the line for the
    /// shell to eval and exits; the child returns the descriptor on which
    /// to say it is ready (see `serve`).
    static func daemonize(csh: Bool) -> Int32 {
        Out.flush()
        var p: [Int32] = [0, 0]
        guard pipe(&p) == 0 else { fail("--listen: pipe: \(String(cString: strerror(errno)))") }
        let pid = fork()
        if pid < 0 { fail("--listen: fork: \(String(cString: strerror(errno)))") }
        if pid > 0 {
            close(p[1])
            var c: UInt8 = 0
            var r: Int
            repeat { r = read(p[0], &c, 1) } while r < 0 && errno == EINTR
            if r == 1 && c == UInt8(ascii: "R") {
                Out.line(csh ? "setenv GUESTFISH_PID \(pid)" : "GUESTFISH_PID=\(pid); export GUESTFISH_PID")
                exit(0)
            }
            var st: Int32 = 0
            waitpid(pid, &st, 0)
            exit(1)
        }
        close(p[0])
        _ = fcntl(p[1], F_SETFD, FD_CLOEXEC)
        setsid()
        // Let go of the caller's stdin and stdout (the $(...) pipe) at once;
        // stderr stays until the server is ready so setup errors are seen.
        let null = open("/dev/null", O_RDWR)
        if null >= 0 {
            dup2(null, 0)
            dup2(null, 1)
            close(null)
        }
        return p[1]
    }

    /// Listens and serves commands until `exit`/`quit`; never returns.
    static func serve(_ sh: Shell, ready: Int32) -> Never {
        if let e = checkDirectory(create: true) {
            Out.errLine("guestfish: --listen: \(e)")
            _ = sh.shutdown()
            exit(1)
        }
        let path = socketPath(getpid())
        unlink(path)
        let ls = fish_unix_socket(path, 1)
        if ls < 0 {
            Out.errLine("guestfish: --listen: \(path): \(String(cString: strerror(errno)))")
            _ = sh.shutdown()
            exit(1)
        }
        // Ready: release the parent, then stderr too.
        var r: UInt8 = UInt8(ascii: "R")
        _ = write(ready, &r, 1)
        close(ready)
        let null = open("/dev/null", O_RDWR)
        if null >= 0 { dup2(null, 2); close(null) }
        let home = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)

        sh.interactive = false
        sh.exitOnError = false
        sh.progressBars = false
        // Keys are read unbuffered from fd 0 (the client's stdin): a stdio
        // buffer would keep one client's bytes for the next.
        sh.keysFromStdin = false
        while true {
            let c = accept(ls, nil, nil)
            if c < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                break
            }
            _ = fcntl(c, F_SETFD, FD_CLOEXEC)
            let quit = handle(sh, c, home: home, listener: ls, path: path)
            close(c)
            if quit { exit(0) }
        }
        close(ls)
        unlink(path)
        _ = sh.shutdown()
        exit(1)
    }

    /// Serves one connection; returns true when the server must exit.
    static func handle(_ sh: Shell, _ c: Int32, home: Int32, listener: Int32, path: String) -> Bool {
        guard fish_peer_uid(c) == Int(getuid()) else { return false }
        // A client that stops half-way through its request must not block
        // the server for ever.
        var tv = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))

        var head = [UInt8](repeating: 0, count: 4)
        var fds: [Int32] = [-1, -1, -1]
        var nfds: Int32 = 0
        let n = head.withUnsafeMutableBytes { h in
            fds.withUnsafeMutableBufferPointer { fish_recv_fds(c, h.baseAddress, 4, $0.baseAddress, 3, &nfds) }
        }
        let received = Array(fds.prefix(Int(max(0, nfds))))
        defer { for fd in received { close(fd) } }
        guard n > 0 else { return false }
        if n < 4 {
            guard let rest = readExact(c, 4 - n) else { return false }
            head = Array(head.prefix(n)) + rest
        }
        guard head == magic, received.count == 3, let argc = readU32(c), argc >= 1, argc <= maxArgs else { return false }
        var argv: [String] = []
        for _ in 0..<argc {
            guard let s = readString(c) else { return false }
            argv.append(s)
        }
        guard let cwd = readString(c) else { return false }

        // Run the command with the client's descriptors and directory.
        let saved = (dup(0), dup(1), dup(2))
        dup2(received[0], 0)
        dup2(received[1], 1)
        dup2(received[2], 2)
        var ok = false
        var quit = false
        if chdir(cwd) != 0 {
            Out.errLine("guestfish: remote: cannot change to directory \(cwd): \(String(cString: strerror(errno)))")
        } else {
            sh.lineNo = 0
            sh.fromCommandLine = true
            do {
                ok = try sh.issue(argv[0], Array(argv.dropFirst()), pipe: nil)
            } catch is QuitRequest {
                ok = true
                quit = true
            } catch {
                sh.report(error)
            }
        }
        if quit {
            close(listener)
            unlink(path)
            if !sh.shutdown() { ok = false }
            sh.g.close()
        }
        Out.flush()
        _ = fchdir(home)
        dup2(saved.0, 0); dup2(saved.1, 1); dup2(saved.2, 2)
        close(saved.0); close(saved.1); close(saved.2)

        var reply = magic
        u32(ok ? 0 : 1, into: &reply)
        _ = Out.writeBytes(reply, fd: c)
        return quit
    }

    // MARK: client

    /// The server's PID from --remote=PID or $GUESTFISH_PID.
    static func serverPID(_ spec: String) -> pid_t {
        var s = spec
        if s.isEmpty {
            guard let e = ProcessInfo.processInfo.environment["GUESTFISH_PID"], !e.isEmpty else {
                fail("remote: GUESTFISH_PID is not set: start a server with eval \"$(guestfish --listen ...)\", or use --remote=PID")
            }
            s = e
        }
        guard let pid = Int32(s), pid > 0 else { fail("remote: '\(s)' is not a valid process ID") }
        return pid
    }

    /// Sends one command; returns its exit status (1 when it could not be
    /// sent, after saying why).
    static func send(_ pid: pid_t, _ argv: [String]) -> Int32 {
        let path = socketPath(pid)
        if access(directory(), F_OK) != 0 {
            Out.errLine("guestfish: remote: looks like the server is not running (pid \(pid): no \(directory()))")
            return 1
        }
        if let e = checkDirectory(create: false) {
            Out.errLine("guestfish: remote: \(e)")
            return 1
        }
        let s = fish_unix_socket(path, 0)
        if s < 0 {
            let why = String(cString: strerror(errno))
            if errno == ENOENT || errno == ECONNREFUSED {
                Out.errLine("guestfish: remote: looks like the server is not running (pid \(pid): \(path): \(why))")
            } else {
                Out.errLine("guestfish: remote: \(path): \(why)")
            }
            return 1
        }
        defer { close(s) }
        var req = magic
        u32(argv.count, into: &req)
        for a in argv { string(a, into: &req) }
        string(FileManager.default.currentDirectoryPath, into: &req)
        Out.flush()
        let fds: [Int32] = [0, 1, 2]
        var sent = 0
        repeat {
            let r = req.withUnsafeBytes { fish_send_fds(s, $0.baseAddress, 4, fds, 3) }
            if r < 0 && errno == EINTR { continue }
            if r < 0 {
                Out.errLine("guestfish: remote: sendmsg: \(String(cString: strerror(errno)))")
                return 1
            }
            sent = r
        } while sent == 0
        guard Out.writeBytes(Array(req[sent...]), fd: s) else {
            Out.errLine("guestfish: remote: write: \(String(cString: strerror(errno)))")
            return 1
        }
        guard let head = readExact(s, 4), head == magic, let status = readU32(s) else {
            Out.errLine("guestfish: remote: the server (pid \(pid)) closed the connection without replying")
            return 1
        }
        return status == 0 ? 0 : 1
    }

    /// `guestfish --remote[=PID]`: sends the command-line commands, or the
    /// commands read from stdin (one per line, as in a script; `!cmd`
    /// runs locally and `cmd | pipeline` pipes the output locally), stopping
    /// at the first failure.
    static func client(_ spec: String, _ commands: [[String]]) -> Int32 {
        let pid = serverPID(spec)
        if !commands.isEmpty {
            for c in commands {
                let st = send(pid, c)
                if st != 0 { return st }
            }
            return 0
        }
        var lineNo = 0
        while let line = readLine(strippingNewline: true) {
            lineNo += 1
            let parsed: ParsedLine
            do { parsed = try Lexer.parse(line) } catch {
                Out.errLine("guestfish: \((error as? ParseError)?.message ?? "\(error)")")
                return 1
            }
            var st: Int32 = 0
            if let local = parsed.localCommand {
                Out.flush()
                st = Subprocess.shell(local) == 0 ? 0 : 1
            } else if parsed.inlineCommand != nil {
                Out.errLine("guestfish: remote: '<!' is not supported with --remote")
                st = 1
            } else if parsed.command.isEmpty {
                continue
            } else if let pipe = parsed.pipe {
                do {
                    let redirect = try StdoutRedirect(pipeline: pipe)
                    st = send(pid, [parsed.command] + parsed.args)
                    _ = redirect.finish()
                } catch {
                    Out.errLine("guestfish: \(error)")
                    st = 1
                }
            } else {
                st = send(pid, [parsed.command] + parsed.args)
            }
            if st != 0 && !parsed.ignoreError { return st }
        }
        return 0
    }
}

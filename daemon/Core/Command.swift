// Running programs: posix_spawnp with pipes, optional stdin bytes,
// captured stdout/stderr, exit status.

import Glibc

struct CommandResult {
    var status: Int32          // exit code, or 128+signal
    var stdout: [UInt8]
    var stderr: [UInt8]
    var out: String { String(decoding: stdout, as: UTF8.self) }
    var err: String { String(decoding: stderr, as: UTF8.self) }
    var ok: Bool { status == 0 }
}

/// A spawned child with optional pipes to its stdin/stdout/stderr.
final class Child {
    enum Stream { case null, pipe, inherit(Int32) }

    let pid: pid_t
    var stdinFD: Int32
    var stdoutFD: Int32
    var stderrFD: Int32
    let program: String

    private init(pid: pid_t, stdin: Int32, stdout: Int32, stderr: Int32, program: String) {
        self.pid = pid
        self.stdinFD = stdin
        self.stdoutFD = stdout
        self.stderrFD = stderr
        self.program = program
    }

    /// Environment for children: the daemon's own plus a few fixed settings.
    static var extraEnvironment: [String] = []

    static func spawn(_ argv: [String], stdin: Stream = .null, stdout: Stream = .pipe, stderr: Stream = .pipe,
                      keepFDs: [Int32] = []) throws -> Child {
        guard let prog = argv.first, !prog.isEmpty else { throw DaemonError.invalid("empty command") }
        var fa = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fa)
        defer { posix_spawn_file_actions_destroy(&fa) }
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        sigaddset(&defaults, SIGCHLD)
        sigaddset(&defaults, SIGINT)
        sigaddset(&defaults, SIGTERM)
        posix_spawnattr_setsigdefault(&attr, &defaults)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attr, &mask)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        var parentEnds: [Int32] = [-1, -1, -1]
        var childEnds: [Int32] = []
        func cleanup() {
            for fd in parentEnds where fd >= 0 { close(fd) }
            for fd in childEnds { close(fd) }
        }
        let streams = [stdin, stdout, stderr]
        for (i, s) in streams.enumerated() {
            switch s {
            case .null:
                posix_spawn_file_actions_addopen(&fa, Int32(i), "/dev/null", i == 0 ? O_RDONLY : O_WRONLY, 0)
            case .inherit(let fd):
                posix_spawn_file_actions_adddup2(&fa, fd, Int32(i))
            case .pipe:
                var p: [Int32] = [-1, -1]
                if pipe(&p) != 0 { cleanup(); throw DaemonError.posix("pipe") }
                Sys.setCloexec(p[0]); Sys.setCloexec(p[1])
                let (childEnd, parentEnd) = i == 0 ? (p[0], p[1]) : (p[1], p[0])
                parentEnds[i] = parentEnd
                childEnds.append(childEnd)
                posix_spawn_file_actions_adddup2(&fa, childEnd, Int32(i))
            }
        }
        for fd in keepFDs { Sys.clearCloexec(fd) }
        defer { for fd in keepFDs { Sys.setCloexec(fd) } }

        var env: [String] = []
        var e = environ
        while let p = e.pointee {
            env.append(String(cString: p))
            e += 1
        }
        env.append(contentsOf: extraEnvironment)

        var pid: pid_t = 0
        let cargv = argv.map { strdup($0) } + [nil]
        let cenv = env.map { strdup($0) } + [nil]
        defer {
            for p in cargv { free(p) }
            for p in cenv { free(p) }
        }
        let rc = posix_spawnp(&pid, prog, &fa, &attr, cargv, cenv)
        for fd in childEnds { close(fd) }
        childEnds = []
        if rc != 0 {
            for fd in parentEnds where fd >= 0 { close(fd) }
            throw DaemonError(rc, "\(prog): \(Sys.strerror(rc))")
        }
        return Child(pid: pid, stdin: parentEnds[0], stdout: parentEnds[1], stderr: parentEnds[2], program: prog)
    }

    func closeStdin() {
        if stdinFD >= 0 { close(stdinFD); stdinFD = -1 }
    }

    /// Waits for the child; returns its exit code (128+signal when killed).
    func wait() -> Int32 {
        closeStdin()
        if stdoutFD >= 0 { close(stdoutFD); stdoutFD = -1 }
        if stderrFD >= 0 { close(stderrFD); stderrFD = -1 }
        var st: Int32 = 0
        while waitpid(pid, &st, 0) < 0 {
            if errno != EINTR { return 127 }
        }
        if st & 0x7F == 0 { return (st >> 8) & 0xFF }
        return 128 + (st & 0x7F)
    }

    /// Pumps the pipes: writes `input` (if any) to stdin, collects stderr
    /// into `errBuf`, and hands stdout data to `onOutput` (or collects it).
    /// Returns when stdout and stderr are closed.
    func pump(input: [UInt8]? = nil, errBuf: inout [UInt8], onOutput: ([UInt8]) throws -> Void) throws {
        var inOff = 0
        if input == nil || input!.isEmpty { closeStdin() }
        var buf = [UInt8](repeating: 0, count: 65536)
        while stdoutFD >= 0 || stderrFD >= 0 || stdinFD >= 0 {
            var fds: [pollfd] = []
            if stdinFD >= 0 { fds.append(pollfd(fd: stdinFD, events: Int16(POLLOUT), revents: 0)) }
            if stdoutFD >= 0 { fds.append(pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0)) }
            if stderrFD >= 0 { fds.append(pollfd(fd: stderrFD, events: Int16(POLLIN), revents: 0)) }
            let r = poll(&fds, nfds_t(fds.count), -1)
            if r < 0 {
                if errno == EINTR { continue }
                throw DaemonError.posix("poll")
            }
            for p in fds where p.revents != 0 {
                if p.fd == stdinFD, let input {
                    let n = input.withUnsafeBytes { write(stdinFD, $0.baseAddress! + inOff, min(65536, input.count - inOff)) }
                    if n < 0 && errno != EINTR && errno != EAGAIN { closeStdin(); continue }
                    if n > 0 { inOff += n }
                    if inOff >= input.count { closeStdin() }
                } else if p.fd == stdoutFD || p.fd == stderrFD {
                    let n = buf.withUnsafeMutableBytes { read(p.fd, $0.baseAddress, $0.count) }
                    if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
                    if n <= 0 {
                        close(p.fd)
                        if p.fd == stdoutFD { stdoutFD = -1 } else { stderrFD = -1 }
                        continue
                    }
                    if p.fd == stdoutFD { try onOutput(Array(buf[0..<n])) } else { errBuf.append(contentsOf: buf[0..<n]) }
                }
            }
        }
    }
}

enum Command {
    /// Runs a program to completion and captures its output.
    static func run(_ argv: [String], input: [UInt8]? = nil) throws -> CommandResult {
        let child = try Child.spawn(argv, stdin: input == nil ? .null : .pipe)
        var out: [UInt8] = []
        var err: [UInt8] = []
        do {
            try child.pump(input: input, errBuf: &err) { out.append(contentsOf: $0) }
        } catch {
            _ = child.wait()
            throw error
        }
        let status = child.wait()
        return CommandResult(status: status, stdout: out, stderr: err)
    }

    /// Runs a program and fails unless it exits 0; the error quotes its stderr.
    @discardableResult
    static func check(_ argv: [String], input: [UInt8]? = nil, okStatuses: Set<Int32> = [0]) throws -> CommandResult {
        let r = try run(argv, input: input)
        if !okStatuses.contains(r.status) { throw failure(argv, r) }
        return r
    }

    /// Stdout of a successful run, as text.
    static func output(_ argv: [String], input: [UInt8]? = nil) throws -> String {
        try check(argv, input: input).out
    }

    static func failure(_ argv: [String], _ r: CommandResult) -> DaemonError {
        let prog = argv.first.map { $0.split(separator: "/").last.map(String.init) ?? $0 } ?? "command"
        var text = r.err.trimmed()
        if text.isEmpty { text = r.out.trimmed() }
        if text.isEmpty { text = "exited with status \(r.status)" }
        // Many tools already start their message with their own name.
        if text.hasPrefix(prog + ":") { return DaemonError(message: text) }
        return DaemonError(message: "\(prog): \(text)")
    }

    /// Whether `program` can be found in PATH (or is an existing absolute path).
    static func exists(_ program: String) -> Bool {
        if program.hasPrefix("/") { return access(program, X_OK) == 0 }
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/sbin:/usr/bin:/sbin:/bin"
        for dir in path.split(separator: ":") where access("\(dir)/\(program)", X_OK) == 0 {
            return true
        }
        return false
    }
}

import Foundation
import GuestfsProtocol

/// A running hypervisor: its pid, console and recovery watcher.
final class ApplianceProcess {
    let pid: pid_t
    let consoleFD: Int32
    var console: ConsoleReader?
    var watcherPID: pid_t = 0
    var exitStatus: Int32?

    init(pid: pid_t, consoleFD: Int32) {
        self.pid = pid
        self.consoleFD = consoleFD
    }

    /// Reaps the child if it exited; true when it is gone.
    @discardableResult
    func reap(wait: Bool = false) -> Bool {
        if exitStatus != nil { return true }
        var st: Int32 = 0
        while true {
            let r = waitpid(pid, &st, wait ? 0 : WNOHANG)
            if r == pid { exitStatus = st; return true }
            if r < 0 && errno == EINTR { continue }
            if r < 0 { exitStatus = -1; return true }
            return false
        }
    }

    /// Waits up to `seconds` for the child to exit.
    func waitExit(seconds: Double) -> Bool {
        let deadline = monotonicNow() + seconds
        while monotonicNow() < deadline {
            console?.drain()
            if reap() { return true }
            usleep(20_000)
        }
        return reap()
    }

    var statusDescription: String {
        guard let st = exitStatus else { return "still running" }
        if st == -1 { return "unknown status" }
        if st & 0x7f == 0 { return "exit status \((st >> 8) & 0xff)" }
        return "killed by signal \(st & 0x7f)"
    }

    var exitedCleanly: Bool { exitStatus.map { $0 & 0x7f == 0 && ($0 >> 8) & 0xff == 0 } ?? false }
}

struct LaunchFailure: Error {
    var error: GuestfsError
    var timedOut: Bool
}

extension Guestfs {
    /// Generous, like libguestfs's own: under TCG on a loaded machine a
    /// healthy appliance can take minutes; a hung one is rare.
    static let defaultLaunchTimeout = 600.0
    static let kvmProbeTimeout = 20.0

    func impl_launch() throws {
        guard state == .config, !launchAttempted else {
            throw fail(EINVAL, "the libguestfs handle has already been launched")
        }
        state = .launching
        let t0 = monotonicNow()
        do {
            if backend.hasPrefix("unix:") {
                try launchUnix(String(backend.dropFirst(5)))
            } else if backend == "direct" || backend == "appliance" {
                try launchDirect()
            } else {
                throw fail(ENOTSUP, "backend '\(backend)' is not supported by swift-guestfs (use 'direct' or 'unix:PATH')")
            }
        } catch {
            killAppliance(emitQuit: false)
            state = .config
            throw error
        }
        launchAttempted = true
        state = .ready
        debug(String(format: "launch done in %.2f s", monotonicNow() - t0))
        emit(.launchDone)
    }

    func impl_wait_ready() throws {
        guard state == .ready else { throw fail(EINVAL, "the appliance is not ready (call launch first)") }
    }

    func impl_shutdown() throws {
        if state == .config && appliance == nil && channel == nil { return }
        try shutdownAppliance(check: true)
    }

    func impl_kill_subprocess() throws { try impl_shutdown() }

    // MARK: unix:PATH

    func launchUnix(_ sockPath: String) throws {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { let e = errno; throw fail(e, "socket: \(errnoText(e))") }
        var addr = try unixAddress(sockPath)
        let r = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if r != 0 {
            let e = errno
            _ = Glibc.close(fd)
            throw fail(e, "\(sockPath): \(errnoText(e))")
        }
        let ch = DaemonChannel(fd: fd, console: nil)
        channel = ch
        try waitForLaunchFlag(ch, deadline: monotonicNow() + launchTimeout, process: nil)
    }

    var launchTimeout: Double {
        if let s = backendSetting("launch_timeout"), let v = Double(s), v > 0 { return v }
        return Guestfs.defaultLaunchTimeout
    }

    func unixAddress(_ path: String) throws -> sockaddr_un {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
            throw fail(ENAMETOOLONG, "socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { p in
            for (i, b) in bytes.enumerated() { p[i] = b }
            p[bytes.count] = 0
        }
        return addr
    }

    // MARK: direct

    func launchDirect() throws {
        if drives.count > Int(try impl_max_disks()) {
            throw fail(EINVAL, "too many drives have been added, the current backend only supports \(try impl_max_disks()) drives")
        }
        let files = try locateAppliance()
        guard let hvPath = hv ?? Guestfs.defaultHypervisor() else {
            throw fail(ENOENT, "cannot find qemu-system-x86_64 on $PATH (set LIBGUESTFS_HV or call set_hv)")
        }
        let tmp = try lazyTmpdir()
        let sockdir = try makeTempDir(in: effectiveSockdir, prefix: "libguestfs")
        handleSockdir = sockdir
        let sock = "\(sockdir)/guestfsd.sock"

        var cfg = QemuConfig()
        cfg.hv = hvPath
        cfg.memsize = memsize
        cfg.smp = smp
        cfg.initrd = files.initrd
        cfg.root = files.root
        cfg.rootUUID = files.rootUUID
        cfg.socketPath = sock
        cfg.network = network
        cfg.selinux = selinux
        cfg.verbose = verbose
        cfg.append = append
        cfg.extra = hvParams
        cfg.tscKHz = AccelDecision.hostTSCkHz()
        let wantLayout = backendSetting("layout")
        if wantLayout != "pc", let vml = files.vmlinux, drives.count + cfg.virtfsShares <= QemuConfig.microvmMaxDisks {
            cfg.layout = .microvm
            cfg.kernel = vml
            if let mi = files.microvmInitrd, backendSetting("full_initrd") == nil { cfg.initrd = mi }
        } else {
            cfg.layout = .pc
            // PVH-booting the uncompressed kernel is much faster on pc too.
            cfg.kernel = files.vmlinux ?? files.kernel
        }
        cfg.disks = drives.enumerated().map { i, d in
            var q = QemuConfig.Disk(id: "hd\(i)", file: Guestfs.qemuFilename(d), format: d.format)
            q.snapshot = d.readonly
            q.cache = d.cachemode
            q.discard = d.discard
            q.copyOnRead = d.copyonread
            q.serial = d.label
            q.blocksize = d.blocksize
            q.isNetwork = d.isNetwork
            return q
        }

        let kvmUsable = AccelDecision.kvmDeviceUsable()
        let probeKey = "\(hvPath) \(Guestfs.hostRelease())"
        let probe = kvmProbeState(key: probeKey)
        let (accel, isProbe, reason) = AccelDecision.choose(forceTCG: backendSetting("force_tcg") != nil,
                                                            forceKVM: backendSetting("force_kvm") != nil,
                                                            kvmDeviceUsable: kvmUsable, probe: probe)
        debug(reason)
        cfg.accel = accel
        do {
            try startAndConnect(cfg, tmpdir: tmp, timeout: isProbe ? Guestfs.kvmProbeTimeout : launchTimeout)
            if isProbe { recordKVMProbe(key: probeKey, good: true) }
        } catch let f as LaunchFailure {
            guard isProbe else { throw f.error }
            // KVM opened but the guest did not come up: remember, use TCG.
            killAppliance(emitQuit: false, removeSockdir: false)
            recordKVMProbe(key: probeKey, good: false)
            let why = f.timedOut ? "the appliance did not start under KVM within \(Int(Guestfs.kvmProbeTimeout)) s"
                                 : "qemu failed under KVM: \(f.error.message.split(separator: "\n").first ?? "")"
            let msg = "KVM is not usable on this host (\(why)): using TCG"
            debug(msg)
            cfg.accel = .tcg
            do {
                try startAndConnect(cfg, tmpdir: tmp, timeout: launchTimeout)
            } catch let f2 as LaunchFailure {
                throw f2.error
            }
        }
    }

    static func qemuFilename(_ d: Drive) -> String {
        guard d.isNetwork else { return d.path }
        let server = d.servers.first ?? ""
        let user = d.username.map { "\($0)@" } ?? ""
        let path = d.path.hasPrefix("/") ? d.path : "/" + d.path
        if server.hasPrefix("unix:") {
            return "\(d.proto)+unix://\(path)?socket=\(server.dropFirst(5))"
        }
        let host = server.hasPrefix("tcp:") ? String(server.dropFirst(4)) : server
        switch d.proto {
        case "nbd": return "nbd://\(host)\(d.path.isEmpty ? "" : path)"
        case "rbd": return "rbd:\(d.path)"
        default: return "\(d.proto)://\(user)\(host)\(path)"
        }
    }

    static func hostRelease() -> String {
        var u = Glibc.utsname()
        uname(&u)
        return withUnsafeBytes(of: &u.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    var kvmProbeFile: String { "\(applianceCacheDir)/kvm-probe" }

    func kvmProbeState(key: String) -> AccelDecision.ProbeState {
        guard let s = try? String(contentsOfFile: kvmProbeFile, encoding: .utf8) else { return .unknown }
        let parts = s.split(separator: "\n", maxSplits: 1).map(String.init)
        guard parts.count == 2, parts[1].trimmingCharacters(in: .whitespacesAndNewlines) == key else { return .unknown }
        return AccelDecision.ProbeState(rawValue: parts[0]) ?? .unknown
    }

    func recordKVMProbe(key: String, good: Bool) {
        try? FileManager.default.createDirectory(atPath: applianceCacheDir, withIntermediateDirectories: true)
        try? "\(good ? "good" : "bad")\n\(key)\n".write(toFile: kvmProbeFile, atomically: true, encoding: .utf8)
    }

    /// Spawns qemu with `cfg`, waits for it to connect to the channel socket
    /// and for the daemon's launch flag.
    func startAndConnect(_ cfg: QemuConfig, tmpdir: String, timeout: Double) throws {
        unlink(cfg.socketPath)
        let lfd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard lfd >= 0 else { let e = errno; throw fail(e, "socket: \(errnoText(e))") }
        defer { _ = Glibc.close(lfd) }
        var addr = try unixAddress(cfg.socketPath)
        let br = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(lfd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard br == 0, listen(lfd, 1) == 0 else { let e = errno; throw fail(e, "bind/listen \(cfg.socketPath): \(errnoText(e))") }

        let args = cfg.arguments
        debug("qemu command line: " + args.map(shellQuote).joined(separator: " "))
        let proc = try spawnQemu(args, tmpdir: tmpdir)
        appliance = proc
        if recoveryProc { proc.watcherPID = spawnWatcher(qemu: proc.pid) }

        let deadline = monotonicNow() + timeout
        // Wait for qemu to connect to the socket.
        var cfd: Int32 = -1
        while cfd < 0 {
            var fds = [pollfd(fd: lfd, events: Int16(POLLIN), revents: 0)]
            if let c = proc.console, c.isOpen { fds.append(pollfd(fd: c.fd, events: Int16(POLLIN), revents: 0)) }
            _ = poll(&fds, nfds_t(fds.count), 100)
            if fds.count > 1 && fds[1].revents != 0 { proc.console?.drain() }
            if fds[0].revents & Int16(POLLIN) != 0 {
                cfd = accept(lfd, nil, nil)
                if cfd >= 0 { _ = fcntl(cfd, F_SETFD, FD_CLOEXEC) }
                if cfd < 0 && errno != EINTR && errno != EAGAIN { let e = errno; throw fail(e, "accept: \(errnoText(e))") }
                continue
            }
            if proc.reap() {
                proc.console?.drain()
                throw LaunchFailure(error: launchError("qemu exited (\(proc.statusDescription)) before connecting to the appliance channel", proc), timedOut: false)
            }
            if monotonicNow() >= deadline {
                throw LaunchFailure(error: launchError("qemu did not connect to the appliance channel within \(Int(timeout)) seconds", proc), timedOut: true)
            }
        }
        let ch = DaemonChannel(fd: cfd, console: proc.console)
        channel = ch
        try waitForLaunchFlag(ch, deadline: deadline, process: proc, timeout: timeout)
    }

    func launchError(_ what: String, _ proc: ApplianceProcess?) -> GuestfsError {
        var m = "launch: \(what)"
        if let t = proc?.console?.tailText, !t.isEmpty { m += "\nconsole tail:\n\(t)" }
        return GuestfsError(errno: EIO, m)
    }

    func waitForLaunchFlag(_ ch: DaemonChannel, deadline: Double, process: ApplianceProcess?, timeout: Double? = nil) throws {
        while true {
            let frame: IncomingFrame
            do {
                frame = try ch.readFrame(until: deadline)
            } catch ChannelError.timeout {
                throw LaunchFailure(error: launchError("the appliance did not start within \(Int(timeout ?? launchTimeout)) seconds (timeout); see the console output above or enable verbose mode", process), timedOut: true)
            } catch let e as ChannelError {
                if let p = process { _ = p.waitExit(seconds: 1) }
                let st = process.map { " (qemu \($0.statusDescription))" } ?? ""
                throw LaunchFailure(error: launchError("appliance closed the connection during launch\(st): \(e)", process), timedOut: false)
            } catch let e as FramingError {
                throw LaunchFailure(error: launchError("protocol error during launch: \(e)", process), timedOut: false)
            }
            switch frame {
            case .launch: return
            case let .progress(p): emitProgress(p)
            case .cancel: continue
            case .message:
                throw LaunchFailure(error: launchError("unexpected message from the daemon before the launch flag", process), timedOut: false)
            }
        }
    }


    /// posix_spawn qemu with its stdio on a socketpair we read as the
    /// console; TMPDIR points to the handle's directory so snapshot overlays
    /// are removed with it.
    func spawnQemu(_ args: [String], tmpdir: String) throws -> ApplianceProcess {
        var sv: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &sv) == 0 else {
            let e = errno; throw fail(e, "socketpair: \(errnoText(e))")
        }
        var fa = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fa)
        defer { posix_spawn_file_actions_destroy(&fa) }
        if !direct {
            posix_spawn_file_actions_adddup2(&fa, sv[1], 0)
            posix_spawn_file_actions_adddup2(&fa, sv[1], 1)
            posix_spawn_file_actions_adddup2(&fa, sv[1], 2)
        }
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var flags = Int32(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        if pgroup { flags |= Int32(POSIX_SPAWN_SETPGROUP); posix_spawnattr_setpgroup(&attr, 0) }
        posix_spawnattr_setflags(&attr, Int16(flags))
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attr, &empty)
        var defs = sigset_t()
        sigemptyset(&defs)
        for s in [SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGCHLD] { sigaddset(&defs, s) }
        posix_spawnattr_setsigdefault(&attr, &defs)

        var env = ProcessInfo.processInfo.environment
        env["TMPDIR"] = tmpdir
        let envStrings = env.map { "\($0.key)=\($0.value)" }
        var pid: pid_t = 0
        let rc = withCStrings(args) { argv in
            withCStrings(envStrings) { envp in
                posix_spawn(&pid, args[0], &fa, &attr, argv, envp)
            }
        }
        _ = Glibc.close(sv[1])
        if rc != 0 {
            _ = Glibc.close(sv[0])
            throw fail(rc, "cannot run \(args[0]): \(errnoText(rc))")
        }
        let p = ApplianceProcess(pid: pid, consoleFD: sv[0])
        if !direct {
            let c = ConsoleReader(fd: sv[0])
            c.onLine = { [weak self] line in self?.emitMessage(.appliance, line + "\n") }
            p.console = c
        }
        debug("qemu started, pid \(pid)")
        return p
    }

    /// A tiny shell that kills qemu if this process dies without closing
    /// the handle.
    func spawnWatcher(qemu: pid_t) -> pid_t {
        let script = "while kill -0 \(getpid()) 2>/dev/null && kill -0 \(qemu) 2>/dev/null; do sleep 1; done; kill -9 \(qemu) 2>/dev/null"
        let args = ["/bin/sh", "-c", script]
        var fa = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fa)
        defer { posix_spawn_file_actions_destroy(&fa) }
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        // Own process group: a Ctrl-C for the program must not kill the watcher first.
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attr, 0)
        var pid: pid_t = 0
        let rc = withCStrings(args) { argv in posix_spawn(&pid, "/bin/sh", &fa, &attr, argv, environ) }
        return rc == 0 ? pid : 0
    }

    /// Autosync, ask the daemon to exit, wait for qemu and check how it
    /// ended. With `check` false (close), errors are only logged.
    func shutdownAppliance(check: Bool) throws {
        var firstError: GuestfsError?
        if state == .ready, channel != nil {
            if autosync {
                do { try internalAutosync() } catch let e as GuestfsError {
                    debug("shutdown: autosync failed: \(e.message)")
                    firstError = e
                } catch {}
            }
            if state == .ready, channel != nil {
                if backend.hasPrefix("unix:") {
                    // The daemon belongs to someone else: just disconnect.
                } else {
                    state = .ready
                    _ = try? rawDaemonCall(Procedure.internalExit.rawValue, name: "internal_exit", args: nil, optargs: 0)
                }
            }
        }
        channel?.close()
        channel = nil
        if let p = appliance {
            if !p.waitExit(seconds: 10) {
                debug("shutdown: qemu did not exit, sending SIGTERM")
                kill(p.pid, SIGTERM)
                if !p.waitExit(seconds: 5) { kill(p.pid, SIGKILL); p.reap(wait: true) }
            }
            p.console?.drain()
            p.console?.flush()
            debug("qemu \(p.statusDescription)")
            if check && firstError == nil && !p.exitedCleanly {
                firstError = fail(EIO, "qemu failed (\(p.statusDescription))")
            }
        }
        killAppliance()
        state = .config
        launchAttempted = true
        if let e = firstError, check { throw e }
    }

    /// Stops everything at once: channel, qemu, watcher, socket directory.
    func killAppliance(emitQuit: Bool = true, removeSockdir: Bool = true) {
        channel?.close()
        channel = nil
        if let p = appliance {
            if !p.reap() {
                kill(p.pid, SIGKILL)
                p.reap(wait: true)
            }
            if p.watcherPID > 0 {
                kill(p.watcherPID, SIGKILL)
                var st: Int32 = 0
                _ = waitpid(p.watcherPID, &st, 0)
            }
            _ = Glibc.close(p.consoleFD)
            appliance = nil
            if emitQuit { emit(.subprocessQuit) }
        }
        if removeSockdir, let d = handleSockdir {
            try? FileManager.default.removeItem(atPath: d)
            handleSockdir = nil
        }
    }
}

func shellQuote(_ s: String) -> String {
    if !s.isEmpty && s.allSatisfy({ $0.isLetter || $0.isNumber || "-_./=:,+@%".contains($0) }) { return s }
    return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

/// Calls `body` with a NULL-terminated C string array.
func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
    var ptrs: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    ptrs.append(nil)
    defer { for p in ptrs { free(p) } }
    return body(ptrs)
}

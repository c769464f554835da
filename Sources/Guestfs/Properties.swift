import Foundation
import GuestfsProtocol

// The handle's settings: the get_/set_ actions, the state queries and
// parse_environment.
extension Guestfs {
    // MARK: state

    func impl_get_state() throws -> Int32 { state.rawValue }
    func impl_is_config() throws -> Bool { state == .config }
    func impl_is_launching() throws -> Bool { state == .launching }
    func impl_is_ready() throws -> Bool { state == .ready }
    func impl_is_busy() throws -> Bool { false }

    // MARK: flags that can change at any time

    func impl_set_verbose(_ verbose: Bool) throws { self.verbose = verbose }
    func impl_get_verbose() throws -> Bool { verbose }
    func impl_set_trace(_ trace: Bool) throws { self.trace = trace }
    func impl_get_trace() throws -> Bool { trace }
    func impl_set_autosync(_ autosync: Bool) throws { self.autosync = autosync }
    func impl_get_autosync() throws -> Bool { autosync }

    func impl_set_identifier(_ identifier: String) throws {
        let ok = identifier.unicodeScalars.allSatisfy {
            ($0 >= "a" && $0 <= "z") || ($0 >= "A" && $0 <= "Z") || ($0 >= "0" && $0 <= "9") || $0 == "_" || $0 == "-"
        }
        guard ok else {
            throw fail(EINVAL, "identifier must contain only alphanumeric characters, underscore or minus sign")
        }
        self.identifier = identifier
    }

    func impl_get_identifier() throws -> String { identifier }
    func impl_set_program(_ program: String) throws { self.program = program }
    func impl_get_program() throws -> String { program }

    // MARK: appliance settings (config state only)

    func impl_set_memsize(_ memsize: Int32) throws {
        guard memsize >= Guestfs.minMemsize else {
            throw fail(EINVAL, "too small value for memsize (must be at least \(Guestfs.minMemsize) MB)")
        }
        self.memsize = memsize
    }

    func impl_get_memsize() throws -> Int32 { memsize }

    func impl_set_smp(_ smp: Int32) throws {
        guard smp >= 1 && smp <= 255 else { throw fail(EINVAL, "unsupported number of smp vcpus: \(smp)") }
        self.smp = smp
    }

    func impl_get_smp() throws -> Int32 { smp }

    func impl_set_append(_ append: String?) throws { self.append = append }
    func impl_get_append() throws -> String? { append }

    func impl_set_hv(_ hv: String) throws { self.hv = hv }

    func impl_get_hv() throws -> String {
        if let hv { return hv }
        if let p = Guestfs.defaultHypervisor() { return p }
        throw fail(ENOENT, "no hypervisor set and qemu-system-x86_64 was not found on $PATH")
    }

    func impl_set_qemu(_ hv: String?) throws { self.hv = hv }
    func impl_get_qemu() throws -> String { try impl_get_hv() }

    /// qemu-system-<arch> found on $PATH (the direct backend's default).
    static func defaultHypervisor() -> String? {
        #if arch(arm64)
        let name = "qemu-system-aarch64"
        #else
        let name = "qemu-system-x86_64"
        #endif
        return findInPath(name)
    }

    func impl_set_path(_ searchpath: String?) throws { self.path = searchpath }
    func impl_get_path() throws -> String { path ?? Guestfs.defaultPath }

    /// Where the appliance is looked for when neither set_path nor
    /// LIBGUESTFS_PATH says.
    static let defaultPath = "/usr/local/lib/swift-guestfs:/usr/lib/swift-guestfs:/usr/local/lib/guestfs:/usr/lib/guestfs"

    func impl_set_backend(_ backend: String) throws {
        guard Guestfs.isKnownBackend(backend) else { throw fail(EINVAL, "invalid backend: \(backend)") }
        self.backend = backend
    }

    static func isKnownBackend(_ b: String) -> Bool {
        b == "direct" || b == "appliance" || b == "libvirt" || b.hasPrefix("libvirt:")
            || (b.hasPrefix("unix:") && b.count > 5)
    }

    func impl_get_backend() throws -> String { backend }
    func impl_set_attach_method(_ backend: String) throws { try impl_set_backend(backend) }
    func impl_get_attach_method() throws -> String { backend == "direct" ? "appliance" : backend }

    func impl_set_backend_settings(_ settings: [String]) throws { backendSettings = settings }
    func impl_get_backend_settings() throws -> [String] { backendSettings }

    func impl_get_backend_setting(_ name: String) throws -> String {
        for s in backendSettings {
            if s == name { return "1" }
            if s.hasPrefix(name + "=") { return String(s.dropFirst(name.count + 1)) }
        }
        throw fail(ESRCH, "setting not found")
    }

    func impl_set_backend_setting(_ name: String, _ val: String) throws {
        _ = try impl_clear_backend_setting(name)
        backendSettings.append("\(name)=\(val)")
    }

    func impl_clear_backend_setting(_ name: String) throws -> Int32 {
        let before = backendSettings.count
        backendSettings.removeAll { $0 == name || $0.hasPrefix(name + "=") }
        return Int32(before - backendSettings.count)
    }

    /// A backend setting's value, "1" for a bare flag, nil when absent.
    func backendSetting(_ name: String) -> String? {
        try? impl_get_backend_setting(name)
    }

    func impl_set_cachedir(_ cachedir: String?) throws { userCachedir = cachedir }
    func impl_get_cachedir() throws -> String { effectiveCachedir }
    func impl_set_tmpdir(_ tmpdir: String?) throws { userTmpdir = tmpdir }
    func impl_get_tmpdir() throws -> String { effectiveTmpdir }
    func impl_get_sockdir() throws -> String { effectiveSockdir }

    func impl_set_network(_ network: Bool) throws { self.network = network }
    func impl_get_network() throws -> Bool { network }
    func impl_set_selinux(_ selinux: Bool) throws { self.selinux = selinux }
    func impl_get_selinux() throws -> Bool { selinux }
    func impl_set_pgroup(_ pgroup: Bool) throws { self.pgroup = pgroup }
    func impl_get_pgroup() throws -> Bool { pgroup }
    func impl_set_recovery_proc(_ recoveryproc: Bool) throws { recoveryProc = recoveryproc }
    func impl_get_recovery_proc() throws -> Bool { recoveryProc }
    func impl_set_direct(_ direct: Bool) throws { self.direct = direct }
    func impl_get_direct() throws -> Bool { direct }

    func impl_config(_ hvparam: String, _ hvvalue: String?) throws {
        let reserved: Set<String> = ["-kernel", "-initrd", "-nodefconfig", "-nodefaults", "-nographic", "-display",
                                     "-append", "-serial", "-vnc", "-chardev", "-no-user-config", "-no-reboot"]
        guard hvparam.hasPrefix("-") else { throw fail(EINVAL, "parameter must begin with '-' character") }
        guard !reserved.contains(hvparam) else {
            throw fail(EINVAL, "parameter '\(hvparam)' isn't allowed")
        }
        hvParams.append((hvparam, hvvalue))
    }

    func impl_get_pid() throws -> Int32 {
        guard state != .config, let a = appliance, a.pid > 0 else {
            throw fail(EINVAL, "no qemu subprocess (call launch first)")
        }
        return a.pid
    }

    func impl_internal_get_console_socket() throws -> Int32 {
        guard let a = appliance, a.consoleFD >= 0 else {
            throw fail(ENXIO, "the console is not available (the appliance is not running or the backend has no console)")
        }
        return a.consoleFD
    }

    func impl_version() throws -> Version {
        Version(major: 1, minor: 48, release: 0, extra: "swift-guestfs")
    }

    // MARK: environment

    func impl_parse_environment() throws {
        try applyEnvironment { ProcessInfo.processInfo.environment[$0] }
    }

    func impl_parse_environment_list(_ environment: [String]) throws {
        var env: [String: String] = [:]
        for e in environment {
            guard let eq = e.firstIndex(of: "=") else { continue }
            env[String(e[..<eq])] = String(e[e.index(after: eq)...])
        }
        try applyEnvironment { env[$0] }
    }

    /// Applies the LIBGUESTFS_* variables found through `get`.
    func applyEnvironment(_ get: (String) -> String?) throws {
        func flag(_ name: String) throws -> Bool? {
            guard let v = get(name) else { return nil }
            guard let b = ActionArgument.parseBool(v) else {
                throw GuestfsError(errno: EINVAL, "\(name)=\(v): non-boolean value")
            }
            return b
        }
        if let b = try flag("LIBGUESTFS_TRACE") { trace = b }
        if let b = try flag("LIBGUESTFS_DEBUG") { verbose = b }
        if let t = get("LIBGUESTFS_TMPDIR"), !t.isEmpty { envTmpdir = t } else if let t = get("TMPDIR"), !t.isEmpty { envTmpdir = t }
        if let c = get("LIBGUESTFS_CACHEDIR"), !c.isEmpty { envCachedir = c } else if let t = get("TMPDIR"), !t.isEmpty { envCachedir = t }
        if let p = get("LIBGUESTFS_PATH"), !p.isEmpty { path = p }
        if let h = get("LIBGUESTFS_HV"), !h.isEmpty { hv = h } else if let h = get("LIBGUESTFS_QEMU"), !h.isEmpty { hv = h }
        if let a = get("LIBGUESTFS_APPEND") { append = a }
        if let m = get("LIBGUESTFS_MEMSIZE") {
            guard let v = Int32(m.trimmingCharacters(in: .whitespaces)), v > 0 else {
                throw GuestfsError(errno: EINVAL, "non-numeric value for LIBGUESTFS_MEMSIZE")
            }
            memsize = Swift.max(v, Guestfs.minMemsize)
        }
        if let b = get("LIBGUESTFS_BACKEND") ?? get("LIBGUESTFS_ATTACH_METHOD"), !b.isEmpty {
            guard Guestfs.isKnownBackend(b) else {
                throw GuestfsError(errno: EINVAL, "invalid backend: \(b)")
            }
            backend = b
        }
        if let s = get("LIBGUESTFS_BACKEND_SETTINGS") {
            backendSettings = s.split(whereSeparator: { $0 == ":" || $0 == " " || $0 == "\t" }).map(String.init)
        }
        if let x = get("XDG_RUNTIME_DIR") { xdgRuntimeDir = x }
    }
}

/// The first executable called `name` in $PATH (or `name` itself if it
/// contains a slash and is executable).
func findInPath(_ name: String) -> String? {
    if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
    for dir in path.split(separator: ":") {
        let p = "\(dir)/\(name)"
        if access(p, X_OK) == 0 { return p }
    }
    return nil
}

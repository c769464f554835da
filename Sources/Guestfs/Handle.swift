import CLibvirt
import Foundation
import GuestfsProtocol

/// A libguestfs handle: configuration, the appliance it launches and the
/// connection to the daemon inside it. Public action methods live in
/// Generated/Actions.swift; every one runs under the handle's lock, so
/// calls from several threads are serialised (one call at a time).
public final class Guestfs {
    /// The handle's state, with libguestfs's numbers.
    public enum State: Int32, Sendable {
        case config = 0
        case launching = 1
        case ready = 2
        case busy = 3
    }

    // MARK: locking and bookkeeping
    let lock = NSRecursiveLock()
    let eventLock = NSLock()
    var eventCallbacks: [Int: EventRegistration] = [:]
    var nextEventHandle = 0
    var actionStack: [String] = []
    var closed = false
    public internal(set) var state: State = .config
    /// Set once launch has been attempted; a handle launches only once.
    var launchAttempted = false

    // MARK: properties (libguestfs defaults)
    var verbose = false
    var trace = false
    var autosync = true
    var memsize: Int32 = Guestfs.defaultMemsize
    var smp: Int32 = 1
    var append: String?
    var hv: String?
    var path: String?
    var backend = "direct"
    var backendSettings: [String] = []
    var userCachedir: String?
    var envCachedir: String?
    var userTmpdir: String?
    var envTmpdir: String?
    var xdgRuntimeDir: String?
    var network = false
    var selinux = false
    var pgroup = false
    var recoveryProc = true
    var identifier = ""
    var program: String = Guestfs.defaultProgram()
    var direct = false
    var hvParams: [(String, String?)] = []
    /// The `guestfs_h *` of this handle when it was made through the C API
    /// (set by GuestfsC), for c_pointer.
    public var cHandleAddress: Int?
    /// The FUSE mount of mount_local (guarded by mountLocalLock).
    var mountLocal: MountLocalSession?
    /// libvirt credentials (set_libvirt_supported_credentials) and, during a
    /// libvirt_auth event, the credentials libvirt asked for.
    var libvirtSupportedCredentials: [Int32] = []
    var libvirtRequestedCredentials: UnsafeMutablePointer<virConnectCredential>?
    var libvirtRequestedCredentialCount = 0

    // MARK: drives and runtime
    var drives: [Drive] = []
    /// The per-handle temporary directory (created lazily, removed on close).
    var handleTmpdir: String?
    /// The per-handle socket directory (created at launch, removed on close).
    var handleSockdir: String?
    var appliance: ApplianceProcess?
    var channel: DaemonChannel?
    var serial: UInt32 = 0
    var featureCache: [String: Bool] = [:]
    var tempSerial = 0
    let cancelLock = NSLock()
    var cancelRequested = false
    var testOutputPath: String?
    var testOutputHandle: FileHandle?
    let closeOnExit: Bool

    public static let defaultMemsize: Int32 = 1280
    public static let minMemsize: Int32 = 256

    /// Creates a handle. With `environment` (the default) the LIBGUESTFS_*
    /// variables are applied as `parse_environment` does; with
    /// `closeOnExit` the handle is closed (appliance killed, temporary files
    /// removed) when the program exits normally.
    public init(environment: Bool = true, closeOnExit: Bool = true) throws {
        self.closeOnExit = closeOnExit
        if environment {
            try applyEnvironment { ProcessInfo.processInfo.environment[$0] }
        }
        if closeOnExit { HandleRegistry.shared.add(self) }
    }

    deinit {
        close()
    }

    /// Shuts the appliance down if needed (best effort), sends the close
    /// event and removes temporary files. Later calls fail. Closing twice
    /// is harmless.
    public func close() {
        lock.lock()
        defer { lock.unlock() }
        if closed { return }
        if trace { emitMessage(.trace, "close") }
        if state != .config || appliance != nil || channel != nil {
            do { try shutdownAppliance(check: false) } catch { debug("close: \(error)") }
        }
        emit(.close)
        closed = true
        state = .config
        try? testOutputHandle?.close()
        testOutputHandle = nil
        removeTemporaryFiles()
        eventLock.lock()
        eventCallbacks.removeAll()
        eventLock.unlock()
        if closeOnExit { HandleRegistry.shared.remove(self) }
    }

    static func defaultProgram() -> String {
        let a = CommandLine.arguments.first ?? ""
        let base = (a as NSString).lastPathComponent
        return base.isEmpty ? "swift-guestfs" : base
    }

    func removeTemporaryFiles() {
        let fm = FileManager.default
        if let d = handleTmpdir { try? fm.removeItem(atPath: d); handleTmpdir = nil }
        if let d = handleSockdir { try? fm.removeItem(atPath: d); handleSockdir = nil }
    }

    /// The handle's private temporary directory, created on first use.
    func lazyTmpdir() throws -> String {
        if let d = handleTmpdir { return d }
        let base = effectiveTmpdir
        let d = try makeTempDir(in: base, prefix: "libguestfs")
        handleTmpdir = d
        return d
    }

    /// A fresh file name inside the handle's temporary directory.
    func tempPath(_ stem: String, suffix: String = "") throws -> String {
        let d = try lazyTmpdir()
        tempSerial += 1
        return "\(d)/\(stem)\(tempSerial)\(suffix)"
    }

    var effectiveTmpdir: String { userTmpdir ?? envTmpdir ?? "/tmp" }
    var effectiveCachedir: String { userCachedir ?? envCachedir ?? "/var/tmp" }
    var effectiveSockdir: String {
        if let x = xdgRuntimeDir, !x.isEmpty, access(x, W_OK | X_OK) == 0 { return x }
        return "/tmp"
    }
}

/// mkdtemp in `base`.
func makeTempDir(in base: String, prefix: String) throws -> String {
    var template = Array("\(base)/\(prefix)XXXXXX".utf8CString)
    let r = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    if r == nil {
        let e = errno
        throw GuestfsError(errno: e, "cannot create temporary directory in \(base): \(errnoText(e))")
    }
    return String(cString: template)
}

/// Handles to close at normal program exit (closeOnExit).
final class HandleRegistry: @unchecked Sendable {
    static let shared = HandleRegistry()
    private let lock = NSLock()
    private var handles: [ObjectIdentifier: WeakHandle] = [:]
    private var installed = false

    struct WeakHandle { weak var g: Guestfs? }

    func add(_ g: Guestfs) {
        lock.lock()
        defer { lock.unlock() }
        handles[ObjectIdentifier(g)] = WeakHandle(g: g)
        if !installed {
            installed = true
            atexit { HandleRegistry.shared.closeAll() }
        }
    }

    func remove(_ g: Guestfs) {
        lock.lock()
        defer { lock.unlock() }
        handles[ObjectIdentifier(g)] = nil
    }

    func closeAll() {
        lock.lock()
        let hs = handles.values.compactMap(\.g)
        handles.removeAll()
        lock.unlock()
        for g in hs { g.close() }
    }
}

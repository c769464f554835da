// The C handle: what a `guestfs_h *` points to on the C side.
//
// A `guestfs_h *` is an unretained pointer to a `CHandle`; the handle holds
// the Swift `Guestfs` plus everything the C API keeps per handle and the
// Swift API has no use for: the last error (message + errno), the error
// handler stack, the out-of-memory handler, the private data area, strings
// returned by RConstString calls (their lifetime is the handle's) and the
// bridges from C event callbacks to Swift ones.

import CGuestfs
import Foundation
import Glibc
import Guestfs

/// An error found on the C side before the Swift call (a NULL argument,
/// say). The message gets the function name prefixed like any other.
struct CArgumentError: Error {
    var errno: Int32
    var message: String
}

public final class CHandle {
    typealias ErrorHandler = (cb: guestfs_error_handler_cb?, opaque: UnsafeMutableRawPointer?)

    let g: Guestfs
    /// The `guestfs_h *` C programs see (this object, unretained).
    private(set) var pointer: OpaquePointer!

    /// Protects the C-side state below (not held while calling user code).
    private let lock = NSLock()

    // Errors.
    private var lastError: UnsafeMutablePointer<CChar>?
    private var lastErrnoValue: Int32 = 0
    private var errorHandler: ErrorHandler = (defaultErrorHandler, nil)
    private var errorHandlerStack: [ErrorHandler] = []
    var outOfMemoryHandler: guestfs_abort_cb? = defaultOutOfMemoryHandler

    // Private data area: insertion order; the iterator is an index.
    private var privateData: [(key: UnsafeMutablePointer<CChar>, data: UnsafeMutableRawPointer)] = []
    private var privateCursor = 0

    // RConstString / RConstOptString results: valid until close. The latest
    // string per function is reused when the value has not changed.
    private var kept: [String: (value: String, cstr: UnsafeMutablePointer<CChar>)] = [:]
    private var retired: [UnsafeMutablePointer<CChar>] = []

    /// Old-style (libguestfs 1.0) callbacks: one per kind; the event handle
    /// of the bridge registered for each.
    var legacyCallbacks: [String: Int] = [:]

    init(_ g: Guestfs) {
        self.g = g
        self.pointer = OpaquePointer(Unmanaged.passUnretained(self).toOpaque())
    }

    deinit {
        free(lastError)
        for e in privateData { free(e.key) }
        for (_, k) in kept { free(k.cstr) }
        for p in retired { free(p) }
    }

    // MARK: live handles

    private static let registryLock = NSLock()
    nonisolated(unsafe) private static var live: [OpaquePointer: CHandle] = [:]

    /// Makes a new C handle (retained by the registry until `close`).
    static func register(_ g: Guestfs) -> CHandle {
        let h = CHandle(g)
        g.cHandleAddress = Int(bitPattern: UnsafeRawPointer(h.pointer))
        registryLock.lock()
        live[h.pointer] = h
        registryLock.unlock()
        return h
    }

    /// The handle behind a `guestfs_h *`, or nil for NULL, closed or
    /// foreign pointers (no crash on misuse).
    static func from(_ g: OpaquePointer?) -> CHandle? {
        guard let g else { return nil }
        registryLock.lock()
        defer { registryLock.unlock() }
        return live[g]
    }

    /// Drops the registry's reference: the handle is gone for C.
    static func unregister(_ h: CHandle) {
        registryLock.lock()
        live[h.pointer] = nil
        registryLock.unlock()
    }

    /// Looks up `g` for a function with no error return: NULL or unknown
    /// handles are reported on stderr, the way libguestfs's default error
    /// handler would print them.
    static func lookup(_ g: OpaquePointer?, _ function: String) -> CHandle? {
        if let h = from(g) { return h }
        writeStderr("libguestfs: error: \(function): \(g == nil ? "handle is NULL" : "invalid or closed handle")\n")
        return nil
    }

    // MARK: calls

    /// Runs one C API call: finds the handle, runs `body` and turns a
    /// thrown error into `errorValue` plus the handle's last error (and a
    /// call of the error handler). `name` is the function name without the
    /// guestfs_ prefix, as libguestfs puts it in messages.
    public static func call<T>(_ g: OpaquePointer?, _ name: String, errorValue: T, _ body: (CHandle) throws -> T) -> T {
        guard let h = lookup(g, name) else {
            Glibc.errno = EINVAL
            return errorValue
        }
        let saved = CHandle.current
        CHandle.current = h
        defer { CHandle.current = saved }
        do {
            return try body(h)
        } catch {
            h.record(name, error)
            return errorValue
        }
    }

    /// Records an error thrown by a call of `function`.
    func record(_ function: String, _ error: Error) {
        switch error {
        case let e as GuestfsError:
            setError(function, errno: e.errno, message: e.message, prefixed: CHandle.startsWithActionName(e.message, function))
        case let e as CArgumentError:
            setError(function, errno: e.errno, message: e.message, prefixed: false)
        default:
            setError(function, errno: EIO, message: "\(error)", prefixed: false)
        }
    }

    /// Whether `message` already starts with "NAME: " for this function or
    /// another action (a call implemented by another, like ls by ls0,
    /// reports the inner call's name, as libguestfs does).
    static func startsWithActionName(_ message: String, _ function: String) -> Bool {
        if message.hasPrefix("\(function): ") { return true }
        guard let colon = message.range(of: ": ") else { return false }
        let word = String(message[..<colon.lowerBound])
        return !word.isEmpty && word.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" } && ActionInfo.find(word) != nil
    }

    /// Sets the last error to "FUNCTION: message" (unless already
    /// prefixed) and calls the error handler, if any.
    func setError(_ function: String, errno: Int32, message: String, prefixed: Bool = false) {
        var text = prefixed ? message : "\(function): \(message)"
        while text.hasSuffix("\n") { text.removeLast() }
        lock.lock()
        free(lastError)
        lastError = strdup(text)
        lastErrnoValue = errno
        let handler = errorHandler
        lock.unlock()
        if let cb = handler.cb {
            // The message given to the handler is a copy freed afterwards.
            let copy = strdup(text)
            cb(pointer, handler.opaque, copy)
            free(copy)
        }
    }

    var lastErrorPointer: UnsafePointer<CChar>? {
        lock.lock()
        defer { lock.unlock() }
        return UnsafePointer(lastError)
    }

    var lastErrno: Int32 {
        lock.lock()
        defer { lock.unlock() }
        return lastErrnoValue
    }

    // MARK: error handlers

    func setErrorHandler(_ cb: guestfs_error_handler_cb?, _ opaque: UnsafeMutableRawPointer?) {
        lock.lock()
        errorHandler = (cb, opaque)
        lock.unlock()
    }

    func getErrorHandler() -> ErrorHandler {
        lock.lock()
        defer { lock.unlock() }
        return errorHandler
    }

    func pushErrorHandler(_ cb: guestfs_error_handler_cb?, _ opaque: UnsafeMutableRawPointer?) {
        lock.lock()
        errorHandlerStack.append(errorHandler)
        errorHandler = (cb, opaque)
        lock.unlock()
    }

    /// Restores the previous handler; with an empty stack, the default.
    func popErrorHandler() {
        lock.lock()
        errorHandler = errorHandlerStack.popLast() ?? (defaultErrorHandler, nil)
        lock.unlock()
    }

    // MARK: private data

    func setPrivate(_ key: String, _ data: UnsafeMutableRawPointer?) {
        lock.lock()
        defer { lock.unlock() }
        // The key may point into our own storage (a key_rtn): `key` is a
        // Swift copy, so freeing the old entry below is safe.
        if let i = privateData.firstIndex(where: { strcmp($0.key, key) == 0 }) {
            if let data {
                privateData[i].data = data
            } else {
                free(privateData[i].key)
                privateData.remove(at: i)
            }
        } else if let data {
            privateData.append((strdup(key)!, data))
        }
        privateCursor = privateData.count // invalidates the iterator
    }

    func getPrivate(_ key: String) -> UnsafeMutableRawPointer? {
        lock.lock()
        defer { lock.unlock() }
        return privateData.first(where: { strcmp($0.key, key) == 0 })?.data
    }

    func nextPrivate(first: Bool, _ keyRtn: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> UnsafeMutableRawPointer? {
        lock.lock()
        defer { lock.unlock() }
        if first { privateCursor = 0 }
        guard privateCursor < privateData.count else {
            keyRtn?.pointee = nil
            return nil
        }
        let e = privateData[privateCursor]
        privateCursor += 1
        keyRtn?.pointee = UnsafePointer(e.key)
        return e.data
    }

    // MARK: strings the handle keeps

    /// A C copy of `value` that stays valid until the handle is closed
    /// (for RConstString / RConstOptString results).
    public func keep(_ function: String, _ value: String) -> UnsafePointer<CChar>? {
        lock.lock()
        defer { lock.unlock() }
        if let k = kept[function] {
            if k.value == value { return UnsafePointer(k.cstr) }
            retired.append(k.cstr)
        }
        guard let c = strdup(value) else { return nil }
        kept[function] = (value, c)
        return UnsafePointer(c)
    }

    // MARK: the handle in use on this thread (for out-of-memory handling)

    private static let currentKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    static var current: CHandle? {
        get {
            guard let p = pthread_getspecific(currentKey) else { return nil }
            return Unmanaged<CHandle>.fromOpaque(p).takeUnretainedValue()
        }
        set {
            pthread_setspecific(currentKey, newValue.map { UnsafeRawPointer(Unmanaged.passUnretained($0).toOpaque()) })
        }
    }
}

/// The error handler a new handle has: prints the message on stderr.
let defaultErrorHandler: guestfs_error_handler_cb = { _, _, msg in
    writeStderr("libguestfs: error: \(msg.map { String(cString: $0) } ?? "")\n")
}

/// The out-of-memory handler a new handle has.
let defaultOutOfMemoryHandler: guestfs_abort_cb = { abort() }

/// Out of memory: the current handle's handler (default abort(3)); it must
/// not return.
func outOfMemory() -> Never {
    if let cb = CHandle.current?.outOfMemoryHandler { cb() }
    abort()
}

func writeStderr(_ s: String) {
    var bytes = Array(s.utf8)
    var off = 0
    while off < bytes.count {
        let n = bytes.withUnsafeMutableBytes { Glibc.write(2, $0.baseAddress! + off, $0.count - off) }
        if n <= 0 {
            if n < 0 && Glibc.errno == EINTR { continue }
            return
        }
        off += n
    }
    bytes.removeAll()
}

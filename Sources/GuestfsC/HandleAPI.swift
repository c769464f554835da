// The hand-written part of the C API: handle creation and closing, errors,
// error and out-of-memory handlers, private data. (Events: CEvents.swift;
// every action: Generated/CActions.swift; varargs: bindings/c/src.)

import CGuestfs
import Glibc
import Guestfs

private let GUESTFS_CREATE_NO_ENVIRONMENT_FLAG: UInt32 = 1 << 0
private let GUESTFS_CREATE_NO_CLOSE_ON_EXIT_FLAG: UInt32 = 1 << 1

/// Called by guestfs_create / guestfs_create_flags (bindings/c/src/handle.c).
/// NULL with errno set on failure.
@_cdecl("guestfs_int_c_create")
public func c_guestfs_int_c_create(_ flags: UInt32) -> OpaquePointer? {
    let known = GUESTFS_CREATE_NO_ENVIRONMENT_FLAG | GUESTFS_CREATE_NO_CLOSE_ON_EXIT_FLAG
    if flags & ~known != 0 {
        Glibc.errno = EINVAL
        return nil
    }
    let g: Guestfs
    do {
        g = try Guestfs(environment: false, closeOnExit: flags & GUESTFS_CREATE_NO_CLOSE_ON_EXIT_FLAG == 0)
    } catch {
        Glibc.errno = (error as? GuestfsError).map { $0.errno != 0 ? $0.errno : ENOMEM } ?? ENOMEM
        return nil
    }
    // The installed library looks for its appliance next to itself first
    // (PREFIX/lib/guestfs), before the library's built-in default path; an
    // explicit LIBGUESTFS_PATH still wins (parse_environment below).
    if let dir = installedApplianceDir(), let current = try? g.getPath(),
       !current.split(separator: ":").contains(Substring(dir)) {
        try? g.setPath("\(dir):\(current)")
    }
    let h = CHandle.register(g)
    if flags & GUESTFS_CREATE_NO_ENVIRONMENT_FLAG == 0 {
        // As libguestfs: environment errors from guestfs_create are printed
        // and otherwise ignored.
        do {
            try g.parseEnvironment()
        } catch {
            writeStderr("libguestfs: error: \((error as? GuestfsError)?.message ?? "\(error)")\n")
        }
    }
    return h.pointer
}

/// DIR/guestfs when this library is DIR/libguestfs.so.0 and DIR/guestfs
/// holds an appliance (supermin.d, or a built appliance).
private func installedApplianceDir() -> String? {
    guard let fname = guestfs_int_c_library_path() else { return nil }
    var path = String(cString: fname)
    free(fname)
    guard let slash = path.lastIndex(of: "/") else { return nil }
    path = String(path[..<slash])
    let dir = "\(path)/guestfs"
    for entry in ["supermin.d", "kernel", "appliance"] where access("\(dir)/\(entry)", R_OK) == 0 {
        return dir
    }
    return nil
}

@_cdecl("guestfs_close")
public func c_guestfs_close(_ g: OpaquePointer?) {
    guard let g else { return }
    guard let h = CHandle.from(g) else {
        writeStderr("libguestfs: error: guestfs_close: called twice or on an invalid handle\n")
        return
    }
    let saved = CHandle.current
    CHandle.current = h
    // Close callbacks run inside g.close(), with `g` still valid.
    h.g.close()
    CHandle.current = saved
    CHandle.unregister(h)
}

// MARK: errors

@_cdecl("guestfs_last_error")
public func c_guestfs_last_error(_ g: OpaquePointer?) -> UnsafePointer<CChar>? {
    guard let h = CHandle.lookup(g, "last_error") else { return nil }
    return h.lastErrorPointer
}

@_cdecl("guestfs_last_errno")
public func c_guestfs_last_errno(_ g: OpaquePointer?) -> Int32 {
    guard let h = CHandle.lookup(g, "last_errno") else { return 0 }
    return h.lastErrno
}

/// For the generated C (bindings/c/src): an error found in C, such as a bad
/// optional argument number. `function` may carry the guestfs_ prefix.
@_cdecl("guestfs_int_c_set_error")
public func c_guestfs_int_c_set_error(_ g: OpaquePointer?, _ function: UnsafePointer<CChar>?,
                                      _ errnum: Int32, _ message: UnsafePointer<CChar>?) {
    var name = function.map { String(cString: $0) } ?? "guestfs"
    if name.hasPrefix("guestfs_") { name.removeFirst("guestfs_".count) }
    let text = message.map { String(cString: $0) } ?? "error"
    guard let h = CHandle.lookup(g, name) else {
        writeStderr("libguestfs: error: \(name): \(text)\n")
        return
    }
    h.setError(name, errno: errnum, message: text)
}

@_cdecl("guestfs_set_error_handler")
public func c_guestfs_set_error_handler(_ g: OpaquePointer?, _ cb: guestfs_error_handler_cb?, _ opaque: UnsafeMutableRawPointer?) {
    CHandle.lookup(g, "set_error_handler")?.setErrorHandler(cb, opaque)
}

@_cdecl("guestfs_get_error_handler")
public func c_guestfs_get_error_handler(_ g: OpaquePointer?, _ opaqueRtn: UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> guestfs_error_handler_cb? {
    guard let h = CHandle.lookup(g, "get_error_handler") else { return nil }
    let eh = h.getErrorHandler()
    opaqueRtn?.pointee = eh.opaque
    return eh.cb
}

@_cdecl("guestfs_push_error_handler")
public func c_guestfs_push_error_handler(_ g: OpaquePointer?, _ cb: guestfs_error_handler_cb?, _ opaque: UnsafeMutableRawPointer?) {
    CHandle.lookup(g, "push_error_handler")?.pushErrorHandler(cb, opaque)
}

@_cdecl("guestfs_pop_error_handler")
public func c_guestfs_pop_error_handler(_ g: OpaquePointer?) {
    CHandle.lookup(g, "pop_error_handler")?.popErrorHandler()
}

/// A NULL handler is refused (out of memory cannot be ignored): the
/// current one stays.
@_cdecl("guestfs_set_out_of_memory_handler")
public func c_guestfs_set_out_of_memory_handler(_ g: OpaquePointer?, _ cb: guestfs_abort_cb?) {
    guard let h = CHandle.lookup(g, "set_out_of_memory_handler") else { return }
    guard let cb else {
        h.setError("set_out_of_memory_handler", errno: EINVAL, message: "the out of memory handler cannot be NULL")
        return
    }
    h.outOfMemoryHandler = cb
}

@_cdecl("guestfs_get_out_of_memory_handler")
public func c_guestfs_get_out_of_memory_handler(_ g: OpaquePointer?) -> guestfs_abort_cb? {
    CHandle.lookup(g, "get_out_of_memory_handler")?.outOfMemoryHandler
}

// MARK: private data

@_cdecl("guestfs_set_private")
public func c_guestfs_set_private(_ g: OpaquePointer?, _ key: UnsafePointer<CChar>?, _ data: UnsafeMutableRawPointer?) {
    guard let h = CHandle.lookup(g, "set_private") else { return }
    guard let key else {
        h.setError("set_private", errno: EINVAL, message: "key: parameter cannot be NULL")
        return
    }
    h.setPrivate(String(cString: key), data)
}

@_cdecl("guestfs_get_private")
public func c_guestfs_get_private(_ g: OpaquePointer?, _ key: UnsafePointer<CChar>?) -> UnsafeMutableRawPointer? {
    guard let h = CHandle.lookup(g, "get_private") else { return nil }
    guard let key else {
        h.setError("get_private", errno: EINVAL, message: "key: parameter cannot be NULL")
        return nil
    }
    return h.getPrivate(String(cString: key))
}

@_cdecl("guestfs_first_private")
public func c_guestfs_first_private(_ g: OpaquePointer?, _ keyRtn: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> UnsafeMutableRawPointer? {
    CHandle.lookup(g, "first_private")?.nextPrivate(first: true, keyRtn)
}

@_cdecl("guestfs_next_private")
public func c_guestfs_next_private(_ g: OpaquePointer?, _ keyRtn: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> UnsafeMutableRawPointer? {
    CHandle.lookup(g, "next_private")?.nextPrivate(first: false, keyRtn)
}

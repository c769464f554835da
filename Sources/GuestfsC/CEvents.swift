// Events for C: guestfs_set_event_callback and friends bridged to the
// Swift handle's callbacks, plus the libguestfs 1.0 guestfs_set_*_callback
// functions (one callback of each kind, replaced by the next call).

import CGuestfs
import Glibc
import Guestfs

private let allEvents: UInt64 = 0x03ff

/// Calls a C event callback with a NUL-terminated copy of the buffer (the
/// length excludes the NUL) and the array.
private func deliver(_ h: CHandle, _ cb: guestfs_event_callback, _ opaque: UnsafeMutableRawPointer?,
                     _ event: EventSet, _ eventHandle: Int, _ buffer: [UInt8], _ array: [UInt64]) {
    var buf = buffer
    buf.append(0)
    buf.withUnsafeBufferPointer { b in
        array.withUnsafeBufferPointer { a in
            b.baseAddress!.withMemoryRebound(to: CChar.self, capacity: b.count) { cbuf in
                cb(h.pointer, opaque, event.rawValue, Int32(truncatingIfNeeded: eventHandle), 0,
                   cbuf, buffer.count, array.isEmpty ? nil : a.baseAddress, array.count)
            }
        }
    }
}

@_cdecl("guestfs_set_event_callback")
public func c_guestfs_set_event_callback(_ g: OpaquePointer?, _ cb: guestfs_event_callback?, _ eventBitmask: UInt64,
                                         _ flags: Int32, _ opaque: UnsafeMutableRawPointer?) -> Int32 {
    return CHandle.call(g, "set_event_callback", errorValue: -1) { h in
        guard let cb else { throw CArgumentError(errno: EINVAL, message: "cb: parameter cannot be NULL") }
        guard flags == 0 else { throw CArgumentError(errno: EINVAL, message: "flags parameter should be passed as 0") }
        guard eventBitmask & ~allEvents == 0 else {
            throw CArgumentError(errno: EINVAL, message: "unknown event in event bitmask: 0x\(String(eventBitmask, radix: 16))")
        }
        let eh = h.g.setEventCallback(events: EventSet(rawValue: eventBitmask)) { [unowned h] event, eh, buffer, array in
            deliver(h, cb, opaque, event, eh, buffer, array)
        }
        guard let r = Int32(exactly: eh) else {
            h.g.deleteEventCallback(eh)
            throw CArgumentError(errno: ENOMEM, message: "too many event callbacks registered")
        }
        return r
    }
}

@_cdecl("guestfs_delete_event_callback")
public func c_guestfs_delete_event_callback(_ g: OpaquePointer?, _ eventHandle: Int32) {
    guard let h = CHandle.lookup(g, "delete_event_callback"), eventHandle >= 0 else { return }
    h.g.deleteEventCallback(Int(eventHandle))
}

/// "close", "close,progress", "" for 0. malloc'ed; NULL + errno on error.
@_cdecl("guestfs_event_to_string")
public func c_guestfs_event_to_string(_ event: UInt64) -> UnsafeMutablePointer<CChar>? {
    let s = EventSet.named.filter { event & $0.1.rawValue != 0 }.map(\.0).joined(separator: ",")
    guard let p = strdup(s) else {
        Glibc.errno = ENOMEM
        return nil
    }
    return p
}

// MARK: libguestfs 1.0 callbacks

/// Replaces the old-style callback of `kind` with one for `events` (none
/// when `make` returns nil, i.e. the C callback is NULL).
private func setLegacy(_ g: OpaquePointer?, _ function: String, _ kind: String, _ events: EventSet,
                       _ make: (CHandle) -> EventCallback?) {
    guard let h = CHandle.lookup(g, function) else { return }
    if let old = h.legacyCallbacks.removeValue(forKey: kind) { h.g.deleteEventCallback(old) }
    if let callback = make(h) {
        h.legacyCallbacks[kind] = h.g.setEventCallback(events: events, callback)
    }
}

@_cdecl("guestfs_set_log_message_callback")
public func c_guestfs_set_log_message_callback(_ g: OpaquePointer?, _ cb: guestfs_log_message_cb?, _ opaque: UnsafeMutableRawPointer?) {
    setLegacy(g, "set_log_message_callback", "log_message", .appliance) { h in
        guard let cb else { return nil }
        return { [unowned h] _, _, buffer, _ in
            var buf = buffer
            buf.append(0)
            buf.withUnsafeMutableBufferPointer { b in
                b.baseAddress!.withMemoryRebound(to: CChar.self, capacity: b.count) {
                    cb(h.pointer, opaque, $0, Int32(truncatingIfNeeded: buffer.count))
                }
            }
        }
    }
}

@_cdecl("guestfs_set_subprocess_quit_callback")
public func c_guestfs_set_subprocess_quit_callback(_ g: OpaquePointer?, _ cb: guestfs_subprocess_quit_cb?, _ opaque: UnsafeMutableRawPointer?) {
    setLegacy(g, "set_subprocess_quit_callback", "subprocess_quit", .subprocessQuit) { h in
        guard let cb else { return nil }
        return { [unowned h] _, _, _, _ in cb(h.pointer, opaque) }
    }
}

@_cdecl("guestfs_set_launch_done_callback")
public func c_guestfs_set_launch_done_callback(_ g: OpaquePointer?, _ cb: guestfs_launch_done_cb?, _ opaque: UnsafeMutableRawPointer?) {
    setLegacy(g, "set_launch_done_callback", "launch_done", .launchDone) { h in
        guard let cb else { return nil }
        return { [unowned h] _, _, _, _ in cb(h.pointer, opaque) }
    }
}

@_cdecl("guestfs_set_close_callback")
public func c_guestfs_set_close_callback(_ g: OpaquePointer?, _ cb: guestfs_close_cb?, _ opaque: UnsafeMutableRawPointer?) {
    setLegacy(g, "set_close_callback", "close", .close) { h in
        guard let cb else { return nil }
        return { [unowned h] _, _, _, _ in cb(h.pointer, opaque) }
    }
}

/// The progress array is [proc_nr, serial, position, total].
@_cdecl("guestfs_set_progress_callback")
public func c_guestfs_set_progress_callback(_ g: OpaquePointer?, _ cb: guestfs_progress_cb?, _ opaque: UnsafeMutableRawPointer?) {
    setLegacy(g, "set_progress_callback", "progress", .progress) { h in
        guard let cb else { return nil }
        return { [unowned h] _, _, _, a in
            guard a.count >= 4 else { return }
            cb(h.pointer, opaque, Int32(truncatingIfNeeded: a[0]), Int32(truncatingIfNeeded: a[1]), a[2], a[3])
        }
    }
}

import Foundation

/// A set of libguestfs events (bit values as in libguestfs).
public struct EventSet: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// The handle is being closed.
    public static let close = EventSet(rawValue: 0x0001)
    /// The hypervisor subprocess exited.
    public static let subprocessQuit = EventSet(rawValue: 0x0002)
    /// `launch` finished.
    public static let launchDone = EventSet(rawValue: 0x0004)
    /// A progress notification; the array is [proc, serial, position, total].
    public static let progress = EventSet(rawValue: 0x0008)
    /// Output from the appliance (console).
    public static let appliance = EventSet(rawValue: 0x0010)
    /// A debug message from the library.
    public static let library = EventSet(rawValue: 0x0020)
    /// A trace message (when tracing is on).
    public static let trace = EventSet(rawValue: 0x0040)
    /// An API function was entered; the buffer is its name.
    public static let enter = EventSet(rawValue: 0x0080)
    /// libvirt asked for credentials while connecting (see set_libvirt_supported_credentials);
    /// the buffer is the URI.
    public static let libvirtAuth = EventSet(rawValue: 0x0100)
    /// A warning message.
    public static let warning = EventSet(rawValue: 0x0200)
    /// Every event.
    public static let all = EventSet(rawValue: 0x03ff)

    /// (name, event) in bit order; names as in libguestfs.
    public static let named: [(String, EventSet)] = [
        ("close", .close), ("subprocess_quit", .subprocessQuit), ("launch_done", .launchDone),
        ("progress", .progress), ("appliance", .appliance), ("library", .library), ("trace", .trace),
        ("enter", .enter), ("libvirt_auth", .libvirtAuth), ("warning", .warning),
    ]

    /// Parses a comma- or space-separated list of event names ("close,progress"
    /// or "*" / "all").
    public init(names: String) throws {
        var set = EventSet()
        for word in names.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" }) {
            let w = word.lowercased()
            if w == "*" || w == "all" { set.formUnion(.all); continue }
            guard let e = EventSet.named.first(where: { $0.0 == w }) else {
                throw GuestfsError(errno: EINVAL, "unknown event name: \(w)")
            }
            set.formUnion(e.1)
        }
        self = set
    }

    /// Names of the events in the set, comma separated, as libguestfs's
    /// event_to_string.
    public var description: String {
        EventSet.named.filter { contains($0.1) }.map(\.0).joined(separator: ",")
    }
}

/// Called for each event: the event (a single bit), the callback's handle,
/// the message buffer and the array of numbers (progress).
public typealias EventCallback = (_ event: EventSet, _ eventHandle: Int, _ buffer: [UInt8], _ array: [UInt64]) -> Void

struct EventRegistration {
    var events: EventSet
    var callback: EventCallback
}

extension Guestfs {
    /// Registers `callback` for the events in `events`; returns a handle
    /// for `deleteEventCallback`.
    @discardableResult
    public func setEventCallback(events: EventSet, _ callback: @escaping EventCallback) -> Int {
        eventLock.lock()
        defer { eventLock.unlock() }
        let h = nextEventHandle
        nextEventHandle += 1
        eventCallbacks[h] = EventRegistration(events: events, callback: callback)
        return h
    }

    /// Removes a callback registered with `setEventCallback`. Unknown
    /// handles are ignored.
    public func deleteEventCallback(_ eventHandle: Int) {
        eventLock.lock()
        defer { eventLock.unlock() }
        eventCallbacks[eventHandle] = nil
    }

    /// Calls every callback registered for `event`; returns how many ran.
    @discardableResult
    func emit(_ event: EventSet, buffer: [UInt8] = [], array: [UInt64] = []) -> Int {
        eventLock.lock()
        let regs = eventCallbacks.sorted { $0.key < $1.key }.filter { $0.value.events.contains(event) }
        eventLock.unlock()
        for (h, r) in regs { r.callback(event, h, buffer, array) }
        return regs.count
    }

    /// Sends a message event; when nothing consumed it, prints it to stderr
    /// the way libguestfs does (library/appliance only when verbose; trace
    /// and warning always).
    func emitMessage(_ event: EventSet, _ text: String) {
        let n = emit(event, buffer: Array(text.utf8))
        if n > 0 { return }
        switch event {
        case .appliance:
            if verbose { writeStderr(text) }
        case .library:
            if verbose { writeStderr("libguestfs: \(idPrefix)\(text)\n") }
        case .trace:
            writeStderr("libguestfs: trace: \(idPrefix)\(text)\n")
        case .warning:
            writeStderr("libguestfs: warning: \(idPrefix)\(text)\n")
        default:
            break
        }
    }

    private var idPrefix: String { identifier.isEmpty ? "" : "\(identifier): " }

    /// A debug message (library event; stderr when verbose and unhandled).
    func debug(_ text: @autoclosure () -> String) {
        if verbose || hasCallback(for: .library) { emitMessage(.library, text()) }
    }

    func warning(_ text: String) {
        emitMessage(.warning, text)
    }

    func hasCallback(for event: EventSet) -> Bool {
        eventLock.lock()
        defer { eventLock.unlock() }
        return eventCallbacks.values.contains { $0.events.contains(event) }
    }
}

func writeStderr(_ s: String) {
    var bytes = Array(s.utf8)
    var off = 0
    while off < bytes.count {
        let n = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress! + off, $0.count - off) }
        if n <= 0 { if n < 0 && errno == EINTR { continue }; return }
        off += n
    }
    bytes.removeAll()
}

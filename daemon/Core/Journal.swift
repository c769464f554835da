// journal_*: systemd journal files in the guest read through libsystemd's
// sd-journal. One journal is open per daemon, kept between calls.

import CSystemd
import Glibc

extension Handlers {
    /// The open sd_journal, nil when none.
    static var journal: OpaquePointer?

    private func openJournal(_ op: String) throws -> OpaquePointer {
        guard let j = Handlers.journal else {
            throw DaemonError(EINVAL, "\(op): no journal is open: call journal_open first")
        }
        return j
    }

    /// sd-journal calls return a negative errno on failure.
    private func journalCheck(_ r: Int32, _ op: String, _ what: String? = nil) throws {
        if r < 0 {
            let prefix = what.map { "\(op): \($0)" } ?? op
            throw DaemonError(-r, "\(prefix): \(Sys.strerror(-r))")
        }
    }

    func journalOpen(_ ctx: CallContext, directory: String) throws {
        let host = try ctx.sysroot.hostPath(directory, op: "journal_open")
        if !Sys.isDirectory(host) { throw DaemonError(ENOTDIR, "journal_open: \(directory): Not a directory") }
        if let old = Handlers.journal {
            sd_journal_close(old)
            Handlers.journal = nil
        }
        var j: OpaquePointer?
        try journalCheck(sd_journal_open_directory(&j, host, 0), "journal_open", directory)
        Handlers.journal = j
    }

    func journalClose(_ ctx: CallContext) throws {
        let j = try openJournal("journal_close")
        sd_journal_close(j)
        Handlers.journal = nil
    }

    func journalNext(_ ctx: CallContext) throws -> Bool {
        let r = sd_journal_next(try openJournal("journal_next"))
        try journalCheck(r, "journal_next")
        return r > 0
    }

    func journalSkip(_ ctx: CallContext, skip: Int64) throws -> Int64 {
        let j = try openJournal("journal_skip")
        if skip < 0 { throw DaemonError(EINVAL, "journal_skip: skip \(skip) is negative") }
        if skip == 0 { return 0 }
        let r = sd_journal_next_skip(j, UInt64(skip))
        try journalCheck(r, "journal_skip")
        return Int64(r)
    }

    /// Streams the fields of the current entry: for each, its length as a
    /// 64-bit big-endian number, then the bytes "NAME=value".
    func internalJournalGet(_ ctx: CallContext) throws {
        let j = try openJournal("journal_get")
        var data: UnsafeRawPointer?
        var len = 0
        // Look at the first field before replying, so that "not on an entry"
        // comes back as an ordinary error rather than a cancelled stream.
        sd_journal_restart_data(j)
        var r = sd_journal_enumerate_data(j, &data, &len)
        try journalCheck(r, "journal_get")
        // sd-journal treats the threshold as a hint (it only shortens fields
        // it has to decompress); cut every value to it so the caller gets
        // what journal_set_data_threshold promises. The name stays whole.
        var threshold = 0
        _ = sd_journal_get_data_threshold(j, &threshold)
        try ctx.beginFileOut()
        while r > 0, let p = data {
            let field = UnsafeRawBufferPointer(start: p, count: len)
            var count = len
            if threshold > 0, let eq = field.firstIndex(of: UInt8(ascii: "=")) {
                count = min(len, eq + 1 + threshold)
            }
            var be = UInt64(count).bigEndian
            try withUnsafeBytes(of: &be) { try ctx.send(bytes: $0) }
            try ctx.send(bytes: UnsafeRawBufferPointer(start: p, count: count))
            r = sd_journal_enumerate_data(j, &data, &len)
        }
        try journalCheck(r, "journal_get")
        try ctx.endFileOut()
    }

    func journalGetDataThreshold(_ ctx: CallContext) throws -> Int64 {
        var size = 0
        try journalCheck(sd_journal_get_data_threshold(try openJournal("journal_get_data_threshold"), &size),
                         "journal_get_data_threshold")
        return Int64(size)
    }

    func journalSetDataThreshold(_ ctx: CallContext, threshold: Int64) throws {
        let j = try openJournal("journal_set_data_threshold")
        if threshold < 0 { throw DaemonError(EINVAL, "journal_set_data_threshold: threshold \(threshold) is negative") }
        try journalCheck(sd_journal_set_data_threshold(j, Int(threshold)), "journal_set_data_threshold")
    }

    func journalGetRealtimeUsec(_ ctx: CallContext) throws -> Int64 {
        var usec: UInt64 = 0
        try journalCheck(sd_journal_get_realtime_usec(try openJournal("journal_get_realtime_usec"), &usec),
                         "journal_get_realtime_usec")
        return Int64(bitPattern: usec)
    }
}

extension Handlers {
    /// Closes the open journal, if any (before unmounting everything).
    static func closeJournal() {
        if let j = journal {
            sd_journal_close(j)
            journal = nil
        }
    }
}

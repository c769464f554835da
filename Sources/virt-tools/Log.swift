// virt-log: print a guest's system log. Linux guests: the systemd journal
// under /var/log/journal when there is one (one line per entry, in the
// spirit of `journalctl -o short`), else /var/log/syslog or
// /var/log/messages as they are. Windows (Vista and later): System.evtx
// through the host's evtxdump.py (python-evtx).

import Foundation
import Guestfs

final class VirtLog: VirtTool {
    static let name = "virt-log"
    static let summary = "display log files from a virtual machine"
    static let usage = """
        virt-log [--options] -d domname
        virt-log [--options] -a disk.img [-a disk.img ...]
        """
    static let journalDir = "/var/log/journal"
    static let textLogs = ["/var/log/syslog", "/var/log/messages"]
    static let priorityNames = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"]

    // The tool always inspects: the log's place depends on the guest type.
    var mountsGuest: Bool { false }
    required init() {}
    func options(_ common: CommonOptions) -> [ToolOption] { [] }

    func run(_ common: CommonOptions, _ operands: [String]) throws -> Int32 {
        guard operands.isEmpty else { throw UsageError(description: "unexpected argument '\(operands[0])'") }
        let g = try openGuest(common, tool: Self.name, readOnly: true)
        defer { g.close() }
        guard let root = try mountGuest(g, common, tool: Self.name, readOnly: true, hasMountOption: false) else { return 1 }
        let type = try g.inspectGetType(root)
        if type == "windows" {
            guard try g.inspectGetMajorVersion(root) >= 6 else {
                throw ToolError("the event log of Windows before Vista (major version 6) is not supported")
            }
            return try printWindowsSystemLog(g)
        }
        // A journal directory that cannot be listed counts as no journal.
        if type == "linux", let entries = try? g.ls(Self.journalDir), !entries.isEmpty {
            return try printJournal(g)
        }
        for file in Self.textLogs where (try? g.isFile(file, followsymlinks: true)) == true {
            fflushStdout()
            try g.download(file, "/dev/stdout")
            return 0
        }
        // Nothing to show is not an error: a guest may keep no system log.
        return 0
    }

    /// One line per journal entry: "Mon DD HH:MM:SS ident[pid] level: message",
    /// the time in the host's local time zone, as journalctl prints it.
    func printJournal(_ g: Guestfs) throws -> Int32 {
        try g.journalOpen(Self.journalDir)
        defer { try? g.journalClose() }
        var failures = 0
        while try g.journalNext() {
            let fields = try g.journalGet()
            func field(_ name: String) -> [UInt8]? { fields.first { $0.attrname == name }?.attrval }
            var line: [UInt8] = []
            let usec = try g.journalGetRealtimeUsec()
            if usec >= 0 {
                guard let stamp = Self.localTimestamp(usec / 1_000_000) else {
                    ToolIO.err(Self.name, "could not format the timestamp of a journal entry (\(usec) µs)")
                    failures += 1
                    continue
                }
                line += Array(stamp.utf8)
            }
            if let ident = field("SYSLOG_IDENTIFIER") ?? field("_COMM") { line += [0x20] + ident }
            if let pid = field("_PID") { line += Array("[".utf8) + pid + Array("]".utf8) }
            var priority = 6 // info, when the entry names none
            if let p = field("PRIORITY")?.first, (0x30...0x37).contains(p) { priority = Int(p - 0x30) }
            line += Array(" \(Self.priorityNames[priority]):".utf8)
            if let message = field("MESSAGE") { line += [0x20] + message }
            line.append(0x0a)
            fwrite(line, 1, line.count, stdout)
        }
        return failures > 0 ? 1 : 0
    }

    static func localTimestamp(_ seconds: Int64) -> String? {
        var t = time_t(seconds)
        var tm = tm()
        guard localtime_r(&t, &tm) != nil else { return nil }
        var buf = [CChar](repeating: 0, count: 64)
        let n = strftime(&buf, buf.count, "%b %d %H:%M:%S", &tm)
        guard n > 0 else { return nil }
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Windows keeps its event log in a binary format; python-evtx's
    /// evtxdump.py reads it, and it wants a real file (it maps it), so the
    /// log goes through a temporary file.
    func printWindowsSystemLog(_ g: Guestfs) throws -> Int32 {
        guard let dumper = Self.findInPath("evtxdump.py") else {
            throw ToolError("""
                reading the Windows event log needs evtxdump.py (Debian: apt-get install python3-evtx).
                Without it, copy /Windows/System32/winevt/Logs out of the guest with virt-copy-out
                and open the .evtx files with another viewer.
                """)
        }
        let path = try g.caseSensitivePath("/Windows/System32/winevt/Logs/System.evtx")
        guard (try? g.isFile(path, followsymlinks: true)) == true else {
            throw ToolError("the Windows event log \(path) is not in this guest")
        }
        let dir = try FileManager.default.url(for: .itemReplacementDirectory, in: .userDomainMask,
                                              appropriateFor: URL(fileURLWithPath: NSTemporaryDirectory()), create: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let local = dir.appendingPathComponent("System.evtx").path
        try g.download(path, local)
        fflushStdout()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: dumper)
        p.arguments = [local]
        try p.run()
        p.waitUntilExit()
        guard p.terminationReason == .exit, p.terminationStatus == 0 else {
            throw ToolError("evtxdump.py failed (\(p.terminationReason == .exit ? "exit status" : "signal") \(p.terminationStatus))")
        }
        return 0
    }

    static func findInPath(_ program: String) -> String? {
        let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return dirs.map { "\($0)/\(program)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

// XFS administration: xfs_info (parsed into pairs and into the old
// xfsinfo struct), xfs_admin, xfs_growfs, xfs_repair.

import Glibc
import GuestfsProtocol

extension Handlers {
    /// Runs a tool for action `op` on the object the user named (`shown`);
    /// a failure names both and shows the tool's message with the device
    /// names the user knows.
    @discardableResult
    func fsxTool(_ ctx: CallContext, op: String, shown: String, _ argv: [String], input: [UInt8]? = nil,
                 okStatuses: Set<Int32> = [0]) throws -> CommandResult {
        let r = try Command.run(argv, input: input)
        if !okStatuses.contains(r.status) {
            var text = r.err.trimmed()
            if text.isEmpty { text = r.out.trimmed() }
            if text.isEmpty { text = "\(argv[0]) exited with status \(r.status)" }
            // "prog: message" -> "message": the call already says what ran.
            let prog = argv[0].split(separator: "/").last.map(String.init) ?? argv[0]
            if text.hasPrefix(prog + ": ") { text = String(text.dropFirst(prog.count + 2)) }
            throw DaemonError(message: "\(op): \(shown): " + ctx.devices.canonicalizeText(text))
        }
        return r
    }

    /// The name the user gave for a resolved Dev_or_Path argument, and the
    /// name to hand to a tool (the device, or the path under the sysroot).
    func fsxDevOrPath(_ ctx: CallContext, _ value: String, op: String) throws -> (shown: String, arg: String) {
        if value.hasPrefix("/dev/") { return (ctx.canonicalName(value), value) }
        return (value, try ctx.sysroot.hostPath(value, op: op))
    }

    // MARK: xfs_info

    /// Splits xfs_info's report into (key, value) pairs: a section's leading
    /// description under the section name ("log" -> "internal log"), every
    /// numeric field as "section.field" ("data.bsize" -> "4096"); counts in
    /// blocks or extents keep their unit ("20480 blks").
    static func parseXFSInfo(_ text: String) -> [(String, String)] {
        // Gather each section: a line starting with a letter opens one,
        // indented "=" lines continue it.
        var sections: [(name: String, body: String)] = []
        for line in text.lines {
            guard let eq = line.firstIndex(of: "=") else { continue }
            let head = line[line.startIndex..<eq].trimmed()
            let body = String(line[line.index(after: eq)...])
            if let f = line.first, f.isLetter, !head.isEmpty {
                sections.append((head, body))
            } else if !sections.isEmpty {
                sections[sections.count - 1].body += "\n" + body
            }
        }
        var out: [(String, String)] = []
        for (name, body) in sections {
            let chars = Array(body)
            var i = 0
            // A description right after "=" (no blank before it): the words
            // up to the first field ("version 2", "internal log", "none").
            if let f = chars.first, !f.isWhitespace {
                var words: [String] = []
                var j = 0
                while j < chars.count, chars[j] != "\n" {
                    var e = j
                    while e < chars.count, !chars[e].isWhitespace { e += 1 }
                    let w = String(chars[j..<e])
                    if w.contains("=") { break }
                    words.append(w)
                    i = e
                    j = e
                    while j < chars.count, chars[j] == " " || chars[j] == "\t" { j += 1 }
                }
                if !words.isEmpty { out.append((name, words.joined(separator: " "))) }
            }
            // key=digits[ blks|extents]
            while i < chars.count {
                guard chars[i] == "=" else { i += 1; continue }
                var k = i
                while k > 0, chars[k - 1].isLetter || chars[k - 1].isNumber || chars[k - 1] == "_" || chars[k - 1] == "-" { k -= 1 }
                var v = i + 1
                while v < chars.count, chars[v].isNumber { v += 1 }
                if k < i, v > i + 1 {
                    var value = String(chars[(i + 1)..<v])
                    for unit in [" blks", " extents"] {
                        let u = Array(unit)
                        if v + u.count <= chars.count, Array(chars[v..<(v + u.count)]) == u {
                            value += unit; v += u.count
                            break
                        }
                    }
                    out.append(("\(name).\(String(chars[k..<i]))", value))
                }
                i = max(v, i + 1)
            }
        }
        return out
    }

    func xfsInfo2(_ ctx: CallContext, pathordevice: String) throws -> [(String, String)] {
        try xfsInfoPairs(ctx, pathordevice, op: "xfs_info2")
    }

    private func xfsInfoPairs(_ ctx: CallContext, _ pathordevice: String, op: String) throws -> [(String, String)] {
        let (shown, arg) = try fsxDevOrPath(ctx, pathordevice, op: op)
        let r = try fsxTool(ctx, op: op, shown: shown, ["xfs_info", arg])
        var pairs = Handlers.parseXFSInfo(r.out)
        if pairs.isEmpty { throw DaemonError(EINVAL, "\(op): \(shown): no XFS information in the output") }
        // The section "meta-data" names what was examined: show it as the user knows it.
        for (n, p) in pairs.enumerated() where p.0 == "meta-data" {
            if p.1.hasPrefix("/dev/") {
                pairs[n].1 = ctx.canonicalName(p.1)
            } else if let g = ctx.sysroot.guestPath(p.1) {
                pairs[n].1 = g
            }
        }
        return pairs
    }

    func xfsInfo(_ ctx: CallContext, pathordevice: String) throws -> XFSInfo {
        let pairs = try xfsInfoPairs(ctx, pathordevice, op: "xfs_info")
        let shown = pathordevice.hasPrefix("/dev/") ? ctx.canonicalName(pathordevice) : pathordevice
        func value(_ key: String) throws -> String {
            guard let v = pairs.first(where: { $0.0 == key })?.1 else {
                throw DaemonError(EINVAL, "xfs_info: \(shown): field \(key) is missing from the output of xfs_info")
            }
            return v
        }
        func number(_ key: String) throws -> UInt64 {
            var v = try value(key)
            if key == "naming", v.hasPrefix("version ") { v = String(v.dropFirst(8)) }
            if let sp = v.firstIndex(of: " ") { v = String(v[v.startIndex..<sp]) }
            guard let n = UInt64(v) else { throw DaemonError(EINVAL, "xfs_info: \(shown): \(key): unexpected value \(v)") }
            return n
        }
        func u32(_ key: String) throws -> UInt32 { UInt32(truncatingIfNeeded: try number(key)) }
        return XFSInfo(
            xfsMntpoint: try value("meta-data"), xfsInodesize: try u32("meta-data.isize"),
            xfsAgcount: try u32("meta-data.agcount"), xfsAgsize: try u32("meta-data.agsize"),
            xfsSectsize: try u32("meta-data.sectsz"), xfsAttr: try u32("meta-data.attr"),
            xfsBlocksize: try u32("data.bsize"), xfsDatablocks: try number("data.blocks"),
            xfsImaxpct: try u32("data.imaxpct"), xfsSunit: try u32("data.sunit"), xfsSwidth: try u32("data.swidth"),
            xfsDirversion: try u32("naming"), xfsDirblocksize: try u32("naming.bsize"),
            xfsCimode: try u32("naming.ascii-ci"), xfsLogname: try value("log"),
            xfsLogblocksize: try u32("log.bsize"), xfsLogblocks: try u32("log.blocks"),
            xfsLogversion: try u32("log.version"), xfsLogsectsize: try u32("log.sectsz"),
            xfsLogsunit: try u32("log.sunit"), xfsLazycount: try u32("log.lazy-count"),
            xfsRtname: try value("realtime"), xfsRtextsize: try u32("realtime.extsz"),
            xfsRtblocks: try number("realtime.blocks"), xfsRtextents: try number("realtime.rtextents"))
    }

    // MARK: xfs_admin, xfs_growfs, xfs_repair

    func xfsAdmin(_ ctx: CallContext, device: String, extunwritten: Bool?, imgfile: Bool?, v2log: Bool?, projid32bit: Bool?, lazycounter: Bool?, label: String?, uuid: String?) throws {
        var argv = ["xfs_admin"]
        if extunwritten == true { argv.append("-e") }
        if imgfile == true { argv.append("-f") }
        if v2log == true { argv.append("-j") }
        if projid32bit == true { argv.append("-p") }
        if let lazycounter { argv += ["-c", lazycounter ? "1" : "0"] }
        if let label {
            if label.utf8.count > 12 {
                throw DaemonError(ERANGE, "xfs_admin: \(ctx.canonicalName(device)): XFS labels are limited to 12 bytes")
            }
            argv += ["-L", label.isEmpty ? "--" : label]
        }
        if let uuid { argv += ["-U", uuid] }
        if argv.count == 1 { return }
        argv.append(device)
        // Some changes run xfs_repair underneath, which reports on stdout too.
        let r = try Command.run(argv)
        if !r.ok {
            var text = (r.err.trimmed() + "\n" + r.out.trimmed()).trimmed()
            if text.isEmpty { text = "xfs_admin exited with status \(r.status)" }
            throw DaemonError(message: "xfs_admin: \(ctx.canonicalName(device)): " + ctx.devices.canonicalizeText(text))
        }
    }

    func xfsGrowfs(_ ctx: CallContext, path: String, datasec: Bool?, logsec: Bool?, rtsec: Bool?, datasize: Int64?, logsize: Int64?, rtsize: Int64?, rtextsize: Int64?, maxpct: Int32?) throws {
        var argv = ["xfs_growfs"]
        if datasec == true { argv.append("-d") }
        if logsec == true { argv.append("-l") }
        if rtsec == true { argv.append("-r") }
        for (flag, name, v) in [("-D", "datasize", datasize), ("-L", "logsize", logsize), ("-R", "rtsize", rtsize), ("-e", "rtextsize", rtextsize)] {
            guard let v else { continue }
            if v < 0 { throw DaemonError(EINVAL, "xfs_growfs: \(path): \(name) must be >= 0") }
            argv += [flag, String(v)]
        }
        if let maxpct {
            if maxpct < 0 || maxpct > 100 { throw DaemonError(EINVAL, "xfs_growfs: \(path): maxpct must be between 0 and 100") }
            argv += ["-m", String(maxpct)]
        }
        argv.append(try ctx.sysroot.hostPath(path, op: "xfs_growfs"))
        try fsxTool(ctx, op: "xfs_growfs", shown: path, argv)
    }

    func xfsRepair(_ ctx: CallContext, device: String, forcelogzero: Bool?, nomodify: Bool?, noprefetch: Bool?, forcegeometry: Bool?, maxmem: Int64?, ihashsize: Int64?, bhashsize: Int64?, agstride: Int64?, logdev: String?, rtdev: String?) throws -> Int32 {
        var argv = ["xfs_repair"]
        if forcelogzero == true { argv.append("-L") }
        if nomodify == true { argv.append("-n") }
        if noprefetch == true { argv.append("-P") }
        if forcegeometry == true { argv += ["-o", "force_geometry"] }
        let (shown, arg) = try fsxDevOrPath(ctx, device, op: "xfs_repair")
        if let maxmem {
            if maxmem < 0 { throw DaemonError(EINVAL, "xfs_repair: \(shown): maxmem must be >= 0") }
            argv += ["-m", String(maxmem)]
        }
        for (opt, name, v) in [("ihash", "ihashsize", ihashsize), ("bhash", "bhashsize", bhashsize), ("ag_stride", "agstride", agstride)] {
            guard let v else { continue }
            if v < 0 { throw DaemonError(EINVAL, "xfs_repair: \(shown): \(name) must be >= 0") }
            argv += ["-o", "\(opt)=\(v)"]
        }
        if let logdev { argv += ["-l", try ctx.resolveDevice(logdev, "logdev")] }
        if let rtdev { argv += ["-r", try ctx.resolveDevice(rtdev, "rtdev")] }
        if !device.hasPrefix("/dev/") { argv.append("-f") }
        argv.append(arg)
        // The exit status is the answer (0 clean, 1 damage found with -n).
        let r = try Command.run(argv)
        if r.status != 0 {
            Sys.log("xfs_repair \(shown): status \(r.status): \(ctx.devices.canonicalizeText(r.err.trimmed()))")
        }
        return r.status
    }
}

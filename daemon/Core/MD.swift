// Linux software RAID through mdadm(8) and /proc/mdstat.

import Glibc
import GuestfsProtocol

extension Handlers {
    static let mdLevels: Set<String> = [
        "linear", "raid0", "0", "stripe", "raid1", "1", "mirror", "raid4", "4", "raid5", "5",
        "raid6", "6", "raid10", "10",
    ]

    func mdCreate(_ ctx: CallContext, name: String, devices: [String], missingbitmap: Int64?, nrdevices: Int32?,
                  spare: Int32?, chunk: Int64?, level: String?) throws {
        if name.isEmpty || name.contains("/") || name == "." || name == ".." {
            throw DaemonError(EINVAL, "md_create: \(name): invalid array name")
        }
        if devices.isEmpty { throw DaemonError(EINVAL, "md_create: no devices given") }
        let lvl = level ?? "raid1"
        if !Handlers.mdLevels.contains(lvl) { throw DaemonError(EINVAL, "md_create: \(lvl): unknown RAID level") }
        let missing = UInt64(bitPattern: missingbitmap ?? 0)
        if missing >> 63 != 0 { throw DaemonError(EINVAL, "md_create: missingbitmap must not be negative") }
        // Fill the slots in order: a set bit leaves its slot empty.
        var slots: [String] = []
        var next = 0
        var bit = 0
        while next < devices.count || (bit < 64 && missing >> UInt64(bit) != 0) {
            if bit < 64 && missing & (UInt64(1) << UInt64(bit)) != 0 {
                slots.append("missing")
            } else {
                guard next < devices.count else { break }
                slots.append(devices[next]); next += 1
            }
            bit += 1
        }
        let spares = Int(spare ?? 0)
        if spares < 0 || spares >= slots.count { throw DaemonError(EINVAL, "md_create: invalid number of spares \(spares)") }
        let n = nrdevices.map(Int.init) ?? (slots.count - spares)
        if n <= 0 { throw DaemonError(EINVAL, "md_create: nrdevices must be > 0") }
        var argv = ["mdadm", "--create", "/dev/md/\(name)", "--run", "--metadata=1.2", "--level=\(lvl)",
                    "--raid-devices=\(n)"]
        if spares > 0 { argv.append("--spare-devices=\(spares)") }
        if let chunk {
            if chunk <= 0 || chunk % 1024 != 0 { throw DaemonError(EINVAL, "md_create: chunk must be a positive multiple of 1024 bytes") }
            argv.append("--chunk=\(chunk / 1024)")
        }
        if n == 1 || lvl == "linear" && n == 1 { argv.append("--force") }
        argv += slots
        let r = try Command.run(argv)
        if !r.ok {
            throw DaemonError(message: "mdadm: \(name): " + ctx.devices.canonicalizeText(r.err.trimmed()))
        }
    }

    /// "/dev/md/r1" or "/dev/md127" → "md127".
    private func mdKernelName(_ md: String, op: String) throws -> String {
        guard let p = Glibc.realpath(md, nil) else { throw DaemonError.posix(op, md) }
        let real = String(cString: p)
        free(p)
        let base = String(real.split(separator: "/").last ?? "")
        guard base.hasPrefix("md"), Sys.isDirectory("/sys/block/\(base)/md") else {
            throw DaemonError(EINVAL, "\(op): \(md): not an md device")
        }
        return base
    }

    func listMdDevices(_ ctx: CallContext) throws -> [String] {
        (Sys.listDirectory("/sys/block") ?? []).filter { d in
            guard d.hasPrefix("md"), Sys.isDirectory("/sys/block/\(d)/md") else { return false }
            let state = Sys.readText("/sys/block/\(d)/md/array_state")?.trimmed() ?? ""
            return state != "clear" && state != ""
        }.sorted().map { "/dev/" + $0 }
    }

    func mdDetail(_ ctx: CallContext, md: String) throws -> [(String, String)] {
        let shown = ctx.canonicalName(md)
        _ = try mdKernelName(md, op: "md_detail")
        let r = try Command.run(["mdadm", "--detail", "--export", md])
        if !r.ok { throw DaemonError(message: "mdadm: \(shown): " + ctx.devices.canonicalizeText(r.err.trimmed())) }
        var out: [(String, String)] = []
        for l in r.out.lines {
            guard let eq = l.firstIndex(of: "=") else { continue }
            var key = String(l[l.startIndex..<eq])
            var value = String(l[l.index(after: eq)...])
            if key.hasPrefix("MD_") { key = String(key.dropFirst(3)) }
            key = key.lowercased()
            // Per-member keys name the real device: device_dev_vda_role.
            if key.hasPrefix("device_dev_") {
                let rest = key.dropFirst("device_dev_".count)
                if let us = rest.lastIndex(of: "_") {
                    let dev = "/dev/" + rest[rest.startIndex..<us]
                    let canon = ctx.canonicalName(dev)
                    key = "device_dev_" + canon.dropFirst(5) + rest[us...]
                }
            }
            if value.count >= 2, value.hasPrefix("'"), value.hasSuffix("'") { value = String(value.dropFirst().dropLast()) }
            out.append((key, ctx.devices.canonicalizeText(value)))
        }
        return out
    }

    func mdStat(_ ctx: CallContext, md: String) throws -> [MDStat] {
        let name = try mdKernelName(md, op: "md_stat")
        guard let text = Sys.readText("/proc/mdstat") else { throw DaemonError.posix("md_stat: read", "/proc/mdstat") }
        for l in text.lines {
            let tokens = l.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard tokens.count >= 2, tokens[0] == name, tokens[1] == ":" else { continue }
            var res: [MDStat] = []
            for t in tokens.dropFirst(2) {
                // sdb1[2](S)(W): name, role number, flag letters.
                guard let lb = t.firstIndex(of: "["), let rb = t.firstIndex(of: "]"), lb < rb,
                      let idx = Int32(t[t.index(after: lb)..<rb]) else { continue }
                let dev = "/dev/" + t[t.startIndex..<lb]
                let flags = t[t.index(after: rb)...].filter { $0.isLetter }
                res.append(MDStat(mdstatDevice: ctx.canonicalName(dev), mdstatIndex: idx, mdstatFlags: String(flags)))
            }
            return res
        }
        throw DaemonError(EINVAL, "md_stat: \(ctx.canonicalName(md)): not found in /proc/mdstat")
    }

    func mdStop(_ ctx: CallContext, md: String) throws {
        let r = try Command.run(["mdadm", "--stop", md])
        if !r.ok {
            throw DaemonError(message: "mdadm: \(ctx.canonicalName(md)): " + ctx.devices.canonicalizeText(r.err.trimmed()))
        }
    }
}

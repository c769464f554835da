import Foundation
import GuestfsProtocol
import XDR

// inspect_get_icon: a guest's logo, looked up where each distribution
// installs it (the guest's filesystems must be mounted), and yara_scan over
// the daemon's internal_yara_scan.

extension Guestfs {
    func impl_inspect_get_icon(_ root: String, favicon: Bool?, highquality: Bool?) throws -> [UInt8] {
        let type = try inspectGetType(root)
        let distro = try inspectGetDistro(root)
        let hq = highquality ?? false
        // A favicon is never a high quality icon.
        if (favicon ?? true) && !hq {
            var path = "/etc/favicon.png"
            if type == "windows", let p = try? caseSensitivePath(path) { path = p }
            if let png = try guestPNG(path, maxSize: nil) { return png }
        }
        switch type {
        case "linux", "hurd":
            if let png = try distroIcon(root, distro: distro, highquality: hq) { return png }
        case "windows" where !hq:
            if let icon = try windowsIcon(root) { return icon }
        default:
            break
        }
        return []
    }

    /// Logo files per distribution: (paths tried in order, size limit in bytes; nil = by geometry).
    private func distroIcon(_ root: String, distro: String, highquality: Bool) throws -> [UInt8]? {
        let candidates: ([String], Int?)
        switch distro {
        case "fedora":
            candidates = (["/usr/share/icons/hicolor/96x96/apps/fedora-logo-icon.png"], nil)
        case "rhel", "redhat-based", "centos", "circle", "rocky", "scientificlinux", "oraclelinux":
            let major = (try? inspectGetMajorVersion(root)) ?? 0
            candidates = ([major < 7 ? "/usr/share/pixmaps/redhat/shadowman-transparent.png"
                                     : "/usr/share/icons/hicolor/96x96/apps/system-logo-icon.png"], 102_400)
        case "debian":
            candidates = (["/usr/share/pixmaps/debian-logo.png"], 2048)
        case "ubuntu":
            // Only small icons exist.
            if highquality { return nil }
            candidates = (["/usr/share/icons/gnome/24x24/places/ubuntu-logo.png",
                           "/usr/share/help/C/ubuntu-help/figures/ubuntu-logo.png"], 2048)
        case "mageia":
            candidates = (["/usr/share/icons/mageia.png"], 10_240)
        case "suse-based", "opensuse", "sles":
            candidates = (["/usr/share/icons/hicolor/48x48/apps/distributor.png",
                           "/usr/share/icons/hicolor/24x24/apps/distributor.png"], 10_240)
        case "voidlinux":
            candidates = (["/usr/share/void-artwork/void-logo.png"], 20_480)
        case "altlinux":
            candidates = (["/usr/share/icons/hicolor/48x48/apps/altlinux.png"], 20_480)
        case "gentoo":
            candidates = (["/usr/share/icons/gentoo/48x48/gentoo.png"], 10_240)
        case "openmandriva":
            candidates = (["/usr/share/icons/large/mandriva.png", "/usr/share/icons/mandriva.png"], 10_240)
        default:
            return nil
        }
        for p in candidates.0 {
            if let png = try guestPNG(p, maxSize: candidates.1) { return png }
        }
        return nil
    }

    /// A guest file when it is a PNG between 16x16 and 1024x1024 pixels and
    /// not bigger than `maxSize` (default: 4 bytes per pixel); nil otherwise.
    private func guestPNG(_ path: String, maxSize: Int?) throws -> [UInt8]? {
        guard (try? isFile(path, followsymlinks: true)) == true, let real = try? realpath(path),
              let kind = try? file(real) else { return nil }
        let prefix = "PNG image data, "
        guard kind.hasPrefix(prefix) else { return nil }
        let dims = kind.dropFirst(prefix.count).split(separator: ",").first ?? ""
        let wh = dims.split(separator: "x").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard wh.count == 2, let w = wh[0], let h = wh[1], (16...1024).contains(w), (16...1024).contains(h) else { return nil }
        let limit = maxSize ?? 4 * w * h
        guard let size = try? filesize(real), size <= Int64(limit) else {
            debug("inspect_get_icon: \(real) is larger than \(limit) bytes, ignored")
            return nil
        }
        return try? readFile(real)
    }

    /// Windows: XP and 7 carry their logo as a bitmap resource of
    /// explorer.exe (extracted on the host with wrestool and netpbm);
    /// Windows 8 has a PNG of the Windows Live logo.
    private func windowsIcon(_ root: String) throws -> [UInt8]? {
        guard let systemroot = try? inspectGetWindowsSystemroot(root) else { return nil }
        let major = (try? inspectGetMajorVersion(root)) ?? 0
        let minor = (try? inspectGetMinorVersion(root)) ?? 0
        switch (major, minor) {
        case (5, 1):
            return try explorerIcon(["\(systemroot)/explorer.exe"], resource: "143", cutBottom: nil)
        case (6, 1):
            return try explorerIcon(["\(systemroot)/SysWOW64/explorer.exe", "\(systemroot)/explorer.exe"],
                                    resource: "6801", cutBottom: 54)
        case (6, 2):
            guard let p = try? caseSensitivePath("/ProgramData/Microsoft/Windows Live/WLive48x48.png"),
                  (try? isFile(p)) == true, let size = try? filesize(p), size <= 8192 else { return nil }
            return try? readFile(p)
        default:
            return nil
        }
    }

    private func explorerIcon(_ candidates: [String], resource: String, cutBottom: Int?) throws -> [UInt8]? {
        var exe: String?
        for c in candidates {
            if let p = try? caseSensitivePath(c), (try? isFile(p)) == true { exe = p; break }
        }
        guard let exe, let size = try? filesize(exe), size <= 4_000_000 else { return nil }
        guard let wrestool = findInPath("wrestool"), let bmptopnm = findInPath("bmptopnm"),
              let pnmtopng = findInPath("pnmtopng") else {
            debug("inspect_get_icon: wrestool (icoutils) and netpbm are needed for Windows icons")
            return nil
        }
        let local = try tempPath("explorer", suffix: ".exe")
        let png = try tempPath("windows-icon", suffix: ".png")
        defer { unlink(local); unlink(png) }
        guard (try? download(exe, local)) != nil else { return nil }
        var pipeline = "'\(wrestool)' -x --type=2 --name=\(resource) '\(local)' | '\(bmptopnm)'"
        if let cut = cutBottom {
            guard let pamcut = findInPath("pamcut") else { return nil }
            pipeline += " | '\(pamcut)' -bottom \(cut)"
        }
        pipeline += " | '\(pnmtopng)' > '\(png)'"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", pipeline]
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0, let data = FileManager.default.contents(atPath: png), !data.isEmpty else { return nil }
        return Array(data)
    }

    func impl_yara_scan(_ path: String) throws -> [YaraDetection] {
        let tmp = try tempPath("yara", suffix: ".xdr")
        defer { unlink(tmp) }
        try internalYaraScan(path, tmp)
        guard let data = FileManager.default.contents(atPath: tmp) else {
            throw fail(EIO, "\(path): cannot read the scan results back")
        }
        var d = XDRDecoder(Array(data))
        var out: [YaraDetection] = []
        while d.remaining > 0 {
            do { out.append(try YaraDetection(from: &d)) } catch {
                throw fail(EPROTO, "\(path): malformed detection from the daemon: \(error)")
            }
        }
        return out
    }
}

// Library-side inspection: the libosinfo-style short id and the installed
// applications, built on the daemon's inspection results and on reading the
// guest's package databases (the guest must be mounted for applications).

import Foundation
import GuestfsProtocol

extension Guestfs {
    func impl_inspect_get_osinfo(_ root: String) throws -> String {
        let type = try inspectGetType(root)
        let distro = try inspectGetDistro(root)
        let major = Int(try inspectGetMajorVersion(root))
        let minor = Int(try inspectGetMinorVersion(root))
        return OsinfoID.make(type: type, distro: distro, major: major, minor: minor,
                             productName: (try? inspectGetProductName(root)) ?? "",
                             variant: (try? inspectGetProductVariant(root)) ?? "")
    }

    func impl_inspect_list_applications(_ root: String) throws -> [Application] {
        try impl_inspect_list_applications2(root).map { a in
            Application(appName: a.app2Name, appDisplayName: a.app2DisplayName, appEpoch: a.app2Epoch,
                        appVersion: a.app2Version, appRelease: a.app2Release, appInstallPath: a.app2InstallPath,
                        appTransPath: a.app2TransPath, appPublisher: a.app2Publisher, appUrl: a.app2Url,
                        appSourcePackage: a.app2SourcePackage, appSummary: a.app2Summary,
                        appDescription: a.app2Description)
        }
    }

    func impl_inspect_list_applications2(_ root: String) throws -> [Application2] {
        let type = try inspectGetType(root)
        let format = try inspectGetPackageFormat(root)
        var apps: [Application2]
        switch (type, format) {
        case ("windows", _):
            apps = try windowsApplications(root: root, systemroot: try inspectGetWindowsSystemroot(root))
        case (_, "deb"):
            apps = PackageDatabases.dpkg(try guestText("/var/lib/dpkg/status", root: root))
        case (_, "apk"):
            apps = PackageDatabases.apk(try guestText("/lib/apk/db/installed", root: root))
        case (_, "pacman"):
            var descs: [String] = []
            for dir in try ls("/var/lib/pacman/local") where try isFile("/var/lib/pacman/local/\(dir)/desc") {
                descs.append(try guestText("/var/lib/pacman/local/\(dir)/desc", root: root))
            }
            apps = descs.compactMap(PackageDatabases.pacman)
        case (_, "rpm"):
            apps = try internalListRpmApplications()
        default:
            return []   // no package database known for this operating system
        }
        apps.sort { ($0.app2Name, $0.app2Version) < ($1.app2Name, $1.app2Version) }
        return apps
    }

    /// A guest file's text, with an error that says the guest must be mounted.
    private func guestText(_ path: String, root: String) throws -> String {
        guard try exists(path) else {
            throw fail(ENOENT, "\(path) not found: mount the filesystems of \(root) (see inspect_get_mountpoints) before listing its applications")
        }
        return String(decoding: try readFile(path), as: UTF8.self)
    }
}

/// Parsers for the text package databases of Linux distributions.
enum PackageDatabases {
    static func app(name: String, epoch: Int32 = 0, version: String = "", release: String = "", arch: String = "",
                    url: String = "", source: String = "", summary: String = "", description: String = "") -> Application2 {
        Application2(app2Name: name, app2DisplayName: "", app2Epoch: epoch, app2Version: version,
                     app2Release: release, app2Arch: arch, app2InstallPath: "", app2TransPath: "",
                     app2Publisher: "", app2Url: url, app2SourcePackage: source, app2Summary: summary,
                     app2Description: description, app2Class: "", app2Spare2: "", app2Spare3: "", app2Spare4: "")
    }

    /// dpkg's status file: one stanza per package; only installed ones count.
    static func dpkg(_ text: String) -> [Application2] {
        var out: [Application2] = []
        for stanza in text.components(separatedBy: "\n\n") {
            var fields: [String: String] = [:]
            var last: String?
            for line in stanza.split(separator: "\n", omittingEmptySubsequences: true) {
                if line.first == " " || line.first == "\t", let k = last {
                    fields[k, default: ""] += "\n" + line.dropFirst()
                } else if let colon = line.firstIndex(of: ":") {
                    let k = String(line[line.startIndex..<colon])
                    fields[k] = String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
                    last = k
                }
            }
            guard let name = fields["Package"], let status = fields["Status"],
                  status.hasSuffix(" installed") else { continue }
            let (epoch, version, release) = splitDebianVersion(fields["Version"] ?? "")
            let descLines = (fields["Description"] ?? "").split(separator: "\n", omittingEmptySubsequences: false)
            let summary = descLines.first.map(String.init) ?? ""
            let description = descLines.dropFirst().map { $0 == "." ? "" : String($0) }.joined(separator: "\n")
            var source = fields["Source"] ?? ""
            if let sp = source.firstIndex(of: " ") { source = String(source[..<sp]) }
            out.append(app(name: name, epoch: epoch, version: version, release: release,
                           arch: fields["Architecture"] ?? "", url: fields["Homepage"] ?? "",
                           source: source, summary: summary, description: description))
        }
        return out
    }

    /// "1:2.36-9+deb12u4" → (1, "2.36", "9+deb12u4").
    static func splitDebianVersion(_ v: String) -> (Int32, String, String) {
        var rest = Substring(v)
        var epoch: Int32 = 0
        if let colon = rest.firstIndex(of: ":"), let e = Int32(rest[rest.startIndex..<colon]) {
            epoch = e
            rest = rest[rest.index(after: colon)...]
        }
        if let dash = rest.lastIndex(of: "-") {
            return (epoch, String(rest[rest.startIndex..<dash]), String(rest[rest.index(after: dash)...]))
        }
        return (epoch, String(rest), "")
    }

    /// apk's installed database: "X:value" lines, blank line between packages.
    static func apk(_ text: String) -> [Application2] {
        var out: [Application2] = []
        for stanza in text.components(separatedBy: "\n\n") {
            var f: [Character: String] = [:]
            for line in stanza.split(separator: "\n") where line.count >= 2 && line[line.index(after: line.startIndex)] == ":" {
                f[line.first!] = String(line.dropFirst(2))
            }
            guard let name = f["P"] else { continue }
            var version = f["V"] ?? ""
            var release = ""
            if let r = version.range(of: "-r", options: .backwards) {
                release = String(version[version.index(after: r.lowerBound)...])
                version = String(version[..<r.lowerBound])
            }
            out.append(app(name: name, version: version, release: release, arch: f["A"] ?? "",
                           url: f["U"] ?? "", source: f["o"] ?? "", summary: f["T"] ?? ""))
        }
        return out
    }

    /// One pacman `desc` file: "%KEY%" lines followed by values.
    static func pacman(_ text: String) -> Application2? {
        var f: [String: String] = [:]
        var key: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("%") && line.hasSuffix("%") && line.count > 2 {
                key = String(line.dropFirst().dropLast())
            } else if let k = key, !line.isEmpty, f[k] == nil {
                f[k] = String(line)
            }
        }
        guard let name = f["NAME"] else { return nil }
        let (epoch, version, release) = splitDebianVersion(f["VERSION"] ?? "")
        return app(name: name, epoch: epoch, version: version, release: release, arch: f["ARCH"] ?? "",
                   url: f["URL"] ?? "", source: f["BASE"] ?? "", summary: f["DESC"] ?? "")
    }
}

/// libosinfo short ids ("debian12", "fedora39", "rhel9.2", "win10") from
/// what inspection found.
enum OsinfoID {
    static func make(type: String, distro: String, major: Int, minor: Int, productName: String, variant: String) -> String {
        switch distro {
        case "debian":
            return major >= 7 ? "debian\(major)" : major > 0 ? "debian\(major).\(minor)" : "debiantesting"
        case "ubuntu": return major > 0 ? "ubuntu\(major).\(String(format: "%02d", minor))" : "unknown"
        case "fedora", "mageia": return major > 0 ? "\(distro)\(major)" : "unknown"
        case "rhel", "centos", "rocky", "alma", "oraclelinux", "scientificlinux":
            let prefix = ["rhel": "rhel", "centos": "centos", "rocky": "rocky", "alma": "almalinux",
                          "oraclelinux": "ol", "scientificlinux": "sl"][distro]!
            if distro == "centos" && major >= 8 { return productName.contains("Stream") ? "centos-stream\(major)" : "centos\(major)" }
            return major > 0 ? "\(prefix)\(major).\(minor)" : "unknown"
        case "opensuse":
            if productName.lowercased().contains("tumbleweed") { return "opensusetumbleweed" }
            return major > 0 ? "opensuse\(major).\(minor)" : "unknown"
        case "sles": return major > 0 ? (minor > 0 ? "sles\(major)sp\(minor)" : "sles\(major)") : "unknown"
        case "alpinelinux": return major > 0 ? "alpinelinux\(major).\(minor)" : "unknown"
        case "archlinux", "gentoo", "voidlinux": return distro
        case "freebsd", "netbsd", "openbsd": return major > 0 ? "\(distro)\(major).\(minor)" : "unknown"
        case "windows": return windows(major: major, minor: minor, productName: productName, variant: variant)
        default: return "unknown"
        }
    }

    static func windows(major: Int, minor: Int, productName: String, variant: String) -> String {
        let server = variant == "Server" || productName.contains("Server")
        switch (major, minor) {
        case (5, 1): return "winxp"
        case (5, 2): return server ? "win2k3" : "winxp"
        case (6, 0): return server ? "win2k8" : "winvista"
        case (6, 1): return server ? "win2k8r2" : "win7"
        case (6, 2): return server ? "win2k12" : "win8"
        case (6, 3): return server ? "win2k12r2" : "win8.1"
        case (10, 0):
            if server {
                if productName.contains("2022") { return "win2k22" }
                if productName.contains("2019") { return "win2k19" }
                if productName.contains("2025") { return "win2k25" }
                return "win2k16"
            }
            return productName.contains("Windows 11") ? "win11" : "win10"
        default: return "unknown"
        }
    }
}

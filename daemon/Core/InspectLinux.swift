// Recognising Linux, the BSDs and Hurd from the files of a mounted root:
// os-release and the older per-distribution release files, the host name,
// the architecture of its binaries and the package tools its distribution uses.

import Glibc

extension Handlers {
    func probeUnixLike(_ ctx: CallContext, root: String) throws -> InspectedOS? {
        guard guestIsDir(ctx, "/etc") else { return nil }
        var os = InspectedOS(root: root)
        if guestIsDir(ctx, "/hurd") && guestExists(ctx, "/hurd/console") {
            os.type = "hurd"
            if let v = guestFileText(ctx, "/etc/debian_version") {
                os.distro = "debian"
                Handlers.setVersion(&os, v.trimmed())
            }
        } else if let version = freeBSDVersion(ctx) {
            os.type = "freebsd"
            os.distro = "freebsd"
            os.productName = "FreeBSD \(version)"
            Handlers.setVersion(&os, version)
            os.packageFormat = "pkg"
            os.packageManagement = "pkg"
        } else if guestExists(ctx, "/netbsd"), let rel = guestFileText(ctx, "/etc/release"),
                  let first = rel.lines.first, first.hasPrefix("NetBSD") {
            os.type = "netbsd"
            os.distro = "netbsd"
            os.productName = first.trimmed()
            Handlers.setVersion(&os, Handlers.word(after: "NetBSD", in: first) ?? "")
        } else if guestExists(ctx, "/bsd"), let motd = guestFileText(ctx, "/etc/motd"),
                  let v = Handlers.word(after: "OpenBSD", in: motd) {
            os.type = "openbsd"
            os.distro = "openbsd"
            os.productName = "OpenBSD \(v)"
            Handlers.setVersion(&os, v)
        } else if !probeLinux(ctx, &os) {
            return nil
        }
        os.arch = binaryArch(ctx)
        os.hostname = guestHostname(ctx) ?? "unknown"
        if os.type == "linux" {
            Handlers.setPackaging(&os)
            // Red Hat-style systems: the tool actually installed decides.
            if os.packageFormat == "rpm" && ["dnf", "yum"].contains(os.packageManagement) {
                os.packageManagement = guestExists(ctx, "/usr/bin/dnf") || guestExists(ctx, "/usr/bin/dnf5") ? "dnf" : "yum"
            }
        }
        return os
    }

    // MARK: Linux

    /// Fills type, distro, product name and version; false when this is not
    /// a Linux root (no release file and no sign of a Unix tree).
    func probeLinux(_ ctx: CallContext, _ os: inout InspectedOS) -> Bool {
        let osRelease = guestFileText(ctx, "/etc/os-release") ?? guestFileText(ctx, "/usr/lib/os-release")
        if let text = osRelease {
            let kv = Handlers.shellVariables(text)
            os.type = "linux"
            os.distro = Handlers.distroName(id: kv["ID"] ?? "", idLike: kv["ID_LIKE"] ?? "")
            os.productName = kv["PRETTY_NAME"] ?? kv["NAME"].map { n in kv["VERSION"].map { "\(n) \($0)" } ?? n } ?? "unknown"
            if let v = kv["VERSION_ID"] { Handlers.setVersion(&os, v) }
            if let b = kv["BUILD_ID"], !b.isEmpty { os.buildID = b }
            // Debian's os-release says only "12"; the point release is in debian_version.
            if os.distro == "debian", let dv = guestFileText(ctx, "/etc/debian_version")?.trimmed(),
               let major = dv.split(separator: ".").first.flatMap({ Int32($0) }), major == os.majorVersion {
                Handlers.setVersion(&os, dv)
            }
            return true
        }
        // Older systems without os-release.
        if let rel = guestFileText(ctx, "/etc/redhat-release") ?? guestFileText(ctx, "/etc/fedora-release") {
            let line = rel.lines.first?.trimmed() ?? ""
            os.type = "linux"
            os.productName = line
            let lower = line.lowercased()
            os.distro = lower.hasPrefix("fedora") ? "fedora"
                : lower.hasPrefix("centos") ? "centos"
                : lower.hasPrefix("red hat enterprise linux") ? "rhel"
                : lower.hasPrefix("scientific linux") ? "scientificlinux"
                : lower.hasPrefix("oracle linux") ? "oraclelinux"
                : "redhat-based"
            Handlers.setVersion(&os, Handlers.word(after: "release", in: line) ?? "")
            return true
        }
        if let lsb = guestFileText(ctx, "/etc/lsb-release"), let id = Handlers.shellVariables(lsb)["DISTRIB_ID"] {
            let kv = Handlers.shellVariables(lsb)
            os.type = "linux"
            os.distro = Handlers.distroName(id: id.lowercased(), idLike: "")
            os.productName = kv["DISTRIB_DESCRIPTION"] ?? id
            Handlers.setVersion(&os, kv["DISTRIB_RELEASE"] ?? "")
            return true
        }
        if let dv = guestFileText(ctx, "/etc/debian_version") {
            os.type = "linux"
            os.distro = "debian"
            os.productName = "Debian GNU/Linux \(dv.trimmed())"
            Handlers.setVersion(&os, dv.trimmed())
            return true
        }
        if let av = guestFileText(ctx, "/etc/alpine-release") {
            os.type = "linux"
            os.distro = "alpinelinux"
            os.productName = "Alpine Linux \(av.trimmed())"
            Handlers.setVersion(&os, av.trimmed())
            return true
        }
        if guestExists(ctx, "/etc/arch-release") {
            os.type = "linux"
            os.distro = "archlinux"
            os.productName = "Arch Linux"
            return true
        }
        if let g = guestFileText(ctx, "/etc/gentoo-release") {
            os.type = "linux"
            os.distro = "gentoo"
            os.productName = g.trimmed()
            return true
        }
        // A Linux tree with no release file at all.
        if guestExists(ctx, "/etc/fstab") && (guestIsDir(ctx, "/bin") || guestIsDir(ctx, "/usr/bin"))
            && (guestIsDir(ctx, "/lib") || guestIsDir(ctx, "/usr/lib")) && !guestExists(ctx, "/etc/freebsd-update.conf") {
            os.type = "linux"
            return true
        }
        return false
    }

    /// os-release IDs (and older names) → the distro names inspection reports.
    static func distroName(id: String, idLike: String) -> String {
        let table: [String: String] = [
            "debian": "debian", "ubuntu": "ubuntu", "linuxmint": "linuxmint", "kali": "kalilinux",
            "fedora": "fedora", "rhel": "rhel", "centos": "centos", "rocky": "rocky", "almalinux": "alma",
            "ol": "oraclelinux", "scientific": "scientificlinux", "circle": "circle",
            "opensuse": "opensuse", "opensuse-leap": "opensuse", "opensuse-tumbleweed": "opensuse",
            "opensuse-microos": "opensuse", "sles": "sles", "sled": "sles", "sles_sap": "sles",
            "arch": "archlinux", "archlinux": "archlinux", "alpine": "alpinelinux", "gentoo": "gentoo",
            "void": "voidlinux", "mageia": "mageia", "altlinux": "altlinux", "openmandriva": "openmandriva",
            "frugalware": "frugalware", "slackware": "slackware", "cirros": "cirros", "pld": "pldlinux",
            "kylin": "kylin", "neokylin": "neokylin", "buildroot": "buildroot", "coreos": "coreos",
            "rhcos": "coreos", "clear-linux-os": "clearlinux", "nixos": "nixos", "photon": "photon",
            "amzn": "amazonlinux", "openeuler": "openeuler", "pop": "ubuntu", "elementary": "ubuntu",
        ]
        if let d = table[id] { return d }
        let like = idLike.split(separator: " ").map(String.init)
        if like.contains("rhel") || like.contains("fedora") { return "redhat-based" }
        if like.contains("suse") { return "suse-based" }
        if like.contains("debian") || like.contains("ubuntu") { return "debian" }
        return id.isEmpty ? "unknown" : id
    }

    /// Package format and tool from the distribution (and its version).
    static func setPackaging(_ os: inout InspectedOS) {
        let v = os.majorVersion
        let (format, tool): (String, String)
        switch os.distro {
        case "debian", "ubuntu", "linuxmint", "kalilinux": (format, tool) = ("deb", "apt")
        case "fedora": (format, tool) = ("rpm", v >= 22 || v == 0 ? "dnf" : "yum")
        case "rhel", "centos", "scientificlinux", "oraclelinux", "redhat-based":
            (format, tool) = ("rpm", v >= 8 ? "dnf" : v >= 5 ? "yum" : v > 0 ? "up2date" : "unknown")
        case "rocky", "alma", "circle", "amazonlinux", "openeuler": (format, tool) = ("rpm", "dnf")
        case "opensuse", "sles", "suse-based": (format, tool) = ("rpm", "zypper")
        case "mageia", "openmandriva": (format, tool) = ("rpm", v >= 6 ? "dnf" : "urpmi")
        case "altlinux": (format, tool) = ("rpm", "apt")
        case "archlinux": (format, tool) = ("pacman", "pacman")
        case "alpinelinux": (format, tool) = ("apk", "apk")
        case "gentoo": (format, tool) = ("ebuild", "portage")
        case "voidlinux": (format, tool) = ("xbps", "xbps")
        case "pldlinux": (format, tool) = ("rpm", "poldek")
        default: return
        }
        os.packageFormat = format
        os.packageManagement = tool
    }

    /// "12.4" → 12 and 4; "22.04" → 22 and 4; "3.18.4" → 3 and 18.
    static func setVersion(_ os: inout InspectedOS, _ text: String) {
        let digits = text.split(whereSeparator: { !$0.isNumber && $0 != "." }).first.map(String.init) ?? ""
        let parts = digits.split(separator: ".")
        guard let major = parts.first.flatMap({ Int32($0) }) else { return }
        os.majorVersion = major
        os.minorVersion = parts.count > 1 ? Int32(parts[1]) ?? 0 : 0
    }

    /// The word following `key` in `text` ("release 7.9 (Maipo)" → "7.9").
    static func word(after key: String, in text: String) -> String? {
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" })
        guard let i = words.firstIndex(where: { $0 == key }), i + 1 < words.count else { return nil }
        return String(words[i + 1])
    }

    /// KEY=value lines of os-release style files, quotes and escapes removed.
    static func shellVariables(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for raw in text.lines {
            let line = raw.trimmed()
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let eq = line.firstIndex(of: "=") else { continue }
            let key = String(line[line.startIndex..<eq])
            var value = Substring(line[line.index(after: eq)...])
            if let q = value.first, q == "\"" || q == "'", value.count >= 2, value.last == q {
                value = value.dropFirst().dropLast()
            }
            var unescaped = ""
            var escape = false
            for c in value {
                if escape { unescaped.append(c); escape = false } else if c == "\\" { escape = true } else { unescaped.append(c) }
            }
            out[key] = unescaped
        }
        return out
    }

    // MARK: BSD

    /// FreeBSD's userland version from /bin/freebsd-version ("13.2-RELEASE").
    func freeBSDVersion(_ ctx: CallContext) -> String? {
        guard let text = guestFileText(ctx, "/bin/freebsd-version") else { return nil }
        return Handlers.shellVariables(text)["USERLAND_VERSION"]
    }

    // MARK: host name

    func guestHostname(_ ctx: CallContext) -> String? {
        func firstLine(_ path: String) -> String? {
            guard let t = guestFileText(ctx, path) else { return nil }
            let l = t.lines.map { $0.trimmed() }.first { !$0.isEmpty && !$0.hasPrefix("#") }
            return l
        }
        if let h = firstLine("/etc/hostname") ?? firstLine("/etc/HOSTNAME") { return h }
        for path in ["/etc/sysconfig/network", "/etc/rc.conf"] {
            if let t = guestFileText(ctx, path) {
                let kv = Handlers.shellVariables(t)
                if let h = kv["HOSTNAME"] ?? kv["hostname"], !h.isEmpty { return h }
            }
        }
        if let h = firstLine("/etc/myname") { return h }   // OpenBSD
        return nil
    }

    // MARK: architecture

    /// The architecture of the first ELF binary found among the usual ones.
    func binaryArch(_ ctx: CallContext) -> String {
        let candidates = ["/bin/bash", "/bin/ls", "/bin/sh", "/bin/echo", "/bin/rm", "/usr/bin/bash", "/usr/bin/ls",
                          "/bin/busybox", "/usr/bin/env", "/bin/cat", "/usr/bin/cat", "/bin/true", "/usr/bin/true",
                          "/sbin/init", "/usr/lib/systemd/systemd"]
        for path in candidates {
            guard let fd = try? ctx.sysroot.open(path, O_RDONLY, op: "inspect") else { continue }
            var header = [UInt8](repeating: 0, count: 64)
            let n = header.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, 64) }
            close(fd)
            if n >= 20, let arch = Handlers.elfArch(Array(header[0..<n])) { return arch }
        }
        return "unknown"
    }

    /// Architecture name from an ELF header, nil when it is not ELF.
    static func elfArch(_ h: [UInt8]) -> String? {
        guard h.count >= 20, h[0] == 0x7f, h[1] == 0x45, h[2] == 0x4c, h[3] == 0x46 else { return nil }
        let is64 = h[4] == 2
        let little = h[5] == 1
        let machine = little ? UInt16(h[18]) | UInt16(h[19]) << 8 : UInt16(h[18]) << 8 | UInt16(h[19])
        switch machine {
        case 3: return "i386"
        case 62: return "x86_64"
        case 183: return "aarch64"
        case 40: return "arm"
        case 20: return "ppc"
        case 21: return little ? "ppc64le" : "ppc64"
        case 22: return is64 ? "s390x" : "s390"
        case 243: return is64 ? "riscv64" : "riscv32"
        case 8: return is64 ? (little ? "mips64el" : "mips64") : (little ? "mipsel" : "mips")
        case 2: return "sparc"
        case 43: return "sparc64"
        case 50: return "ia64"
        case 258: return "loongarch64"
        default: return nil
        }
    }
}

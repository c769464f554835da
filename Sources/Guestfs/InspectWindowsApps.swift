// Installed Windows applications, for inspect_list_applications2: the
// entries of the Uninstall keys of the SOFTWARE hive (the native view and
// the WOW6432Node view of 32-bit programs on 64-bit Windows), read through
// the public hivex_* actions. The guest's filesystems must be mounted, as
// for every inspect_list_applications* call.

import Glibc
import GuestfsProtocol

extension Guestfs {
    /// Every application registered for uninstallation in the SOFTWARE
    /// hive of the Windows root `root` whose system root is `systemroot`
    /// ("/Windows"). Keys without a DisplayName (updates, components) are
    /// left out; the key name stands for the package name.
    func windowsApplications(root: String, systemroot: String) throws -> [Application2] {
        let hivePath = try windowsSoftwareHivePath(root: root, systemroot: systemroot)
        try hivexOpen(hivePath, unsafe: true)
        defer { try? hivexClose() }

        var apps: [Application2] = []
        let views = [["Microsoft", "Windows", "CurrentVersion", "Uninstall"],
                     ["WOW6432Node", "Microsoft", "Windows", "CurrentVersion", "Uninstall"]]
        for path in views {
            guard let uninstall = try hivexPath(path) else { continue }
            for child in try hivexNodeChildren(uninstall) {
                let node = child.hivexNodeH
                guard let name = try? hivexNodeName(node),
                      let displayName = hivexString(node, "DisplayName") else { continue }
                let publisher = hivexString(node, "Publisher") ?? ""
                apps.append(Application2(
                    app2Name: name, app2DisplayName: displayName, app2Epoch: 0,
                    app2Version: hivexString(node, "DisplayVersion") ?? "", app2Release: "", app2Arch: "",
                    app2InstallPath: hivexString(node, "InstallLocation") ?? "", app2TransPath: "",
                    app2Publisher: publisher, app2Url: hivexString(node, "URLInfoAbout") ?? "",
                    app2SourcePackage: "", app2Summary: "", app2Description: hivexString(node, "Comments") ?? "",
                    app2Class: Guestfs.windowsAppClass([name, displayName, publisher]),
                    app2Spare2: "", app2Spare3: "", app2Spare4: ""))
            }
        }

        // Microsoft Defender has no Uninstall entry; its own key shows it
        // is there, unless its antivirus is switched off.
        if let defender = try hivexPath(["Microsoft", "Windows Defender"]) {
            var disabled = false
            if let v = try? hivexNodeGetValue(defender, "DisableAntiVirus"), v != 0,
               let bytes = try? hivexValueValue(v), bytes.count >= 4 {
                disabled = bytes[0] == 1 && bytes[1] == 0 && bytes[2] == 0 && bytes[3] == 0
            }
            if !disabled {
                apps.append(Application2(
                    app2Name: "WinDefend", app2DisplayName: "Microsoft Defender Antivirus", app2Epoch: 0,
                    app2Version: "", app2Release: "", app2Arch: "", app2InstallPath: "", app2TransPath: "",
                    app2Publisher: "Microsoft Corporation", app2Url: "", app2SourcePackage: "", app2Summary: "",
                    app2Description: "", app2Class: "antivirus", app2Spare2: "", app2Spare3: "", app2Spare4: ""))
            }
        }
        return apps
    }

    /// The SOFTWARE hive of `root`: what inspection recorded, else the usual
    /// spellings under `systemroot`.
    private func windowsSoftwareHivePath(root: String, systemroot: String) throws -> String {
        if let p = try? inspectGetWindowsSoftwareHive(root) { return p }
        for candidate in ["\(systemroot)/System32/config/SOFTWARE", "\(systemroot)/system32/config/software",
                          "\(systemroot)/SYSTEM32/CONFIG/SOFTWARE"] where (try? isFile(candidate)) == true {
            return candidate
        }
        throw fail(ENOENT, "\(root): no SOFTWARE registry hive under \(systemroot)/System32/config")
    }

    /// Follows key names from the root of the open hive; nil when one is missing.
    private func hivexPath(_ names: [String]) throws -> Int64? {
        var node = try hivexRoot()
        for name in names {
            node = try hivexNodeGetChild(node, name)
            if node == 0 { return nil }
        }
        return node
    }

    /// A string value of `node`, nil when it is missing or not a string.
    private func hivexString(_ node: Int64, _ key: String) -> String? {
        guard let v = try? hivexNodeGetValue(node, key), v != 0 else { return nil }
        return try? hivexValueString(v)
    }

    /// "antivirus" for security products (recognised by name, display name
    /// or publisher), "" otherwise.
    static func windowsAppClass(_ fields: [String]) -> String {
        let markers = ["virus", "kaspersky", "mcafee", "norton", "sophos", "trend micro", "avg technologies"]
        for f in fields {
            let lower = f.lowercased()
            if markers.contains(where: { lower.contains($0) }) { return "antivirus" }
        }
        return ""
    }
}

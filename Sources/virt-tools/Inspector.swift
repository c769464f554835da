// virt-inspector: what inspection finds on a disk image, as XML.

import Guestfs
import GuestfsProtocol

final class VirtInspector: VirtTool {
    static let name = "virt-inspector"
    static let summary = "display information about a virtual machine as XML"
    static let usage = """
        virt-inspector [--options] -d domname
        virt-inspector [--options] -a disk.img [-a disk.img ...]
        """

    var applications = true
    var mountsGuest: Bool { false }

    required init() {}

    func options(_ common: CommonOptions) -> [ToolOption] {
        [
            ToolOption(long: ["no-applications"], short: [], takesValue: false, help: "--no-applications   Do not list the installed applications") { _ in self.applications = false },
            ToolOption(long: ["no-icon"], short: [], takesValue: false, help: "--no-icon           Do not include the guest's icon") { _ in },
        ]
    }

    func run(_ common: CommonOptions, _ operands: [String]) throws -> Int32 {
        if let extra = operands.first {
            throw UsageError(description: "extra argument '\(extra)' on the command line")
        }
        let g = try openGuest(common, tool: Self.name, readOnly: true)
        defer { g.close() }
        let roots = try g.inspectOs()
        if roots.isEmpty {
            throw ToolError("no operating system could be detected inside this disk image.\n\nThis may be because the file is not a disk image, or is not a virtual machine\nimage, or because the OS type is not understood by libguestfs.")
        }
        var x = XMLWriter()
        x.start("operatingsystems")
        for root in roots { try output(g, root, &x) }
        x.end()
        ToolIO.out(x.text)
        return 0
    }

    func output(_ g: Guestfs, _ root: String, _ x: inout XMLWriter) throws {
        x.start("operatingsystem")
        x.element("root", try g.canonicalDeviceName(root))
        func known(_ tag: String, _ v: String) { if v != "unknown" { x.element(tag, v) } }
        known("name", try g.inspectGetType(root))
        known("arch", try g.inspectGetArch(root))
        known("distro", try g.inspectGetDistro(root))
        known("product_name", try g.inspectGetProductName(root))
        known("product_variant", try g.inspectGetProductVariant(root))
        x.element("major_version", String(try g.inspectGetMajorVersion(root)))
        x.element("minor_version", String(try g.inspectGetMinorVersion(root)))
        known("package_format", try g.inspectGetPackageFormat(root))
        known("package_management", try g.inspectGetPackageManagement(root))
        if let s = try? g.inspectGetWindowsSystemroot(root) { x.element("windows_systemroot", s) }
        if let s = try? g.inspectGetWindowsCurrentControlSet(root) { x.element("windows_current_control_set", s) }
        known("hostname", try g.inspectGetHostname(root))
        known("osinfo", try g.inspectGetOsinfo(root))

        let mps = try g.inspectGetMountpointsPairs(root).sorted { ($0.key.utf8.count, $0.key) < ($1.key.utf8.count, $1.key) }
        x.start("mountpoints")
        for (mp, dev) in mps { x.element("mountpoint", mp, attributes: [("dev", try g.canonicalDeviceName(dev))]) }
        x.end()

        x.start("filesystems")
        for fs in try g.inspectGetFilesystems(root).sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) {
            x.start("filesystem", attributes: [("dev", try g.canonicalDeviceName(fs))])
            for (tag, v) in [("type", try? g.vfsType(fs)), ("label", try? g.vfsLabel(fs)), ("uuid", try? g.vfsUuid(fs))] {
                if let v, !v.isEmpty { x.element(tag, v) }
            }
            x.end()
        }
        x.end()

        if let maps = try? g.inspectGetDriveMappingsPairs(root), !maps.isEmpty {
            x.start("drive_mappings")
            for (letter, dev) in maps.sorted(by: { $0.key.lowercased() < $1.key.lowercased() }) {
                x.element("drive_mapping", try g.canonicalDeviceName(dev), attributes: [("name", letter)])
            }
            x.end()
        }

        if applications {
            try mountInspected(g, root, readOnly: true)
            x.start("applications")
            for a in try g.inspectListApplications2(root) {
                x.start("application")
                x.element("name", a.app2Name)
                if !a.app2DisplayName.isEmpty { x.element("display_name", a.app2DisplayName) }
                if a.app2Epoch != 0 { x.element("epoch", String(a.app2Epoch)) }
                for (tag, v) in [("version", a.app2Version), ("release", a.app2Release), ("arch", a.app2Arch),
                                 ("install_path", a.app2InstallPath), ("publisher", a.app2Publisher), ("url", a.app2Url),
                                 ("source_package", a.app2SourcePackage), ("summary", a.app2Summary),
                                 ("description", a.app2Description)] where !v.isEmpty {
                    x.element(tag, v)
                }
                x.end()
            }
            x.end()
            try g.umountAll()
        }
        x.end()
    }
}

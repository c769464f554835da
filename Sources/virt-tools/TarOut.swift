// virt-tar-out and virt-tar-in: a guest directory to or from a tarball
// ("-" is stdout or stdin).

import Guestfs

final class VirtTarOut: VirtTool {
    static let name = "virt-tar-out"
    static let summary = "archive files out of a virtual machine"
    static let usage = """
        virt-tar-out -a disk.img /dir files.tar
        virt-tar-out -d domname /dir - | gzip --best > files.tar.gz
        """
    required init() {}
    func options(_ common: CommonOptions) -> [ToolOption] { [] }

    func run(_ common: CommonOptions, _ operands: [String]) throws -> Int32 {
        guard operands.count == 2 else { throw UsageError(description: "expected a guest directory and a tarball (or -)") }
        let g = try openGuest(common, tool: Self.name, readOnly: true)
        defer { g.close() }
        let root = try mountGuest(g, common, tool: Self.name, readOnly: true)
        let dir = try guestPath(g, root: root, operands[0])
        let out = operands[1] == "-" ? "/dev/stdout" : operands[1]
        fflushStdout()
        try g.tarOut(dir, out)
        return 0
    }
}

final class VirtTarIn: VirtTool {
    static let name = "virt-tar-in"
    static let summary = "unpack a tarball into a virtual machine disk image"
    static let usage = """
        virt-tar-in -a disk.img data.tar /destination
        virt-tar-in -d domname data.tar /destination
        zcat data.tar.gz | virt-tar-in -d domname - /destination
        """
    var readOnly: Bool { false }
    required init() {}
    func options(_ common: CommonOptions) -> [ToolOption] { [] }

    func run(_ common: CommonOptions, _ operands: [String]) throws -> Int32 {
        guard operands.count == 2 else { throw UsageError(description: "expected a tarball (or -) and a guest directory") }
        let g = try openGuest(common, tool: Self.name, readOnly: false)
        defer { g.close() }
        let root = try mountGuest(g, common, tool: Self.name, readOnly: false)
        let dir = try guestPath(g, root: root, operands[1])
        try g.tarIn(operands[0] == "-" ? "/dev/stdin" : operands[0], dir)
        try g.shutdown()
        return 0
    }
}

// virt-cat: print files from a guest's filesystems.

import Guestfs

struct VirtCat: VirtTool {
    static let name = "virt-cat"
    static let summary = "print files from a virtual machine's disk image"
    static let usage = """
        virt-cat [--options] -d domname file [file ...]
        virt-cat [--options] -a disk.img [-a disk.img ...] file [file ...]
        """

    func options(_ common: CommonOptions) -> [ToolOption] { [] }

    func run(_ common: CommonOptions, _ operands: [String]) throws -> Int32 {
        guard !operands.isEmpty else { throw UsageError(description: "missing filename(s) to display") }
        let g = try openGuest(common, tool: Self.name, readOnly: true)
        defer { g.close() }
        let root = try mountGuest(g, common, tool: Self.name, readOnly: true)
        for file in operands {
            let path = try guestPath(g, root: root, file)
            fflushStdout()
            try g.download(path, "/dev/stdout")
        }
        return 0
    }
}

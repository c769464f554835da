// virt-copy-in and virt-copy-out: files and directory trees into or out of
// a guest, as guestfish's copy-in / copy-out do (libguestfs's tools are
// those guestfish commands behind -i).

import Foundation
import Guestfs

final class VirtCopyIn: VirtTool {
    static let name = "virt-copy-in"
    static let summary = "copy files and directories into a virtual machine disk image"
    static let usage = """
        virt-copy-in -a disk.img file|dir [file|dir ...] /destination
        virt-copy-in -d domain file|dir [file|dir ...] /destination
        """
    var readOnly: Bool { false }
    required init() {}
    func options(_ common: CommonOptions) -> [ToolOption] { [] }

    func run(_ common: CommonOptions, _ operands: [String]) throws -> Int32 {
        guard operands.count >= 2 else {
            throw UsageError(description: "expected one or more local files or directories and a guest directory")
        }
        let locals = operands.dropLast()
        // Check the local side before booting the appliance.
        for l in locals where !FileManager.default.fileExists(atPath: l) {
            throw ToolError("\(l): No such file or directory")
        }
        let g = try openGuest(common, tool: Self.name, readOnly: false)
        defer { g.close() }
        let root = try mountGuest(g, common, tool: Self.name, readOnly: false)
        let dest = try guestPath(g, root: root, operands[operands.count - 1])
        guard try g.isDir(dest, followsymlinks: true) else {
            throw ToolError("\(dest): not a directory in the guest (the destination must exist)")
        }
        for l in locals { try g.copyIn(l, dest) }
        try g.shutdown()
        return 0
    }
}

final class VirtCopyOut: VirtTool {
    static let name = "virt-copy-out"
    static let summary = "copy files and directories out of a virtual machine disk image"
    static let usage = """
        virt-copy-out -a disk.img /file|dir [/file|dir ...] localdir
        virt-copy-out -d domain /file|dir [/file|dir ...] localdir
        """
    required init() {}
    func options(_ common: CommonOptions) -> [ToolOption] { [] }

    func run(_ common: CommonOptions, _ operands: [String]) throws -> Int32 {
        guard operands.count >= 2 else {
            throw UsageError(description: "expected one or more guest files or directories and a local directory")
        }
        let localDir = operands[operands.count - 1]
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: localDir, isDirectory: &isDir), isDir.boolValue else {
            throw ToolError("\(localDir): not a local directory (the destination must exist)")
        }
        let g = try openGuest(common, tool: Self.name, readOnly: true)
        defer { g.close() }
        let root = try mountGuest(g, common, tool: Self.name, readOnly: true)
        for remote in operands.dropLast() {
            try g.copyOut(try guestPath(g, root: root, remote), localDir)
        }
        return 0
    }
}

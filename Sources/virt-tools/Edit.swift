// virt-edit: edit a file in a guest with $EDITOR, or non-interactively
// with a Perl expression applied to each line (-e), as libguestfs's does.

import Foundation
import Guestfs

final class VirtEdit: VirtTool {
    static let name = "virt-edit"
    static let summary = "edit a file in a virtual machine"
    static let usage = """
        virt-edit [--options] -d domname file [file ...]
        virt-edit [--options] -a disk.img [-a disk.img ...] file [file ...]
        virt-edit [-d domname|-a disk.img] file -e 'expr'
        """
    var readOnly: Bool { false }
    var backupExtension: String?
    var expression: String?
    required init() {}

    func options(_ common: CommonOptions) -> [ToolOption] {
        [
            ToolOption(long: ["backup"], short: ["b"], takesValue: true,
                       help: "-b|--backup .ext    Keep the original as file.ext") { self.backupExtension = $0 },
            ToolOption(long: ["edit", "expr"], short: ["e"], takesValue: true,
                       help: "-e|--edit|--expr expr Non-interactive editing with a Perl expression") { self.expression = $0 },
        ]
    }

    func run(_ common: CommonOptions, _ operands: [String]) throws -> Int32 {
        guard !operands.isEmpty else { throw UsageError(description: "no file name given to edit") }
        if let ext = backupExtension, ext.isEmpty || ext.contains("/") {
            throw UsageError(description: "--backup: the extension '\(ext)' must not be empty or contain '/'")
        }
        let g = try openGuest(common, tool: Self.name, readOnly: false)
        defer { g.close() }
        let root = try mountGuest(g, common, tool: Self.name, readOnly: false)
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("virt-edit.\(getpid())")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tmp) }
        for file in operands {
            try edit(g, try guestPath(g, root: root, file), in: tmp.path)
        }
        try g.shutdown()
        return 0
    }

    /// Download, change, and (only if it changed) put back in place
    /// atomically: the new contents go to a temporary name next to the file,
    /// take over its owner, mode, xattrs and SELinux label, then replace it.
    private func edit(_ g: Guestfs, _ path: String, in dir: String) throws {
        guard try g.isFile(path, followsymlinks: true) else {
            throw ToolError("\(path): not a regular file in the guest (or it does not exist)")
        }
        let local = dir + "/" + ((path as NSString).lastPathComponent)
        try g.download(path, local)
        let before = try Data(contentsOf: URL(fileURLWithPath: local))
        if let expression {
            try applyPerl(expression, to: local)
        } else {
            try runEditor(on: local)
        }
        let after = try Data(contentsOf: URL(fileURLWithPath: local))
        if after == before { return }

        let parent = (path as NSString).deletingLastPathComponent
        let temp = (parent.isEmpty ? "/" : parent) + "/.virt-edit-\(UInt32.random(in: 0...UInt32.max))"
        try g.upload(local, temp)
        try g.copyAttributes(path, temp, all: true)
        if let ext = backupExtension { try g.mv(path, path + ext) }
        try g.mv(temp, path)
    }

    private func runEditor(on file: String) throws {
        let editor = ProcessInfo.processInfo.environment["EDITOR"].flatMap { $0.isEmpty ? nil : $0 } ?? "vi"
        // $EDITOR may carry arguments ("emacs -nw"), as the shell would split them.
        let status = try runProcess(["/bin/sh", "-c", "\(editor) \"$1\"", "sh", file])
        if status != 0 { throw ToolError("the editor '\(editor)' exited with status \(status); the file was not changed") }
    }

    /// Each line through the expression in $_ ($lineno counts from 1);
    /// what is left in $_ is written out.
    private func applyPerl(_ expr: String, to file: String) throws {
        let script = """
            $lineno = 0;
            while (<STDIN>) { $lineno++; \(expr); print STDOUT $_ or die "print: $!"; }
            close STDOUT or die "close: $!";
            """
        let out = file + ".out"
        let status = try runProcess(["perl", "-e", script], stdin: file, stdout: out)
        if status != 0 { throw ToolError("perl failed on the expression (status \(status)); the file was not changed") }
        if rename(out, file) != 0 { throw ToolError("\(file): \(String(cString: strerror(errno)))") }
    }

    private func runProcess(_ argv: [String], stdin: String? = nil, stdout: String? = nil) throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: argv[0].hasPrefix("/") ? argv[0] : "/usr/bin/env")
        p.arguments = argv[0].hasPrefix("/") ? Array(argv.dropFirst()) : argv
        if let stdin { p.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: stdin)) }
        if let stdout {
            _ = FileManager.default.createFile(atPath: stdout, contents: nil)
            p.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: stdout))
        }
        do { try p.run() } catch { throw ToolError("cannot run \(argv[0]): \(error.localizedDescription)") }
        p.waitUntilExit()
        return p.terminationStatus
    }
}

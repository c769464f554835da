// One program for every virt-* tool: the name it is run as (a symlink such
// as virt-cat) or its first argument picks the tool.

import Foundation

let tools: [String: ([String]) -> Int32] = [
    VirtCat.name: { ToolRunner.main(VirtCat.self, $0) },
    VirtLs.name: { ToolRunner.main(VirtLs.self, $0) },
    VirtDf.name: { ToolRunner.main(VirtDf.self, $0) },
    VirtFilesystems.name: { ToolRunner.main(VirtFilesystems.self, $0) },
    VirtInspector.name: { ToolRunner.main(VirtInspector.self, $0) },
    VirtTarOut.name: { ToolRunner.main(VirtTarOut.self, $0) },
    VirtTarIn.name: { ToolRunner.main(VirtTarIn.self, $0) },
    VirtCopyIn.name: { ToolRunner.main(VirtCopyIn.self, $0) },
    VirtCopyOut.name: { ToolRunner.main(VirtCopyOut.self, $0) },
    VirtEdit.name: { ToolRunner.main(VirtEdit.self, $0) },
    VirtFormat.name: { ToolRunner.main(VirtFormat.self, $0) },
    VirtLog.name: { ToolRunner.main(VirtLog.self, $0) },
    VirtAlignmentScan.name: { ToolRunner.main(VirtAlignmentScan.self, $0) },
]

var args = CommandLine.arguments
let invokedAs = (args.first.map { ($0 as NSString).lastPathComponent }) ?? ""
args.removeFirst()
var name = invokedAs
if tools[name] == nil, let first = args.first {
    name = first.hasPrefix("virt-") ? first : "virt-\(first)"
    args.removeFirst()
}
guard let entry = tools[name] else {
    FileHandle.standardError.write(Data("""
        usage: virt-tools TOOL [options...]   (or run it as virt-TOOL through a symlink)
        tools: \(tools.keys.sorted().joined(separator: " "))

        """.utf8))
    exit(1)
}
let status = entry(args)
fflush(stdout)
exit(status)

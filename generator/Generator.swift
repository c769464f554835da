import Foundation

/// `swift run generator [--check] [--root DIR]`
///
/// Loads actions.yaml, checks it, and writes every generated file. With
/// `--check` it writes nothing and exits 1 if any file on disk differs.
@main
struct Generator {
    static func main() {
        var args = Array(CommandLine.arguments.dropFirst())
        var check = false
        var root = FileManager.default.currentDirectoryPath
        while let a = args.first {
            args.removeFirst()
            switch a {
            case "--check": check = true
            case "--root":
                guard let r = args.first else { fail("--root needs a directory") }
                root = r
                args.removeFirst()
            case "-h", "--help":
                print("usage: generator [--check] [--root DIR]")
                return
            default: fail("unknown option \(a)")
            }
        }
        do {
            let text = try String(contentsOfFile: root + "/actions.yaml", encoding: .utf8)
            let model = try ModelLoader.load(yaml: text)
            try ModelChecker.check(model)
            let outputs = Outputs.all(for: model)
            var stale: [String] = []
            for (path, content) in outputs {
                let full = root + "/" + path
                let current = try? String(contentsOfFile: full, encoding: .utf8)
                if current == content { continue }
                if check {
                    stale.append(path)
                } else {
                    try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                            withIntermediateDirectories: true)
                    try content.write(toFile: full, atomically: true, encoding: .utf8)
                    print("wrote \(path)")
                }
            }
            if check {
                if stale.isEmpty {
                    print("generator: \(outputs.count) generated files match actions.yaml")
                } else {
                    FileHandle.standardError.write(Data(("generator: these files differ from what actions.yaml produces; run `swift run generator`:\n"
                        + stale.map { "  \($0)\n" }.joined()).utf8))
                    exit(1)
                }
            }
        } catch {
            fail("\(error)")
        }
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("generator: \(message)\n".utf8))
        exit(2)
    }
}

/// Every generated file: path relative to the repository root -> content.
enum Outputs {
    static func all(for model: Model) -> [(String, String)] {
        let proto = ProtocolEmitter(model: model)
        let client = ClientEmitter(model: model)
        let table = CallTableEmitter(model: model)
        let pod = PODEmitter(model: model)
        return [
            ("Sources/GuestfsProtocol/Generated/Structs.swift", proto.structsFile()),
            ("Sources/GuestfsProtocol/Generated/Procedures.swift", proto.proceduresFile()),
            ("Sources/GuestfsProtocol/Generated/ArgsRet.swift", proto.argsRetFile()),
            ("Sources/Guestfs/Generated/Actions.swift", client.actionsFile()),
            ("Sources/Guestfs/Generated/CallTable.swift", table.callTableFile()),
            ("Sources/Guestfs/Generated/ActionCatalog.swift", table.catalogFile()),
            ("daemon/Generated/Dispatch.swift", DispatchEmitter(model: model).dispatchFile()),
            ("bindings/c/include/guestfs.h", CHeaderEmitter(model: model).header()),
            ("bindings/c/src/actions-varargs.c", CShimEmitter(model: model).cFile()),
            ("Sources/GuestfsC/Generated/CActions.swift", CShimEmitter(model: model).swiftFile()),
            ("bindings/python/src/actions.h", PythonEmitter(model: model).headerFile()),
            ("bindings/python/src/actions.c", PythonEmitter(model: model).actionsFile()),
            ("bindings/python/guestfs.py", PythonEmitter(model: model).moduleFile()),
            ("bindings/python/guestfs.pyi", PythonEmitter(model: model).stubFile()),
            ("Sources/guestfish/Generated/ActionHelp.swift", FishEmitter(model: model).helpFile()),
            ("man/guestfs-actions.pod", pod.actionsPOD()),
            ("man/guestfs-structs.pod", pod.structsPOD()),
            ("man/guestfs-optgroups.pod", pod.optgroupsPOD()),
            ("Tests/GuestfsTests/Generated/ActionTestData.swift", TestDataEmitter(model: model).testDataFile()),
            ("Tests/XDRTests/Generated/Samples.swift", RoundTripEmitter(model: model).file()),
        ]
    }
}

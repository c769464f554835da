/// Emits the Swift library's public methods, one per action, and the
/// protocol listing the hand-written implementations of library-side actions.
struct ClientEmitter {
    let model: Model

    func actionsFile() -> String {
        var w = CodeWriter(header: GeneratedHeader.swift("Public methods of Guestfs, one per action."))
        w.line("import GuestfsProtocol")
        w.line("import XDR")
        w.line()
        w.line("/// Hand-written bodies of the actions that run inside the library.")
        w.block("protocol LibraryActionImplementations") { w in
            for a in model.libraryActions { w.line(implSignature(a)) }
        }
        w.line()
        w.line("extension Guestfs: LibraryActionImplementations {}")
        w.line()
        w.block("extension Guestfs") { w in
            for a in model.actions.sorted(by: { $0.name < $1.name }) {
                emitMethod(a, &w)
                w.line()
            }
        }
        return w.text
    }

    /// `_ path: String, readonly: Bool? = nil`
    func parameters(_ a: Action, defaults: Bool) -> String {
        var ps = a.args.map { "_ \(Naming.swiftIdent($0.name)): \(SwiftTypes.arg($0.type))" }
        ps += a.optargs.map { "\(Naming.swiftIdent(f: $0.name)): \(SwiftTypes.optarg($0.type))?\(defaults ? " = nil" : "")" }
        return ps.joined(separator: ", ")
    }

    private func returnClause(_ a: Action) -> String {
        a.ret.type == .err ? "" : " -> \(SwiftTypes.ret(a.ret, model))"
    }

    private func implSignature(_ a: Action) -> String {
        "func impl_\(a.name)(\(parameters(a, defaults: false))) throws\(returnClause(a))"
    }

    private func traceArgs(_ a: Action) -> String {
        var items: [String] = a.args.map { arg in
            let v = Naming.swiftIdent(arg.name)
            switch arg.type {
            case .stringList, .deviceList, .filenameList, .pathnameList: return ".stringList(\(v))"
            case .optString: return ".optString(\(v))"
            case .bool: return ".bool(\(v))"
            case .int: return ".int(Int64(\(v)))"
            case .int64: return ".int(\(v))"
            case .bufferIn: return ".buffer(\(v))"
            case .pointer: return ".pointer"
            default: return ".string(\(v))"
            }
        }
        items += a.optargs.map { o in
            let v = Naming.swiftIdent(o.name)
            let wrap: String
            switch o.type {
            case .obool: wrap = "\(v).map { .bool($0) }"
            case .oint: wrap = "\(v).map { .int(Int64($0)) }"
            case .oint64: wrap = "\(v).map { .int($0) }"
            case .ostring: wrap = "\(v).map { .string($0) }"
            case .ostringList: wrap = "\(v).map { .stringList($0) }"
            }
            return ".optional(\(Naming.literal(o.name)), \(wrap))"
        }
        return "[" + items.joined(separator: ", ") + "]"
    }

    private func emitMethod(_ a: Action, _ w: inout CodeWriter) {
        for l in PODText.docComment(a.doc) { w.line(l) }
        if let d = a.flags.deprecatedBy {
            w.line("///")
            w.line(d == "no_replacement" ? "/// - Note: Deprecated; there is no replacement." : "/// - Note: Deprecated; use ``\(Naming.lowerCamel(d))`` instead.")
        }
        if let g = a.flags.optionalGroup {
            w.line("///")
            w.line("/// - Note: Part of the optional group `\(g)`: check ``featureAvailable(_:)`` first.")
        }
        let vis = "public"
        let name = Naming.swiftIdent(a.name)
        if a.isDaemon && a.ret.type == .hashtable {
            // The dictionary form for Swift users; the ordered form keeps the
            // daemon's order for guestfish and the C and Python bindings.
            let call = (a.args.map { Naming.swiftIdent($0.name) }
                + a.optargs.map { "\(Naming.swiftIdent(f: $0.name)): \(Naming.swiftIdent($0.name))" }).joined(separator: ", ")
            w.block("\(vis) func \(name)(\(parameters(a, defaults: true))) throws -> [String: String]") { w in
                w.line("Dictionary(try \(Naming.lowerCamel(a.name))Pairs(\(call)), uniquingKeysWith: { first, _ in first })")
            }
            w.line()
            w.line("/// Like ``\(Naming.lowerCamel(a.name))``, keeping the pairs in the order the daemon sent them.")
            w.block("\(vis) func \(Naming.lowerCamel(a.name))Pairs(\(parameters(a, defaults: true))) throws -> [(key: String, value: String)]") { w in
                w.block("return try perform(\(Naming.literal(a.name)), \(traceArgs(a)))") { w in
                    emitDaemonBody(a, &w)
                }
            }
            return
        }
        w.block("\(vis) func \(name)(\(parameters(a, defaults: true))) throws\(returnClause(a))") { w in
            let config = a.flags.configOnly ? ", configOnly: true" : ""
            w.block("return try perform(\(Naming.literal(a.name)), \(traceArgs(a))\(config))") { w in
                if a.isDaemon { emitDaemonBody(a, &w) } else {
                    let call = (a.args.map { Naming.swiftIdent($0.name) }
                        + a.optargs.map { "\(Naming.swiftIdent(f: $0.name)): \(Naming.swiftIdent($0.name))" }).joined(separator: ", ")
                    w.line("try self.impl_\(a.name)(\(call))")
                }
            }
        }
    }

    private func emitDaemonBody(_ a: Action, _ w: inout CodeWriter) {
        if !a.optargs.isEmpty {
            w.line("var optargs: UInt64 = 0")
            for o in a.optargs { w.line("if \(Naming.swiftIdent(o.name)) != nil { optargs |= 1 << \(o.bit) }") }
        }
        let mask = a.optargs.isEmpty ? "0" : "optargs"
        var argsExpr = ""
        if a.hasArgsStruct {
            let fields = a.wireArgs.map { "\(Naming.swiftIdent(f: $0.name)): \(Naming.swiftIdent($0.name))" }
                + a.optargs.map { "\(Naming.swiftIdent(f: $0.name)): \(Naming.swiftIdent($0.name)) ?? \(SwiftTypes.optargZero($0.type))" }
            argsExpr = "args: \(a.camelName)Args(\(fields.joined(separator: ", "))), "
        }
        var extra = ""
        if let f = a.args.first(where: { $0.type == .fileIn }) { extra += ", fileIn: \(Naming.swiftIdent(f.name))" }
        if let f = a.args.first(where: { $0.type == .fileOut }) { extra += ", fileOut: \(Naming.swiftIdent(f.name))" }
        let proc = ".\(Naming.swiftIdent(a.name))"
        if a.hasRetStruct {
            let call = "try self.daemonCall(\(proc), \(argsExpr)optargs: \(mask)\(extra), returning: \(a.camelName)Ret.self).value"
            w.line("return " + (a.ret.type == .hashtable ? "Guestfs.pairs(\(call))" : call))
        } else {
            w.line("try self.daemonCall(\(proc), \(argsExpr)optargs: \(mask)\(extra))")
        }
    }
}

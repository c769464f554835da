/// Emits call-by-name dispatch and the action catalog, which guestfish,
/// the bindings and the model-driven tests use.
struct CallTableEmitter {
    let model: Model

    func callTableFile() -> String {
        var w = CodeWriter(header: GeneratedHeader.swift("Call any action by name with loosely typed arguments."))
        w.line("import GuestfsProtocol")
        w.line()
        w.block("extension Guestfs") { w in
            w.line("/// Calls the action `name` (or one of its aliases); arguments are converted")
            w.line("/// to the action's types, so strings such as \"true\" or \"4096\" are accepted.")
            w.block("public func callAction(_ name: String, _ args: [ActionArgument], optargs: [String: ActionArgument] = [:]) throws -> ActionResult") { w in
                w.block("switch name") { w in
                    for a in model.actions.sorted(by: { $0.name < $1.name }) { emitCase(a, &w) }
                    w.line("default:")
                    w.line("    throw GuestfsError.unknownAction(name)")
                }
            }
        }
        return w.text
    }

    private func argExpr(_ arg: Arg, _ i: Int, _ action: String) -> String {
        let v = "args[\(i)]"
        let n = Naming.literal(arg.name)
        switch arg.type {
        case .stringList, .deviceList, .filenameList, .pathnameList: return "try \(v).stringList(\(n))"
        case .optString: return "try \(v).optString(\(n))"
        case .bool: return "try \(v).bool(\(n))"
        case .int: return "try \(v).int32(\(n))"
        case .int64: return "try \(v).int64(\(n))"
        case .bufferIn: return "try \(v).buffer(\(n))"
        case .pointer: return "nil"
        default: return "try \(v).string(\(n))"
        }
    }

    private func optExpr(_ o: OptArg) -> String {
        let v = "optargs[\(Naming.literal(o.name))]"
        let n = Naming.literal(o.name)
        switch o.type {
        case .obool: return "try \(v).map { try $0.bool(\(n)) }"
        case .oint: return "try \(v).map { try $0.int32(\(n)) }"
        case .oint64: return "try \(v).map { try $0.int64(\(n)) }"
        case .ostring: return "try \(v).map { try $0.string(\(n)) }"
        case .ostringList: return "try \(v).map { try $0.stringList(\(n)) }"
        }
    }

    private func emitCase(_ a: Action, _ w: inout CodeWriter) {
        let names = ([a.name] + a.flags.aliases).map(Naming.literal).joined(separator: ", ")
        w.line("case \(names):")
        w.indent { w in
            let optNames = a.optargs.map { Naming.literal($0.name) }.joined(separator: ", ")
            w.line("try ActionArgument.check(name, args, count: \(a.args.count), optargs: optargs, allowed: [\(optNames)])")
            let call = (a.args.enumerated().map { argExpr($1, $0, a.name) }
                + a.optargs.map { "\(Naming.swiftIdent(f: $0.name)): \(optExpr($0))" }).joined(separator: ", ")
            let method = a.isDaemon && a.ret.type == .hashtable ? "\(Naming.lowerCamel(a.name))Pairs" : Naming.swiftIdent(a.name)
            let expr = "try \(method)(\(call))"
            switch a.ret.type {
            case .err: w.line(expr); w.line("return .none")
            case .int: w.line("return .int(Int64(\(expr)))")
            case .int64: w.line("return .int(\(expr))")
            case .bool: w.line("return .bool(\(expr))")
            case .constString, .string: w.line("return .string(\(expr))")
            case .constOptString: w.line("return .optString(\(expr))")
            case .stringList: w.line("return .stringList(\(expr))")
            case .structure: w.line("return .structure(\(expr).fields)")
            case .structList: w.line("return .structList(\(expr).map(\\.fields))")
            case .hashtable where a.isDaemon: w.line("return .hashtable(\(expr).map { ($0.key, $0.value) })")
            case .hashtable: w.line("return .hashtable(\(expr).sorted { $0.key < $1.key }.map { ($0.key, $0.value) })")
            case .bufferOut: w.line("return .buffer(\(expr))")
            }
        }
    }

    func catalogFile() -> String {
        var w = CodeWriter(header: GeneratedHeader.swift("What every action takes and returns, for tools that work by name."))
        w.block("extension ActionInfo") { w in
            w.line("/// Every action in the model, sorted by name.")
            w.line("public static let all: [ActionInfo] = [")
            w.indent { w in
                for a in model.actions.sorted(by: { $0.name < $1.name }) {
                    let args = a.args.map { "(\(Naming.literal($0.name)), .\(argKind($0.type)))" }.joined(separator: ", ")
                    let opts = a.optargs.map { "(\(Naming.literal($0.name)), .\(optKind($0.type)))" }.joined(separator: ", ")
                    var fields = [
                        "name: \(Naming.literal(a.name))",
                        "aliases: [\(a.flags.aliases.map(Naming.literal).joined(separator: ", "))]",
                        "fishAliases: [\(a.flags.fishAlias.map(Naming.literal).joined(separator: ", "))]",
                        "args: [\(args)]",
                        "optargs: [\(opts)]",
                        "returns: .\(retKind(a.ret.type))",
                    ]
                    if let p = a.procNr { fields.append("procedure: \(p)") }
                    if let d = a.flags.deprecatedBy { fields.append("deprecatedBy: \(Naming.literal(d))") }
                    if let g = a.flags.optionalGroup { fields.append("optionalGroup: \(Naming.literal(g))") }
                    if !a.flags.inGuestfish { fields.append("inGuestfish: false") }
                    if a.flags.configOnly { fields.append("configOnly: true") }
                    if let o = a.flags.fishOutput { fields.append("fishOutput: \(Naming.literal(o))") }
                    fields.append("summary: \(Naming.literal(PODText.summary(a.doc)))")
                    w.line("ActionInfo(\(fields.joined(separator: ", "))),")
                }
            }
            w.line("]")
            w.line()
            w.line("/// Optional groups of actions, with a one-line description.")
            w.line("public static let optionalGroups: [(name: String, summary: String)] = [")
            w.indent { w in
                for g in model.optgroups { w.line("(\(Naming.literal(g.name)), \(Naming.literal(g.doc ?? ""))),") }
            }
            w.line("]")
        }
        return w.text
    }

    private func argKind(_ t: ArgType) -> String {
        switch t {
        case .string: return "string"
        case .pathname: return "pathname"
        case .device: return "device"
        case .mountable: return "mountable"
        case .devOrPath: return "deviceOrPath"
        case .mountableOrPath: return "mountableOrPath"
        case .fileIn: return "fileIn"
        case .fileOut: return "fileOut"
        case .key: return "key"
        case .guid: return "guid"
        case .filename: return "filename"
        case .stringList: return "stringList"
        case .deviceList: return "deviceList"
        case .filenameList: return "filenameList"
        case .pathnameList: return "pathnameList"
        case .optString: return "optString"
        case .bool: return "bool"
        case .int: return "int"
        case .int64: return "int64"
        case .bufferIn: return "buffer"
        case .pointer: return "pointer"
        }
    }

    private func optKind(_ t: OptArgType) -> String {
        switch t {
        case .obool: return "bool"
        case .oint: return "int"
        case .oint64: return "int64"
        case .ostring: return "string"
        case .ostringList: return "stringList"
        }
    }

    private func retKind(_ t: RetType) -> String {
        switch t {
        case .err: return "none"
        case .int: return "int"
        case .int64: return "int64"
        case .bool: return "bool"
        case .constString: return "constString"
        case .constOptString: return "constOptString"
        case .string: return "string"
        case .stringList: return "stringList"
        case .structure: return "structure"
        case .structList: return "structList"
        case .hashtable: return "hashtable"
        case .bufferOut: return "buffer"
        }
    }
}

/// Emits the daemon's dispatch: procedure -> decode args -> check and
/// resolve them -> hand-written handler -> encoded reply.
struct DispatchEmitter {
    let model: Model

    func dispatchFile() -> String {
        var w = CodeWriter(header: GeneratedHeader.swift("Daemon dispatch table: one case per procedure."))
        w.line("import GuestfsProtocol")
        w.line("import XDR")
        w.line()
        w.line("/// One handler per daemon action, written by hand in the domain files.")
        w.block("protocol DaemonActionHandlers") { w in
            for a in model.daemonActions { w.line(handlerSignature(a)) }
        }
        w.line()
        w.block("enum Dispatch") { w in
            w.line("/// Runs one call; returns the encoded ret struct (nil when the action returns nothing).")
            w.block("static func run(_ h: some DaemonActionHandlers, _ ctx: CallContext, _ d: inout XDRDecoder) throws -> [UInt8]?") { w in
                w.block("switch ctx.procedure") { w in
                    for a in model.daemonActions { emitCase(a, &w) }
                    w.line("default:")
                    w.line("    throw DaemonError.unknownProcedure(ctx.procedure)")
                }
            }
            w.line()
            w.line("/// Procedures whose call is followed by a FileIn chunk stream.")
            w.line("static let fileInProcedures: Set<UInt32> = [\(model.daemonActions.filter(\.hasFileIn).map { String($0.procNr!) }.joined(separator: ", "))]")
            w.line("/// Procedures that answer with a FileOut chunk stream after the reply.")
            w.line("static let fileOutProcedures: Set<UInt32> = [\(model.daemonActions.filter(\.hasFileOut).map { String($0.procNr!) }.joined(separator: ", "))]")
            w.line()
            w.line("/// Names of every procedure this daemon serves, for logs.")
            w.block("static func name(of procedure: UInt32) -> String?") { w in
                w.line("Procedure(rawValue: procedure)?.actionName")
            }
        }
        return w.text
    }

    private func handlerParams(_ a: Action) -> [String] {
        var ps = ["_ ctx: CallContext"]
        ps += a.wireArgs.map { "\(Naming.swiftIdent(f: $0.name)): \(SwiftTypes.arg($0.type))" }
        ps += a.optargs.map { "\(Naming.swiftIdent(f: $0.name)): \(SwiftTypes.optarg($0.type))?" }
        return ps
    }

    private func handlerSignature(_ a: Action) -> String {
        let ret = a.ret.type == .err ? "" : " -> \(handlerRet(a))"
        return "func \(Naming.swiftIdent(a.name))(\(handlerParams(a).joined(separator: ", "))) throws\(ret)"
    }

    /// Hashtables are returned as ordered key/value pairs.
    private func handlerRet(_ a: Action) -> String {
        a.ret.type == .hashtable ? "[(String, String)]" : SwiftTypes.ret(a.ret, model)
    }

    /// The expression that validates or resolves one argument.
    private func resolved(_ arg: Arg, _ v: String) -> String {
        let name = Naming.literal(arg.name)
        switch arg.type {
        case .pathname: return "try ctx.checkPathname(\(v), \(name))"
        case .device: return "try ctx.resolveDevice(\(v), \(name))"
        case .mountable: return "try ctx.resolveMountable(\(v), \(name))"
        case .devOrPath: return "try ctx.resolveDeviceOrPath(\(v), \(name))"
        case .mountableOrPath: return "try ctx.resolveMountableOrPath(\(v), \(name))"
        case .deviceList: return "try \(v).map { try ctx.resolveDevice($0, \(name)) }"
        case .pathnameList: return "try \(v).map { try ctx.checkPathname($0, \(name)) }"
        default: return v
        }
    }

    private func emitCase(_ a: Action, _ w: inout CodeWriter) {
        w.line("case \(a.procNr!): // \(a.name)")
        w.indent { w in
            w.line("try ctx.checkOptargs(count: \(a.optargs.count))")
            var callArgs = ["ctx"]
            if a.hasArgsStruct {
                w.line("let a = try \(a.camelName)Args(from: &d)")
                for arg in a.wireArgs {
                    callArgs.append("\(Naming.swiftIdent(f: arg.name)): \(resolved(arg, "a.\(Naming.swiftIdent(arg.name))"))")
                }
                for o in a.optargs {
                    callArgs.append("\(Naming.swiftIdent(f: o.name)): ctx.has(optarg: \(o.bit)) ? a.\(Naming.swiftIdent(o.name)) : nil")
                }
            }
            w.line("try d.finish()")
            let call = "try h.\(Naming.swiftIdent(a.name))(\(callArgs.joined(separator: ", ")))"
            switch a.ret.type {
            case .err:
                w.line(call)
                w.line("return nil")
            case .hashtable:
                let fix = a.ret.valueSubtype == .plain ? "$0.1" : "ctx.canonicalName($0.1)"
                let kfix = a.ret.subtype == .plain ? "$0.0" : "ctx.canonicalName($0.0)"
                w.line("let r = \(call)")
                w.line("return \(a.camelName)Ret(value: r.flatMap { [\(kfix), \(fix)] }).xdrBytes")
            case .string where a.ret.subtype != .plain:
                w.line("return \(a.camelName)Ret(value: ctx.canonicalName(\(call))).xdrBytes")
            case .stringList where a.ret.subtype != .plain:
                w.line("return \(a.camelName)Ret(value: \(call).map(ctx.canonicalName)).xdrBytes")
            default:
                w.line("return \(a.camelName)Ret(value: \(call)).xdrBytes")
            }
        }
    }
}

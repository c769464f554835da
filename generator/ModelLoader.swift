import Yams

/// A problem in actions.yaml, naming where it is.
struct ModelError: Error, CustomStringConvertible {
    var location: String
    var message: String
    var description: String { "actions.yaml: \(location): \(message)" }
}

/// Turns the YAML text into the typed model, rejecting unknown keys and
/// values with an error that names the action and the field.
enum ModelLoader {
    static func load(yaml text: String) throws -> Model {
        guard let root = try Yams.compose(yaml: text), let top = root.mapping else {
            throw ModelError(location: "top level", message: "expected a mapping with events, optgroups, structs, actions")
        }
        try checkKeys(top, allowed: ["events", "optgroups", "structs", "actions"], at: "top level")
        let events = try (top["events"]?.sequence ?? []).enumerated().map { i, n in
            let m = try mapping(n, at: "events[\(i)]")
            return Event(name: try string(m, "name", at: "events[\(i)]"), bit: UInt64(try int(m, "bit", at: "events[\(i)]")))
        }
        let groups = try (top["optgroups"]?.sequence ?? []).enumerated().map { i, n in
            let m = try mapping(n, at: "optgroups[\(i)]")
            return OptGroup(name: try string(m, "name", at: "optgroups[\(i)]"), doc: m["doc"]?.string)
        }
        let structs = try (top["structs"]?.sequence ?? []).enumerated().map { i, n in try loadStruct(n, index: i) }
        let actions = try (top["actions"]?.sequence ?? []).enumerated().map { i, n in try loadAction(n, index: i) }
        return Model(events: events, optgroups: groups, structs: structs, actions: actions)
    }

    private static func loadStruct(_ node: Node, index: Int) throws -> StructDef {
        let m = try mapping(node, at: "structs[\(index)]")
        let name = try string(m, "name", at: "structs[\(index)]")
        let at = "struct \(name)"
        try checkKeys(m, allowed: ["name", "camel_name", "internal", "doc", "fields"], at: at)
        let fields = try (m["fields"]?.sequence ?? []).map { f -> StructField in
            let fm = try mapping(f, at: at)
            let fname = try string(fm, "name", at: at)
            let t = try string(fm, "type", at: "\(at).\(fname)")
            guard let ft = FieldType(rawValue: t) else {
                throw ModelError(location: "\(at) field \(fname)", message: "unknown field type '\(t)'")
            }
            return StructField(name: fname, type: ft)
        }
        return StructDef(name: name, camelName: try string(m, "camel_name", at: at),
                         isInternal: m["internal"]?.bool ?? false, doc: m["doc"]?.string, fields: fields)
    }

    private static let actionKeys: Set<String> = ["name", "proc_nr", "added", "ret", "errcode", "args", "optargs", "flags", "doc", "tests"]
    private static let flagKeys: Set<String> = [
        "deprecated_by", "optional", "progress", "cancellable", "protocol_limit_warning", "blocking",
        "config_only", "visibility", "fish_alias", "fish_output", "once_had_no_optargs", "non_c_aliases",
        "camel_name", "in_1_48", "in_guestfish",
    ]

    private static func loadAction(_ node: Node, index: Int) throws -> Action {
        let m = try mapping(node, at: "actions[\(index)]")
        let name = try string(m, "name", at: "actions[\(index)]")
        let at = "action \(name)"
        try checkKeys(m, allowed: actionKeys, at: at)

        let rm = try mapping(m["ret"] ?? Node(""), at: "\(at).ret")
        let rt = try string(rm, "type", at: "\(at).ret")
        guard let retType = RetType(rawValue: rt) else { throw ModelError(location: "\(at).ret", message: "unknown return type '\(rt)'") }
        var ret = Ret(type: retType, structName: rm["struct"]?.string, name: rm["name"]?.string)
        if let s = rm["subtype"]?.string {
            guard let st = RetSubtype(rawValue: s) else { throw ModelError(location: "\(at).ret.subtype", message: "unknown subtype '\(s)'") }
            ret.subtype = st
        }
        if let s = rm["value_subtype"]?.string {
            guard let st = RetSubtype(rawValue: s) else { throw ModelError(location: "\(at).ret.value_subtype", message: "unknown subtype '\(s)'") }
            ret.valueSubtype = st
        }

        let args = try (m["args"]?.sequence ?? []).enumerated().map { i, n -> Arg in
            let am = try mapping(n, at: "\(at).args[\(i)]")
            let an = try string(am, "name", at: "\(at).args[\(i)]")
            let t = try string(am, "type", at: "\(at).args.\(an)")
            guard let type = ArgType(rawValue: t) else { throw ModelError(location: "\(at).args.\(an)", message: "unknown argument type '\(t)'") }
            return Arg(name: an, type: type, cType: am["c_type"]?.string)
        }
        let optargs = try (m["optargs"]?.sequence ?? []).enumerated().map { i, n -> OptArg in
            let om = try mapping(n, at: "\(at).optargs[\(i)]")
            let on = try string(om, "name", at: "\(at).optargs[\(i)]")
            let t = try string(om, "type", at: "\(at).optargs.\(on)")
            guard let type = OptArgType(rawValue: t) else { throw ModelError(location: "\(at).optargs.\(on)", message: "unknown optional argument type '\(t)'") }
            return OptArg(bit: try int(om, "bit", at: "\(at).optargs.\(on)"), name: on, type: type,
                          notIn148: om["in_1_48"]?.bool == false)
        }

        var flags = Flags()
        if let fnode = m["flags"] {
            let fm = try mapping(fnode, at: "\(at).flags")
            try checkKeys(fm, allowed: flagKeys, at: "\(at).flags")
            flags.deprecatedBy = fm["deprecated_by"]?.string
            flags.optionalGroup = fm["optional"]?.string
            flags.progress = fm["progress"]?.bool ?? false
            flags.cancellable = fm["cancellable"]?.bool ?? false
            flags.protocolLimitWarning = fm["protocol_limit_warning"]?.bool ?? false
            flags.blocking = fm["blocking"]?.bool ?? true
            flags.configOnly = fm["config_only"]?.bool ?? false
            if let v = fm["visibility"]?.string {
                guard let vis = Visibility(rawValue: v) else { throw ModelError(location: "\(at).flags.visibility", message: "unknown visibility '\(v)'") }
                flags.visibility = vis
            }
            flags.fishAlias = fm["fish_alias"]?.sequence?.compactMap(\.string) ?? []
            flags.fishOutput = fm["fish_output"]?.string
            flags.onceHadNoOptargs = fm["once_had_no_optargs"]?.bool ?? false
            flags.aliases = fm["non_c_aliases"]?.sequence?.compactMap(\.string) ?? []
            flags.camelName = fm["camel_name"]?.string
            flags.inLibguestfs148 = fm["in_1_48"]?.bool ?? true
            flags.inGuestfish = fm["in_guestfish"]?.bool ?? true
        }
        if flags.visibility != .publicAPI && flags.visibility != .publicNoFish { flags.inGuestfish = false }

        var errcode: ErrCode
        switch retType {
        case .err, .int, .int64, .bool: errcode = .minusOne
        default: errcode = .null
        }
        if let e = m["errcode"]?.string {
            guard let ec = ErrCode(rawValue: e) else { throw ModelError(location: "\(at).errcode", message: "unknown errcode '\(e)'") }
            errcode = ec
        }

        let tests = try (m["tests"]?.sequence ?? []).enumerated().map { i, n in try loadTest(n, at: "\(at).tests[\(i)]") }
        var procNr: Int?
        if let p = m["proc_nr"] {
            guard let v = p.int else { throw ModelError(location: "\(at).proc_nr", message: "expected an integer") }
            procNr = v
        }
        return Action(name: name, procNr: procNr, added: m["added"]?.string, ret: ret, errcode: errcode,
                      args: args, optargs: optargs, flags: flags, doc: m["doc"]?.string ?? "", tests: tests)
    }

    private static func loadTest(_ node: Node, at: String) throws -> ActionTest {
        let m = try mapping(node, at: at)
        try checkKeys(m, allowed: ["prepare", "run", "expect"], at: at)
        let prepare = try string(m, "prepare", at: at)
        guard let runSeq = m["run"]?.sequence, !runSeq.isEmpty else {
            throw ModelError(location: at, message: "a test needs a non-empty 'run' list")
        }
        let run = try runSeq.enumerated().map { i, call -> [TestValue] in
            guard let s = call.sequence, !s.isEmpty else {
                throw ModelError(location: "\(at).run[\(i)]", message: "each call is a list: [action, args..., {optargs}]")
            }
            return s.map(value)
        }
        guard let em = m["expect"]?.mapping else { throw ModelError(location: at, message: "missing 'expect' mapping") }
        let expect = em.map { (k, v) in (k.string ?? "", value(v)) }
        return ActionTest(prepare: prepare, run: run, expect: expect)
    }

    static func value(_ n: Node) -> TestValue {
        switch n {
        case let .scalar(s):
            if s.style == .plain {
                if s.string == "~" || s.string == "null" { return .null }
                if let b = n.bool, ["true", "false"].contains(s.string) { return .bool(b) }
                if let i = Int64(s.string) { return .int(i) }
                if s.string.hasPrefix("0x"), let i = Int64(s.string.dropFirst(2), radix: 16) { return .int(i) }
            }
            return .string(s.string)
        case let .sequence(seq):
            return .list(seq.map(value))
        case let .mapping(map):
            return .map(map.map { (k, v) in (k.string ?? "", value(v)) })
        }
    }

    // MARK: small helpers

    private static func mapping(_ n: Node, at: String) throws -> Node.Mapping {
        guard let m = n.mapping else { throw ModelError(location: at, message: "expected a mapping") }
        return m
    }

    private static func string(_ m: Node.Mapping, _ key: String, at: String) throws -> String {
        guard let v = m[key]?.string, !v.isEmpty else { throw ModelError(location: at, message: "missing '\(key)'") }
        return v
    }

    private static func int(_ m: Node.Mapping, _ key: String, at: String) throws -> Int {
        guard let v = m[key]?.int else { throw ModelError(location: at, message: "missing integer '\(key)'") }
        return v
    }

    private static func checkKeys(_ m: Node.Mapping, allowed: Set<String>, at: String) throws {
        for k in m.keys {
            guard let s = k.string, allowed.contains(s) else {
                throw ModelError(location: at, message: "unknown key '\(k.string ?? "?")'")
            }
        }
    }
}

import Foundation

/// Rejects models the emitters could not turn into correct code. Each
/// problem names the action (or struct) and the field.
enum ModelChecker {
    static let maxProcNr = 522

    static func check(_ model: Model) throws {
        var problems: [ModelError] = []
        func fail(_ at: String, _ msg: String) { problems.append(ModelError(location: at, message: msg)) }

        var names = Set<String>()
        var procs = [Int: String]()
        let structNames = Set(model.structs.map(\.name))
        let actionNames = Set(model.actions.map(\.name))
        let groupNames = Set(model.optgroups.map(\.name))

        for s in model.structs {
            if s.fields.isEmpty { fail("struct \(s.name)", "has no fields") }
            var seen = Set<String>()
            for f in s.fields where !seen.insert(f.name).inserted {
                fail("struct \(s.name) field \(f.name)", "duplicate field name")
            }
        }

        for a in model.actions {
            let at = "action \(a.name)"
            if !isIdentifier(a.name) { fail(at, "name is not a valid identifier") }
            if !names.insert(a.name).inserted { fail(at, "duplicate action name") }
            for alias in a.flags.aliases where !names.insert(alias).inserted || actionNames.contains(alias) {
                fail("\(at).flags.non_c_aliases", "alias '\(alias)' clashes with another name")
            }
            if let p = a.procNr {
                if p <= 0 || p > maxProcNr { fail("\(at).proc_nr", "\(p) is outside 1...\(maxProcNr)") }
                if let other = procs[p] { fail("\(at).proc_nr", "\(p) is already used by \(other)") }
                procs[p] = a.name
            }
            if a.doc.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                fail("\(at).doc", "every action must be documented")
            }

            // Return type details.
            switch a.ret.type {
            case .structure, .structList:
                if let s = a.ret.structName {
                    if !structNames.contains(s) { fail("\(at).ret.struct", "unknown struct '\(s)'") }
                } else {
                    fail("\(at).ret.struct", "\(a.ret.type.rawValue) needs a struct name")
                }
            default:
                if a.ret.structName != nil { fail("\(at).ret.struct", "only RStruct/RStructList name a struct") }
            }
            if a.ret.type != .err && a.ret.name == nil { fail("\(at).ret.name", "a non-RErr return needs a name") }
            if a.isDaemon && [.constString, .constOptString].contains(a.ret.type) {
                fail("\(at).ret", "daemon actions cannot return \(a.ret.type.rawValue)")
            }

            // Arguments.
            var argNames = Set<String>()
            for arg in a.args {
                if !argNames.insert(arg.name).inserted { fail("\(at).args.\(arg.name)", "duplicate argument name") }
                if arg.type == .pointer && arg.cType == nil { fail("\(at).args.\(arg.name)", "Pointer needs c_type") }
                if a.isDaemon && arg.type == .pointer { fail("\(at).args.\(arg.name)", "a Pointer cannot cross to the daemon") }
            }
            if a.isDaemon && a.args.filter({ $0.type.isFileStream }).count > 1 {
                fail("\(at).args", "a daemon action may carry at most one file stream")
            }
            for (i, o) in a.optargs.enumerated() {
                if o.bit != i { fail("\(at).optargs.\(o.name)", "bit \(o.bit) out of order: optarg bits must be 0, 1, 2, … in order (expected \(i))") }
                if !argNames.insert(o.name).inserted { fail("\(at).optargs.\(o.name)", "name clashes with another argument") }
            }
            for (i, o) in a.optargs.enumerated() where o.notIn148 && a.optargs[(i + 1)...].contains(where: { !$0.notIn148 }) {
                fail("\(at).optargs.\(o.name)", "optargs added after 1.48 must come last")
            }
            if a.optargs.count > 64 { fail("\(at).optargs", "more than 64 optional arguments do not fit the bitmask") }

            // Flags.
            if let d = a.flags.deprecatedBy, d != "no_replacement", !actionNames.contains(d) {
                fail("\(at).flags.deprecated_by", "'\(d)' is not an action")
            }
            if let g = a.flags.optionalGroup, !groupNames.contains(g) {
                fail("\(at).flags.optional", "'\(g)' is not a declared optgroup")
            }
            for (i, t) in a.tests.enumerated() {
                let tat = "\(at).tests[\(i)]"
                if !["empty", "part", "fs", "lvm_fs"].contains(t.prepare) {
                    fail("\(tat).prepare", "unknown prepare '\(t.prepare)' (empty, part, fs, lvm_fs)")
                }
                for call in t.run {
                    guard case let .string(callee)? = call.first else { fail("\(tat).run", "a call must start with an action name"); continue }
                    if !actionNames.contains(callee) && !model.actions.contains(where: { $0.flags.aliases.contains(callee) }) {
                        fail("\(tat).run", "calls unknown action '\(callee)'")
                    }
                }
                let known: Set<String> = ["ok", "error", "equals", "fields", "fields_at", "count", "matches", "output_equals"]
                for (k, _) in t.expect where !known.contains(k) { fail("\(tat).expect", "unknown expectation '\(k)'") }
                if t.expect.isEmpty { fail("\(tat).expect", "needs at least one expectation") }
            }
        }

        for e in model.events where e.bit == 0 || e.bit & (e.bit - 1) != 0 {
            fail("event \(e.name)", "bit \(e.bit) is not a single bit")
        }

        if !problems.isEmpty { throw ModelCheckFailure(problems: problems) }
    }
}

private func isIdentifier(_ s: String) -> Bool {
    guard let first = s.unicodeScalars.first, first.properties.isAlphabetic, first.isASCII else { return false }
    return s.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_") }
}

struct ModelCheckFailure: Error, CustomStringConvertible {
    var problems: [ModelError]
    var description: String { problems.map(\.description).joined(separator: "\n") }
}

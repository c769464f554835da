/// How actions look in C (guestfs.h): used by the man pages now and the
/// C header emitter.
enum CTypes {
    static func ret(_ r: Ret) -> String {
        switch r.type {
        case .err, .int, .bool: return "int"
        case .int64: return "int64_t"
        case .constString, .constOptString: return "const char *"
        case .string, .bufferOut: return "char *"
        case .stringList, .hashtable: return "char **"
        case .structure: return "struct guestfs_\(r.structName!) *"
        case .structList: return "struct guestfs_\(r.structName!)_list *"
        }
    }

    static func args(_ a: Action) -> [String] {
        var out: [String] = []
        for arg in a.args {
            switch arg.type {
            case .stringList, .deviceList, .filenameList, .pathnameList: out.append("char *const *\(arg.name)")
            case .bool, .int: out.append("int \(arg.name)")
            case .int64: out.append("int64_t \(arg.name)")
            case .bufferIn:
                out.append("const char *\(arg.name)")
                out.append("size_t \(arg.name)_size")
            case .pointer: out.append("void * /* \(arg.cType ?? "pointer") */ \(arg.name)")
            default: out.append("const char *\(arg.name)")
            }
        }
        if a.ret.type == .bufferOut { out.append("size_t *size_r") }
        return out
    }

    static func optargType(_ t: OptArgType) -> String {
        switch t {
        case .obool, .oint: return "int"
        case .oint64: return "int64_t"
        case .ostring: return "const char *"
        case .ostringList: return "char *const *"
        }
    }

    /// The C function that takes optional arguments as varargs.
    static func optargsFunction(_ a: Action) -> String {
        a.flags.onceHadNoOptargs ? "guestfs_\(a.name)_opts" : "guestfs_\(a.name)"
    }

    /// Prefix of the optarg bitmask macros, e.g. GUESTFS_ADD_DRIVE_OPTS.
    static func optargPrefix(_ a: Action) -> String {
        "GUESTFS_" + (a.flags.onceHadNoOptargs ? "\(a.name)_opts" : a.name).uppercased()
    }

    /// A prototype laid out as in guestfs.h, one argument per line.
    static func prototype(_ a: Action, name: String? = nil, varargs: Bool = false, indent: String = " ") -> String {
        let fn = name ?? "guestfs_\(a.name)"
        var params = ["guestfs_h *g"] + args(a)
        if varargs { params.append("...") }
        let r = ret(a.ret)
        let head = "\(indent)\(r)\(r.hasSuffix("*") ? "" : "\n\(indent)")"
        let lead = r.hasSuffix("*") ? "\(indent)\(r)\n\(indent)" : head
        let open = "\(fn) ("
        let pad = String(repeating: " ", count: open.count)
        var s = lead + open
        for (i, p) in params.enumerated() {
            if i > 0 { s += ",\n\(indent)\(pad)" }
            s += p
        }
        return s + ");"
    }
}

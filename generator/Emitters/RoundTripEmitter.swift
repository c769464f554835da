/// Emits, for the XDR test suite, a sample value of every generated
/// args/ret/struct type and a list of every decoder, so tests can round-trip
/// each type and throw corrupted bytes at each decoder.
struct RoundTripEmitter {
    let model: Model

    func file() -> String {
        var w = CodeWriter(header: GeneratedHeader.swift("Sample values and decoders of every generated wire type."))
        w.line("import GuestfsProtocol")
        w.line("import XDR")
        w.line()
        w.line("/// One sample of every generated type, encoded.")
        w.line("let generatedSamples: [(name: String, bytes: [UInt8], decode: (inout XDRDecoder) throws(XDRError) -> [UInt8])] = [")
        w.indent { w in
            for s in model.structs {
                w.line("(\(Naming.literal(s.camelName)), \(sampleStruct(s)).xdrBytes, { d throws(XDRError) in try \(s.camelName)(from: &d).xdrBytes }),")
            }
            for a in model.daemonActions {
                if a.hasArgsStruct {
                    let fields = a.wireArgs.map { "\(Naming.swiftIdent(f: $0.name)): \(sampleArg($0.type))" }
                        + a.optargs.map { "\(Naming.swiftIdent(f: $0.name)): \(sampleOpt($0.type))" }
                    w.line("(\"\(a.camelName)Args\", \(a.camelName)Args(\(fields.joined(separator: ", "))).xdrBytes, { d throws(XDRError) in try \(a.camelName)Args(from: &d).xdrBytes }),")
                }
                if a.hasRetStruct {
                    w.line("(\"\(a.camelName)Ret\", \(a.camelName)Ret(value: \(sampleRet(a.ret))).xdrBytes, { d throws(XDRError) in try \(a.camelName)Ret(from: &d).xdrBytes }),")
                }
            }
        }
        w.line("]")
        w.line()
        w.line("/// Args whose last optargs were added after libguestfs 1.48: they decode when those are absent.")
        // Maps the type to the encoded size of its newest optargs in the sample.
        let tails = model.daemonActions.filter { $0.optargs.contains(where: \.notIn148) }.map { a in
            "\(Naming.literal("\(a.camelName)Args")): \(a.optargs.filter(\.notIn148).map { sampleOptSize($0.type) }.reduce(0, +))"
        }
        w.line("let typesWithOptionalTail: [String: Int] = [\(tails.joined(separator: ", "))]")
        return w.text
    }

    private func sampleArg(_ t: ArgType) -> String {
        switch t {
        case .stringList, .deviceList, .filenameList, .pathnameList: return "[\"/dev/sda\", \"caf\\u{e9} \", \"\"]"
        case .optString: return "\"opt\""
        case .bool: return "true"
        case .int: return "-7"
        case .int64: return "1 << 40 + 3"
        case .bufferIn: return "[0, 1, 2, 255, 128]"
        default: return "\"/dir/fil\\u{e9}\""
        }
    }

    private func sampleOpt(_ t: OptArgType) -> String {
        switch t {
        case .obool: return "true"
        case .oint: return "4096"
        case .oint64: return "-(1 << 33)"
        case .ostring: return "\"ext4\""
        case .ostringList: return "[\"a\", \"bc\"]"
        }
    }

    /// Encoded size of `sampleOpt(t)`.
    private func sampleOptSize(_ t: OptArgType) -> Int {
        switch t {
        case .obool, .oint: return 4
        case .oint64: return 8
        case .ostring: return 8            // "ext4"
        case .ostringList: return 4 + 8 + 8 // ["a", "bc"]
        }
    }

    private func sampleStruct(_ s: StructDef) -> String {
        let fields = s.fields.enumerated().map { i, f -> String in
            let v: String
            switch f.type {
            case .char: v = "UInt8(ascii: \"d\")"
            case .string, .device: v = "\"\(f.name)-\(i)\""
            case .uuid: v = "\"0123456789abcdef0123456789abcdef\""
            case .buffer: v = "[1, 2, 3]"
            case .int32: v = "-\(i + 1)"
            case .uint32: v = "\(i + 1)"
            case .int64, .bytes: v = "Int64(\(i)) << 33"
            case .uint64: v = "UInt64(\(i)) << 40"
            case .optPercent: v = "42.5"
            }
            return "\(Naming.swiftIdent(f: f.name)): \(v)"
        }
        return "\(s.camelName)(\(fields.joined(separator: ", ")))"
    }

    private func sampleRet(_ r: Ret) -> String {
        switch r.type {
        case .int: return "-3"
        case .int64: return "1 << 35"
        case .bool: return "true"
        case .string, .constString: return "\"result \\u{e9}\""
        case .constOptString: return "\"opt\""
        case .stringList, .hashtable: return "[\"k\", \"v\", \"k2\", \"\"]"
        case .bufferOut: return "[0, 0, 7, 255]"
        case .structure: return sampleStruct(model.structDef(r.structName!)!)
        case .structList:
            let s = sampleStruct(model.structDef(r.structName!)!)
            return "[\(s), \(s)]"
        case .err: return ""
        }
    }
}

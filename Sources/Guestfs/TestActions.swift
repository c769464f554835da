import Foundation
import GuestfsProtocol

// The bindings-test actions (internal_test*): they print what they got, or
// build return values from their string argument, like libguestfs's.
extension Guestfs {
    func testOutput(_ s: String) {
        if let fh = testOutputHandle {
            try? fh.write(contentsOf: Data(s.utf8))
        } else {
            FileHandle.standardOutput.write(Data(s.utf8))
        }
    }

    static func testStrings(_ l: [String]) -> String {
        "[" + l.map { "\"\($0)\"" }.joined(separator: ", ") + "]\n"
    }

    func impl_internal_test(_ str: String, _ optstr: String?, _ strlist: [String], _ b: Bool, _ integer: Int32,
                            _ integer64: Int64, _ filein: String, _ fileout: String, _ bufferin: [UInt8],
                            obool: Bool?, oint: Int32?, oint64: Int64?, ostring: String?, ostringlist: [String]?) throws {
        var s = "\(str)\n\(optstr ?? "null")\n"
        s += Guestfs.testStrings(strlist)
        s += b ? "true\n" : "false\n"
        s += "\(integer)\n\(integer64)\n\(filein)\n\(fileout)\n"
        s += bufferin.map { String(format: "<%02x>", $0) }.joined() + "\n"
        s += obool.map { $0 ? "true\n" : "false\n" } ?? "unset\n"
        s += oint.map { "\($0)\n" } ?? "unset\n"
        s += oint64.map { "\($0)\n" } ?? "unset\n"
        s += ostring.map { "\($0)\n" } ?? "unset\n"
        s += ostringlist.map(Guestfs.testStrings) ?? "unset\n"
        testOutput(s)
    }

    func impl_internal_test_only_optargs(test: Int32?) throws {
        testOutput(test.map { "\($0)\n" } ?? "unset\n")
    }

    func impl_internal_test_63_optargs(opt1: Int32?, opt2: Int32?, opt3: Int32?, opt4: Int32?, opt5: Int32?, opt6: Int32?, opt7: Int32?, opt8: Int32?, opt9: Int32?, opt10: Int32?, opt11: Int32?, opt12: Int32?, opt13: Int32?, opt14: Int32?, opt15: Int32?, opt16: Int32?, opt17: Int32?, opt18: Int32?, opt19: Int32?, opt20: Int32?, opt21: Int32?, opt22: Int32?, opt23: Int32?, opt24: Int32?, opt25: Int32?, opt26: Int32?, opt27: Int32?, opt28: Int32?, opt29: Int32?, opt30: Int32?, opt31: Int32?, opt32: Int32?, opt33: Int32?, opt34: Int32?, opt35: Int32?, opt36: Int32?, opt37: Int32?, opt38: Int32?, opt39: Int32?, opt40: Int32?, opt41: Int32?, opt42: Int32?, opt43: Int32?, opt44: Int32?, opt45: Int32?, opt46: Int32?, opt47: Int32?, opt48: Int32?, opt49: Int32?, opt50: Int32?, opt51: Int32?, opt52: Int32?, opt53: Int32?, opt54: Int32?, opt55: Int32?, opt56: Int32?, opt57: Int32?, opt58: Int32?, opt59: Int32?, opt60: Int32?, opt61: Int32?, opt62: Int32?, opt63: Int32?) throws {
        let all = [opt1, opt2, opt3, opt4, opt5, opt6, opt7, opt8, opt9, opt10, opt11, opt12, opt13, opt14, opt15, opt16,
                   opt17, opt18, opt19, opt20, opt21, opt22, opt23, opt24, opt25, opt26, opt27, opt28, opt29, opt30, opt31,
                   opt32, opt33, opt34, opt35, opt36, opt37, opt38, opt39, opt40, opt41, opt42, opt43, opt44, opt45, opt46,
                   opt47, opt48, opt49, opt50, opt51, opt52, opt53, opt54, opt55, opt56, opt57, opt58, opt59, opt60, opt61,
                   opt62, opt63]
        var s = ""
        for (i, v) in all.enumerated() { if let v { s += "opt\(i + 1): \(v)\n" } }
        testOutput(s)
    }

    func impl_internal_test_set_output(_ filename: String) throws {
        try? testOutputHandle?.close()
        testOutputHandle = nil
        guard FileManager.default.createFile(atPath: filename, contents: nil),
              let fh = FileHandle(forWritingAtPath: filename) else {
            let e = errno
            throw fail(e, "\(filename): \(errnoText(e))")
        }
        testOutputPath = filename
        testOutputHandle = fh
    }

    func impl_internal_test_close_output() throws {
        guard let fh = testOutputHandle else { throw fail(EINVAL, "no output file was set with internal_test_set_output") }
        try? fh.close()
        testOutputHandle = nil
        testOutputPath = nil
    }

    private func testError() -> GuestfsError { fail(0, "error") }

    private func testInt(_ val: String) throws -> Int64 {
        guard let v = Int64(val.trimmingCharacters(in: .whitespaces)) else { throw fail(EINVAL, "expecting int argument") }
        return v
    }

    private func testCount(_ val: String) throws -> Int {
        let n = try testInt(val)
        guard n >= 0 && n <= 1_000_000 else { throw fail(EINVAL, "count out of range") }
        return Int(n)
    }

    func impl_internal_test_rint(_ val: String) throws -> Int32 {
        guard let v = Int32(exactly: try testInt(val)) else { throw fail(ERANGE, "expecting int argument") }
        return v
    }
    func impl_internal_test_rinterr() throws -> Int32 { throw testError() }
    func impl_internal_test_rint64(_ val: String) throws -> Int64 { try testInt(val) }
    func impl_internal_test_rint64err() throws -> Int64 { throw testError() }
    func impl_internal_test_rbool(_ val: String) throws -> Bool { val == "true" }
    func impl_internal_test_rboolerr() throws -> Bool { throw testError() }
    func impl_internal_test_rconststring(_ val: String) throws -> String { "static string" }
    func impl_internal_test_rconststringerr() throws -> String { throw testError() }
    func impl_internal_test_rconstoptstring(_ val: String) throws -> String? { "static string" }
    func impl_internal_test_rconstoptstringerr() throws -> String? { nil }
    func impl_internal_test_rstring(_ val: String) throws -> String { val }
    func impl_internal_test_rstringerr() throws -> String { throw testError() }
    func impl_internal_test_rstringlist(_ val: String) throws -> [String] { (0..<(try testCount(val))).map(String.init) }
    func impl_internal_test_rstringlisterr() throws -> [String] { throw testError() }
    func impl_internal_test_rbufferout(_ val: String) throws -> [UInt8] { Array(val.utf8) }
    func impl_internal_test_rbufferouterr() throws -> [UInt8] { throw testError() }

    func impl_internal_test_rhashtable(_ val: String) throws -> [String: String] {
        var d: [String: String] = [:]
        for i in 0..<(try testCount(val)) { d[String(i)] = String(i) }
        return d
    }
    func impl_internal_test_rhashtableerr() throws -> [String: String] { throw testError() }

    static func testPV(_ s: String, _ n: Int64) -> PV {
        PV(pvName: s, pvUuid: "12345678901234567890123456789012", pvFmt: s, pvSize: n, devSize: n, pvFree: n, pvUsed: n,
           pvAttr: s, pvPeCount: n, pvPeAllocCount: n, pvTags: s, peStart: n, pvMdaCount: n, pvMdaFree: n)
    }

    func impl_internal_test_rstruct(_ val: String) throws -> PV { Guestfs.testPV(val, 0) }
    func impl_internal_test_rstructerr() throws -> PV { throw testError() }
    func impl_internal_test_rstructlist(_ val: String) throws -> [PV] {
        (0..<(try testCount(val))).map { Guestfs.testPV(String($0), Int64($0)) }
    }
    func impl_internal_test_rstructlisterr() throws -> [PV] { throw testError() }
}

/// Emits the `tests` of every action as data for the integration test
/// suite, which runs them against a real appliance. Each test is one JSON
/// line inside a plain array of strings: a big literal of nested enum
/// values took the type checker gigabytes; strings cost nothing.
///
/// Values are tagged arrays so types survive JSON: ["s", text], ["i", "12"],
/// ["b", true], ["n"], ["l", [values]], ["m", [[key, value], ...]].
struct TestDataEmitter {
    let model: Model

    func testDataFile() -> String {
        var w = CodeWriter(header: GeneratedHeader.swift("The tests of actions.yaml as data (one JSON test per line, read by ModelTestRunner)."))
        w.line("let generatedActionTestLines: [String] = [")
        w.indent { w in
            for a in model.actions.sorted(by: { $0.name < $1.name }) {
                for (i, t) in a.tests.enumerated() {
                    let run = "[" + t.run.map { "[" + $0.map(json).joined(separator: ",") + "]" }.joined(separator: ",") + "]"
                    let expect = "[" + t.expect.map { "[\(jsonString($0.0)),\(json($0.1))]" }.joined(separator: ",") + "]"
                    let line = "{\"action\":\(jsonString(a.name)),\"index\":\(i),\"prepare\":\(jsonString(t.prepare)),\"run\":\(run),\"expect\":\(expect)}"
                    w.line(rawLiteral(line) + ",")
                }
            }
        }
        w.line("]")
        return w.text
    }

    private func json(_ v: TestValue) -> String {
        switch v {
        case let .string(s): return "[\"s\",\(jsonString(s))]"
        case let .int(i): return "[\"i\",\"\(i)\"]"
        case let .bool(b): return "[\"b\",\(b)]"
        case .null: return "[\"n\"]"
        case let .list(l): return "[\"l\",[" + l.map(json).joined(separator: ",") + "]]"
        case let .map(m): return "[\"m\",[" + m.map { "[\(jsonString($0.0)),\(json($0.1))]" }.joined(separator: ",") + "]]"
        }
    }

    /// A raw string literal (#"..."#), with as many #s as the text needs;
    /// the JSON holds no newline, so one line each.
    private func rawLiteral(_ s: String) -> String {
        var hashes = "#"
        while s.contains("\"" + hashes) || s.contains("\\" + hashes) { hashes += "#" }
        return hashes + "\"" + s + "\"" + hashes
    }

    private func jsonString(_ s: String) -> String { Naming.jsonString(s) }
}

/// Emits the `tests` of every action as Swift data for the integration
/// test suite, which runs them against a real appliance.
struct TestDataEmitter {
    let model: Model

    func testDataFile() -> String {
        var w = CodeWriter(header: GeneratedHeader.swift("The tests of actions.yaml as data."))
        w.line("let generatedActionTests: [ModelTest] = [")
        w.indent { w in
            for a in model.actions.sorted(by: { $0.name < $1.name }) {
                for (i, t) in a.tests.enumerated() {
                    let run = t.run.map { "[" + $0.map(value).joined(separator: ", ") + "]" }.joined(separator: ", ")
                    let expect = t.expect.map { "(\(Naming.literal($0.0)), \(value($0.1)))" }.joined(separator: ", ")
                    w.line("ModelTest(action: \(Naming.literal(a.name)), index: \(i), prepare: \(Naming.literal(t.prepare)), run: [\(run)], expect: [\(expect)]),")
                }
            }
        }
        w.line("]")
        return w.text
    }

    private func value(_ v: TestValue) -> String {
        switch v {
        case let .string(s): return ".string(\(Naming.literal(s)))"
        case let .int(i): return ".int(\(i))"
        case let .bool(b): return ".bool(\(b))"
        case .null: return ".null"
        case let .list(l): return ".list([\(l.map(value).joined(separator: ", "))])"
        case let .map(m): return ".map([\(m.map { "(\(Naming.literal($0.0)), \(value($0.1)))" }.joined(separator: ", "))])"
        }
    }
}

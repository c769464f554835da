import XCTest
import Guestfs

/// Runs every `tests:` entry of actions.yaml against one real appliance.
/// GUESTFS_MODEL_TESTS=name1,name2 limits the run to some actions.
final class ModelActionTests: XCTestCase {
    func testActionsFromModel() throws {
        let only = ProcessInfo.processInfo.environment["GUESTFS_MODEL_TESTS"].map { Set($0.split(separator: ",").map(String.init)) }
        let tests = generatedActionTests.filter { only?.contains($0.action) ?? true }
        XCTAssertFalse(tests.isEmpty)
        var runner = try ModelTestRunner()
        defer { runner.close() }
        var passed = 0
        var failed: [String] = []
        for t in tests {
            do {
                try runner.run(t)
                passed += 1
            } catch {
                failed.append("\(error)")
                XCTFail("\(error)")
                // A test that killed the appliance must not take the rest down with it.
                if (try? runner.g.isReady()) != true {
                    runner.close()
                    runner = try ModelTestRunner()
                }
            }
        }
        print("model tests: \(passed) passed, \(failed.count) failed")
    }
}

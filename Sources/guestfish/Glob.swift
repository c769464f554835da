import Foundation
import Guestfs

/// `glob command args...`: guest-side wildcard expansion.
enum Glob {
    static func hasWildcard(_ s: String) -> Bool {
        s.contains("*") || s.contains("?") || s.contains("[")
    }

    static func matches(_ pattern: String, _ name: String) -> Bool {
        fnmatch(pattern, name, FNM_PERIOD) == 0
    }

    static func run(_ sh: Shell, _ cmd: String, _ args: [String]) throws {
        var lists: [[String]] = []
        for a in args {
            if a.hasPrefix("/") && hasWildcard(a) {
                let m = try expand(sh, a)
                lists.append(m.isEmpty ? [a] : m)
            } else {
                lists.append([a])
            }
        }
        var failed = false
        func go(_ i: Int, _ acc: [String]) throws {
            if i == lists.count {
                if !(try sh.runCommandReporting(cmd, acc)) { failed = true }
                return
            }
            for w in lists[i] { try go(i + 1, acc + [w]) }
        }
        try go(0, [])
        if failed { throw FishError("", silent: true) }
    }

    /// Guest paths matching pattern, sorted (devices for /dev/ patterns).
    static func expand(_ sh: Shell, _ pattern: String) throws -> [String] {
        if pattern.hasPrefix("/dev/") {
            var devs: [String] = []
            for action in ["list_devices", "list_partitions", "lvs"] {
                if let r = try? sh.call(action) { devs += sh.stringList(r) }
            }
            return devs.filter { fnmatch(pattern, $0, FNM_PATHNAME) == 0 }.sorted()
        }
        let comps = pattern.split(separator: "/").map(String.init)
        var current = [""]
        for c in comps {
            var next: [String] = []
            if hasWildcard(c) {
                for dir in current {
                    guard let r = try? sh.call("ls", [.string(dir.isEmpty ? "/" : dir)]) else { continue }
                    for name in sh.stringList(r) where matches(c, name) {
                        next.append(dir + "/" + name)
                    }
                }
            } else {
                next = current.map { $0 + "/" + c }
            }
            current = next
            if current.isEmpty { break }
        }
        if pattern.hasSuffix("/") {
            current = current.filter { (try? sh.bool(sh.call("is_dir", [.string($0)]))) ?? false }.map { $0 + "/" }
        } else {
            current = current.filter { (try? sh.bool(sh.call("exists", [.string($0)]))) ?? false }
        }
        return current.sorted()
    }
}

import CReadline
import Foundation
import Guestfs

/// Tab completion: command names for the first word, guest paths (when
/// the appliance runs) for words starting with '/', local files otherwise.
enum Completion {
    static var shell: Shell?
    static var guestPaths = true
    static var candidates: [String] = []
    static var next = 0

    static let commandNames: [String] = {
        var names = Set(Builtins.names + ["help", "quit", "exit", "q"])
        for info in ActionInfo.all where info.inGuestfish {
            for n in Shell.commandNames(info) { names.insert(n) }
        }
        return names.sorted()
    }()

    static func guestCandidates(_ text: String) -> [String] {
        guard guestPaths, let sh = shell, sh.g.state == .ready else { return [] }
        if text.hasPrefix("/dev/") {
            var devs: [String] = []
            for a in ["list_devices", "list_partitions", "lvs"] {
                if let r = try? sh.call(a) { devs += sh.stringList(r) }
            }
            return devs.filter { $0.hasPrefix(text) }.sorted()
        }
        let slash = text.lastIndex(of: "/")!
        let dir = String(text[...slash])
        let prefix = String(text[text.index(after: slash)...])
        let listDir = dir.count > 1 ? String(dir.dropLast()) : "/"
        var out: [String] = []
        if case let .structList(entries)? = try? sh.call("readdir", [.string(listDir)]) {
            for e in entries {
                guard case let .string(name)? = e.first(where: { $0.name == "name" })?.value,
                      name != ".", name != "..", name.hasPrefix(prefix) else { continue }
                var isDir = false
                if case let .char(c)? = e.first(where: { $0.name == "ftyp" })?.value { isDir = c == UInt8(ascii: "d") }
                out.append(dir + name + (isDir ? "/" : ""))
            }
        } else if let r = try? sh.call("ls", [.string(listDir)]) {
            out = sh.stringList(r).filter { $0.hasPrefix(prefix) }.map { dir + $0 }
        }
        return out.sorted()
    }

    /// The words for a completion request, or nil for local file names.
    static func complete(_ text: String, start: Int) -> [String]? {
        let line = rl_line_buffer.map { String(cString: $0) } ?? ""
        let before = String(line.utf8.prefix(start)) ?? ""
        var head = before.trimmingCharacters(in: .whitespaces)
        if head.hasPrefix("-") { head = String(head.dropFirst()).trimmingCharacters(in: .whitespaces) }
        if head.isEmpty {
            return commandNames.filter { $0.hasPrefix(text) }
        }
        if head == "help" || head == "time" || head == "glob" || head == "not" {
            return commandNames.filter { $0.hasPrefix(text) }
        }
        if text.hasPrefix("/") && shell?.g.state == .ready && guestPaths {
            return guestCandidates(text)
        }
        return nil
    }
}

private let generator: @convention(c) (UnsafePointer<CChar>?, Int32) -> UnsafeMutablePointer<CChar>? = { _, state in
    if state == 0 { Completion.next = 0 }
    guard Completion.next < Completion.candidates.count else { return nil }
    let s = Completion.candidates[Completion.next]
    Completion.next += 1
    return strdup(s)
}

private let attempted: @convention(c) (UnsafePointer<CChar>?, Int32, Int32) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = { text, start, _ in
    let t = text.map { String(cString: $0) } ?? ""
    guard let c = Completion.complete(t, start: Int(start)) else {
        return nil // readline falls back to local file names
    }
    rl_attempted_completion_over = 1
    Completion.candidates = c
    rl_completion_append_character = c.count == 1 && c[0].hasSuffix("/") ? 0 : 32
    return rl_completion_matches(text, generator)
}

enum Interactive {
    static let prompt = "><fs> "

    static var historyFile: String? {
        guard let home = ProcessInfo.processInfo.environment["HOME"], !home.isEmpty else { return nil }
        return home + "/.guestfish"
    }

    static func banner() {
        Out.write("""

        Welcome to guestfish, the guest filesystem shell for reading and
        changing virtual machine disk images.

        Type: 'help' for a list of commands
              'man' to read the manual
              'quit' to leave the shell


        """)
    }

    /// The read-eval loop. Errors do not end an interactive session, nor
    /// make its exit status non-zero.
    static func run(_ sh: Shell) -> Bool {
        Completion.shell = sh
        rl_readline_name = UnsafePointer(strdup("guestfish"))
        rl_attempted_completion_function = attempted
        rl_basic_word_break_characters = UnsafePointer(strdup(" \t\n\"'"))
        using_history()
        stifle_history(500)
        if let h = historyFile { read_history(h) }
        banner()
        if let report = sh.inspectorReport { Out.write(report + "\n") }
        var lastOK = true
        var lastLine = ""
        while true {
            guard let cline = readline(prompt) else {
                Out.write("\n")
                break
            }
            let line = String(cString: cline)
            free(cline)
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if !trimmed.isEmpty && trimmed != lastLine {
                add_history(line)
                lastLine = trimmed
            }
            sh.lineNo += 1
            do {
                lastOK = try sh.runLine(line)
            } catch is QuitRequest {
                break
            } catch {
                sh.report(error)
                lastOK = false
            }
        }
        if let h = historyFile { write_history(h) }
        _ = lastOK
        return true
    }
}

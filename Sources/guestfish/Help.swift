import Foundation
import Guestfs

enum Help {
    /// The usage line of an action command, as guestfish takes it: key
    /// arguments are not on the command line (guestfish asks for them).
    static func actionUsage(_ info: ActionInfo) -> String {
        let display = info.name.replacingOccurrences(of: "_", with: "-")
        let keys = Set(info.args.filter { $0.kind == .key }.map(\.name))
        guard let h = actionHelp[info.name] else {
            let parts = [display] + info.args.filter { $0.kind != .key }.map(\.name)
                + info.optargs.map { "[\($0.name):..]" }
            return parts.joined(separator: " ")
        }
        if keys.isEmpty { return h.usage }
        var words = h.usage.split(separator: " ").map(String.init)
        if !words.isEmpty {
            let head = words.removeFirst()
            words = [head] + words.filter { !keys.contains($0) }
        }
        return words.joined(separator: " ")
    }

    /// First sentence of a summary, lower-cased start and no final dot, to
    /// fit the one-line command list.
    static func shortSummary(_ s: String) -> String {
        var t = s
        if let r = t.range(of: ". ") { t = String(t[..<r.lowerBound]) }
        if t.hasSuffix(".") { t.removeLast() }
        if let f = t.first, f.isUppercase, t.dropFirst().first?.isLowercase ?? true {
            t = f.lowercased() + t.dropFirst()
        }
        return t
    }

    /// All commands with a one-line description (`-h`, `help -l`).
    static func listCommands() {
        var rows: [(String, String)] = []
        rows.append(("help", "display a list of commands or help on a command"))
        rows.append(("quit", "quit guestfish"))
        var entries: [(String, String)] = []
        for b in Builtins.all where b.listed {
            entries.append((b.name, b.summary))
            for a in b.aliases { entries.append((a, "alias for '\(b.name)'")) }
        }
        // A builtin of the same name (copy-in, copy-out) is what runs: list it once.
        let builtinNames = Set(entries.map(\.0))
        for info in ActionInfo.all where info.inGuestfish {
            let name = info.name.replacingOccurrences(of: "_", with: "-")
            if builtinNames.contains(name) { continue }
            var summary = shortSummary(info.summary)
            if info.deprecatedBy != nil { summary = "(deprecated) " + summary }
            entries.append((name, summary))
            for a in info.fishAliases + info.aliases.map({ $0.replacingOccurrences(of: "_", with: "-") }) {
                entries.append((a, "alias for '\(name)'"))
            }
        }
        entries.sort { $0.0 < $1.0 }
        rows += entries
        var s = "    Command              Description\n"
        let width = max(0, ProgressBar.columnsForText - 22)
        for (n, d) in rows {
            let pad = n.count < 20 ? String(repeating: " ", count: 20 - n.count) : " "
            var desc = d
            if width > 10 && desc.count > width { desc = String(desc.prefix(width - 3)) + "..." }
            s += n + pad + " " + desc + "\n"
        }
        s += "    Use -h <cmd> / help <cmd> to show detailed help for a command.\n"
        Out.write(s)
    }

    /// `help` with no arguments.
    static func intro() {
        Out.write("""
        Add disk images with the '-a' option or the 'add' command, or create new
        ones with '-N', 'alloc' or 'sparse'; then start the appliance with 'run'.

        'help -l' lists every command; 'help CMD' explains one.

        'man' shows the manual page.

        """)
    }

    static func indent(_ text: String, _ n: Int) -> String {
        let pad = String(repeating: " ", count: n)
        return text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.isEmpty ? "" : pad + $0 }.joined(separator: "\n")
    }

    /// `help CMD` / `-h CMD`; returns false for an unknown command.
    @discardableResult
    static func showCommand(_ cmd: String) -> Bool {
        if cmd == "help" {
            Out.write("NAME\n    help - display a list of commands or help on a command\n\nSYNOPSIS\n     help cmd\n     help\n\n")
            return true
        }
        if ["quit", "exit", "q"].contains(cmd) {
            Out.write("NAME\n    quit - quit guestfish\n\nSYNOPSIS\n     quit\n\n")
            return true
        }
        if let b = Builtins.find(cmd) {
            var s = "NAME\n    \(b.name) - \(b.summary)\n\nSYNOPSIS\n"
            for u in b.usages { s += "     \(u)\n" }
            s += "\nDESCRIPTION\n" + indent(b.help, 4) + "\n\n"
            if !b.aliases.isEmpty {
                s += "    You can use \(b.aliases.map { "'\($0)'" }.joined(separator: " or ")) as an alias for this command.\n\n"
            }
            Out.write(s)
            return true
        }
        if let info = Shell.findAction(cmd) {
            let display = info.name.replacingOccurrences(of: "_", with: "-")
            var s = "NAME\n    \(display) - \(shortSummary(info.summary))\n\nSYNOPSIS\n     \(actionUsage(info))\n\n"
            let desc = actionHelp[info.name]?.description ?? info.summary
            s += "DESCRIPTION\n" + indent(desc, 4) + "\n\n"
            if info.args.contains(where: { $0.kind == .key }) {
                s += "    This command has one or more key or passphrase parameters. guestfish\n"
                s += "    asks for them on the terminal (or reads them from stdin with\n"
                s += "    --keys-from-stdin) instead of taking them on the command line.\n\n"
            }
            Out.write(s)
            return true
        }
        Out.errLine("\(cmd): command not known: use -h to list all commands")
        return false
    }
}

extension ProgressBar {
    static var columnsForText: Int {
        isatty(1) != 0 ? columns : 80
    }
}

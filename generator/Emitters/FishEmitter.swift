import Foundation

/// Emits guestfish's help texts: for every action usable from the shell,
/// its usage line (dashes, optional args as name:value) and its description.
struct FishEmitter {
    let model: Model

    func helpFile() -> String {
        var w = CodeWriter(header: GeneratedHeader.swift("guestfish help text for every action command."))
        w.line("/// Usage line and description of each action command, by action name.")
        w.line("let actionHelp: [String: (usage: String, description: String)] = [")
        w.indent { w in
            for a in model.actions.sorted(by: { $0.name < $1.name }) where a.flags.inGuestfish {
                let fishName = a.name.replacingOccurrences(of: "_", with: "-")
                // guestfish asks for keys at a prompt, so they are not part of the usage.
                var usage = ([fishName] + a.args.filter { $0.type != .key }.map { $0.name }).joined(separator: " ")
                if !a.optargs.isEmpty { usage += " [" + a.optargs.map { "\($0.name):\($0.type == .obool ? "true|false" : "..")" }.joined(separator: "] [") + "]" }
                var text = PODText.plain(a.doc).trimmingCharacters(in: .whitespacesAndNewlines)
                if let d = a.flags.deprecatedBy {
                    text += d == "no_replacement" ? "\n\nThis command is deprecated." : "\n\nThis command is deprecated; use '\(d.replacingOccurrences(of: "_", with: "-"))' instead."
                }
                if let g = a.flags.optionalGroup { text += "\n\nIt belongs to the optional group '\(g)' (see 'supported')." }
                if !a.flags.fishAlias.isEmpty { text += "\n\nYou can use '\(a.flags.fishAlias.joined(separator: "' or '"))' as an alias for this command." }
                w.line("\(Naming.literal(a.name)): (\(Naming.literal(usage)), \(Naming.literal(text))),")
            }
        }
        w.line("]")
        return w.text
    }
}

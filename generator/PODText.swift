import Foundation

/// Converts the POD-style markup of model docs for other targets.
enum PODText {
    /// DocC/Markdown: C<x> -> `x`, I<x> -> *x*, B<x> -> **x**, L<x> -> x.
    static func markdown(_ pod: String) -> String {
        var out = ""
        var i = pod.startIndex
        var stack: [String] = []
        while i < pod.endIndex {
            let c = pod[i]
            let next = pod.index(after: i)
            if "CIBLFE".contains(c), next < pod.endIndex, pod[next] == "<" {
                let close: String
                switch c {
                case "C": close = "`"; out += "`"
                case "I", "F": close = "*"; out += "*"
                case "B": close = "**"; out += "**"
                case "E": close = "E>"
                default: close = ""
                }
                stack.append(close)
                i = pod.index(after: next)
                continue
            }
            if c == ">", let close = stack.popLast() {
                if close == "E>" {
                    // E<lt>, E<gt>: minimal entity support.
                    if out.hasSuffix("lt") { out.removeLast(2); out += "<" } else if out.hasSuffix("gt") { out.removeLast(2); out += ">" }
                } else {
                    out += close
                }
                i = next
                continue
            }
            out.append(c)
            i = next
        }
        return out
    }

    /// Plain text (no markup), for one-line summaries.
    static func plain(_ pod: String) -> String {
        markdown(pod).replacingOccurrences(of: "`", with: "").replacingOccurrences(of: "**", with: "").replacingOccurrences(of: "*", with: "")
    }

    /// The first sentence of a doc, for summaries.
    static func summary(_ pod: String) -> String {
        let flat = plain(pod).split(whereSeparator: \.isNewline).joined(separator: " ")
        if let r = flat.range(of: ". ") { return String(flat[..<r.lowerBound]) + "." }
        return flat.trimmingCharacters(in: .whitespaces)
    }

    /// Lines of a `///` comment block.
    static func docComment(_ pod: String) -> [String] {
        markdown(pod).trimmingCharacters(in: .whitespacesAndNewlines)
            .split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.isEmpty ? "///" : "/// \($0)" }
    }
}

// A small indenting XML writer producing the layout libxml2's text writer
// gives virt-inspector's output: two-space indent, text elements on one
// line, empty elements self-closed.

struct XMLWriter {
    private(set) var text = "<?xml version=\"1.0\"?>\n"
    private var stack: [(name: String, hasChildren: Bool)] = []
    private var openTagPending = false

    private var indent: String { String(repeating: "  ", count: stack.count) }

    private mutating func closePendingTag(newline: Bool) {
        if openTagPending {
            text += ">"
            if newline { text += "\n" }
            openTagPending = false
        }
    }

    mutating func start(_ name: String, attributes: [(String, String)] = []) {
        closePendingTag(newline: true)
        if !stack.isEmpty { stack[stack.count - 1].hasChildren = true }
        text += indent + "<" + name
        for (k, v) in attributes { text += " \(k)=\"\(XMLWriter.escape(v, attribute: true))\"" }
        stack.append((name, false))
        openTagPending = true
    }

    mutating func end() {
        let top = stack.removeLast()
        if openTagPending {
            text += "/>\n"
            openTagPending = false
        } else if top.hasChildren {
            text += indent + "</\(top.name)>\n"
        } else {
            text += "</\(top.name)>\n"
        }
    }

    /// Text content: the element stays on one line.
    mutating func string(_ s: String) {
        closePendingTag(newline: false)
        text += XMLWriter.escape(s, attribute: false)
    }

    mutating func element(_ name: String, _ value: String, attributes: [(String, String)] = []) {
        start(name, attributes: attributes)
        string(value)
        end()
    }

    static func escape(_ s: String, attribute: Bool) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"" where attribute: out += "&quot;"
            case "\r": out += "&#13;"
            default: out.append(c)
            }
        }
        return out
    }
}

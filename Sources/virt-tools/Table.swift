// Output helpers the listing tools share: libguestfs-style human sizes,
// CSV fields and aligned text tables.

import Foundation

enum HumanSize {
    static let letters: [Character] = ["K", "M", "G", "T", "P", "E", "Z", "Y"]

    /// `bytes` in powers of 1024 with one letter (30M, 1.5G, 512), rounded
    /// to nearest; one decimal below 10 units — as libguestfs's tools print.
    static func format(_ bytes: UInt64) -> String {
        if bytes < 1024 { return String(bytes) }
        var v = Double(bytes)
        var unit = -1
        while v >= 1024 && unit < letters.count - 1 { v /= 1024; unit += 1 }
        if v < 10 {
            let tenths = (v * 10).rounded()
            if tenths < 100 { return String(format: "%.1f", tenths / 10) + String(letters[unit]) }
            return "10" + String(letters[unit])
        }
        let whole = v.rounded()
        if whole >= 1024 && unit < letters.count - 1 { return "1.0" + String(letters[unit + 1]) }
        return String(Int(whole)) + String(letters[unit])
    }

    /// `count` blocks of `blockSize` bytes.
    static func format(blocks count: Int64, blockSize: Int64) -> String {
        format(UInt64(max(0, count)) &* UInt64(max(0, blockSize)))
    }
}

enum CSV {
    /// A field quoted when it holds a space, quote, comma or newline.
    static func field(_ s: String) -> String {
        guard s.contains(where: { $0 == " " || $0 == "\"" || $0 == "," || $0 == "\n" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func row(_ fields: [String?]) -> String {
        fields.map { $0.map(field) ?? "" }.joined(separator: ",")
    }
}

/// Rows collected, then printed with every column as wide as its widest
/// cell; empty cells show "-".
struct TextTable {
    /// Columns a full table has (libguestfs counts them all when choosing
    /// the gap, shown or not).
    var totalColumns: Int
    var rows: [[String?]] = []

    init(totalColumns: Int) { self.totalColumns = totalColumns }

    mutating func add(_ row: [String?]) { rows.append(row) }

    func render() -> String {
        let n = rows.map(\.count).max() ?? 0
        var widths = [Int](repeating: 0, count: n)
        for r in rows {
            for (i, c) in r.enumerated() {
                guard let c else { continue }
                widths[i] = max(widths[i], max(1, c.count))
            }
        }
        // Two spaces between columns unless that passes 72 characters.
        var gap = 2
        if widths.reduce(0, +) + totalColumns * gap > 72 { gap = 1 }
        var out = ""
        for r in rows {
            var pad = 0
            for i in 0..<n where widths[i] > 0 {
                out += String(repeating: " ", count: pad)
                let c = (i < r.count ? r[i] : nil).flatMap { $0.isEmpty ? nil : $0 } ?? "-"
                out += c
                pad = widths[i] - c.count + gap
            }
            out += "\n"
        }
        return out
    }
}

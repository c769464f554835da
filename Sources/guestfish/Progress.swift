import Foundation
import Guestfs

/// A text progress bar drawn on stderr from the library's progress events
/// during long-running calls (upload, download, fill, ...).
final class ProgressBar {
    private var drawn = false
    /// Set between reset() and finish(): late events (after the call
    /// returned) must not redraw a bar.
    private var active = false
    private var start = Date()
    private var spin = 0
    private var lastDraw = Date.distantPast
    private let enabled: () -> Bool

    init(handle: Guestfs, enabled: @escaping () -> Bool) {
        self.enabled = enabled
        handle.setEventCallback(events: .progress) { [weak self] _, _, _, array in
            guard let self, array.count >= 4 else { return }
            self.update(position: array[2], total: array[3])
        }
    }

    func reset() {
        drawn = false
        active = true
        start = Date()
        spin = 0
        lastDraw = .distantPast
    }

    static var columns: Int {
        var ws = winsize()
        if ioctl(2, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 20 { return Int(ws.ws_col) }
        if let c = ProcessInfo.processInfo.environment["COLUMNS"], let n = Int(c), n > 20 { return n }
        return 80
    }

    func update(position: UInt64, total: UInt64) {
        guard active, enabled() else { return }
        let now = Date()
        // The first event only says the call started; redraw at most 10x/s.
        if !drawn && position == 0 { start = now }
        if position < total && now.timeIntervalSince(lastDraw) < 0.1 { return }
        lastDraw = now
        drawn = true
        let width = ProgressBar.columns
        let spinner = ["/", "-", "\\", "|"]
        spin = (spin + 1) % 4
        var line = ""
        let elapsed = now.timeIntervalSince(start)
        if total == 0 {
            // Total unknown: a spinner and the amount done so far.
            let mib = Double(position) / 1048576
            line = "\(spinner[spin]) " + String(format: "%.1f MiB", mib) + String(repeating: " ", count: 8)
        } else {
            // Known total: [#####.....]  45% 00:03 (time left).
            let frac = min(1.0, Double(position) / Double(total))
            let pct = Int(frac * 100)
            let barWidth = max(10, width - 18)
            let filled = min(barWidth, Int(frac * Double(barWidth)))
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: barWidth - filled)
            var eta = "--:--"
            if position >= total {
                let e = Int(elapsed)
                eta = String(format: "%02d:%02d", e / 60, e % 60)
            } else if frac > 0 && elapsed > 0.5 {
                let remain = Int((elapsed / frac - elapsed).rounded())
                eta = String(format: "%02d:%02d", remain / 60, remain % 60)
            }
            line = "[" + bar + "]" + String(format: " %3d%% ", pct) + eta
        }
        Out.err("\r" + line)
    }

    /// Ends the bar's line if one was drawn.
    func finish() {
        active = false
        if drawn {
            Out.err("\n")
            drawn = false
        }
    }
}

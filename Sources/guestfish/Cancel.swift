import Foundation
import Guestfs

/// The write end of the self-pipe the SIGINT handler writes to. Set once,
/// before the handler is first installed; the handler only reads it.
nonisolated(unsafe) private var interruptPipeWrite: Int32 = -1

/// Ctrl-C while a command runs cancels the file transfer in progress (like
/// libguestfs's guestfish): the SIGINT handler only writes a byte to a pipe
/// (async-signal-safe); a dedicated thread reads it and calls user_cancel,
/// which takes locks and allocates, so is not itself signal-safe. Outside
/// commands SIGINT keeps its previous disposition (readline's handling at
/// the prompt, the default elsewhere).
enum Interrupt {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var target: Guestfs?
    nonisolated(unsafe) private static var started = false
    nonisolated(unsafe) private static var depth = 0
    nonisolated(unsafe) private static var saved = sigaction()

    private static func start() {
        if started { return }
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        _ = fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK)
        interruptPipeWrite = fds[1]
        started = true
        let readFD = fds[0]
        let t = Thread {
            var buf = [UInt8](repeating: 0, count: 64)
            while true {
                let n = read(readFD, &buf, buf.count)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return }
                lock.lock()
                let g = target
                lock.unlock()
                try? g?.userCancel()
            }
        }
        t.name = "guestfish-sigint"
        t.start()
    }

    /// Runs `body` with Ctrl-C cancelling `g`'s transfers.
    static func during<T>(_ g: Guestfs, _ body: () throws -> T) rethrows -> T {
        start()
        guard started else { return try body() }
        lock.lock()
        let prev = target
        target = g
        lock.unlock()
        depth += 1
        if depth == 1 {
            var sa = sigaction()
            sa.__sigaction_handler.sa_handler = { _ in
                let saved = errno
                var b: UInt8 = 1
                _ = write(interruptPipeWrite, &b, 1)
                errno = saved
            }
            sigemptyset(&sa.sa_mask)
            sa.sa_flags = SA_RESTART
            sigaction(SIGINT, &sa, &saved)
        }
        defer {
            depth -= 1
            if depth == 0 { sigaction(SIGINT, &saved, nil) }
            lock.lock()
            target = prev
            lock.unlock()
        }
        return try body()
    }
}

import Foundation

/// Local programs: `!cmd`, `<! cmd`, pipelines, editors, pagers, tar.
enum Subprocess {
    /// Runs a program (searching PATH when `path` has no slash) with
    /// inherited stdio; returns its exit status (128+signal, 127 if it
    /// could not be started).
    @discardableResult
    static func run(_ path: String, _ args: [String], environment: [String: String]? = nil,
                    stdin: FileHandle? = nil, stdout: FileHandle? = nil) -> Int32 {
        let p = Process()
        if path.contains("/") {
            p.executableURL = URL(fileURLWithPath: path)
            p.arguments = args
        } else {
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-c", "exec \"$0\" \"$@\"", path] + args
        }
        if let environment { p.environment = environment }
        if let stdin { p.standardInput = stdin }
        if let stdout { p.standardOutput = stdout }
        do {
            try p.run()
        } catch {
            return 127
        }
        p.waitUntilExit()
        return p.terminationReason == .uncaughtSignal ? 128 + p.terminationStatus : p.terminationStatus
    }

    /// `/bin/sh -c command`.
    @discardableResult
    static func shell(_ command: String) -> Int32 {
        run("/bin/sh", ["-c", command])
    }

    /// Runs `/bin/sh -c command` and returns its status and standard output.
    static func capture(_ command: String) -> (Int32, String)? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", command]
        let pipe = Pipe()
        p.standardOutput = pipe
        do { try p.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

/// Sends file descriptor 1 into `/bin/sh -c pipeline` until `finish`.
final class StdoutRedirect {
    let process = Process()
    let pipe = Pipe()
    let savedStdout: Int32

    init(pipeline: String) throws {
        Out.flush()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", pipeline]
        process.standardInput = pipe
        try process.run()
        savedStdout = dup(1)
        dup2(pipe.fileHandleForWriting.fileDescriptor, 1)
        // The shell must not see our end of the pipe as its own input.
        signal(SIGPIPE, SIG_IGN)
    }

    /// Restores stdout, closes the pipeline's input and waits for it.
    func finish() -> Int32 {
        Out.flush()
        dup2(savedStdout, 1)
        close(savedStdout)
        try? pipe.fileHandleForWriting.close()
        process.waitUntilExit()
        return process.terminationStatus
    }
}

// checksum / checksums_out through the coreutils checksum programs.

import Glibc

extension Handlers {
    static func checksumProgram(_ csumtype: String) throws -> String {
        switch csumtype.lowercased() {
        case "crc": return "cksum"
        case "md5": return "md5sum"
        case "sha1": return "sha1sum"
        case "sha224": return "sha224sum"
        case "sha256": return "sha256sum"
        case "sha384": return "sha384sum"
        case "sha512": return "sha512sum"
        case "blake2", "b2": return "b2sum"
        default: throw DaemonError(EINVAL, "checksum: \(csumtype): unknown checksum type (expecting crc, md5, sha1, sha224, sha256, sha384, sha512 or blake2)")
        }
    }

    func checksum(_ ctx: CallContext, csumtype: String, path: String) throws -> String {
        let prog = try Handlers.checksumProgram(csumtype)
        let host = try ctx.sysroot.hostPath(path, op: "open")
        if Sys.isDirectory(host) { throw DaemonError(EISDIR, "checksum: \(path): Is a directory") }
        let out = try Command.output([prog, "--", host])
        guard let first = out.split(separator: " ").first else {
            throw DaemonError(message: "\(prog): no output")
        }
        return String(first).trimmed()
    }

    func checksumsOut(_ ctx: CallContext, csumtype: String, directory: String) throws {
        let prog = try Handlers.checksumProgram(csumtype)
        let host = try ctx.sysroot.hostPath(directory, op: "checksums_out")
        if !Sys.isDirectory(host) { throw DaemonError(ENOTDIR, "checksums_out: \(directory): Not a directory") }
        try streamCommand(ctx, ["sh", "-c", "cd \"$1\" && find . -type f -print0 | xargs -0 -r \"$2\" --", "sh", host, prog])
    }
}

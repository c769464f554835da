// Errors that become error replies: an errno (sent by name) and a message.

import Glibc

public struct DaemonError: Error, CustomStringConvertible {
    /// The C errno, or 0 when the failure has none (a program's exit status).
    public var errno: Int32
    public var message: String

    public init(_ errno: Int32, _ message: String) {
        self.errno = errno
        self.message = message
    }

    /// A failure with no errno.
    public init(message: String) {
        self.errno = 0
        self.message = message
    }

    public var description: String { message }

    /// "op: path: strerror" from the current (or given) errno, like perror.
    static func posix(_ op: String, _ what: String? = nil, errno e: Int32 = Glibc.errno) -> DaemonError {
        if let what { return DaemonError(e, "\(op): \(what): \(Sys.strerror(e))") }
        return DaemonError(e, "\(op): \(Sys.strerror(e))")
    }

    static func invalid(_ message: String) -> DaemonError { DaemonError(EINVAL, message) }

    static func unknownProcedure(_ p: UInt32) -> DaemonError {
        DaemonError(ENOTSUP, "unknown procedure number \(p) (this daemon does not implement it; the library may be newer than the appliance)")
    }

    var errnoName: String { ErrnoNames.name(errno) }
}

enum ErrnoNames {
    static func name(_ e: Int32) -> String {
        if e == 0 { return "" }
        if let n = table[e] { return n }
        return ""
    }

    static let table: [Int32: String] = [
        EPERM: "EPERM", ENOENT: "ENOENT", ESRCH: "ESRCH", EINTR: "EINTR", EIO: "EIO",
        ENXIO: "ENXIO", E2BIG: "E2BIG", ENOEXEC: "ENOEXEC", EBADF: "EBADF", ECHILD: "ECHILD",
        EAGAIN: "EAGAIN", ENOMEM: "ENOMEM", EACCES: "EACCES", EFAULT: "EFAULT",
        ENOTBLK: "ENOTBLK", EBUSY: "EBUSY", EEXIST: "EEXIST", EXDEV: "EXDEV", ENODEV: "ENODEV",
        ENOTDIR: "ENOTDIR", EISDIR: "EISDIR", EINVAL: "EINVAL", ENFILE: "ENFILE",
        EMFILE: "EMFILE", ENOTTY: "ENOTTY", ETXTBSY: "ETXTBSY", EFBIG: "EFBIG",
        ENOSPC: "ENOSPC", ESPIPE: "ESPIPE", EROFS: "EROFS", EMLINK: "EMLINK", EPIPE: "EPIPE",
        EDOM: "EDOM", ERANGE: "ERANGE", EDEADLK: "EDEADLK", ENAMETOOLONG: "ENAMETOOLONG",
        ENOLCK: "ENOLCK", ENOSYS: "ENOSYS", ENOTEMPTY: "ENOTEMPTY", ELOOP: "ELOOP",
        ENOMSG: "ENOMSG", ENODATA: "ENODATA", ETIME: "ETIME", EOVERFLOW: "EOVERFLOW",
        EILSEQ: "EILSEQ", ENOTSUP: "ENOTSUP", ETIMEDOUT: "ETIMEDOUT",
        ECONNREFUSED: "ECONNREFUSED", ENOTCONN: "ENOTCONN", EDQUOT: "EDQUOT",
        ECANCELED: "ECANCELED", ESTALE: "ESTALE", ENOMEDIUM: "ENOMEDIUM",
        EMEDIUMTYPE: "EMEDIUMTYPE", ENOTSOCK: "ENOTSOCK", EADDRINUSE: "EADDRINUSE",
        ENETUNREACH: "ENETUNREACH", EHOSTUNREACH: "EHOSTUNREACH", EALREADY: "EALREADY",
        EINPROGRESS: "EINPROGRESS", EUCLEAN: "EUCLEAN", EKEYREJECTED: "EKEYREJECTED",
    ]
}

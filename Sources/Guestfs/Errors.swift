#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An error from a libguestfs call: the errno (0 when the failure has no
/// particular errno), its symbolic name and the message, which, as in
/// libguestfs, usually starts with the action name ("mount: ...").
public struct GuestfsError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The errno value (Linux numbering), or 0.
    public var errno: Int32
    /// The errno's symbolic name ("ENOENT"), or "" when there is none. A
    /// name the daemon sent that is unknown here is kept with errno 0.
    public var errnoName: String
    /// The full message, libguestfs style: "NAME: what went wrong".
    public var message: String

    public init(errno: Int32 = 0, _ message: String) {
        self.errno = errno
        self.errnoName = errno == 0 ? "" : Errno.name(of: errno) ?? ""
        self.message = message
    }

    public init(errnoName: String, _ message: String) {
        self.errnoName = errnoName
        self.errno = Errno.value(of: errnoName) ?? 0
        self.message = message
    }

    /// `callAction` with a name that is neither an action nor an alias.
    public static func unknownAction(_ name: String) -> GuestfsError {
        GuestfsError(errno: ENOENT, "\(name): unknown action")
    }

    public var description: String {
        message
    }
}

/// Linux errno names and values, used to carry errors across the wire
/// (the daemon sends the name, so the number is right whatever the host).
public enum Errno {
    static let table: [(String, Int32)] = [
        ("EPERM", 1), ("ENOENT", 2), ("ESRCH", 3), ("EINTR", 4), ("EIO", 5), ("ENXIO", 6), ("E2BIG", 7),
        ("ENOEXEC", 8), ("EBADF", 9), ("ECHILD", 10), ("EAGAIN", 11), ("ENOMEM", 12), ("EACCES", 13),
        ("EFAULT", 14), ("ENOTBLK", 15), ("EBUSY", 16), ("EEXIST", 17), ("EXDEV", 18), ("ENODEV", 19),
        ("ENOTDIR", 20), ("EISDIR", 21), ("EINVAL", 22), ("ENFILE", 23), ("EMFILE", 24), ("ENOTTY", 25),
        ("ETXTBSY", 26), ("EFBIG", 27), ("ENOSPC", 28), ("ESPIPE", 29), ("EROFS", 30), ("EMLINK", 31),
        ("EPIPE", 32), ("EDOM", 33), ("ERANGE", 34), ("EDEADLK", 35), ("ENAMETOOLONG", 36), ("ENOLCK", 37),
        ("ENOSYS", 38), ("ENOTEMPTY", 39), ("ELOOP", 40), ("ENOMSG", 42), ("EIDRM", 43), ("ECHRNG", 44),
        ("EL2NSYNC", 45), ("EL3HLT", 46), ("EL3RST", 47), ("ELNRNG", 48), ("EUNATCH", 49), ("ENOCSI", 50),
        ("EL2HLT", 51), ("EBADE", 52), ("EBADR", 53), ("EXFULL", 54), ("ENOANO", 55), ("EBADRQC", 56),
        ("EBADSLT", 57), ("EBFONT", 59), ("ENOSTR", 60), ("ENODATA", 61), ("ETIME", 62), ("ENOSR", 63),
        ("ENONET", 64), ("ENOPKG", 65), ("EREMOTE", 66), ("ENOLINK", 67), ("EADV", 68), ("ESRMNT", 69),
        ("ECOMM", 70), ("EPROTO", 71), ("EMULTIHOP", 72), ("EDOTDOT", 73), ("EBADMSG", 74), ("EOVERFLOW", 75),
        ("ENOTUNIQ", 76), ("EBADFD", 77), ("EREMCHG", 78), ("ELIBACC", 79), ("ELIBBAD", 80), ("ELIBSCN", 81),
        ("ELIBMAX", 82), ("ELIBEXEC", 83), ("EILSEQ", 84), ("ERESTART", 85), ("ESTRPIPE", 86), ("EUSERS", 87),
        ("ENOTSOCK", 88), ("EDESTADDRREQ", 89), ("EMSGSIZE", 90), ("EPROTOTYPE", 91), ("ENOPROTOOPT", 92),
        ("EPROTONOSUPPORT", 93), ("ESOCKTNOSUPPORT", 94), ("ENOTSUP", 95), ("EPFNOSUPPORT", 96),
        ("EAFNOSUPPORT", 97), ("EADDRINUSE", 98), ("EADDRNOTAVAIL", 99), ("ENETDOWN", 100), ("ENETUNREACH", 101),
        ("ENETRESET", 102), ("ECONNABORTED", 103), ("ECONNRESET", 104), ("ENOBUFS", 105), ("EISCONN", 106),
        ("ENOTCONN", 107), ("ESHUTDOWN", 108), ("ETOOMANYREFS", 109), ("ETIMEDOUT", 110), ("ECONNREFUSED", 111),
        ("EHOSTDOWN", 112), ("EHOSTUNREACH", 113), ("EALREADY", 114), ("EINPROGRESS", 115), ("ESTALE", 116),
        ("EUCLEAN", 117), ("ENOTNAM", 118), ("ENAVAIL", 119), ("EISNAM", 120), ("EREMOTEIO", 121),
        ("EDQUOT", 122), ("ENOMEDIUM", 123), ("EMEDIUMTYPE", 124), ("ECANCELED", 125), ("ENOKEY", 126),
        ("EKEYEXPIRED", 127), ("EKEYREVOKED", 128), ("EKEYREJECTED", 129), ("EOWNERDEAD", 130),
        ("ENOTRECOVERABLE", 131), ("ERFKILL", 132), ("EHWPOISON", 133),
    ]
    static let aliases: [String: Int32] = ["EWOULDBLOCK": 11, "EDEADLOCK": 35, "EOPNOTSUPP": 95]
    static let byName: [String: Int32] = {
        var d = aliases
        for (n, v) in table { d[n] = v }
        return d
    }()
    static let byValue: [Int32: String] = {
        var d: [Int32: String] = [:]
        for (n, v) in table { d[v] = n }
        return d
    }()

    /// The value of an errno name such as "ENOENT", or nil if unknown.
    public static func value(of name: String) -> Int32? { byName[name] }
    /// The name of an errno value, or nil if unknown.
    public static func name(of value: Int32) -> String? { byValue[value] }
}

/// The text of the C library's message for an errno value.
func errnoText(_ e: Int32) -> String {
    String(cString: strerror(e))
}

/// stat(2) of a path, nil on error.
func statPath(_ path: String) -> stat? {
    var st = stat()
    return stat(path, &st) == 0 ? st : nil
}

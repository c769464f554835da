/// libguestfs protocol version 4 constants (values from the protocol facts).
public enum GuestfsWire {
    public static let program: UInt32 = 0x2000_F5F5
    public static let protocolVersion: UInt32 = 4
    /// Sent by the daemon, alone in a length-less 4-byte word, when it is ready.
    public static let launchFlag: UInt32 = 0xF5F5_5FF5
    /// A length word with this value announces a cancel request in a file stream.
    public static let cancelFlag: UInt32 = 0xFFFF_EEEE
    /// A length word with this value announces a progress message.
    public static let progressFlag: UInt32 = 0xFFFF_5555
    /// Largest message body (after the length word) either side accepts.
    public static let messageMax: Int = 4 * 1024 * 1024
    /// Largest data payload of one file chunk.
    public static let maxChunkSize: Int = 8192
    /// Largest error message text.
    public static let errorLen: Int = 65536
    /// Largest errno name.
    public static let errnoLen: Int = 32
    /// Size in bytes of an encoded progress message (after the flag word).
    public static let progressMessageSize: Int = 24
}

public enum MessageDirection: UInt32, Sendable {
    case call = 0
    case reply = 1
}

public enum MessageStatus: UInt32, Sendable {
    case ok = 0
    case error = 1
}

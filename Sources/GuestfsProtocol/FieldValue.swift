/// One struct field's value, for code that prints or converts structs
/// without knowing their type (guestfish, the bindings, tests).
public enum FieldValue: Equatable, Sendable {
    case char(UInt8)
    case string(String)
    case buffer([UInt8])
    case int(Int64)
    case uint(UInt64)
    /// A percentage, or -1 when not applicable.
    case percent(Float)
}

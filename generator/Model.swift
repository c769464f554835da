// The typed model of actions.yaml. Every emitter reads only these types.

enum ArgType: String, CaseIterable {
    case string = "String"
    case pathname = "Pathname"
    case device = "Device"
    case mountable = "Mountable"
    case devOrPath = "Dev_or_Path"
    case mountableOrPath = "Mountable_or_Path"
    case fileIn = "FileIn"
    case fileOut = "FileOut"
    case key = "Key"
    case guid = "GUID"
    case filename = "Filename"
    case stringList = "StringList"
    case deviceList = "DeviceList"
    case filenameList = "FilenameList"
    case pathnameList = "PathnameList"
    case optString = "OptString"
    case bool = "Bool"
    case int = "Int"
    case int64 = "Int64"
    case bufferIn = "BufferIn"
    case pointer = "Pointer"

    /// A single string on the wire.
    var isString: Bool {
        switch self {
        case .string, .pathname, .device, .mountable, .devOrPath, .mountableOrPath, .key, .guid, .filename: return true
        default: return false
        }
    }

    var isList: Bool {
        switch self {
        case .stringList, .deviceList, .filenameList, .pathnameList: return true
        default: return false
        }
    }

    /// FileIn/FileOut name a local file and travel as a chunk stream, not in the args struct.
    var isFileStream: Bool { self == .fileIn || self == .fileOut }
}

enum OptArgType: String, CaseIterable {
    case obool = "OBool"
    case oint = "OInt"
    case oint64 = "OInt64"
    case ostring = "OString"
    case ostringList = "OStringList"
}

enum RetType: String, CaseIterable {
    case err = "RErr"
    case int = "RInt"
    case int64 = "RInt64"
    case bool = "RBool"
    case constString = "RConstString"
    case constOptString = "RConstOptString"
    case string = "RString"
    case stringList = "RStringList"
    case structure = "RStruct"
    case structList = "RStructList"
    case hashtable = "RHashtable"
    case bufferOut = "RBufferOut"
}

/// What the strings in a string-ish return value denote.
enum RetSubtype: String {
    case plain = "RPlainString"
    case device = "RDevice"
    case mountable = "RMountable"
}

enum FieldType: String, CaseIterable {
    case char = "FChar"
    case string = "FString"
    case device = "FDevice"
    case buffer = "FBuffer"
    case uuid = "FUUID"
    case int32 = "FInt32"
    case uint32 = "FUInt32"
    case int64 = "FInt64"
    case bytes = "FBytes"
    case uint64 = "FUInt64"
    case optPercent = "FOptPercent"
}

enum Visibility: String {
    case publicAPI = "public"
    case publicNoFish = "public_no_fish"
    case internalAPI = "internal"
    case debug
    case bindTest = "bind_test"
    case stateTest = "state_test"
}

extension Visibility {
    /// Declared in guestfs.h without GUESTFS_PRIVATE and documented in guestfs(3).
    var inPublicHeader: Bool { self == .publicAPI || self == .publicNoFish || self == .stateTest }
}

enum ErrCode: String {
    case minusOne = "minus_one"
    case null
    case cannotReturnError = "cannot_return_error"
}

struct Arg {
    var name: String
    var type: ArgType
    var cType: String?
}

struct OptArg {
    var bit: Int
    var name: String
    var type: OptArgType
    /// Added after libguestfs 1.48: a 1.48 peer's args end before it, so
    /// the decoder treats a missing trailing value as unset.
    var notIn148 = false
}

struct Ret {
    var type: RetType
    var subtype: RetSubtype = .plain
    var valueSubtype: RetSubtype = .plain
    var structName: String?
    var name: String?
}

struct Flags {
    var deprecatedBy: String?
    var optionalGroup: String?
    var progress = false
    var cancellable = false
    var protocolLimitWarning = false
    var blocking = true
    var configOnly = false
    var visibility: Visibility = .publicAPI
    var fishAlias: [String] = []
    var fishOutput: String?
    var onceHadNoOptargs = false
    var aliases: [String] = []
    var camelName: String?
    /// False for the few actions libguestfs 1.48 (our interop peer) lacks.
    var inLibguestfs148 = true
    var inGuestfish = true
}

/// One call sequence from an action's `tests`, kept close to the YAML;
/// the test emitter turns it into Swift data.
struct ActionTest {
    var prepare: String
    var run: [[TestValue]]
    var expect: [(String, TestValue)]
}

indirect enum TestValue {
    case string(String)
    case int(Int64)
    case bool(Bool)
    case null
    case list([TestValue])
    case map([(String, TestValue)])
}

struct Action {
    var name: String
    var procNr: Int?
    var added: String?
    var ret: Ret
    var errcode: ErrCode
    var args: [Arg]
    var optargs: [OptArg]
    var flags: Flags
    var doc: String
    var tests: [ActionTest]

    var isDaemon: Bool { procNr != nil }
    var camelName: String { flags.camelName ?? Naming.camel(name) }
    var hasFileIn: Bool { args.contains { $0.type == .fileIn } }
    var hasFileOut: Bool { args.contains { $0.type == .fileOut } }
    /// Args that travel in the XDR args struct (everything but file streams), then optargs.
    var wireArgs: [Arg] { args.filter { !$0.type.isFileStream } }
    var hasArgsStruct: Bool { !wireArgs.isEmpty || !optargs.isEmpty }
    var hasRetStruct: Bool { ret.type != .err }
    var isDeprecated: Bool { flags.deprecatedBy != nil }
}

struct StructField {
    var name: String
    var type: FieldType
}

struct StructDef {
    var name: String
    var camelName: String
    var isInternal: Bool
    var doc: String?
    var fields: [StructField]
}

struct Event {
    var name: String
    var bit: UInt64
}

struct OptGroup {
    var name: String
    var doc: String?
}

struct Model {
    var events: [Event]
    var optgroups: [OptGroup]
    var structs: [StructDef]
    var actions: [Action]

    func structDef(_ name: String) -> StructDef? { structs.first { $0.name == name } }
    var daemonActions: [Action] { actions.filter(\.isDaemon).sorted { $0.procNr! < $1.procNr! } }
    var libraryActions: [Action] { actions.filter { !$0.isDaemon } }
}

// Operating-system inspection (placeholder while being written).

import Glibc

extension Handlers {
    private func notYet() -> DaemonError { DaemonError(ENOTSUP, "inspection is not implemented yet") }
    func inspectOs(_ ctx: CallContext) throws -> [String] { throw notYet() }
    func inspectGetRoots(_ ctx: CallContext) throws -> [String] { throw notYet() }
    func inspectGetFormat(_ ctx: CallContext, root: String) throws -> String { throw notYet() }
    func inspectGetType(_ ctx: CallContext, root: String) throws -> String { throw notYet() }
    func inspectGetDistro(_ ctx: CallContext, root: String) throws -> String { throw notYet() }
    func inspectGetPackageFormat(_ ctx: CallContext, root: String) throws -> String { throw notYet() }
    func inspectGetPackageManagement(_ ctx: CallContext, root: String) throws -> String { throw notYet() }
    func inspectGetProductName(_ ctx: CallContext, root: String) throws -> String { throw notYet() }
    func inspectGetProductVariant(_ ctx: CallContext, root: String) throws -> String { throw notYet() }
    func inspectGetMajorVersion(_ ctx: CallContext, root: String) throws -> Int32 { throw notYet() }
    func inspectGetMinorVersion(_ ctx: CallContext, root: String) throws -> Int32 { throw notYet() }
    func inspectGetArch(_ ctx: CallContext, root: String) throws -> String { throw notYet() }
    func inspectGetHostname(_ ctx: CallContext, root: String) throws -> String { throw notYet() }
    func inspectGetWindowsSystemroot(_ ctx: CallContext, root: String) throws -> String { throw notYet() }
    func inspectGetWindowsSoftwareHive(_ ctx: CallContext, root: String) throws -> String { throw notYet() }
    func inspectGetWindowsSystemHive(_ ctx: CallContext, root: String) throws -> String { throw notYet() }
    func inspectGetWindowsCurrentControlSet(_ ctx: CallContext, root: String) throws -> String { throw notYet() }
    func inspectIsLive(_ ctx: CallContext, root: String) throws -> Bool { throw notYet() }
    func inspectIsNetinst(_ ctx: CallContext, root: String) throws -> Bool { throw notYet() }
    func inspectIsMultipart(_ ctx: CallContext, root: String) throws -> Bool { throw notYet() }
    func inspectGetMountpoints(_ ctx: CallContext, root: String) throws -> [(String, String)] { throw notYet() }
    func inspectGetFilesystems(_ ctx: CallContext, root: String) throws -> [String] { throw notYet() }
    func inspectGetDriveMappings(_ ctx: CallContext, root: String) throws -> [(String, String)] { throw notYet() }
}

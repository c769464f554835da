// getcon / setcon: the daemon's own SELinux context, through libselinux
// (loaded with dlopen on first use, so the daemon does not depend on it).
// SELinux is only active in the appliance when the handle asked for it
// (set_selinux: the kernel gets security=selinux, Init mounts selinuxfs).

import Glibc

/// The libselinux entry points getcon/setcon need.
final class SELinuxLibrary {
    typealias GetCon = @convention(c) (UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32
    typealias SetCon = @convention(c) (UnsafePointer<CChar>?) -> Int32
    typealias FreeCon = @convention(c) (UnsafeMutablePointer<CChar>?) -> Void

    let getcon: GetCon
    let setcon: SetCon
    let freecon: FreeCon

    private init?() {
        guard let h = dlopen("libselinux.so.1", RTLD_NOW | RTLD_LOCAL) else { return nil }
        guard let g = dlsym(h, "getcon"), let s = dlsym(h, "setcon"), let f = dlsym(h, "freecon") else { return nil }
        getcon = unsafeBitCast(g, to: GetCon.self)
        setcon = unsafeBitCast(s, to: SetCon.self)
        freecon = unsafeBitCast(f, to: FreeCon.self)
    }

    nonisolated(unsafe) static let shared = SELinuxLibrary()
}

extension Handlers {
    /// libselinux, once SELinux is known to be on in the appliance kernel.
    private func selinuxReady(_ op: String) throws -> SELinuxLibrary {
        guard let lib = SELinuxLibrary.shared else {
            throw DaemonError(ENOTSUP, "\(op): libselinux (libselinux.so.1) is not available in the appliance")
        }
        // Without SELinux the kernel's attr/current belongs to another
        // security module (AppArmor's "unconfined"), which is no SELinux
        // context: refuse rather than pass it on.
        // (libselinux's is_selinux_enabled also wants /etc/selinux/config,
        // which the appliance has not: look at selinuxfs itself.)
        guard Sys.exists("/sys/fs/selinux/enforce") else {
            throw DaemonError(ENOTSUP, "\(op): SELinux is not enabled in the appliance kernel (call set_selinux true before launch)")
        }
        return lib
    }

    func getcon(_ ctx: CallContext) throws -> String {
        let lib = try selinuxReady("getcon")
        var con: UnsafeMutablePointer<CChar>?
        if lib.getcon(&con) != 0 { throw DaemonError.posix("getcon") }
        guard let con else { throw DaemonError(EIO, "getcon: libselinux returned no context") }
        defer { lib.freecon(con) }
        return String(cString: con)
    }

    func setcon(_ ctx: CallContext, context: String) throws {
        let lib = try selinuxReady("setcon")
        if lib.setcon(context) != 0 { throw DaemonError.posix("setcon", context) }
    }
}

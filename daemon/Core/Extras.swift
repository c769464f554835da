// Odds and ends: the list of all optional groups, the build id and Group
// Policy inspection results, SELinux relabelling through setfiles.

import Glibc

extension Handlers {
    func availableAllGroups(_ ctx: CallContext) throws -> [String] {
        Handlers.featurePrograms.keys.sorted()
    }

    func inspectGetBuildId(_ ctx: CallContext, root: String) throws -> String {
        try inspectedRoot(ctx, root).buildID
    }

    func inspectGetWindowsGroupPolicy(_ ctx: CallContext, root: String) throws -> Bool {
        let os = try inspectedRoot(ctx, root)
        guard os.type == "windows" else {
            throw DaemonError(EINVAL, "\(ctx.canonicalName(root)): not a Windows root (it is \(os.type)), so it has no Group Policy")
        }
        guard let gp = os.windowsGroupPolicy else {
            throw DaemonError(ENOENT, "\(ctx.canonicalName(root)): the Windows SOFTWARE hive could not be read")
        }
        return gp
    }

    func selinuxRelabel(_ ctx: CallContext, specfile: String, path: String, force: Bool?) throws {
        try setfiles(ctx, specfile: specfile, paths: [path], force: force, excludes: nil)
    }
}

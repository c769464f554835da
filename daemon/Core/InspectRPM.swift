// The installed packages of RPM-based guests, read with librpm from a
// private copy of the guest's database (the guest may be mounted read-only,
// and an SQLite database in WAL mode needs a writable directory to open).

import CRpm
import Glibc
import GuestfsProtocol

extension Handlers {
    func internalListRpmApplications(_ ctx: CallContext) throws -> [Application2] {
        guard let (guestDir, backend) = rpmDatabase(ctx) else {
            throw DaemonError(ENOENT, "no RPM database in the guest mounted at / (looked in /usr/lib/sysimage/rpm and /var/lib/rpm): mount the guest's filesystems first")
        }
        let source = try ctx.sysroot.hostPath(guestDir, op: "internal_list_rpm_applications")
        let copy = "/tmp/rpmdb.\(getpid()).\(ctx.serial)"
        try copyDatabase(from: source, to: copy)
        defer { _ = try? Command.run(["rm", "-rf", copy]) }
        return try RPMReader.applications(dbpath: copy, backend: backend)
    }

    /// The guest path of its RPM database and the librpm backend that reads it.
    private func rpmDatabase(_ ctx: CallContext) -> (String, String)? {
        for dir in ["/usr/lib/sysimage/rpm", "/var/lib/rpm"] {
            if guestExists(ctx, dir + "/rpmdb.sqlite") { return (dir, "sqlite") }
            if guestExists(ctx, dir + "/Packages.db") { return (dir, "ndb") }
            if guestExists(ctx, dir + "/Packages") { return (dir, "bdb_ro") }
        }
        return nil
    }

    /// Copies the regular files of the database directory (not following links).
    private func copyDatabase(from source: String, to dest: String) throws {
        guard Glibc.mkdir(dest, 0o700) == 0 else { throw DaemonError.posix("mkdir", dest) }
        for name in Sys.listDirectory(source) ?? [] {
            var st = stat()
            guard lstat(source + "/" + name, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { continue }
            guard let bytes = Sys.readFile(source + "/" + name, limit: Int.max) else {
                throw DaemonError.posix("read", source + "/" + name)
            }
            let fd = open(dest + "/" + name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw DaemonError.posix("open", dest + "/" + name) }
            defer { close(fd) }
            guard Sys.writeAll(fd, bytes) else { throw DaemonError.posix("write", dest + "/" + name) }
        }
    }
}

/// librpm, used once per call: configuration read once per daemon.
enum RPMReader {
    nonisolated(unsafe) private static var configured = false

    static func applications(dbpath: String, backend: String) throws -> [Application2] {
        if !configured {
            guard rpmReadConfigFiles(nil, nil) == 0 else {
                throw DaemonError(message: "librpm: cannot read its configuration files")
            }
            guestfs_rpm_errors_only()
            configured = true
        }
        rpmPushMacro(nil, "_dbpath", nil, dbpath, RMIL_CMDLINE)
        rpmPushMacro(nil, "_db_backend", nil, backend, RMIL_CMDLINE)
        defer {
            rpmPopMacro(nil, "_dbpath")
            rpmPopMacro(nil, "_db_backend")
        }
        guard let ts = rpmtsCreate() else { throw DaemonError(ENOMEM, "librpm: rpmtsCreate failed") }
        defer { rpmtsFree(ts) }
        _ = rpmtsSetRootDir(ts, "/")
        _ = rpmtsSetVSFlags(ts, guestfs_rpm_no_checks())
        guard let mi = rpmtsInitIterator(ts, rpmDbiTagVal(RPMDBI_PACKAGES.rawValue), nil, 0) else {
            throw DaemonError(message: "librpm: cannot open the guest's RPM database (\(backend) format)")
        }
        defer { rpmdbFreeIterator(mi) }
        var out: [Application2] = []
        while let h = rpmdbNextIterator(mi) {
            func s(_ tag: rpmTagVal) -> String { headerGetString(h, tag).map { String(cString: $0) } ?? "" }
            let name = s(rpmTagVal(RPMTAG_NAME.rawValue))
            if name == "gpg-pubkey" { continue }   // imported signing keys, not software
            out.append(Application2(
                app2Name: name, app2DisplayName: "", app2Epoch: Int32(truncatingIfNeeded: headerGetNumber(h, rpmTagVal(RPMTAG_EPOCH.rawValue))),
                app2Version: s(rpmTagVal(RPMTAG_VERSION.rawValue)), app2Release: s(rpmTagVal(RPMTAG_RELEASE.rawValue)),
                app2Arch: s(rpmTagVal(RPMTAG_ARCH.rawValue)), app2InstallPath: "", app2TransPath: "", app2Publisher: "",
                app2Url: s(rpmTagVal(RPMTAG_URL.rawValue)), app2SourcePackage: s(rpmTagVal(RPMTAG_SOURCERPM.rawValue)),
                app2Summary: s(rpmTagVal(RPMTAG_SUMMARY.rawValue)), app2Description: s(rpmTagVal(RPMTAG_DESCRIPTION.rawValue)),
                app2Class: "", app2Spare2: "", app2Spare3: "", app2Spare4: ""))
        }
        return out
    }
}

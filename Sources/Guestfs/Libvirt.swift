import CLibvirt
import Foundation

/// add_domain and add_libvirt_dom: a libvirt guest's disks as drives.
///
/// The domain is found through libvirt's client library, its XML description
/// is read with libxml2 (LibvirtXML) and each disk goes through add_drive.
/// Either every disk is added or, on any error, none is.

/// What to do with a disk the domain marks `<readonly/>` (the readonlydisk optarg).
enum ReadonlyDiskPolicy: String {
    case error, read, write, ignore

    enum Decision: Equatable { case add(readonly: Bool), skip, refuse }

    /// The fate of one disk: `markedReadonly` is its `<readonly/>`,
    /// `readonly` the caller's readonly optarg.
    func decide(markedReadonly: Bool, readonly: Bool) -> Decision {
        guard markedReadonly else { return .add(readonly: readonly) }
        switch self {
        case .ignore: return .skip
        case .error: return readonly ? .add(readonly: true) : .refuse
        case .read: return .add(readonly: true)
        case .write: return .add(readonly: readonly)
        }
    }
}

/// The options add_domain passes on to add_libvirt_dom.
struct LibvirtAddOptions {
    var readonly = false
    var iface: String?
    var policy = ReadonlyDiskPolicy.write
    var cachemode: String?
    var discard: String?
    var copyonread: Bool?
}

extension Guestfs {
    func impl_add_domain(_ dom: String, libvirturi: String?, readonly: Bool?, iface: String?, live: Bool?,
                         allowuuid: Bool?, readonlydisk: String?, cachemode: String?, discard: String?,
                         copyonread: Bool?) throws -> Int32 {
        let opts = try libvirtOptions(readonly: readonly, iface: iface, live: live, readonlydisk: readonlydisk,
                                      cachemode: cachemode, discard: discard, copyonread: copyonread)
        let uriText = libvirturi.map { "'\($0)'" } ?? "(default)"
        debug("add_domain: connecting to libvirt URI \(uriText)")
        // A read-write connection: read-only ones may not read secrets.
        guard let conn = openLibvirtConnection(libvirturi) else {
            throw fail(0, "could not connect to libvirt URI \(uriText): \(Guestfs.libvirtLastError(codes: true))")
        }
        defer { virConnectClose(conn) }
        guestfs_libvirt_silence(conn)
        var domain: virDomainPtr?
        if allowuuid == true { domain = virDomainLookupByUUIDString(conn, dom) }
        if domain == nil { domain = virDomainLookupByName(conn, dom) }
        guard let domain else {
            let cause = Guestfs.libvirtLastError()
            // Name the URI libvirt chose when the caller gave none.
            var at = uriText
            if libvirturi == nil, let u = virConnectGetURI(conn) {
                at = "'\(String(cString: u))'"
                free(u)
            }
            throw fail(ENOENT, "no libvirt domain called '\(dom)' at URI \(at): \(cause)")
        }
        defer { virDomainFree(domain) }
        return try addLibvirtDomain(domain, conn: conn, options: opts)
    }

    func impl_add_libvirt_dom(_ dom: UnsafeMutableRawPointer?, readonly: Bool?, iface: String?, live: Bool?,
                              readonlydisk: String?, cachemode: String?, discard: String?, copyonread: Bool?) throws -> Int32 {
        guard let dom else { throw fail(EINVAL, "dom: parameter cannot be NULL") }
        let opts = try libvirtOptions(readonly: readonly, iface: iface, live: live, readonlydisk: readonlydisk,
                                      cachemode: cachemode, discard: discard, copyonread: copyonread)
        let domain = virDomainPtr(dom)
        guard let conn = virDomainGetConnect(domain) else {
            throw fail(0, "cannot get the libvirt connection of the domain: \(Guestfs.libvirtLastError())")
        }
        return try addLibvirtDomain(domain, conn: conn, options: opts)
    }

    private func libvirtOptions(readonly: Bool?, iface: String?, live: Bool?, readonlydisk: String?,
                                cachemode: String?, discard: String?, copyonread: Bool?) throws -> LibvirtAddOptions {
        if live == true {
            throw fail(ENOTSUP, "live: attaching to a daemon running inside a live guest is not supported; "
                + "add the domain's disks read-only instead (readonly:true)")
        }
        var o = LibvirtAddOptions(readonly: readonly ?? false, iface: iface, cachemode: cachemode, discard: discard,
                                  copyonread: copyonread)
        if let readonlydisk {
            guard let p = ReadonlyDiskPolicy(rawValue: readonlydisk) else {
                throw fail(EINVAL, "unknown readonlydisk parameter '\(readonlydisk)' (expected error, read, write or ignore)")
            }
            o.policy = p
        }
        return o
    }

    /// Adds the disks of `domain` (whose connection is `conn`); returns how many.
    private func addLibvirtDomain(_ domain: virDomainPtr, conn: virConnectPtr, options o: LibvirtAddOptions) throws -> Int32 {
        let name = virDomainGetName(domain).map { String(cString: $0) } ?? "?"

        if !o.readonly {
            var info = virDomainInfo()
            guard virDomainGetInfo(domain, &info) == 0 else {
                throw fail(0, "domain '\(name)': cannot get the domain's state: \(Guestfs.libvirtLastError())")
            }
            if UInt32(info.state) != VIR_DOMAIN_SHUTOFF.rawValue {
                throw fail(EBUSY, "domain '\(name)' is running (a live virtual machine): writing to its disks "
                    + "while it runs can corrupt them; add it read-only instead (readonly:true, or guestfish --ro)")
            }
        }

        guard let xmlPtr = virDomainGetXMLDesc(domain, 0) else {
            throw fail(0, "domain '\(name)': cannot read the domain's XML description: \(Guestfs.libvirtLastError())")
        }
        let xml = String(cString: xmlPtr)
        free(xmlPtr)
        debug("add_domain: domain '\(name)' XML:\n\(xml)")
        let disks: [LibvirtDisk]
        do { disks = try LibvirtXML.disks(fromDomainXML: xml) } catch {
            throw fail(0, "domain '\(name)': \(error)")
        }
        if disks.isEmpty { throw fail(EINVAL, "libvirt domain '\(name)' has no disks") }

        // All or nothing: drop what this call added if a later disk fails.
        let checkpoint = drives.count
        var added: Int32 = 0
        do {
            for disk in disks {
                let readonly: Bool
                switch o.policy.decide(markedReadonly: disk.readonly, readonly: o.readonly) {
                case .skip:
                    debug("add_domain: \(name): skipping <readonly/> disk \(disk.label) (readonlydisk=ignore)")
                    continue
                case .refuse:
                    throw fail(EPERM, "domain '\(name)': disk \(disk.label) is marked <readonly/> in the libvirt XML "
                        + "and readonlydisk is 'error': add the domain read-only, or choose readonlydisk read, write or ignore")
                case .add(let ro):
                    readonly = ro
                }
                try addLibvirtDisk(disk, readonly: readonly, domainName: name, conn: conn, options: o)
                added += 1
            }
        } catch {
            for d in drives[checkpoint...] where d.isTemporary { unlink(d.path) }
            drives.removeSubrange(checkpoint...)
            throw error
        }
        return added
    }

    private func addLibvirtDisk(_ disk: LibvirtDisk, readonly: Bool, domainName: String, conn: virConnectPtr,
                                options o: LibvirtAddOptions) throws {
        var path: String
        var proto: String?
        var servers: [String]?
        var username: String?
        var secret: String?
        switch disk.source {
        case .file(let p), .block(let p):
            path = p
        case .network(let pr, let name, let srv, let auth):
            path = name
            proto = pr
            servers = srv.isEmpty ? nil : srv
            if let auth {
                username = auth.username
                secret = try libvirtSecret(auth, conn: conn, domainName: domainName, disk: disk)
            }
        case .volume(let pool, let volume):
            path = try libvirtVolumePath(pool: pool, volume: volume, conn: conn, domainName: domainName)
        }
        debug("add_domain: \(domainName): adding \(disk.label) format=\(disk.format ?? "(probe)") readonly=\(readonly)")
        do {
            try impl_add_drive(path, readonly: readonly, format: disk.format, iface: o.iface, name: nil, label: nil,
                               protocol: proto, server: servers, username: username, secret: secret,
                               cachemode: o.cachemode, discard: o.discard, copyonread: o.copyonread,
                               blocksize: disk.blocksize == 0 ? nil : disk.blocksize)
        } catch let e as GuestfsError {
            // e.message is "add_domain: cause"; put the domain and disk in front of the cause.
            let prefix = "\(currentAction): "
            let cause = e.message.hasPrefix(prefix) ? String(e.message.dropFirst(prefix.count)) : e.message
            var ne = GuestfsError(errno: e.errno, "\(prefix)domain '\(domainName)': disk \(disk.label): \(cause)")
            if e.errno == 0 { ne.errnoName = e.errnoName }
            throw ne
        }
    }

    /// The value of the libvirt secret a network disk's `<auth>` names
    /// (base64 for ceph secrets, as qemu's rbd driver wants).
    private func libvirtSecret(_ auth: LibvirtDisk.Auth, conn: virConnectPtr, domainName: String,
                               disk: LibvirtDisk) throws -> String? {
        let sec: virSecretPtr?
        let what: String
        if let uuid = auth.secretUUID {
            what = "with UUID '\(uuid)'"
            sec = virSecretLookupByUUIDString(conn, uuid)
        } else if let usage = auth.secretUsage {
            what = "for usage '\(usage)'"
            let types: [String: virSecretUsageType] = ["none": VIR_SECRET_USAGE_TYPE_NONE, "volume": VIR_SECRET_USAGE_TYPE_VOLUME,
                                                       "ceph": VIR_SECRET_USAGE_TYPE_CEPH, "iscsi": VIR_SECRET_USAGE_TYPE_ISCSI]
            guard let t = auth.secretType.flatMap({ types[$0] }) else {
                throw fail(EINVAL, "domain '\(domainName)': disk \(disk.label): unsupported secret type '\(auth.secretType ?? "")'")
            }
            sec = virSecretLookupByUsage(conn, Int32(t.rawValue), usage)
        } else {
            return nil
        }
        guard let sec else {
            throw fail(0, "domain '\(domainName)': disk \(disk.label): no libvirt secret \(what): \(Guestfs.libvirtLastError())")
        }
        defer { virSecretFree(sec) }
        var size = 0
        guard let value = virSecretGetValue(sec, &size, 0) else {
            throw fail(0, "domain '\(domainName)': disk \(disk.label): cannot read the libvirt secret \(what): \(Guestfs.libvirtLastError())")
        }
        defer { free(value) }
        let bytes = Data(bytes: value, count: size)
        if auth.secretType == "ceph" { return bytes.base64EncodedString() }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The host path of a storage pool volume (file and block volumes).
    private func libvirtVolumePath(pool poolName: String, volume: String, conn: virConnectPtr, domainName: String) throws -> String {
        let ctx = "domain '\(domainName)': volume '\(volume)' of pool '\(poolName)'"
        guard let pool = virStoragePoolLookupByName(conn, poolName) else {
            throw fail(0, "\(ctx): no such libvirt storage pool: \(Guestfs.libvirtLastError())")
        }
        defer { virStoragePoolFree(pool) }
        guard let vol = virStorageVolLookupByName(pool, volume) else {
            throw fail(0, "\(ctx): no such volume: \(Guestfs.libvirtLastError())")
        }
        defer { virStorageVolFree(vol) }
        var info = virStorageVolInfo()
        guard virStorageVolGetInfo(vol, &info) == 0 else {
            throw fail(0, "\(ctx): cannot get the volume's information: \(Guestfs.libvirtLastError())")
        }
        guard info.type == Int32(VIR_STORAGE_VOL_FILE.rawValue) || info.type == Int32(VIR_STORAGE_VOL_BLOCK.rawValue) else {
            throw fail(ENOTSUP, "\(ctx): only file and block volumes can be added (volume type \(info.type))")
        }
        guard let p = virStorageVolGetPath(vol) else {
            throw fail(0, "\(ctx): cannot get the volume's path: \(Guestfs.libvirtLastError())")
        }
        defer { free(p) }
        return String(cString: p)
    }

    /// libvirt's last error on this thread, as text (with libvirt's error
    /// code and domain numbers when `codes`).
    static func libvirtLastError(codes: Bool = false) -> String {
        guard let e = virGetLastError() else { return "unknown libvirt error" }
        let msg = e.pointee.message.map { String(cString: $0) } ?? "unknown libvirt error"
        return codes ? "\(msg) (libvirt error code \(e.pointee.code), domain \(e.pointee.domain))" : msg
    }
}

import CLibxml2

/// The disks of a libvirt domain, read from its XML description with libxml2.
///
/// Only what add_domain needs is kept: where each disk's data is, its format,
/// whether the domain marks it `<readonly/>` and its logical block size.
struct LibvirtDisk: Equatable {
    enum Source: Equatable {
        /// `<disk type='file'>`: `<source file=…>`.
        case file(String)
        /// `<disk type='block'>`: `<source dev=…>`.
        case block(String)
        /// `<disk type='network'>`: protocol, export name (may be empty),
        /// `host[:port]` servers and the optional `<auth>`.
        case network(protocol: String, name: String, servers: [String], auth: Auth?)
        /// `<disk type='volume'>`: a volume of a libvirt storage pool.
        case volume(pool: String, volume: String)
    }

    /// `<auth username=…><secret type=… uuid=…|usage=…/></auth>`.
    struct Auth: Equatable {
        var username: String
        var secretType: String?
        var secretUUID: String?
        var secretUsage: String?
    }

    var source: Source
    /// `<driver type=…>` (raw, qcow2, …), nil when libvirt records none.
    var format: String?
    /// `<readonly/>` is present.
    var readonly: Bool
    /// `<blockio logical_block_size=…>`, 0 when absent or not a number.
    var blocksize: Int32
    /// `<target dev=…>` (vda, sdb, …), for messages only.
    var target: String?
    /// The `device` attribute (disk, cdrom, floppy, lun), for messages only.
    var device: String?

    /// How the disk is named in messages: its source and its target.
    var label: String {
        let what: String
        switch source {
        case .file(let p), .block(let p): what = p
        case .network(let proto, let name, let servers, _):
            what = "\(proto)://\(servers.joined(separator: ","))/\(name)"
        case .volume(let pool, let volume): what = "volume \(volume) of pool \(pool)"
        }
        return target.map { "\(what) (\($0))" } ?? what
    }
}

enum LibvirtXML {
    struct ParseError: Error, CustomStringConvertible {
        var description: String
    }

    /// The domain's disks in document order: the `<disk>` elements of
    /// `/domain/devices` (not, say, look-alikes inside `<metadata>`). Disks
    /// whose kind is not one of file/block/network/volume, and disks without
    /// a source (an empty CD-ROM or floppy drive), are left out, as libguestfs
    /// does.
    static func disks(fromDomainXML xml: String) throws -> [LibvirtDisk] {
        var bytes = Array(xml.utf8)
        let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue)
        let doc = bytes.withUnsafeMutableBufferPointer { buf in
            buf.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buf.count) {
                xmlReadMemory($0, Int32(buf.count), "domain.xml", nil, options)
            }
        }
        guard let doc else {
            let detail = xmlGetLastError().map { String(cString: $0.pointee.message).trimmingTrailingNewlines } ?? "not well-formed"
            throw ParseError(description: "cannot parse the domain XML that libvirt returned: \(detail)")
        }
        defer { xmlFreeDoc(doc) }
        guard let root = xmlDocGetRootElement(doc) else {
            throw ParseError(description: "the domain XML that libvirt returned is empty")
        }
        guard name(root) == "domain" else {
            throw ParseError(description: "libvirt returned XML whose root is <\(name(root))>, not <domain>")
        }
        return elements(root).filter { name($0) == "devices" }.flatMap { devices in
            elements(devices).filter { name($0) == "disk" }.compactMap(disk)
        }
    }

    private static func disk(_ node: xmlNodePtr) -> LibvirtDisk? {
        guard let type = attribute(node, "type") else { return nil }
        let src = child(node, "source")
        let source: LibvirtDisk.Source
        switch type {
        case "file":
            guard let src, let f = attribute(src, "file") else { return nil }
            source = .file(f)
        case "block":
            guard let src, let d = attribute(src, "dev") else { return nil }
            source = .block(d)
        case "network":
            guard let src, let proto = attribute(src, "protocol") else { return nil }
            let servers = elements(src).filter { name($0) == "host" }.compactMap { h -> String? in
                guard let host = attribute(h, "name") else { return nil }
                return attribute(h, "port").map { "\(host):\($0)" } ?? host
            }
            var auth: LibvirtDisk.Auth?
            if let a = child(node, "auth"), let user = attribute(a, "username") {
                let secret = child(a, "secret")
                auth = LibvirtDisk.Auth(username: user, secretType: secret.flatMap { attribute($0, "type") },
                                        secretUUID: secret.flatMap { attribute($0, "uuid") },
                                        secretUsage: secret.flatMap { attribute($0, "usage") })
            }
            source = .network(protocol: proto, name: attribute(src, "name") ?? "", servers: servers, auth: auth)
        case "volume":
            guard let src, let pool = attribute(src, "pool"), let vol = attribute(src, "volume") else { return nil }
            source = .volume(pool: pool, volume: vol)
        default:
            return nil
        }
        var blocksize: Int32 = 0
        if let b = child(node, "blockio"), let s = attribute(b, "logical_block_size") {
            blocksize = Int32(s.trimmingSpaces) ?? 0
        }
        return LibvirtDisk(source: source, format: child(node, "driver").flatMap { attribute($0, "type") },
                           readonly: child(node, "readonly") != nil, blocksize: blocksize,
                           target: child(node, "target").flatMap { attribute($0, "dev") },
                           device: attribute(node, "device"))
    }

    // MARK: libxml2 tree helpers

    private static func elements(_ node: xmlNodePtr) -> [xmlNodePtr] {
        var out: [xmlNodePtr] = []
        var c = node.pointee.children
        while let n = c {
            if n.pointee.type == XML_ELEMENT_NODE { out.append(n) }
            c = n.pointee.next
        }
        return out
    }

    private static func child(_ node: xmlNodePtr, _ wanted: String) -> xmlNodePtr? {
        elements(node).first { name($0) == wanted }
    }

    private static func name(_ node: xmlNodePtr) -> String {
        node.pointee.name.map { String(cString: $0) } ?? ""
    }

    private static func attribute(_ node: xmlNodePtr, _ attr: String) -> String? {
        let v = attr.withCString { a in
            a.withMemoryRebound(to: xmlChar.self, capacity: attr.utf8.count + 1) { xmlGetProp(node, $0) }
        }
        guard let v else { return nil }
        defer { guestfs_xml_free(v) }
        return String(cString: v)
    }
}

private extension String {
    var trimmingTrailingNewlines: String {
        var s = self
        while s.last == "\n" { s.removeLast() }
        return s
    }

    var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}

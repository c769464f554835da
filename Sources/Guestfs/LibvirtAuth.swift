import CLibvirt
import Foundation

// libvirt authentication through the handle: the program says which
// credential kinds it can supply (set_libvirt_supported_credentials) and
// registers a libvirt_auth event callback; when libvirt asks for
// credentials while add_domain connects, the callback reads the request
// (get_libvirt_requested_*) and answers (set_libvirt_requested_credential).
// Without both, libvirt's default authentication is used.

extension Guestfs {
    /// Credential names as the API spells them, with libvirt's numbers.
    static let libvirtCredentialTypes: [(String, virConnectCredentialType)] = [
        ("username", VIR_CRED_USERNAME), ("authname", VIR_CRED_AUTHNAME), ("language", VIR_CRED_LANGUAGE),
        ("cnonce", VIR_CRED_CNONCE), ("passphrase", VIR_CRED_PASSPHRASE), ("echoprompt", VIR_CRED_ECHOPROMPT),
        ("noechoprompt", VIR_CRED_NOECHOPROMPT), ("realm", VIR_CRED_REALM), ("external", VIR_CRED_EXTERNAL),
    ]

    func impl_set_libvirt_supported_credentials(_ creds: [String]) throws {
        var types: [Int32] = []
        for c in creds {
            guard let t = Guestfs.libvirtCredentialTypes.first(where: { $0.0 == c }) else {
                let known = Guestfs.libvirtCredentialTypes.map(\.0).joined(separator: ", ")
                throw fail(EINVAL, "unknown credential type '\(c)' (known types: \(known))")
            }
            if !types.contains(Int32(t.1.rawValue)) { types.append(Int32(t.1.rawValue)) }
        }
        libvirtSupportedCredentials = types
    }

    private func requestedCredentials() throws -> UnsafeMutableBufferPointer<virConnectCredential> {
        guard let p = libvirtRequestedCredentials, libvirtRequestedCredentialCount > 0 else {
            throw fail(EINVAL, "this can only be called from a libvirt_auth event callback")
        }
        return UnsafeMutableBufferPointer(start: p, count: libvirtRequestedCredentialCount)
    }

    private func requestedCredential(_ index: Int32) throws -> UnsafeMutablePointer<virConnectCredential> {
        let creds = try requestedCredentials()
        guard index >= 0 && Int(index) < creds.count else {
            throw fail(EINVAL, "credential index \(index) out of range (libvirt asked for \(creds.count))")
        }
        return creds.baseAddress! + Int(index)
    }

    func impl_get_libvirt_requested_credentials() throws -> [String] {
        try requestedCredentials().map { c in
            Guestfs.libvirtCredentialTypes.first { Int32($0.1.rawValue) == c.type }?.0 ?? "unknown"
        }
    }

    func impl_get_libvirt_requested_credential_prompt(_ index: Int32) throws -> String {
        try requestedCredential(index).pointee.prompt.map { String(cString: $0) } ?? ""
    }

    func impl_get_libvirt_requested_credential_challenge(_ index: Int32) throws -> String {
        try requestedCredential(index).pointee.challenge.map { String(cString: $0) } ?? ""
    }

    func impl_get_libvirt_requested_credential_defresult(_ index: Int32) throws -> String {
        try requestedCredential(index).pointee.defresult.map { String(cString: $0) } ?? ""
    }

    func impl_set_libvirt_requested_credential(_ index: Int32, _ cred: [UInt8]) throws {
        let c = try requestedCredential(index)
        free(c.pointee.result)
        // libvirt frees the answer: it must come from malloc, NUL-terminated.
        let buf = malloc(cred.count + 1)!.assumingMemoryBound(to: CChar.self)
        cred.withUnsafeBytes { raw in
            if let base = raw.baseAddress, !cred.isEmpty { memcpy(buf, base, cred.count) }
        }
        buf[cred.count] = 0
        c.pointee.result = buf
        c.pointee.resultlen = UInt32(cred.count)
    }

    /// Opens a read-write libvirt connection, with the handle's own
    /// authentication callback when the program set it up (supported
    /// credentials and a libvirt_auth event callback), else libvirt's default.
    func openLibvirtConnection(_ uri: String?) -> virConnectPtr? {
        guestfs_libvirt_silence_global()
        guard !libvirtSupportedCredentials.isEmpty && hasCallback(for: .libvirtAuth) else {
            debug("opening libvirt connection to \(uri ?? "(default)") with the default authentication")
            return virConnectOpenAuth(uri, virConnectAuthPtrDefault, 0)
        }
        debug("opening libvirt connection to \(uri ?? "(default)") with the handle's authentication callback")
        var types = libvirtSupportedCredentials
        let context = LibvirtAuthContext(g: self, uri: uri ?? "")
        let unmanaged = Unmanaged.passRetained(context)
        defer { unmanaged.release() }
        return types.withUnsafeMutableBufferPointer { tp -> virConnectPtr? in
            var auth = virConnectAuth()
            auth.credtype = tp.baseAddress
            auth.ncredtype = UInt32(tp.count)
            auth.cbdata = unmanaged.toOpaque()
            auth.cb = { cred, ncred, data in
                guard let cred, ncred > 0, let data else { return 0 }
                let ctx = Unmanaged<LibvirtAuthContext>.fromOpaque(data).takeUnretainedValue()
                guard let g = ctx.g else { return -1 }
                for i in 0..<Int(ncred) {
                    cred[i].result = nil
                    cred[i].resultlen = 0
                }
                g.libvirtRequestedCredentials = cred
                g.libvirtRequestedCredentialCount = Int(ncred)
                defer {
                    g.libvirtRequestedCredentials = nil
                    g.libvirtRequestedCredentialCount = 0
                }
                // Unanswered credentials stay NULL, which libvirt accepts.
                g.emit(.libvirtAuth, buffer: Array(ctx.uri.utf8))
                return 0
            }
            return virConnectOpenAuth(uri, &auth, 0)
        }
    }
}

final class LibvirtAuthContext {
    weak var g: Guestfs?
    let uri: String
    init(g: Guestfs, uri: String) { self.g = g; self.uri = uri }
}

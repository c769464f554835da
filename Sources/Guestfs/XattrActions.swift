import GuestfsProtocol

// lxattrlist: the extended attributes of many directory entries, fetched
// from the daemon's internal_lxattrlist in batches so a huge directory
// never makes one reply bigger than the protocol allows.
extension Guestfs {
    /// Names per internal_lxattrlist call.
    static let lxattrlistBatch = 1000

    func impl_lxattrlist(_ path: String, _ names: [String]) throws -> [XAttr] {
        var out: [XAttr] = []
        var start = 0
        while start < names.count {
            let end = min(start + Guestfs.lxattrlistBatch, names.count)
            out += try internalLxattrlist(path, Array(names[start..<end]))
            start = end
        }
        return out
    }
}

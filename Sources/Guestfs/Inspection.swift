// Library-side inspection: the osinfo short id and the installed
// applications, built on the daemon's inspection results.

import Glibc
import GuestfsProtocol

extension Guestfs {
    func impl_inspect_get_osinfo(_ root: String) throws -> String {
        throw fail(ENOTSUP, "inspect_get_osinfo: not implemented yet")
    }

    func impl_inspect_list_applications(_ root: String) throws -> [Application] {
        throw fail(ENOTSUP, "inspect_list_applications: not implemented yet")
    }

    func impl_inspect_list_applications2(_ root: String) throws -> [Application2] {
        throw fail(ENOTSUP, "inspect_list_applications2: not implemented yet")
    }
}

// internal_parse_mountable: the daemon's reading of a mountable string.

import Glibc
import GuestfsProtocol

extension Handlers {
    /// Kinds of mountable, as numbered in the internal_mountable struct.
    enum MountableKind: Int32 {
        case device = 0
        case btrfsVolume = 1
        case path = 2
    }

    /// `mountable` has been resolved by the dispatcher already (the device
    /// exists and is a real node); split it and give the canonical device.
    func internalParseMountable(_ ctx: CallContext, mountable: String) throws -> InternalMountable {
        let (device, subvol) = Handlers.splitMountable(mountable)
        if let subvol {
            return InternalMountable(imType: MountableKind.btrfsVolume.rawValue,
                                     imDevice: ctx.canonicalName(device), imVolume: subvol)
        }
        if !mountable.hasPrefix("/dev/") {
            return InternalMountable(imType: MountableKind.path.rawValue, imDevice: mountable, imVolume: "")
        }
        return InternalMountable(imType: MountableKind.device.rawValue, imDevice: ctx.canonicalName(device), imVolume: "")
    }
}

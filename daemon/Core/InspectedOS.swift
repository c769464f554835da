// What inspection found about one operating system root. Filled by the
// per-family probes (InspectLinux.swift, InspectWindows.swift, ...) and read
// back by the inspect_get_* actions.

struct InspectedOS {
    /// The root filesystem as a mountable (device name or btrfsvol:...).
    var root: String
    var type = "unknown"             // linux, windows, freebsd, hurd, ...
    var distro = "unknown"           // debian, fedora, windows, ...
    var productName = "unknown"
    var productVariant = "unknown"
    var majorVersion: Int32 = 0
    var minorVersion: Int32 = 0
    var arch = "unknown"
    var hostname = "unknown"
    var packageFormat = "unknown"
    var packageManagement = "unknown"
    var osinfo = ""                  // libosinfo-style short id when the probe knows it
    var buildID = "unknown"          // os-release BUILD_ID, Windows CurrentBuildNumber
    /// Mount point → mountable, as the guest's mount table says (root first).
    var mountpoints: [(String, String)] = []
    /// Every filesystem belonging to this OS (root, fstab entries, swap).
    var filesystems: [String] = []
    // Windows only.
    var windowsSystemroot: String?
    var windowsSoftwareHive: String?
    var windowsSystemHive: String?
    var windowsCurrentControlSet: String?
    /// Whether SOFTWARE lists applied Group Policy Objects (nil: hive unreadable).
    var windowsGroupPolicy: Bool?
    /// Drive letter → device ("C" → "/dev/sda2").
    var driveMappings: [(String, String)] = []

    init(root: String) { self.root = root }
}

// swift-tools-version:6.0
import PackageDescription

// libguestfs.so.0: soname as libguestfs's, only guestfs_* exported, Swift
// runtime and Foundation linked in so the installed library needs nothing else.
let cLibraryLinkerFlags = [
    "-static-stdlib",
    // Foundation and what it needs, statically (the driver only adds the
    // Swift core libraries for -static-stdlib).
    "-Xlinker", "--start-group",
] + ["Foundation", "FoundationEssentials", "FoundationInternationalization", "CoreFoundation", "_FoundationICU",
     "_FoundationCollections", "_FoundationCShims", "swiftSynchronization", "swift_Concurrency", "swift_RegexParser",
     "swift_StringProcessing", "swiftDispatch", "dispatch", "BlocksRuntime", "swiftGlibc", "swiftCore"].flatMap { ["-Xlinker", "-l\($0)"] } + [
    "-Xlinker", "--end-group", "-Xlinker", "-lutil", "-Xlinker", "--no-undefined",
    "-Xlinker", "-soname", "-Xlinker", "libguestfs.so.0",
    "-Xlinker", "--version-script=\(Context.packageDirectory)/bindings/c/libguestfs.syms",
]

let package = Package(
    name: "swift-guestfs",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Guestfs", targets: ["Guestfs"]),
        .executable(name: "guestfsd", targets: ["guestfsd"]),
        .executable(name: "generator", targets: ["generator"]),
        .executable(name: "guestfish", targets: ["guestfish"]),
        .executable(name: "virt-tools", targets: ["virt-tools"]),
        // The C library: libguestfs.so.0 (guestfs.h API), see bindings/c.
        .library(name: "guestfs", type: .dynamic, targets: ["GuestfsC"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams.git", from: "5.0.1"),
    ],
    targets: [
        // RFC 4506 encoder/decoder; no Foundation so the daemon stays small.
        .target(name: "XDR"),
        // libguestfs protocol v4: framing and message headers (hand-written)
        // plus the generated args/ret codecs, shared by library and daemon.
        .target(name: "GuestfsProtocol", dependencies: ["XDR"]),
        // The Swift library users import.
        .target(name: "Guestfs", dependencies: ["GuestfsProtocol", "XDR", "CLibvirt", "CLibxml2", "CFuse"]),
        // add_domain: libvirt's client library and libxml2 for the domain XML.
        .systemLibrary(name: "CLibvirt", path: "Sources/CLibvirt", pkgConfig: "libvirt",
                       providers: [.apt(["libvirt-dev"])]),
        // mount_local: libfuse 3 (the guest filesystem as a FUSE mount on the host).
        .systemLibrary(name: "CFuse", path: "Sources/CFuse", pkgConfig: "fuse3",
                       providers: [.apt(["libfuse3-dev"])]),
        .systemLibrary(name: "CLibxml2", path: "Sources/CLibxml2", pkgConfig: "libxml-2.0",
                       providers: [.apt(["libxml2-dev"])]),
        // The daemon that runs inside the appliance: its code (hand-written
        // daemon/Core plus the generated daemon/Generated) is a library so
        // tests can reach it; guestfsd is only daemon/Main/main.swift.
        // Linux calls the Glibc module lacks (openat2, reboot, xattrs).
        .target(name: "CGuestfsdSys", path: "daemon/CSys"),
        // libhivex (Windows registry hives) for hivex_* and Windows inspection.
        .systemLibrary(name: "CHivex", path: "daemon/CHivex", providers: [.apt(["libhivex-dev"])]),
        // librpm for the RPM databases of inspected guests.
        .systemLibrary(name: "CRpm", path: "daemon/CRpm", providers: [.apt(["librpm-dev"])]),
        // libaugeas for the aug_* actions.
        .systemLibrary(name: "CAugeas", path: "daemon/CAugeas", pkgConfig: "augeas", providers: [.apt(["libaugeas-dev"])]),
        // libyara for yara_load / internal_yara_scan.
        .systemLibrary(name: "CYara", path: "daemon/CYara", providers: [.apt(["libyara-dev"])]),
        // <sys/xattr.h> and <sys/sysmacros.h> (header-only) for xattrs and mknod.
        .systemLibrary(name: "CXattr", path: "daemon/CXattr"),
        // libsystemd's sd-journal for the journal_* actions.
        .systemLibrary(name: "CSystemd", path: "daemon/CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        // The Sleuth Kit's headers (libtsk-dev); the library itself is dlopened.
        .systemLibrary(name: "CTsk", path: "daemon/CTsk", providers: [.apt(["libtsk-dev"])]),
        .target(name: "GuestfsDaemonCore", dependencies: ["GuestfsProtocol", "XDR", "CGuestfsdSys", "CHivex", "CRpm", "CAugeas", "CXattr",
                                                          "CSystemd", "CTsk", "CYara"], path: "daemon",
                exclude: ["Main", "CSys", "CHivex", "CRpm", "CAugeas", "CXattr", "CSystemd", "CTsk", "CYara"], sources: ["Core", "Generated"]),
        .executableTarget(name: "guestfsd", dependencies: ["GuestfsDaemonCore"], path: "daemon/Main"),
        // Reads actions.yaml, checks it and writes every generated file.
        .executableTarget(name: "generator", dependencies: [.product(name: "Yams", package: "Yams")], path: "generator",
                          exclude: []),
        // `make demo`: the whole stack on a disk image it creates.
        .executableTarget(name: "guestfs-demo", dependencies: ["Guestfs"], path: "Examples/Demo"),
        // The C binding: generated guestfs.h + varargs/free helpers and the
        // hand-written C bits (create_flags, default handlers) ...
        .target(name: "CGuestfs", path: "bindings/c", sources: ["src"], publicHeadersPath: "include"),
        // ... and the Swift side: @_cdecl entry points over the Swift API.
        .target(name: "GuestfsC", dependencies: ["Guestfs", "GuestfsProtocol", "CGuestfs"], path: "Sources/GuestfsC",
                swiftSettings: [.unsafeFlags(["-Xcc", "-DGUESTFS_PRIVATE=1"])],
                linkerSettings: [.unsafeFlags(cLibraryLinkerFlags)]),
        // `make bench`: launch, round trip and transfer figures.
        .executableTarget(name: "guestfs-bench", dependencies: ["Guestfs"], path: "bench/GuestfsBench"),
        // guestfish: the interactive shell and script runner (readline for line editing).
        .systemLibrary(name: "CReadline", path: "Sources/guestfish/CReadline"),
        // What guestfish and the virt tools share beyond the library:
        // --key handling and unlocking encrypted guests before inspection.
        .target(name: "GuestfsToolSupport", dependencies: ["Guestfs"]),
        .executableTarget(name: "guestfish", dependencies: ["Guestfs", "GuestfsToolSupport", "CReadline"], path: "Sources/guestfish",
                          exclude: ["CReadline"]),
        // virt-cat, virt-ls, virt-df, virt-filesystems, virt-inspector, ...:
        // one program, picked by the name it runs as.
        .executableTarget(name: "virt-tools", dependencies: ["Guestfs", "GuestfsProtocol", "GuestfsToolSupport"],
                          path: "Sources/virt-tools"),
        .testTarget(name: "XDRTests", dependencies: ["XDR", "GuestfsProtocol"]),
        .testTarget(name: "GeneratorTests", dependencies: ["generator"]),
        .testTarget(name: "GuestfsTests", dependencies: ["Guestfs", "CXattr"]),
        .testTarget(name: "DaemonTests", dependencies: ["GuestfsDaemonCore", "GuestfsProtocol", "XDR"]),
    ],
    swiftLanguageModes: [.v5]
)

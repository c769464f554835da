// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "swift-guestfs",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Guestfs", targets: ["Guestfs"]),
        .executable(name: "guestfsd", targets: ["guestfsd"]),
        .executable(name: "generator", targets: ["generator"]),
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
        .target(name: "Guestfs", dependencies: ["GuestfsProtocol", "XDR"]),
        // The daemon that runs inside the appliance: its code (hand-written
        // daemon/Core plus the generated daemon/Generated) is a library so
        // tests can reach it; guestfsd is only daemon/Main/main.swift.
        .target(name: "GuestfsDaemonCore", dependencies: ["GuestfsProtocol", "XDR"], path: "daemon",
                exclude: ["Main"], sources: ["Core", "Generated"]),
        .executableTarget(name: "guestfsd", dependencies: ["GuestfsDaemonCore"], path: "daemon/Main"),
        // Reads actions.yaml, checks it and writes every generated file.
        .executableTarget(name: "generator", dependencies: [.product(name: "Yams", package: "Yams")], path: "generator",
                          exclude: []),
        // `make demo`: the whole stack on a disk image it creates.
        .executableTarget(name: "guestfs-demo", dependencies: ["Guestfs"], path: "Examples/Demo"),
        .testTarget(name: "XDRTests", dependencies: ["XDR", "GuestfsProtocol"]),
        .testTarget(name: "GeneratorTests", dependencies: ["generator"]),
        .testTarget(name: "GuestfsTests", dependencies: ["Guestfs"]),
        .testTarget(name: "DaemonTests", dependencies: ["GuestfsDaemonCore", "GuestfsProtocol", "XDR"]),
    ],
    swiftLanguageModes: [.v5]
)

// Measures swift-guestfs: launch to READY, trivial-call round trip,
// upload and download throughput. Prints one JSON object.
//   guestfs-bench [--launches N] [--calls N] [--mib N]
import Foundation
import Guestfs

var launches = 3, calls = 1000, mib = 256
var it = CommandLine.arguments.dropFirst().makeIterator()
while let a = it.next() {
    switch a {
    case "--launches": launches = Int(it.next() ?? "") ?? launches
    case "--calls": calls = Int(it.next() ?? "") ?? calls
    case "--mib": mib = Int(it.next() ?? "") ?? mib
    default: FileHandle.standardError.write(Data("unknown option \(a)\n".utf8)); exit(2)
    }
}

func now() -> Double { Date().timeIntervalSince1970 }
let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("guestfs-bench-\(getpid())")
try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: tmp) }
let disk = tmp.appendingPathComponent("disk.img").path
let payload = tmp.appendingPathComponent("payload").path
let back = tmp.appendingPathComponent("back").path

do {
    // Launch to READY, median of N (a first launch may build the appliance: not counted).
    var launchTimes: [Double] = []
    for i in 0...launches {
        let g = try Guestfs()
        try g.addDriveScratch(64 << 20)
        let t0 = now()
        try g.launch()
        if i > 0 { launchTimes.append(now() - t0) }
        try g.shutdown()
        g.close()
    }
    launchTimes.sort()

    let g = try Guestfs()
    _ = FileManager.default.createFile(atPath: disk, contents: nil)
    truncate(disk, off_t((mib * 2 + 256) << 20))
    try g.addDrive(disk, format: "raw")
    try g.launch()
    try g.mkfs("ext4", "/dev/sda")
    try g.mount("/dev/sda", "/")
    // GUESTFS_BENCH_DAEMON_ENV="NAME=VALUE ..." is set in the daemon
    // before the transfers (e.g. GUESTFSD_NO_DIRECT=1 to compare).
    for kv in (ProcessInfo.processInfo.environment["GUESTFS_BENCH_DAEMON_ENV"] ?? "").split(separator: " ") {
        let p = kv.split(separator: "=", maxSplits: 1).map(String.init)
        _ = try g.debug("setenv", [p[0], p.count > 1 ? p[1] : ""])
    }

    let t1 = now()
    for _ in 0..<calls { _ = try g.isFile("/nonexistent") }
    let roundTripMs = (now() - t1) * 1000 / Double(calls)

    // A file of pseudo-random bytes (incompressible, like real data).
    let fh = FileHandle(forWritingAtPath: { _ = FileManager.default.createFile(atPath: payload, contents: nil); return payload }())!
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    var block = [UInt8](repeating: 0, count: 1 << 20)
    for _ in 0..<mib {
        block.withUnsafeMutableBytes { raw in
            let words = raw.bindMemory(to: UInt64.self)
            for j in 0..<words.count { state = state &* 6364136223846793005 &+ 1442695040888963407; words[j] = state }
        }
        fh.write(Data(block))
    }
    fh.closeFile()

    let t2 = now()
    try g.upload(payload, "/payload")
    try g.sync()
    let up = Double(mib) * 1.048576 / (now() - t2)
    let t3 = now()
    try g.download("/payload", back)
    let down = Double(mib) * 1.048576 / (now() - t3)
    try g.shutdown()
    g.close()

    let same = FileManager.default.contentsEqual(atPath: payload, andPath: back)
    print("""
        {"impl": "swift-guestfs", "launch_median_s": \(launchTimes[launchTimes.count / 2]), "launch_all_s": \(launchTimes), \
        "roundtrip_ms": \(roundTripMs), "upload_MBps": \(up), "download_MBps": \(down), "mib": \(mib), "download_matches": \(same)}
        """)
} catch {
    FileHandle.standardError.write(Data("bench failed: \(error)\n".utf8))
    exit(1)
}

import Foundation

/// Everything the qemu command line depends on, so it can be built (and
/// tested) without launching anything.
struct QemuConfig {
    enum Accel: String { case kvm, tcg }
    enum Layout: String {
        /// microvm machine, PVH-booted uncompressed vmlinux, virtio-mmio
        /// devices (virtio-blk: /dev/vdX in the guest).
        case microvm
        /// pc machine, virtio-scsi disks (/dev/sdX in the guest).
        case pc
    }

    struct Disk {
        var id: String
        var file: String
        var format: String?
        /// Never write the image: qemu keeps writes in a temporary overlay.
        var snapshot = false
        var cache = "writeback"
        var discard = "disable"
        var copyOnRead = false
        var serial: String?
        var blocksize: Int32 = 0
        /// A network drive given as a qemu URL/filename.
        var isNetwork = false
    }

    var hv = "qemu-system-x86_64"
    var accel: Accel = .tcg
    var layout: Layout = .microvm
    var memsize: Int32 = 1280
    var smp: Int32 = 1
    var kernel = ""
    var initrd = ""
    var root = ""
    var rootUUID: String?
    var disks: [Disk] = []
    var socketPath = ""
    var network = false
    /// set_selinux: SELinux as the kernel's security module (permissive, no
    /// policy loaded until the caller loads one); otherwise it is off.
    var selinux = false
    var verbose = false
    var append: String?
    var extra: [(String, String?)] = []
    var tscKHz: Int?

    static let channelName = "org.libguestfs.channel.0"

    /// Kernel command line shared by both layouts.
    static let baseAppend = ["panic=1", "mitigations=off", "tsc=reliable", "no_timer_check", "noreplace-smp",
                             "cryptomgr.notests", "8250.nr_uarts=1", "random.trust_cpu=on"]

    /// The device name the appliance kernel gives the root disk (the last one).
    var rootDeviceGuestName: String {
        let letter = DeviceNames.letters(disks.count)
        return layout == .microvm ? "/dev/vd\(letter)" : "/dev/sd\(letter)"
    }

    var kernelCommandLine: String {
        var a = QemuConfig.baseAppend
        a += selinux ? ["security=selinux", "selinux=1", "enforcing=0"] : ["selinux=0"]
        if verbose { a.append("guestfs_verbose=1") } else { a += ["quiet", "loglevel=3"] }
        if let u = rootUUID, !u.isEmpty { a.append("root=UUID=\(u)") } else { a.append("root=\(rootDeviceGuestName)") }
        a.append("console=ttyS0")
        if network { a.append("guestfs_network=1") }
        if accel == .tcg, let khz = tscKHz { a.append("tsc_early_khz=\(khz)") }
        a.append("guestfs_layout=\(layout.rawValue)")
        if let extra = append, !extra.isEmpty { a.append(extra) }
        return a.joined(separator: " ")
    }

    /// qemu's -drive value escapes commas by doubling them.
    static func escape(_ s: String) -> String { s.replacingOccurrences(of: ",", with: ",,") }

    func driveOption(_ d: Disk) -> String {
        var o = d.isNetwork ? "file=\(QemuConfig.escape(d.file))" : "file=\(QemuConfig.escape(d.file))"
        if let f = d.format { o += ",format=\(f)" }
        o += ",if=none,id=\(d.id)"
        o += ",cache=\(d.cache == "unsafe" ? "unsafe" : "writeback")"
        if d.snapshot { o += ",snapshot=on" }
        switch d.discard {
        case "enable", "besteffort": o += ",discard=unmap"
        default: break
        }
        if d.copyOnRead { o += ",copy-on-read=on" }
        if !d.isNetwork { o += ",aio=threads" }
        return o
    }

    func deviceOption(_ d: Disk, lun: Int) -> String {
        var o: String
        switch layout {
        case .microvm: o = "virtio-blk-device,drive=\(d.id)"
        case .pc:
            // User disks on target 0 (lun = index), the appliance alone on target 1, so it sorts last.
            o = d.id == "appliance" ? "scsi-hd,drive=appliance,bus=scsi.0,channel=0,scsi-id=1,lun=0"
                                    : "scsi-hd,drive=\(d.id),bus=scsi.0,channel=0,scsi-id=0,lun=\(lun)"
        }
        if let s = d.serial { o += ",serial=\(QemuConfig.escape(s))" }
        if d.blocksize != 0 { o += ",logical_block_size=\(d.blocksize),physical_block_size=\(d.blocksize)" }
        return o
    }

    /// The full argv, hypervisor first.
    var arguments: [String] {
        var c = [hv, "-nodefaults", "-display", "none", "-no-reboot", "-no-user-config"]
        switch accel {
        case .kvm: c += ["-accel", "kvm", "-cpu", "host"]
        case .tcg: c += ["-accel", "tcg", "-cpu", "max"]
        }
        c += ["-m", String(memsize), "-smp", String(smp), "-rtc", "driftfix=slew"]
        switch layout {
        case .microvm:
            c += ["-M", "microvm,acpi=on,pit=on,pic=off,rtc=on,isa-serial=on,x-option-roms=off,auto-kernel-cmdline=off"]
        case .pc:
            c += ["-M", "pc", "-device", "virtio-scsi-pci,id=scsi"]
        }
        var all = disks
        all.append(Disk(id: "appliance", file: root, format: "raw", snapshot: true, cache: "unsafe"))
        for (i, d) in all.enumerated() {
            c += ["-drive", driveOption(d), "-device", deviceOption(d, lun: i)]
        }
        switch layout {
        case .microvm: c += ["-device", "virtio-serial-device"]
        case .pc: c += ["-device", "virtio-serial-pci"]
        }
        c += ["-chardev", "socket,path=\(QemuConfig.escape(socketPath)),id=channel0",
              "-device", "virtserialport,chardev=channel0,name=\(QemuConfig.channelName)"]
        c += ["-serial", "stdio"]
        if network {
            c += ["-netdev", "user,id=usernet,net=169.254.0.0/16"]
            c += ["-device", layout == .microvm ? "virtio-net-device,netdev=usernet" : "virtio-net-pci,netdev=usernet"]
        }
        c += ["-kernel", kernel, "-initrd", initrd, "-append", kernelCommandLine]
        var shares = 0
        for (k, v) in extra {
            if k == "-virtfs", let v, let share = QemuConfig.virtfs(v, index: shares, layout: layout) {
                // qemu's -virtfs makes a PCI device, which microvm has not:
                // the same share as -fsdev plus the layout's 9p device.
                c += share
                shares += 1
                continue
            }
            c.append(k)
            if let v { c.append(v) }
        }
        return c
    }

    /// Splits a qemu option string at single commas (",," is a literal comma).
    static func splitOptions(_ s: String) -> [String] {
        var parts: [String] = []
        var cur = ""
        let it = Array(s)
        var i = 0
        while i < it.count {
            if it[i] == "," {
                if i + 1 < it.count && it[i + 1] == "," { cur.append(","); i += 2; continue }
                parts.append(cur); cur = ""
            } else {
                cur.append(it[i])
            }
            i += 1
        }
        parts.append(cur)
        return parts
    }

    /// `-virtfs local,path=DIR,mount_tag=TAG,security_model=M[,readonly=on]`
    /// as `-fsdev ... -device virtio-9p-{device,pci},fsdev=ID,mount_tag=TAG`;
    /// nil when the value has no mount_tag (qemu then reports it).
    static func virtfs(_ value: String, index: Int, layout: Layout) -> [String]? {
        var driver = "local"
        var id = "fsdev\(index)"
        var tag: String?
        var fsdevOpts: [String] = []
        for (n, opt) in splitOptions(value).enumerated() where !opt.isEmpty {
            guard let eq = opt.firstIndex(of: "=") else {
                if n == 0 { driver = opt } else { fsdevOpts.append(escape(opt)) }
                continue
            }
            let key = String(opt[..<eq]), val = String(opt[opt.index(after: eq)...])
            switch key {
            case "mount_tag": tag = val
            case "id": id = val
            case "fsdriver": driver = val
            default: fsdevOpts.append("\(key)=\(escape(val))")
            }
        }
        guard let tag else { return nil }
        let fsdev = ([driver, "id=\(escape(id))"] + fsdevOpts).joined(separator: ",")
        let device = layout == .microvm ? "virtio-9p-device" : "virtio-9p-pci"
        return ["-fsdev", fsdev, "-device", "\(device),fsdev=\(escape(id)),mount_tag=\(escape(tag))"]
    }

    /// How many 9p shares `extra` adds (each takes a virtio transport).
    var virtfsShares: Int { extra.filter { $0.0 == "-virtfs" && $0.1 != nil }.count }

    /// The largest number of user disks the microvm layout takes (its
    /// virtio-mmio transports, minus root, serial and network).
    static let microvmMaxDisks = 20
}

/// Decides between KVM and TCG.
enum AccelDecision {
    /// What the probe cache says about KVM on this host.
    enum ProbeState: String { case unknown, good, bad }

    /// Returns the accelerator to try first, whether the attempt is a probe
    /// (short timeout, fall back to TCG on failure), and why.
    static func choose(forceTCG: Bool, forceKVM: Bool, kvmDeviceUsable: Bool, probe: ProbeState) -> (QemuConfig.Accel, isProbe: Bool, reason: String) {
        if forceTCG { return (.tcg, false, "force_tcg is set: using TCG") }
        if forceKVM {
            return (.kvm, false, kvmDeviceUsable ? "force_kvm is set: using KVM" : "force_kvm is set: using KVM although /dev/kvm is not usable")
        }
        if !kvmDeviceUsable { return (.tcg, false, "/dev/kvm is not usable: using TCG (slow)") }
        switch probe {
        case .good: return (.kvm, false, "KVM works on this host (cached probe): using KVM")
        case .bad: return (.tcg, false, "KVM is not usable on this host (cached probe: guests do not boot): using TCG")
        case .unknown: return (.kvm, true, "/dev/kvm is present: probing KVM with a short timeout")
        }
    }

    static func kvmDeviceUsable() -> Bool {
        let fd = open("/dev/kvm", O_RDWR | O_CLOEXEC)
        if fd < 0 { return false }
        // KVM_GET_API_VERSION = _IO(0xAE, 0) must return 12.
        let v = ioctl(fd, 0xAE00, 0)
        _ = Glibc.close(fd)
        return v == 12
    }

    /// TCG guests see the host TSC; when it is constant, /proc/cpuinfo's
    /// "cpu MHz" is its rate, and passing it saves the guest an unreliable
    /// calibration.
    static func hostTSCkHz() -> Int? {
        guard let txt = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
        let lines = txt.split(separator: "\n")
        guard let flags = lines.first(where: { $0.hasPrefix("flags") }), flags.split(separator: " ").contains("constant_tsc") else { return nil }
        guard let mhz = lines.first(where: { $0.hasPrefix("cpu MHz") }),
              let v = Double(mhz.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "") else { return nil }
        return Int(v * 1000)
    }
}

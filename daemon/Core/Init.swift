// PID-1 duties in the appliance: mount the kernel filesystems, find the
// virtio-serial port, reap orphans, power off at the end. Kept minimal:
// no udev, no device scans on the way to the launch flag.

import Glibc
import GuestfsProtocol

enum Init {
    static let channelName = "org.libguestfs.channel.0"

    static func mountFS(_ source: String, _ target: String, _ type: String, _ flags: UInt = 0, _ data: String? = nil) {
        mkdir(target, 0o755)
        let r: Int32
        if let data {
            r = data.withCString { d in mount(source, target, type, flags, d) }
        } else {
            r = mount(source, target, type, flags, nil)
        }
        if r != 0 && errno != EBUSY {
            Sys.log("mount \(type) on \(target): \(Sys.strerror(errno))")
        }
    }

    static func isMountpoint(_ path: String) -> Bool {
        var a = stat(), b = stat()
        guard stat(path, &a) == 0, stat(path + "/..", &b) == 0 else { return false }
        return a.st_dev != b.st_dev || a.st_ino == b.st_ino
    }

    /// The early boot work done when running as PID 1.
    static func setupAppliance() {
        umask(0o022)
        setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1)
        setenv("HOME", "/root", 1)
        setenv("LC_ALL", "C", 1)
        setenv("TERM", "dumb", 0)
        if !isMountpoint("/proc") { mountFS("proc", "/proc", "proc", UInt(MS_NOSUID | MS_NODEV | MS_NOEXEC)) }
        if !isMountpoint("/sys") { mountFS("sysfs", "/sys", "sysfs", UInt(MS_NOSUID | MS_NODEV | MS_NOEXEC)) }
        if !isMountpoint("/dev") { mountFS("devtmpfs", "/dev", "devtmpfs", UInt(MS_NOSUID), "mode=0755") }
        mkdir("/dev/pts", 0o755)
        if !isMountpoint("/dev/pts") { mountFS("devpts", "/dev/pts", "devpts", UInt(MS_NOSUID | MS_NOEXEC), "gid=5,mode=620,ptmxmode=000") }
        mkdir("/dev/shm", 0o1777)
        if !isMountpoint("/run") { mountFS("tmpfs", "/run", "tmpfs", UInt(MS_NOSUID | MS_NODEV), "mode=0755") }
        if !isMountpoint("/tmp") { mountFS("tmpfs", "/tmp", "tmpfs", UInt(MS_NOSUID | MS_NODEV), "mode=1777") }
        mkdir("/run/lock", 0o755)
        mkdir("/run/lvm", 0o700)
        mkdir("/run/cryptsetup", 0o700)
        mkdir("/sysroot", 0o755)
        let links = [("/proc/self/fd", "/dev/fd"), ("/proc/self/fd/0", "/dev/stdin"),
                     ("/proc/self/fd/1", "/dev/stdout"), ("/proc/self/fd/2", "/dev/stderr")]
        for (target, link) in links where access(link, F_OK) != 0 {
            symlink(target, link)
        }
        if access("/etc/mtab", F_OK) != 0 { symlink("/proc/mounts", "/etc/mtab") }
        bringUpLoopback()
    }

    /// ifconfig lo up, with one ioctl (no programs started).
    static func bringUpLoopback() {
        let s = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        if s < 0 { return }
        defer { close(s) }
        var req = [UInt8](repeating: 0, count: 40)   // struct ifreq
        for (i, c) in "lo".utf8.enumerated() { req[i] = c }
        let SIOCGIFFLAGS: UInt = 0x8913, SIOCSIFFLAGS: UInt = 0x8914
        req.withUnsafeMutableBytes { p in
            guard ioctl(s, SIOCGIFFLAGS, p.baseAddress!) == 0 else { return }
            let flags = UInt16(p[16]) | UInt16(p[17]) << 8
            let up = flags | 0x1 | 0x40   // IFF_UP | IFF_RUNNING
            p[16] = UInt8(up & 0xFF); p[17] = UInt8(up >> 8)
            _ = ioctl(s, SIOCSIFFLAGS, p.baseAddress!)
        }
    }

    /// /dev/vportNpM of the port named org.libguestfs.channel.0, creating
    /// the device node if devtmpfs has not. Waits briefly for the port.
    static func findChannel(sysRoot: String = "/") -> String? {
        let base = sysRoot + "sys/class/virtio-ports"
        // supermin's initrd has loaded virtio_console; the port itself shows
        // up a little later (the host announces it over the control queue),
        // so poll finely at first (2 ms for 0.2 s, then 10 ms, ~2 s in all).
        for attempt in 0..<280 {
            for port in (Sys.listDirectory(base) ?? []).sorted() {
                guard Sys.readText("\(base)/\(port)/name")?.trimmed() == channelName else { continue }
                let dev = "/dev/\(port)"
                if access(dev, F_OK) != 0, let mm = Sys.readText("\(base)/\(port)/dev")?.trimmed() {
                    let parts = mm.split(separator: ":")
                    if parts.count == 2, let ma = UInt32(parts[0]), let mi = UInt32(parts[1]) {
                        if mknod(dev, S_IFCHR | 0o600, Sys.makedev(ma, mi)) != 0 {
                            Sys.log("mknod \(dev): \(Sys.strerror(errno))")
                        }
                    }
                }
                return dev
            }
            if attempt == 0 && access(sysRoot + "sys/module/virtio_console", F_OK) != 0 {
                // The driver may be a module that is not loaded yet. (Running
                // modprobe costs 0.1-0.3 s under TCG: only when needed.)
                _ = try? Command.run(["modprobe", "virtio_console"])
            }
            usleep(attempt < 100 ? 2_000 : 10_000)
        }
        return nil
    }

    /// set_network: the appliance's NIC on qemu's user-mode network (the
    /// library gives it 169.254.0.0/16: host 169.254.2.2, DNS 169.254.2.3),
    /// configured statically with ip(8) rather than by DHCP.
    static func setupNetwork(verbose: Bool) {
        if (Sys.listDirectory("/sys/class/net") ?? []).allSatisfy({ $0 == "lo" }) {
            _ = try? Command.run(["modprobe", "virtio_net"])
        }
        guard let nic = (Sys.listDirectory("/sys/class/net") ?? []).filter({ $0 != "lo" }).sorted().first else {
            Sys.log("network: no network interface (is virtio_net in the appliance?)")
            return
        }
        let steps = [["ip", "link", "set", nic, "up"],
                     ["ip", "addr", "add", "169.254.2.15/16", "dev", nic],
                     ["ip", "route", "add", "default", "via", "169.254.2.2", "dev", nic]]
        for argv in steps {
            let r = try? Command.run(argv)
            if r?.ok != true { Sys.log("network: \(argv.joined(separator: " ")): \(r?.err.trimmed() ?? "cannot run ip")") }
        }
        let resolv = "nameserver 169.254.2.3\n"
        unlink("/etc/resolv.conf")
        let fd = open("/etc/resolv.conf", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd >= 0 {
            _ = resolv.withCString { write(fd, $0, strlen($0)) }
            close(fd)
        }
        if verbose { Sys.log("network: \(nic) is 169.254.2.15/16, gateway 169.254.2.2") }
    }

    /// The first field of /proc/uptime (nil before /proc is mounted).
    static func uptime() -> String? {
        Sys.readText("/proc/uptime")?.split(separator: " ").first.map(String.init)
    }

    /// Ends the appliance: unmount the guest, flush, power off.
    static func powerOff() -> Never {
        sync()
        _ = Sys.reboot(Sys.RB_POWER_OFF)
        // reboot failed (not PID 1?): just exit.
        exit(0)
    }
}

/// The daemon's entry point (daemon/Main/main.swift calls this).
public enum GuestfsDaemonMain {
    public static func run(arguments: [String]) -> Never {
        var channelPath: String?
        var forceInit = false
        var verbose = false
        var sysrootPath = "/sysroot"
        var startUptime: String?
        var wantNetwork = false
        var i = 1
        while i < arguments.count {
            let a = arguments[i]
            switch a {
            case "--channel":
                i += 1
                if i < arguments.count { channelPath = arguments[i] }
            case "--init": forceInit = true
            case "--verbose", "-v": verbose = true
            case "--sysroot":
                i += 1
                if i < arguments.count { sysrootPath = arguments[i] }
            case "--help", "-h":
                print("usage: guestfsd [--init] [--channel PATH] [--sysroot DIR] [--verbose]")
                exit(0)
            default:
                if a.hasPrefix("--channel=") { channelPath = String(a.dropFirst(10)) }
                else if a.hasPrefix("--sysroot=") { sysrootPath = String(a.dropFirst(10)) }
                else {
                    Sys.log("unknown option \(a)")
                    exit(2)
                }
            }
            i += 1
        }
        let isInit = getpid() == 1 || forceInit
        if isInit {
            Init.setupAppliance()
            startUptime = Init.uptime()
            if let cmdline = Sys.readText("/proc/cmdline") {
                let words = cmdline.split(separator: " ")
                if words.contains("guestfs_verbose=1") || words.contains("guestfs.verbose=1") { verbose = true }
                for w in words where w.hasPrefix("guestfs_channel=") { channelPath = String(w.dropFirst(16)) }
                wantNetwork = words.contains("guestfs_network=1")
                // set_selinux: SELinux is the kernel's security module; its
                // filesystem is where libselinux looks for it.
                if words.contains("security=selinux") && !Init.isMountpoint("/sys/fs/selinux") {
                    Init.mountFS("selinuxfs", "/sys/fs/selinux", "selinuxfs", UInt(MS_NOSUID | MS_NOEXEC))
                }
            }
        }
        signal(SIGPIPE, SIG_IGN)
        Child.extraEnvironment = ["DM_DISABLE_UDEV=1", "LVM_SUPPRESS_FD_WARNINGS=1"]
        setenv("LC_ALL", "C", 1)

        if channelPath == nil { channelPath = Init.findChannel() }
        guard let channelPath else {
            Sys.log("cannot find the virtio-serial port \(Init.channelName)")
            if isInit { Init.powerOff() }
            exit(1)
        }
        let channel: Channel
        do {
            channel = try Channel.open(path: channelPath)
        } catch {
            Sys.log("\(error)")
            if isInit { Init.powerOff() }
            exit(1)
        }
        let devices = DeviceMap(rootDevice: DeviceMap.rootDevice())
        let daemon = Daemon(channel: channel, devices: devices, sysroot: Sysroot(path: sysrootPath))
        daemon.verbose = verbose
        if verbose {
            Sys.log("channel \(channelPath); disks \(devices.disks) (root \(devices.rootDisk ?? "-"))")
            Sys.log("uptime \(startUptime ?? "?") after the mounts, \(Init.uptime() ?? "?") at the launch flag")
        }
        do {
            try channel.write(Framing.word(GuestfsWire.launchFlag))
        } catch {
            Sys.log("cannot send the launch flag: \(error)")
            if isInit { Init.powerOff() }
            exit(1)
        }
        // Not needed for the launch flag: done after it (the library is
        // still finishing launch), before the first call is read.
        // Logical volumes already on the disks become usable (/dev/VG/LV),
        // as on a booted guest; lvm only runs when some disk has a PV label.
        if isInit && daemon.handlers.anyLVMPresent() {
            let r = try? Command.run(["lvm", "vgchange", "-aay", "--sysinit"])
            if verbose { Sys.log("activated logical volumes: \(r.map { $0.ok ? "ok" : $0.err.trimmed() } ?? "lvm failed to start")") }
        }
        if isInit && wantNetwork { Init.setupNetwork(verbose: verbose) }
        daemon.serve()
        if isInit {
            daemon.handlers.shutdownGuest(daemon)
            Init.powerOff()
        }
        exit(0)
    }
}

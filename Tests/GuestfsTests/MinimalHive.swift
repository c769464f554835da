// Builds the smallest Windows registry hive (regf) file that libhivex opens
// and can grow: libhivex cannot create a hive from nothing, so tests upload
// this one and fill it through the hivex_* actions.
//
// Layout (8 KiB):
//   0x0000  base block: "regf", equal sequence numbers (clean), format 1.3,
//           root cell offset, size of the hive bins, XOR checksum of the
//           first 508 bytes at 0x1fc.
//   0x1000  one 4 KiB hive bin ("hbin") holding three cells:
//           +0x20  the root key (nk, flags: hive entry | no delete | ASCII name),
//           +0x78  one security cell (sk) the root points to, which child keys
//                  created by libhivex inherit (it refuses to add children
//                  otherwise), linked to itself, reference count 1,
//           +0xa8  one free cell covering the rest of the bin.
// Cell offsets in records are relative to the first bin (0x1000), and
// allocated cells have a negative size.

enum MinimalHive {
    /// Handle of the root key as libhivex reports it (its file offset).
    static let rootHandle: Int64 = 0x1000 + 0x20

    static func bytes(rootName: String = "ROOT") -> [UInt8] {
        var b = [UInt8](repeating: 0, count: 0x2000)
        func put16(_ off: Int, _ v: UInt16) { for i in 0..<2 { b[off + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt16(i))) } }
        func put32(_ off: Int, _ v: UInt32) { for i in 0..<4 { b[off + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) } }
        func put64(_ off: Int, _ v: UInt64) { for i in 0..<8 { b[off + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) } }
        func putASCII(_ off: Int, _ s: String) { for (i, c) in s.utf8.enumerated() { b[off + i] = c } }
        let none: UInt32 = 0xffff_ffff
        // 2020-01-01 00:00:00 UTC as a Windows FILETIME (100 ns since 1601).
        let filetime: UInt64 = 132_223_104_000_000_000

        // Base block.
        putASCII(0, "regf")
        put32(0x04, 1)            // primary sequence number
        put32(0x08, 1)            // secondary sequence number (equal: cleanly written)
        put64(0x0c, filetime)
        put32(0x14, 1)            // major version
        put32(0x18, 3)            // minor version
        put32(0x1c, 0)            // primary file
        put32(0x20, 1)            // direct memory load format
        put32(0x24, 0x20)         // root cell, relative to the first bin
        put32(0x28, 0x1000)       // bytes of hive bins
        put32(0x2c, 1)            // clustering factor
        for (i, u) in "minimal".utf16.enumerated() { put16(0x30 + 2 * i, u) }
        var sum: UInt32 = 0
        for off in stride(from: 0, to: 0x1fc, by: 4) {
            sum ^= UInt32(b[off]) | UInt32(b[off + 1]) << 8 | UInt32(b[off + 2]) << 16 | UInt32(b[off + 3]) << 24
        }
        if sum == 0xffff_ffff { sum = 0xffff_fffe } else if sum == 0 { sum = 1 }
        put32(0x1fc, sum)

        // The bin.
        let bin = 0x1000
        putASCII(bin, "hbin")
        put32(bin + 0x04, 0)      // offset of this bin from the first
        put32(bin + 0x08, 0x1000) // size of this bin
        put64(bin + 0x14, filetime)

        // Root key.
        let nk = bin + 0x20
        let name = Array(rootName.utf8)
        let nkSize = (0x50 + name.count + 7) & ~7
        let skRel = 0x20 + nkSize
        put32(nk, UInt32(bitPattern: Int32(-nkSize)))
        putASCII(nk + 0x04, "nk")
        put16(nk + 0x06, 0x2c)
        put64(nk + 0x08, filetime)
        put32(nk + 0x14, 0)       // parent: none (0 is not a cell)
        put32(nk + 0x18, 0)       // subkeys
        put32(nk + 0x1c, 0)       // volatile subkeys
        put32(nk + 0x20, none)    // subkey list
        put32(nk + 0x24, none)    // volatile subkey list
        put32(nk + 0x28, 0)       // values
        put32(nk + 0x2c, none)    // value list
        put32(nk + 0x30, UInt32(skRel))
        put32(nk + 0x34, none)    // class name
        put16(nk + 0x4c, UInt16(name.count))
        for (i, c) in name.enumerated() { b[nk + 0x50 + i] = c }

        // Security cell with a bare self-relative descriptor (revision 1,
        // SE_SELF_RELATIVE, no owner, group or ACLs).
        let sk = bin + skRel
        let descriptor: [UInt8] = [1, 0, 0x00, 0x80] + [UInt8](repeating: 0, count: 16)
        let skSize = (0x18 + descriptor.count + 7) & ~7
        put32(sk, UInt32(bitPattern: Int32(-skSize)))
        putASCII(sk + 0x04, "sk")
        put32(sk + 0x08, UInt32(skRel))   // next security cell: itself
        put32(sk + 0x0c, UInt32(skRel))   // previous: itself
        put32(sk + 0x10, 1)               // reference count (the root)
        put32(sk + 0x14, UInt32(descriptor.count))
        for (i, c) in descriptor.enumerated() { b[sk + 0x18 + i] = c }

        // The rest of the bin is one free cell.
        let free = skRel + skSize
        put32(bin + free, UInt32(0x1000 - free))
        return b
    }
}

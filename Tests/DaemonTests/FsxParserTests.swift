import XCTest
import GuestfsProtocol
@testable import GuestfsDaemonCore

/// The text and byte parsers behind xfs_info/xfs_info2, isoinfo and sfdiskM.
final class FsxParserTests: XCTestCase {
    // xfsprogs 6.1's layout; newer versions add lines such as "exchange=0".
    let xfsReport = """
        meta-data=/dev/vda1              isize=512    agcount=4, agsize=20480 blks
                 =                       sectsz=512   attr=2, projid32bit=1
                 =                       crc=1        finobt=1, sparse=1, rmapbt=0
                 =                       reflink=1    bigtime=1 inobtcount=1 nrext64=0
        data     =                       bsize=4096   blocks=81920, imaxpct=25
                 =                       sunit=0      swidth=0 blks
        naming   =version 2              bsize=4096   ascii-ci=0, ftype=1
        log      =internal log           bsize=4096   blocks=16384, version=2
                 =                       sectsz=512   sunit=0 blks, lazy-count=1
        realtime =none                   extsz=4096   blocks=0, rtextents=0

        """

    func testXFSInfoPairs() {
        let pairs = Handlers.parseXFSInfo(xfsReport)
        let d = Dictionary(pairs, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(pairs.count, d.count, "no key twice")
        XCTAssertEqual(d["meta-data"], "/dev/vda1")
        XCTAssertEqual(d["meta-data.isize"], "512")
        XCTAssertEqual(d["meta-data.agsize"], "20480 blks")
        XCTAssertEqual(d["meta-data.nrext64"], "0")
        XCTAssertEqual(d["data"], nil)
        XCTAssertEqual(d["data.blocks"], "81920")
        XCTAssertEqual(d["data.swidth"], "0 blks")
        XCTAssertEqual(d["naming"], "version 2")
        XCTAssertEqual(d["naming.ascii-ci"], "0")
        XCTAssertEqual(d["log"], "internal log")
        XCTAssertEqual(d["log.sunit"], "0 blks")
        XCTAssertEqual(d["log.lazy-count"], "1")
        XCTAssertEqual(d["realtime"], "none")
        XCTAssertEqual(d["realtime.rtextents"], "0")
        XCTAssertEqual(pairs.first?.0, "meta-data", "report order is kept")
        XCTAssertEqual(pairs.count, 35)
    }

    func testXFSInfoNoise() {
        XCTAssertTrue(Handlers.parseXFSInfo("").isEmpty)
        XCTAssertTrue(Handlers.parseXFSInfo("xfs_info: /dev/sda1 is not a valid XFS filesystem (unexpected SB magic number 0x00000000)\n").isEmpty)
    }

    func pvd() -> [UInt8] {
        var d = [UInt8](repeating: 0, count: 2048)
        func put(_ s: String, _ off: Int) { for (i, b) in s.utf8.enumerated() { d[off + i] = b } }
        d[0] = 1; put("CD001", 1); d[6] = 1
        put("LINUX" + String(repeating: " ", count: 27), 8)
        put("VOLUME_ID" + String(repeating: " ", count: 23), 40)
        d[80] = 0x34; d[81] = 0x12; d[86] = 0x12; d[87] = 0x34      // 0x1234 both ways
        d[120] = 1; d[123] = 1; d[124] = 1; d[127] = 1
        d[129] = 8; d[130] = 8
        put("PUBLISHER ", 318)
        put("COPYRIGHT.TXT", 702)
        put("2024010203040500", 813); d[829] = 4                  // GMT+1
        put("0000000000000000", 830)
        put("1999123123595900", 864); d[880] = UInt8(bitPattern: -8) // GMT-2
        return d
    }

    func testISOPrimaryDescriptor() throws {
        let info = try XCTUnwrap(Handlers.parseISOPrimaryDescriptor(pvd()))
        XCTAssertEqual(info.isoSystemId, "LINUX")
        XCTAssertEqual(info.isoVolumeId, "VOLUME_ID")
        XCTAssertEqual(info.isoVolumeSpaceSize, 0x1234)
        XCTAssertEqual(info.isoVolumeSetSize, 1)
        XCTAssertEqual(info.isoVolumeSequenceNumber, 1)
        XCTAssertEqual(info.isoLogicalBlockSize, 2048)
        XCTAssertEqual(info.isoPublisherId, "PUBLISHER")
        XCTAssertEqual(info.isoCopyrightFileId, "COPYRIGHT.TXT")
        XCTAssertEqual(info.isoAbstractFileId, "")
        XCTAssertEqual(info.isoVolumeCreationT, 1704164645 - 3600)   // 2024-01-02 03:04:05 +01:00
        XCTAssertEqual(info.isoVolumeModificationT, -1)
        XCTAssertEqual(info.isoVolumeExpirationT, -1)
        XCTAssertEqual(info.isoVolumeEffectiveT, 946684799 + 7200)   // 1999-12-31 23:59:59 -02:00
    }

    func testNotISO() {
        var d = pvd()
        d[1] = UInt8(ascii: "X")
        XCTAssertNil(Handlers.parseISOPrimaryDescriptor(d))
        XCTAssertNil(Handlers.parseISOPrimaryDescriptor([1] + Array("CD001".utf8)))
    }

    func testSfdiskMebibyteLines() {
        XCTAssertEqual(Handlers.sfdiskMebibyteLine(",100"), ",100M")
        XCTAssertEqual(Handlers.sfdiskMebibyteLine("1,10,83,*"), "1M,10M,83,*")
        XCTAssertEqual(Handlers.sfdiskMebibyteLine(","), ",")
        XCTAssertEqual(Handlers.sfdiskMebibyteLine(",+,7"), ",+,7")
        XCTAssertEqual(Handlers.sfdiskMebibyteLine("2048,"), "2048M,")
    }
}

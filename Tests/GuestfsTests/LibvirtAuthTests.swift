import Foundation
import XCTest
import Guestfs

/// libvirt authentication through the handle: a test-driver node file with
/// an <auth> section makes libvirt ask for a user name and a passphrase,
/// which the libvirt_auth event callback supplies. No appliance needed.
final class LibvirtAuthTests: XCTestCase {
    var dir = ""
    var uri: String { "test://\(dir)/auth.xml" }

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("libvirt-auth-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let disk = "\(dir)/disk.img"
        _ = FileManager.default.createFile(atPath: disk, contents: Data(count: 1 << 20))
        try """
            <node>
              <domain type='test'>
                <name>guarded</name>
                <memory>131072</memory>
                <os><type>hvm</type></os>
                <devices>
                  <disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='\(disk)'/><target dev='vda' bus='virtio'/></disk>
                </devices>
              </domain>
              <auth>
                <user password="s3cret">alice</user>
              </auth>
            </node>
            """.write(toFile: "\(dir)/auth.xml", atomically: true, encoding: .utf8)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// A handle whose libvirt_auth callback answers with `answers` (by
    /// credential name) and records what libvirt asked.
    func handle(_ answers: [String: String], asked: @escaping ([String], [String], String) -> Void) throws -> Guestfs {
        let g = try Guestfs(environment: false)
        try g.setLibvirtSupportedCredentials(["authname", "passphrase"])
        g.setEventCallback(events: .libvirtAuth) { _, _, buffer, _ in
            do {
                let creds = try g.getLibvirtRequestedCredentials()
                var prompts: [String] = []
                for (i, c) in creds.enumerated() {
                    prompts.append(try g.getLibvirtRequestedCredentialPrompt(Int32(i)))
                    _ = try g.getLibvirtRequestedCredentialChallenge(Int32(i))
                    _ = try g.getLibvirtRequestedCredentialDefresult(Int32(i))
                    if let a = answers[c] { try g.setLibvirtRequestedCredential(Int32(i), Array(a.utf8)) }
                }
                XCTAssertThrowsError(try g.getLibvirtRequestedCredentialPrompt(Int32(creds.count)))
                asked(creds, prompts, String(decoding: buffer, as: UTF8.self))
            } catch {
                XCTFail("libvirt_auth callback: \(error)")
            }
        }
        return g
    }

    func testCredentialsFromTheCallback() throws {
        var seen: [String] = []
        var prompts: [String] = []
        var eventURI = ""
        let g = try handle(["authname": "alice", "passphrase": "s3cret"]) { c, p, u in
            // libvirt's test driver asks for each credential in its own
            // request (name, then passphrase): collect them all.
            seen += c; prompts += p; eventURI = u
        }
        defer { g.close() }
        XCTAssertEqual(try g.addDomain("guarded", libvirturi: uri, readonly: true), 1)
        XCTAssertEqual(seen, ["authname", "passphrase"])
        XCTAssertEqual(prompts.count, 2)
        XCTAssertFalse(prompts[0].isEmpty)
        XCTAssertEqual(eventURI, uri)
        // Outside the callback the request is gone.
        XCTAssertThrowsError(try g.getLibvirtRequestedCredentials())
    }

    func testWrongPassphraseFails() throws {
        var calls = 0
        let g = try handle(["authname": "alice", "passphrase": "wrong"]) { _, _, _ in calls += 1 }
        defer { g.close() }
        XCTAssertThrowsError(try g.addDomain("guarded", libvirturi: uri, readonly: true)) { e in
            XCTAssertTrue("\(e)".contains("could not connect"), "\(e)")
        }
        XCTAssertGreaterThanOrEqual(calls, 1)
        XCTAssertEqual(try g.debugDrives().count, 0)
    }

    func testBadCredentialNames() throws {
        let g = try Guestfs(environment: false)
        defer { g.close() }
        XCTAssertThrowsError(try g.setLibvirtSupportedCredentials(["authname", "fingerprint"])) { e in
            XCTAssertTrue("\(e)".contains("fingerprint"), "\(e)")
        }
        XCTAssertThrowsError(try g.setLibvirtRequestedCredential(0, Array("x".utf8)))
        try g.setLibvirtSupportedCredentials([])
    }
}

@testable import GDBProxy
import Testing

/// The proxy classifies a client's packet from its first bytes only.
@Suite("Proxy packet classification")
struct PacketKindTests {
    static func kind(_ text: String) -> PacketKind { PacketKind(Array(text.utf8)) }

    @Test(arguments: [
        ("?", PacketKind.haltReason), ("c", .resume(step: false)), ("s", .resume(step: true)),
        ("vCont;c:p1.-1", .resume(step: false)), ("vCont;s:p1.1;c", .resume(step: true)),
        ("vCont;t:pc.1", .other), ("vCont?", .other), ("D;1", .detach), ("D", .detach), ("k", .kill),
        ("vKill;1", .kill), ("Hgp1.1", .selection(.generalThread)), ("Hc-1", .selection(.continueThread)),
        ("Qqemu.PhyMemMode:1", .selection(.physicalMemory)), ("QStartNoAckMode", .startNoAck),
        ("qRcmd,6b6d73", .monitor), ("mffff8880,8", .readMemory), ("M10,1:00", .write), ("X10,0:", .write),
        ("Z0,ffffffff80111074,1", .breakpoint(insert: true)), ("z1,10,1", .breakpoint(insert: false)),
        ("qSupported:multiprocess+", .features), ("qSupported", .features), ("g", .other), ("qfThreadInfo", .other),
    ])
    func classifies(_ text: String, _ expected: PacketKind) {
        #expect(Self.kind(text) == expected, "\(text)")
    }
}

/// Frames cut out of a byte stream without decoding them.
@Suite("Proxy raw frames")
struct RawFrameTests {
    static func frames(_ pieces: [String], maximumPayload: Int = 100) -> [RawFrame] {
        var buffer = RawFrameBuffer(maximumPayload: maximumPayload)
        var out: [RawFrame] = []
        for piece in pieces {
            let bytes = Array(piece.utf8)
            _ = buffer.fill(minimum: bytes.count) { room in
                room.copyBytes(from: bytes)
                return bytes.count
            }
            while let (frame, _) = buffer.next() { out.append(frame) }
        }
        return out
    }

    @Test func packetsSplitAnywhereComeOutWhole() {
        let f = Self.frames(["+$m1", "0,8#", "3", "2", "-\u{03}$g#67"])
        #expect(f.count == 5)
        #expect(f[0] == .ack)
        guard case .packet(let frame, let payload, let ok, false) = f[1] else { Issue.record("\(f)"); return }
        #expect(frame.count == 9 && payload.count == 5)
        #expect(ok, "the checksum of m10,8 is 0x32")
        #expect(f[2] == .nak && f[3] == .interrupt)
        guard case .packet(_, _, true, false) = f[4] else { Issue.record("\(f)"); return }
    }

    @Test func aWrongChecksumIsReported() {
        guard case .packet(_, _, let ok, _) = Self.frames(["$g#00"]).first else { Issue.record("no frame"); return }
        #expect(!ok)
    }

    @Test func anOversizePacketIsCutNotBuffered() {
        let f = Self.frames(["$" + String(repeating: "a", count: 300)], maximumPayload: 100)
        guard case .oversize(let size) = f.first else { Issue.record("\(f)"); return }
        #expect(size > 100)
    }
}

/// gdb's small reads answered from one aligned block.
@Suite("Proxy read-ahead")
struct ReadAheadTests {
    static func request(_ text: String) -> ReadAhead.Request? {
        Array(text.utf8).withUnsafeBytes { ReadAhead.request($0) }
    }

    @Test func aSmallReadInsideABlockIsServedFromIt() throws {
        let r = try #require(Self.request("mffffffff80160238,8"))
        #expect(r.base == 0xffff_ffff_8016_0000 && r.length == 8)
        #expect(String(decoding: ReadAhead.blockRequest(r), as: UTF8.self) == "mffffffff80160000,400")
        let block = (0..<1024).flatMap { i -> [UInt8] in Array(String(format: "%02x", i & 0xff).utf8) }
        let reply = try #require(ReadAhead.reply(for: r, fromBlock: block))
        #expect(String(decoding: reply.dropFirst().prefix(16), as: UTF8.self) == "38393a3b3c3d3e3f")
    }

    @Test(arguments: ["m3fc,8", "m0,401", "m10", "g", "mzz,8", "m10,0"])
    func readsThatDoNotFitOneBlockAreForwarded(_ text: String) {
        #expect(Self.request(text) == nil, "\(text)")
    }

    @Test func aShortBlockReplyIsNotUsed() throws {
        let r = try #require(Self.request("m10,8"))
        #expect(ReadAhead.reply(for: r, fromBlock: Array("E14".utf8)) == nil)
    }
}

/// The `qSupported` reply clients get: no-ack offered, the checksum right.
@Suite("Proxy qSupported reply")
struct FeaturesTests {
    static func reply(_ payload: String) -> String {
        let bytes = Array(payload.utf8)
        return String(decoding: bytes.withUnsafeBytes { Features.offeringNoAck($0) }, as: UTF8.self)
    }

    /// `$payload#cc` framed independently of the code under test.
    static func framed(_ payload: String) -> String {
        let sum = payload.utf8.reduce(UInt8(0)) { $0 &+ $1 }
        let digits = Array("0123456789abcdef")
        return "$" + payload + "#" + String(digits[Int(sum >> 4)]) + String(digits[Int(sum & 15)])
    }

    @Test func qemuSevenTwosFeaturesGetNoAck() {
        let qemu = "PacketSize=1000;qXfer:features:read+;vContSupported+;multiprocess+"
        #expect(Self.reply(qemu) == Self.framed(qemu + ";QStartNoAckMode+"))
    }

    @Test func alreadyOfferedOrEmptyOrErrorIsLeftAlone() {
        #expect(Self.reply("PacketSize=4000;QStartNoAckMode+") == Self.framed("PacketSize=4000;QStartNoAckMode+"))
        #expect(Self.reply("") == "$#00")
        #expect(Self.reply("E22") == "$E22#a9")
    }
}

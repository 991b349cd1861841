import Testing
@testable import GDBRemote

/// The pure codec: framing, checksums, escapes, run-length, notifications, garbage, oversize.
@Suite struct PacketCodecTests {
    func events(_ bytes: String, max: Int = 1 << 20, pieceSize: Int = 0) -> [PacketEvent] {
        var codec = PacketCodec(maximumPayload: max)
        var out: [PacketEvent] = []
        let data = Array(bytes.utf8)
        let step = pieceSize == 0 ? Swift.max(1, data.count) : pieceSize
        var i = 0
        while i < data.count {
            codec.append(data[i..<min(data.count, i + step)])
            while let e = codec.next() { out.append(e) }
            i += step
        }
        return out
    }

    @Test func framesWithChecksum() {
        #expect(String(decoding: PacketCodec.frame(Array("g".utf8)), as: UTF8.self) == "$g#67")
        #expect(String(decoding: PacketCodec.frame(Array("qSupported".utf8)), as: UTF8.self) == "$qSupported#37")
    }

    @Test func escapesReservedBytesWhenFraming() {
        let framed = PacketCodec.frame(Array("a$b#c}d*e".utf8))
        let body = Array(framed[1..<(framed.count - 3)])
        #expect(String(decoding: body, as: UTF8.self) == "a}\u{04}b}\u{03}c}]d}\u{0A}e")
        // And the decoder gets the original back.
        var codec = PacketCodec()
        codec.append(framed)
        #expect(codec.next() == .packet(Array("a$b#c}d*e".utf8)))
    }

    @Test func decodesAcksPacketsAndNotifications() {
        let sum = Hex.string([PacketCodec.checksum(Array("Stop:T05".utf8))])
        #expect(events("+$OK#9a-%Stop:T05#\(sum)") == [
            .ack, .packet(Array("OK".utf8)), .nak, .notification(Array("Stop:T05".utf8)),
        ])
    }

    @Test(arguments: [1, 2, 3, 7])
    func decodesAnySplit(pieceSize: Int) {
        #expect(events("+$OK#9a$T05thread:01;#07", pieceSize: pieceSize) == [
            .ack, .packet(Array("OK".utf8)), .packet(Array("T05thread:01;".utf8)),
        ])
    }

    @Test func reportsBadChecksum() {
        #expect(events("$OK#00") == [.corrupt(computed: 0x9a, received: 0)])
        #expect(events("$OK#zz") == [.corrupt(computed: 0x9a, received: nil)])
    }

    @Test func expandsRunLength() {
        // "0* " = '0' and 32-29 = 3 more: "0000". GDB's example.
        let payload = "0* "
        let sum = PacketCodec.checksum(Array(payload.utf8))
        let text = "$\(payload)#\(Hex.string([sum]))"
        #expect(events(text) == [.packet(Array("0000".utf8))])
        // Run-length after an escaped byte repeats the unescaped byte.
        let p2: [UInt8] = Array("}".utf8) + [0x03] + Array("*!".utf8)   // '#' then 4 more
        let framed = [UInt8(ascii: "$")] + p2 + Array("#".utf8) + Array(Hex.string([PacketCodec.checksum(p2)]).utf8)
        var codec = PacketCodec()
        codec.append(framed)
        #expect(codec.next() == .packet(Array("#####".utf8)))
    }

    @Test func skipsGarbageBetweenPackets() {
        var codec = PacketCodec()
        codec.append(Array("\r\nnoise$OK#9axyz+".utf8))
        #expect(codec.next() == .packet(Array("OK".utf8)))
        #expect(codec.next() == .ack)
        #expect(codec.next() == nil)
        #expect(codec.skippedBytes == 10)
    }

    @Test func cutsOversizePackets() {
        let big = String(repeating: "a", count: 100)
        let sum = PacketCodec.checksum(Array(big.utf8))
        let text = "$\(big)#\(Hex.string([sum]))$OK#9a"
        // Whole packet at once and dribbled in pieces: both cut, and the next packet survives.
        #expect(events(text, max: 50) == [.oversize(size: 100), .packet(Array("OK".utf8))])
        let pieces = events(text, max: 50, pieceSize: 9)
        #expect(pieces.count == 2)
        if case .oversize = pieces.first {} else { Issue.record("expected oversize, got \(pieces)") }
        #expect(pieces.last == .packet(Array("OK".utf8)))
    }

    @Test func hexRoundTripsAndRejectsBadDigits() {
        let bytes: [UInt8] = (0...255).map { UInt8($0) }
        let hex = Hex.encode(bytes)
        #expect(hex.count == 512)
        #expect(Hex.decode(hex) == bytes)
        #expect(Hex.decode("0A0b") == [0x0A, 0x0B])
        #expect(Hex.decode("0g") == nil)
        #expect(Hex.decode("abc") == nil)
        #expect(Hex.number(Array("7ffe".utf8)) == 0x7ffe)
    }

    @Test func parsesStopReplies() throws {
        let t = try #require(StopReply(Array("T05thread:p01.01;watch:500;".utf8)))
        #expect(t.signal == 5)
        #expect(t.thread == "p01.01")
        #expect(t.watchpointAddress == 0x500)
        #expect(StopReply(Array("W00".utf8))?.kind == .exited(0))
        #expect(StopReply.looksLikeStop(Array("S05".utf8)))
        #expect(!StopReply.looksLikeStop(Array("StaticTracepoints+".utf8)))
        #expect(!StopReply.looksLikeStop(Array("PacketSize=1000".utf8)))
    }

    @Test func parsesFeaturesAndAddresses() {
        let f = StubFeatures(reply: Array("PacketSize=1000;qXfer:features:read+;vContSupported+;multiprocess+".utf8))
        #expect(f.packetSize == 0x1000)
        #expect(f.supports("qXfer:features:read"))
        #expect(f.supports("multiprocess"))
        #expect(!f.supports("QStartNoAckMode"))
        #expect(RemoteAddress(parsing: "[::1]:1234") == .tcp("::1", 1234))
        #expect(RemoteAddress(parsing: ":1234") == .tcp("127.0.0.1", 1234))
        #expect(RemoteAddress(parsing: "unix:/tmp/s") == .unix("/tmp/s"))
        #expect(RemoteAddress.tcp("::1", 5).description == "[::1]:5")
    }

    @Test func addressSpellings() throws {
        // QEMU's own -gdb spelling is accepted as it is.
        #expect(try RemoteAddress.parse("tcp:127.0.0.1:1234") == .tcp("127.0.0.1", 1234))
        #expect(try RemoteAddress.parse("tcp:[::1]:1234") == .tcp("::1", 1234))
        #expect(try RemoteAddress.parse("tcp::1234") == .tcp("127.0.0.1", 1234))
        #expect(try RemoteAddress.parse("localhost:9") == .tcp("localhost", 9))
        // Malformed: each says why.
        let bad: [(String, String)] = [
            ("unix:", "needs the socket's path"), ("http://x", "URL"), ("http://x:80", "URL"),
            ("[::1", "both brackets"), ("[::1:5", "both brackets"), ("::1:5", "needs brackets"),
            ("nowhere", "no :PORT"), ("host:0", "not a port"), ("host:70000", "not a port"), ("a b:5", "not a host"),
        ]
        for (text, reason) in bad {
            #expect(RemoteAddress(parsing: text) == nil, "\(text)")
            do {
                _ = try RemoteAddress.parse(text)
                Issue.record("\(text) parsed")
            } catch {
                #expect(error.description.contains(reason), "\(text): \(error)")
                #expect(error.description.contains("unix:PATH"), "the message lists the spellings")
            }
        }
    }

    @Test func parsesTargetDescriptionSkippingComments() throws {
        let main = #"<?xml version="1.0"?><target><architecture>i386:x86-64</architecture><xi:include href="core.xml"/></target>"#
        let core = """
        <feature name="org.gnu.gdb.i386.core">
          <reg name="rax" bitsize="64" type="int64" regnum="0"/>
          <reg name="rip" bitsize="64" type="code_ptr"/>
          <!--reg name="cs_base" bitsize="64"/>
          <reg name="ss_base" bitsize="64"/-->
          <reg name="cr3" bitsize="64" type="x64_cr3"/>
        </feature>
        """
        let d = try TargetDescription(xml: main) { name in
            #expect(name == "core.xml")
            return core
        }
        #expect(d.architecture == "i386:x86-64")
        #expect(d.registers.map(\.name) == ["rax", "rip", "cr3"])
        #expect(d.register(named: "cr3")?.number == 2)
        #expect(d.register(named: "cr3")?.feature == "org.gnu.gdb.i386.core")
    }

    @Test func wordAtATimeHexDecodeAgreesWithTheDefinitionForEveryByte() {
        // Every byte value, in every lane of a 64-bit word and in the scalar tail.
        let valid = Set(Array("0123456789abcdefABCDEF".utf8))
        for c in 0...255 {
            for position in 0..<10 {
                var text = Array("0123456789abcdef0123".utf8)   // 20 digits: 2 words + tail
                text[position * 2 + (c & 1)] = UInt8(c)
                let decoded = Hex.decode(text)
                #expect((decoded != nil) == valid.contains(UInt8(c)), "byte \(c) at \(position)")
                if let decoded, let v = Hex.digitValue[c] as UInt8?, v != 0xFF {
                    let i = position
                    let hi = Hex.digitValue[Int(text[2 * i])], lo = Hex.digitValue[Int(text[2 * i + 1])]
                    #expect(decoded[i] == hi << 4 | lo)
                }
            }
        }
        let upper = Hex.decode("DEADBEEFcafe0123")
        #expect(upper == [0xde, 0xad, 0xbe, 0xef, 0xca, 0xfe, 0x01, 0x23])
    }

    @Test func wordAtATimeChecksumAgreesWithTheSum() {
        var x: UInt64 = 12345
        for length in [0, 1, 7, 8, 9, 63, 64, 1023, 1024, 1025, 4096, 9000] {
            let bytes: [UInt8] = (0..<length).map { _ in
                x = x &* 6364136223846793005 &+ 1442695040888963407
                return UInt8(0x30 + (x >> 59))   // never '}' or '*'
            }
            let (sum, special) = bytes.withUnsafeBytes { PacketCodec.scan($0) }
            #expect(sum == bytes.reduce(0, &+))
            #expect(!special)
            for position in Set([0, length / 2, length - 1]) where position >= 0 && position < length {
                for marker in [UInt8(ascii: "}"), UInt8(ascii: "*")] {
                    var b = bytes
                    b[position] = marker
                    #expect(b.withUnsafeBytes { PacketCodec.scan($0) }.special, "\(marker) at \(position)/\(length)")
                }
            }
        }
    }
}

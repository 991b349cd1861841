import BundledKernel
import KernelLayouts
import Testing

/// Counts read from a corrupted guest are refused before they size a read.
@Suite("Snapshot decoder bounds")
struct SnapshotDecoderTests {
    static func info(_ lines: String) throws -> KernelInfo {
        try KernelInfo.read(from: KernelInfoTests.descriptor(lines), at: 0x1000)
    }

    @Test(arguments: [
        ("SEGMENT_COUNT", "100000", SnapshotDecoder.maximumSegments),
        ("FRAME_COUNT", "99999999999", SnapshotDecoder.maximumFrames),
        ("ZONE_COUNT", "4096", SnapshotDecoder.maximumZones),
    ] as [(String, String, UInt64)])
    func implausibleCountsAreRefused(key: String, value: String, limit: UInt64) throws {
        var fields = ["MAX_ORDER": "11", "MIGRATETYPE_SLOTS": "4", "ZONE_COUNT": "3", "SEGMENT_COUNT": "2", "FRAME_COUNT": "1000"]
        fields[key] = value
        let info = try Self.info(fields.map { "\($0.key)=\($0.value)\n" }.joined())
        let decoder = SnapshotDecoder(info: info, memory: KernelInfoTests.Buffer(base: 0, bytes: []))
        #expect(throws: SnapshotError.implausible(what: key, value: UInt64(value)!, limit: limit)) { try decoder.decode() }
        #expect(SnapshotError.implausible(what: key, value: 1, limit: 0).description.hasPrefix("guest memory looks corrupted"))
    }
}

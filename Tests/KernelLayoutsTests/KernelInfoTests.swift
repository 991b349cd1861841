import KernelLayouts
import Testing

/// Parsing the kernel's layout descriptor, and each way it can be wrong.
@Suite("kmem_info parsing")
struct KernelInfoTests {
    /// Guest memory that is one buffer at `base`.
    struct Buffer: GuestMemory {
        let base: UInt64
        let bytes: [UInt8]
        struct OutOfRange: Error {}
        func read(at address: UInt64, count: Int) throws -> [UInt8] {
            guard address >= base, Int(address - base) + count <= bytes.count else { throw OutOfRange() }
            let i = Int(address - base)
            return Array(bytes[i..<(i + count)])
        }
    }

    static func descriptor(_ text: String, magic: UInt64 = KernelInfo.magic, version: UInt32 = 1, size: UInt32? = nil) -> Buffer {
        let t = Array(text.utf8)
        var b: [UInt8] = []
        b += (0..<8).map { UInt8(truncatingIfNeeded: magic >> (8 * $0)) }
        b += (0..<4).map { UInt8(truncatingIfNeeded: version >> (8 * $0)) }
        let n = size ?? UInt32(t.count)
        b += (0..<4).map { UInt8(truncatingIfNeeded: n >> (8 * $0)) }
        return Buffer(base: 0x1000, bytes: b + t)
    }

    @Test func parsesNumbersSizesOffsetsAndBuildID() throws {
        let m = Self.descriptor("PAGE_SIZE=4096\nDIRECT_MAP=0xffff888000000000\nSIZE(FrameMeta)=64\nOFFSET(FrameMeta.order)=20\nOFFSET(Zone.pcp)=136\nBUILD-ID=0aff\n")
        let info = try KernelInfo.read(from: m, at: 0x1000)
        #expect(try info.number("PAGE_SIZE") == 4096)
        #expect(try info.number("DIRECT_MAP") == 0xFFFF_8880_0000_0000)
        #expect(try info.size(of: "FrameMeta") == 64)
        #expect(try info.offset(of: "FrameMeta", "order") == 20)
        #expect(info.offsets.map { "\($0.type).\($0.field)=\($0.offset)" } == ["FrameMeta.order=20", "Zone.pcp=136"])
        #expect(info.buildID == "0aff")
        try info.requireBuildID(BuildID(bytes: [0x0A, 0xFF]))
        #expect(throws: KernelInfoError.buildIDMismatch(elf: "0afe", guest: "0aff")) { try info.requireBuildID(BuildID(bytes: [0x0A, 0xFE])) }
    }

    @Test func eachProblemIsNamed() throws {
        #expect(throws: KernelInfoError.badMagic(address: 0x1000, found: 0)) {
            try KernelInfo.read(from: Self.descriptor("A=1\n", magic: 0), at: 0x1000)
        }
        #expect(throws: KernelInfoError.unsupportedVersion(found: 9, supported: 1)) {
            try KernelInfo.read(from: Self.descriptor("A=1\n", version: 9), at: 0x1000)
        }
        #expect(throws: KernelInfoError.badSize(size: 0, limit: KernelInfo.capacity - 16)) {
            try KernelInfo.read(from: Self.descriptor("", size: 0), at: 0x1000)
        }
        #expect(throws: KernelInfoError.badSize(size: 999_999, limit: KernelInfo.capacity - 16)) {
            try KernelInfo.read(from: Self.descriptor("A=1\n", size: 999_999), at: 0x1000)
        }
        #expect(throws: KernelInfoError.malformedLine("garbage")) {
            try KernelInfo.read(from: Self.descriptor("A=1\ngarbage\n"), at: 0x1000)
        }
        let info = try KernelInfo.read(from: Self.descriptor("A=zz\n"), at: 0x1000)
        #expect(throws: KernelInfoError.notANumber(key: "A", value: "zz")) { try info.number("A") }
        #expect(throws: KernelInfoError.missingKey("B")) { try info.number("B") }
        #expect(KernelInfoError.missingKey("BUILD-ID").description.contains("older or newer"))
    }
}

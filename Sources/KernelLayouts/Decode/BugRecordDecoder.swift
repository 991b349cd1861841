import AllocatorModel

/// Reads the bundled kernel's BUG record (`kmem_bug`, descriptor `BUG`; kernel/README.md "A
/// kernel halted at its BUG") with the layout the descriptor publishes. Guest data: the text
/// length is bounded by the record, every offset by `SIZE(BugRecord)`.
public struct BugRecordDecoder {
    public let info: KernelInfo
    public let memory: any GuestMemory

    public init(info: KernelInfo, memory: any GuestMemory) {
        self.info = info
        self.memory = memory
    }

    /// Whether this kernel publishes a BUG record (an older one does not).
    public var published: Bool { info["BUG"] != nil && info["SIZE(BugRecord)"] != nil }

    /// The record, or nil when the kernel has not stopped at a BUG (magic not set) or
    /// publishes no record.
    /// - Throws: `SnapshotError` for a layout beyond what a record can be, the memory's error
    ///   when the record cannot be read.
    public func decode() throws -> KernelBug? {
        guard published else { return nil }
        let size = try info.boundedSize(of: "BugRecord")
        let bytes = try memory.read(at: try info.number("BUG"), count: size)
        func u64(_ field: String) throws -> UInt64 {
            let o = try info.boundedOffset(of: "BugRecord", field, width: 8)
            return littleEndian(bytes[o..<(o + 8)])
        }
        let magic = try u64("magic")
        let expected = (try? info.number("BUG_MAGIC")) ?? Self.magic
        guard magic == expected else { return nil }
        let textOffset = try info.boundedOffset(of: "BugRecord", "text")
        let length = Int(min(try u64("textLength"), UInt64(size - textOffset)))
        let text = String(decoding: bytes[textOffset..<(textOffset + length)].map { $0 >= 0x20 && $0 < 0x7f ? $0 : UInt8(ascii: "?") },
                          as: UTF8.self)
        let pfn = try u64("pfn")
        return KernelBug(rawKind: try u64("kind"), code: try u64("code"), pfn: pfn == .max ? nil : pfn,
                         sequence: try u64("sequence"), busy: try u64("busy"), rip: try u64("rip"),
                         detail: try u64("detail"), detail2: try u64("detail2"), text: text)
    }

    /// `"KMEMBUG!"` as a little-endian u64 (kernel/mm/BugRecord.swift `magicValue`).
    public static let magic: UInt64 = 0x2147_5542_4D45_4D4B
}

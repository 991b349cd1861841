import BundledState
import KernelLayouts

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
        var offsets: [String: Int] = [:]
        for field in Self.fields { offsets[field] = try info.boundedOffset(of: "BugRecord", field, width: field == "text" ? 1 : 8) }
        return Self.decode(bytes, offsets: offsets, magic: (try? info.number("BUG_MAGIC")) ?? Self.magic)
    }

    /// The record at `address` (the image's `kmem_bug`) read with the layout kernel/README.md
    /// fixes, for a kernel that stopped before it published `kmem_info` (a boot failure); nil
    /// when no BUG was recorded.
    public static func decode(fixedLayoutAt address: UInt64, memory: some GuestMemory) throws -> KernelBug? {
        let bytes = try memory.read(at: address, count: 256)
        var offsets: [String: Int] = [:]
        for (i, field) in fields.enumerated() { offsets[field] = 8 * i }
        return decode(bytes, offsets: offsets, magic: magic)
    }

    /// The record's fields in order (each a u64 at 8 × its index in the fixed layout; `text` last).
    static let fields = ["magic", "kind", "code", "pfn", "sequence", "busy", "rip", "detail", "detail2", "textLength", "text"]

    private static func decode(_ bytes: [UInt8], offsets: [String: Int], magic expected: UInt64) -> KernelBug? {
        func u64(_ field: String) -> UInt64 {
            guard let o = offsets[field], o >= 0, o + 8 <= bytes.count else { return 0 }
            return littleEndian(bytes[o..<(o + 8)])
        }
        guard u64("magic") == expected, let textOffset = offsets["text"], textOffset <= bytes.count else { return nil }
        let length = Int(min(u64("textLength"), UInt64(bytes.count - textOffset)))
        let text = String(decoding: bytes[textOffset..<(textOffset + length)].map { $0 >= 0x20 && $0 < 0x7f ? $0 : UInt8(ascii: "?") },
                          as: UTF8.self)
        let pfn = u64("pfn")
        return KernelBug(rawKind: u64("kind"), code: u64("code"), pfn: pfn == .max ? nil : pfn, sequence: u64("sequence"),
                         busy: u64("busy"), rip: u64("rip"), detail: u64("detail"), detail2: u64("detail2"), text: text)
    }

    /// `"KMEMBUG!"` as a little-endian u64 (kernel/mm/BugRecord.swift `magicValue`).
    public static let magic: UInt64 = 0x2147_5542_4D45_4D4B
}

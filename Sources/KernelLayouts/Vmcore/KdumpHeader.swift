/// What kmemscope reads itself from a kdump-compressed file's headers (makedumpfile's
/// `disk_dump_header` and `kdump_sub_header`, diskdump_mod.h): the ELF notes it carries (QEMU
/// copies its dump's notes there: the `QEMU` CPU states with CR3). The pages are libkdumpfile's.
public struct KdumpHeader: Sendable {
    /// The notes (empty when the header version is below 4 or it has none).
    public var notes: [ElfNote]

    static let signature = Array("KDUMP   ".utf8)

    /// Whether `bytes` start with the kdump signature.
    public static func isKdump(_ bytes: [UInt8]) -> Bool { bytes.starts(with: signature) }

    public init(_ file: some DumpBytes) throws(VmcoreError) {
        let path = file.path
        let h = try file.bytes(at: 0, count: 464, what: "the kdump header")
        guard Self.isKdump(h) else { throw .wrongKind(path: path, reason: "no KDUMP signature") }
        let version = Int32(bitPattern: Self.u32(h, 8))
        let blockSize = Self.u32(h, 428)
        guard blockSize >= 512, blockSize <= 1 << 20, blockSize.nonzeroBitCount == 1 else {
            throw .corrupt(path: path, reason: "kdump block size \(blockSize)")
        }
        notes = []
        guard version >= 4 else { return }
        let sub = try file.bytes(at: UInt64(blockSize), count: 64, what: "the kdump sub-header")
        let offset = Self.u64(sub, 48), size = Self.u64(sub, 56)
        guard size > 0 else { return }
        guard size <= ElfCore.noteLimit else { throw .corrupt(path: path, reason: "\(size) bytes of notes in the kdump sub-header") }
        notes = try ElfNote.parse(try file.bytes(at: offset, count: Int(size), what: "the kdump notes at offset \(offset)"), path: path)
    }

    static func u32(_ b: [UInt8], _ i: Int) -> UInt32 { b.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: i, as: UInt32.self)) } }
    static func u64(_ b: [UInt8], _ i: Int) -> UInt64 { b.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: i, as: UInt64.self)) } }
}

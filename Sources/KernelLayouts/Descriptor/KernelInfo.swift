/// The kernel's layout descriptor, `kmem_info`: what VMCOREINFO is to crash. A binary header
/// (`magic u64 = "KMEMINFO"`, `version u32`, `size u32`) and `size` bytes of `KEY=VALUE`
/// lines: constants, addresses of the allocator's structures, `SIZE(Type)` and
/// `OFFSET(Type.field)` measured by the kernel itself, and `BUILD-ID`.
public struct KernelInfo: Sendable {
    /// "KMEMINFO" as a little-endian u64.
    public static let magic: UInt64 = 0x4F46_4E49_4D45_4D4B
    /// The version this toolkit reads.
    public static let version: UInt32 = 1
    /// Bytes the kernel reserves for header and text.
    public static let capacity = 16384

    /// Where it was read from.
    public let address: UInt64
    /// Every line, in order.
    public let entries: [(key: String, value: String)]
    private let index: [String: String]

    /// Parses a descriptor from its header and text.
    public init(address: UInt64, header: [UInt8], text: [UInt8]) throws(KernelInfoError) {
        guard header.count >= 16 else { throw .badSize(size: 0, limit: Self.capacity) }
        let magic = littleEndian(header[0..<8])
        guard magic == Self.magic else { throw .badMagic(address: address, found: magic) }
        let version = UInt32(littleEndian(header[8..<12]))
        guard version == Self.version else { throw .unsupportedVersion(found: version, supported: Self.version) }
        var entries: [(key: String, value: String)] = []
        for line in text.split(separator: UInt8(ascii: "\n")) {
            guard let eq = line.firstIndex(of: UInt8(ascii: "=")), eq > line.startIndex else {
                throw .malformedLine(String(decoding: line, as: UTF8.self))
            }
            entries.append((String(decoding: line[..<eq], as: UTF8.self),
                            String(decoding: line[(eq + 1)...], as: UTF8.self)))
        }
        self.address = address
        self.entries = entries
        index = Dictionary(entries.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
    }

    /// Reads and parses the descriptor at `address` (the `kmem_info` symbol) in guest memory.
    public static func read(from memory: some GuestMemory, at address: UInt64) throws -> KernelInfo {
        let header = try memory.read(at: address, count: 16)
        let magic = littleEndian(header[0..<8])
        guard magic == Self.magic else { throw KernelInfoError.badMagic(address: address, found: magic) }
        let size = UInt32(littleEndian(header[12..<16]))
        guard size > 0, Int(size) <= Self.capacity - 16 else {
            throw KernelInfoError.badSize(size: size, limit: Self.capacity - 16)
        }
        return try KernelInfo(address: address, header: header, text: try memory.read(at: address + 16, count: Int(size)))
    }

    /// The raw value of `key`, if present.
    public subscript(key: String) -> String? { index[key] }

    /// `key` as a number (decimal, or hex with `0x`).
    public func number(_ key: String) throws(KernelInfoError) -> UInt64 {
        guard let v = index[key] else { throw .missingKey(key) }
        let parsed = v.hasPrefix("0x") ? UInt64(v.dropFirst(2), radix: 16) : UInt64(v)
        guard let n = parsed else { throw .notANumber(key: key, value: v) }
        return n
    }

    /// `SIZE(type)`.
    public func size(of type: String) throws(KernelInfoError) -> UInt64 { try number("SIZE(\(type))") }

    /// `OFFSET(type.field)`.
    public func offset(of type: String, _ field: String) throws(KernelInfoError) -> UInt64 {
        try number("OFFSET(\(type).\(field))")
    }

    /// Every `OFFSET(Type.field)` the kernel published, as (type, field, offset).
    public var offsets: [(type: String, field: String, offset: UInt64)] {
        entries.compactMap { e in
            guard e.key.hasPrefix("OFFSET("), e.key.hasSuffix(")"), let v = UInt64(e.value) else { return nil }
            let inner = e.key.dropFirst(7).dropLast()
            guard let dot = inner.firstIndex(of: ".") else { return nil }
            return (String(inner[..<dot]), String(inner[inner.index(after: dot)...]), v)
        }
    }

    /// The build-id the guest runs, lower-case hex.
    public var buildID: String? { index["BUILD-ID"] }

    /// Throws unless the guest's build-id equals the ELF's.
    public func requireBuildID(_ elf: BuildID?) throws(KernelInfoError) {
        let mine = elf.map { $0.bytes.map { String(($0 >> 4) & 0xF, radix: 16) + String($0 & 0xF, radix: 16) }.joined() } ?? "(none)"
        guard let guest = buildID else { throw .missingKey("BUILD-ID") }
        guard mine == guest else { throw .buildIDMismatch(elf: mine, guest: guest) }
    }
}

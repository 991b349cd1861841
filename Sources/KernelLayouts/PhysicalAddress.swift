/// A physical (load) address: where a loadable segment lands in RAM, the ELF's `p_paddr`.
public struct PhysicalAddress: RawRepresentable, Hashable, Comparable, Sendable, Codable,
    CustomStringConvertible
{
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

    /// The address `bytes` further on (wrapping, as addresses do).
    public func advanced(by bytes: UInt64) -> Self { Self(rawValue &+ bytes) }

    /// `0x…` in lower-case hex, as gdb and readelf print addresses.
    public var description: String { "0x" + String(rawValue, radix: 16) }

    /// Encoded as a `0x…` hex string: JSON numbers lose precision above 2^53, where a
    /// higher-half kernel's addresses are. Decodes that or a plain number.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let n = try? c.decode(UInt64.self) {
            rawValue = n
            return
        }
        let text = try c.decode(String.self)
        guard text.hasPrefix("0x"), let n = UInt64(text.dropFirst(2), radix: 16) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "not a 0x… address: \(text)")
        }
        rawValue = n
    }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

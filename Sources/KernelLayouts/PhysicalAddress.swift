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

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(UInt64.self)
    }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}

/// What `VirtualAddress` and `PhysicalAddress` share: a typed 64-bit address that orders,
/// advances, prints as `0x…` (as gdb and readelf do), and encodes as a `0x…` string because
/// JSON numbers lose precision above 2^53, where a higher-half kernel's addresses are.
public protocol AddressValue: RawRepresentable, Hashable, Comparable, Sendable, Codable, CustomStringConvertible
where RawValue == UInt64 {
    init(rawValue: UInt64)
}

extension AddressValue {
    public init(_ rawValue: UInt64) { self.init(rawValue: rawValue) }

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

    /// The address `bytes` further on (wrapping, as addresses do).
    public func advanced(by bytes: UInt64) -> Self { Self(rawValue: rawValue &+ bytes) }

    /// `0x…` in lower-case hex.
    public var description: String { "0x" + String(rawValue, radix: 16) }

    /// Decodes a `0x…` string or a plain number.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let n = try? c.decode(UInt64.self) {
            self.init(rawValue: n)
            return
        }
        let text = try c.decode(String.self)
        guard text.hasPrefix("0x"), let n = UInt64(text.dropFirst(2), radix: 16) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "not a 0x… address: \(text)")
        }
        self.init(rawValue: n)
    }

    /// Encodes as a `0x…` string.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

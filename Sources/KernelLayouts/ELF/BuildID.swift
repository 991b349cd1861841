/// The GNU build-id of an image: the descriptor of its `NT_GNU_BUILD_ID` note
/// (read with `gelf_getnote`), as `readelf -n` prints it.
public struct BuildID: Hashable, Sendable, Codable, CustomStringConvertible {
    public let bytes: [UInt8]
    public init(bytes: [UInt8]) { self.bytes = bytes }

    /// Lower-case hex without separators, as `readelf -n` and `eu-readelf -n` print it.
    public var description: String {
        bytes.map { b in
            let h = String(b, radix: 16)
            return h.count == 1 ? "0" + h : h
        }.joined()
    }

    public init(from decoder: any Decoder) throws {
        let hex = try decoder.singleValueContainer().decode(String.self)
        var out: [UInt8] = []
        var i = hex.startIndex
        while i < hex.endIndex, let j = hex.index(i, offsetBy: 2, limitedBy: hex.endIndex),
            let b = UInt8(hex[i..<j], radix: 16)
        {
            out.append(b)
            i = j
        }
        bytes = out
    }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

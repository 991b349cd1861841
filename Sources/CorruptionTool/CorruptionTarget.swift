import BundledChecks

/// Where a corruption is written and where the verifier must report it.
public struct CorruptionTarget: Sendable {
    /// Guest virtual address of the field.
    public var address: UInt64
    /// Bytes the field occupies (1, 2, 4 or 8; little-endian).
    public var width: Int
    /// The wrong value, from the value found there.
    public var wrong: @Sendable (UInt64) -> UInt64
    /// Where the violation must be reported.
    public var location: CorruptionLocation

    public init(address: UInt64, width: Int, location: CorruptionLocation, wrong: @escaping @Sendable (UInt64) -> UInt64) {
        self.address = address
        self.width = width
        self.location = location
        self.wrong = wrong
    }
}

/// Where a violation must be reported for a corruption to count as found at the right place.
public enum CorruptionLocation: Sendable, Equatable, CustomStringConvertible {
    /// At one of these frames (the corrupted frame, or its list neighbour for a link).
    case frames([UInt64])
    /// In this zone.
    case zone(String)
    /// In this segment (or, for a zone-wide sum, in its zone).
    case segment(Int, zone: String)
    /// In this slab cache (`kmalloc-N`).
    case cache(String)
    /// Anywhere (a global).
    case anywhere

    /// Whether `v` is reported here.
    public func matches(_ v: Violation) -> Bool {
        switch self {
        case .frames(let pfns): return v.pfn.map(pfns.contains) ?? false
        case .zone(let z): return v.zone == z
        case .segment(let s, let z): return v.segment == s || (v.segment == nil && v.zone == z)
        case .cache(let c): return v.cache == c
        case .anywhere: return true
        }
    }

    public var description: String {
        switch self {
        case .frames(let pfns): return "pfn " + pfns.map { "0x" + String($0, radix: 16) }.joined(separator: "/")
        case .zone(let z): return "zone \(z)"
        case .segment(let s, _): return "segment \(s)"
        case .cache(let c): return "cache \(c)"
        case .anywhere: return "global"
        }
    }
}

/// The three zones, by physical address: DMA [0, 16 MiB), DMA32 [16 MiB, 4 GiB), Normal [4 GiB, end).
public enum ZoneKind: UInt8, Sendable {
    case dma = 0
    case dma32 = 1
    case normal = 2

    /// Number of zones.
    public static let count = 3

    /// Name as /proc/zoneinfo prints it.
    public var name: StaticString {
        switch self {
        case .dma: return "DMA"
        case .dma32: return "DMA32"
        case .normal: return "Normal"
        }
    }
}

/// Which zones an allocation may come from: the named zone and every zone below it,
/// highest first (Linux's zonelist fallback).
public enum ZoneConstraint: UInt8, Sendable {
    /// Only DMA (ISA devices).
    case dma = 0
    /// DMA32, then DMA (32-bit devices).
    case dma32 = 1
    /// Any zone: Normal, then DMA32, then DMA.
    case any = 2

    /// The highest zone index the request may use.
    public var highestZone: Int { Int(rawValue) }
}

/// One `PT_LOAD` program header (`gelf_getphdr`): which virtual range is loaded at which
/// physical address.
public struct LoadSegment: Hashable, Sendable, Codable {
    public let virtualAddress: VirtualAddress
    public let physicalAddress: PhysicalAddress
    public let fileOffset: UInt64
    public let fileSize: UInt64
    public let memorySize: UInt64
    /// `p_flags`: 0x1 X, 0x2 W, 0x4 R.
    public let flags: UInt32
    public let alignment: UInt64

    /// Whether the segment's memory image covers `address`.
    public func contains(_ address: VirtualAddress) -> Bool {
        address >= virtualAddress && address.rawValue - virtualAddress.rawValue < memorySize
    }

    /// The physical address `address` is loaded at, if this segment covers it.
    public func physicalAddress(of address: VirtualAddress) -> PhysicalAddress? {
        guard contains(address) else { return nil }
        return PhysicalAddress(physicalAddress.rawValue &+ (address.rawValue - virtualAddress.rawValue))
    }

    /// `R`, `W`, `X` flags as readelf prints them.
    public var permissions: String {
        (flags & 4 != 0 ? "R" : " ") + (flags & 2 != 0 ? "W" : " ") + (flags & 1 != 0 ? "E" : " ")
    }
}

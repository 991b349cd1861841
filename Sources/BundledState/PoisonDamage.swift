/// A free page whose poison was overwritten: the first byte that is not the poison pattern.
public struct PoisonDamage: Sendable, Equatable {
    public var pfn: UInt64
    public var offset: Int
    public var found: UInt8

    public init(pfn: UInt64, offset: Int, found: UInt8) {
        self.pfn = pfn
        self.offset = offset
        self.found = found
    }
}

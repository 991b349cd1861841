/// A physical (load) address: where a loadable segment lands in RAM, the ELF's `p_paddr`.
public struct PhysicalAddress: AddressValue {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
}

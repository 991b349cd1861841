/// A virtual address in the kernel image's address space (what the ELF's `st_value`,
/// `sh_addr` and `p_vaddr` hold).
public struct VirtualAddress: AddressValue {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
}

/// One section header of the image (`gelf_getshdr`), with its name from `.shstrtab` (`elf_strptr`).
public struct ElfSection: Hashable, Sendable, Codable {
    /// The section's index in the section header table.
    public let index: Int
    public let name: String
    /// `sh_type`, e.g. 1 = PROGBITS, 8 = NOBITS, 2 = SYMTAB, 7 = NOTE.
    public let type: UInt32
    /// `sh_flags`: 0x1 WRITE, 0x2 ALLOC, 0x4 EXECINSTR.
    public let flags: UInt64
    public let address: VirtualAddress
    public let fileOffset: UInt64
    public let size: UInt64

    public var isAllocated: Bool { flags & 0x2 != 0 }

    /// Whether `address` lies inside this section once loaded.
    public func contains(_ address: VirtualAddress) -> Bool {
        isAllocated && address >= self.address && address.rawValue - self.address.rawValue < size
    }
}

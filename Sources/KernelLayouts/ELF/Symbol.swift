/// One entry of the image's symbol table (`gelf_getsym`), with its Swift demangling.
public struct Symbol: Hashable, Sendable, Codable {
    /// The name as stored (`elf_strptr` into `.strtab`): mangled for Swift, e.g.
    /// `$e6Kernel10kmem_zonesSayAA4ZoneVGvp`.
    public let name: String
    /// What `swift_demangle` makes of `name`, e.g. `Kernel.kmem_zones : [Kernel.Zone]`;
    /// nil for names that are not Swift manglings.
    public let demangledName: String?
    /// `st_value`.
    public let address: VirtualAddress
    /// `st_size`, in bytes.
    public let size: UInt64
    public let kind: SymbolKind
    public let binding: SymbolBinding
    /// The section that defines it (`st_shndx`), nil for undefined and absolute symbols.
    public let sectionName: String?

    /// The demangled name without its type or signature: `Kernel.kmem_zones` for a global,
    /// `Kernel.kmain()` stays `Kernel.kmain` — what a person types to find it.
    public var entityName: String? {
        guard let d = demangledName else { return nil }
        var cut = d.endIndex
        if let r = d.firstRange(of: " : ") { cut = min(cut, r.lowerBound) }
        if let p = d.firstIndex(of: "("), p < cut { cut = p }
        return String(d[..<cut])
    }

    /// The name to show: demangled when it is Swift, else the stored name.
    public var displayName: String { demangledName ?? name }

    /// Whether `address` lies inside `[address, address + size)`.
    public func covers(_ address: VirtualAddress) -> Bool {
        address >= self.address && address.rawValue - self.address.rawValue < size
    }
}

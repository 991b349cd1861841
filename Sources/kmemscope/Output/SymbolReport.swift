import KernelLayouts

/// What `sym` prints: a symbol-table entry, or a global found only in DWARF.
struct SymbolReport: Encodable {
    let query: String
    let symbol: Symbol?
    let global: GlobalVariable?
    let address: VirtualAddress
    let offset: UInt64
    let physicalAddress: PhysicalAddress?
    let description: String
    /// `symtab` or `dwarf`.
    let source: String

    init(query: String, symbol: Symbol, address: VirtualAddress, offset: UInt64,
         physicalAddress: PhysicalAddress?, description: String) {
        self.query = query
        self.symbol = symbol
        global = nil
        self.address = address
        self.offset = offset
        self.physicalAddress = physicalAddress
        self.description = description
        source = "symtab"
    }

    init(query: String, global: GlobalVariable, physicalAddress: PhysicalAddress?) {
        self.query = query
        symbol = nil
        self.global = global
        address = global.address
        offset = 0
        self.physicalAddress = physicalAddress
        description = "\(global.qualifiedName) : \(global.typeName)"
        source = "dwarf"
    }

    var text: String {
        var lines = [description]
        if let symbol {
            lines.append("  name      \(symbol.name)")
            lines.append("  address   \(address)" + (offset != 0 ? " (\(symbol.address) + \(offset))" : ""))
            if let physicalAddress { lines.append("  physical  \(physicalAddress)") }
            lines.append("  size      \(symbol.size)")
            lines.append("  kind      \(symbol.kind.rawValue), \(symbol.binding.rawValue)")
            if let section = symbol.sectionName { lines.append("  section   \(section)") }
        } else if let global {
            if let l = global.linkageName { lines.append("  name      \(l)") }
            lines.append("  address   \(address)  (from DWARF: not in the symbol table)")
            if let physicalAddress { lines.append("  physical  \(physicalAddress)") }
            if let size = global.size { lines.append("  size      \(size)") }
        }
        return lines.joined(separator: "\n")
    }
}

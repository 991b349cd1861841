import ArgumentParser
import KernelLayouts

/// `kmemscope sym NAME|ADDR`: a symbol by name (mangled or demangled), or an address as
/// symbol + offset, with its physical load address.
struct SymCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sym",
        abstract: "Look a symbol up by name (mangled, demangled, Module.name) or an address (0x…).")

    @Argument(help: "A symbol name (e.g. Kernel.kmem_zones or its mangling) or an address (0x… or decimal).")
    var query: String

    @OptionGroup var image: ImageOptions

    func run() throws {
        do {
            let elf = try ElfFile(path: image.elf)
            let report: SymbolReport
            if let address = Self.parseAddress(query) {
                let found = try elf.symbolTable().symbolicate(address)
                report = SymbolReport(query: query, symbol: found.symbol, address: address,
                                      offset: found.offset, physicalAddress: elf.physicalAddress(of: address),
                                      description: found.description)
            } else {
                do {
                    let symbol = try elf.symbolTable().lookup(query)
                    report = SymbolReport(query: query, symbol: symbol, address: symbol.address, offset: 0,
                                          physicalAddress: elf.physicalAddress(of: symbol.address),
                                          description: symbol.displayName)
                } catch let error where error.isNotFound {
                    // Not in the symbol table (or none): a global DWARF knows still has an address.
                    guard let global = try? DwarfTypes(path: image.elf).globalVariable(named: query) else { throw error }
                    report = SymbolReport(query: query, global: global,
                                          physicalAddress: elf.physicalAddress(of: global.address))
                }
            }
            print(image.json ? try JSONOutput.string(report) : report.text)
        } catch let error as KernelImageError {
            throw CommandFailure.report(error)
        }
    }

    /// `0x…` (hex) or all decimal digits is an address; anything else is a name.
    static func parseAddress(_ s: String) -> VirtualAddress? {
        if s.hasPrefix("0x") || s.hasPrefix("0X") {
            return UInt64(s.dropFirst(2).filter { $0 != "_" }, radix: 16).map { VirtualAddress($0) }
        }
        return s.allSatisfy(\.isNumber) ? UInt64(s).map { VirtualAddress($0) } : nil
    }
}

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

extension KernelImageError {
    /// Errors after which a DWARF global may still answer.
    var isNotFound: Bool {
        switch self {
        case .symbolNotFound, .noSymbolTable: return true
        default: return false
        }
    }
}

import ArgumentParser
import KernelLayouts
import KernelSession

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
        let path = try image.path()
        do {
            let elf = try ElfFile(path: path)
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
                    guard let global = try? DwarfTypes(path: path).globalVariable(named: query) else { throw error }
                    report = SymbolReport(query: query, global: global,
                                          physicalAddress: elf.physicalAddress(of: global.address))
                }
            }
            print(image.json ? try JSONOutput.string(report) : report.text)
        } catch let error as KernelImageError {
            throw SessionError.image(error)
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

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
                let symbol = try elf.symbolTable().lookup(query)
                report = SymbolReport(query: query, symbol: symbol, address: symbol.address, offset: 0,
                                      physicalAddress: elf.physicalAddress(of: symbol.address),
                                      description: symbol.displayName)
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

/// What `sym` prints.
struct SymbolReport: Encodable {
    let query: String
    let symbol: Symbol
    let address: VirtualAddress
    let offset: UInt64
    let physicalAddress: PhysicalAddress?
    let description: String

    var text: String {
        var lines = [description]
        lines.append("  name      \(symbol.name)")
        lines.append("  address   \(address)" + (offset != 0 ? " (\(symbol.address) + \(offset))" : ""))
        if let physicalAddress { lines.append("  physical  \(physicalAddress)") }
        lines.append("  size      \(symbol.size)")
        lines.append("  kind      \(symbol.kind.rawValue), \(symbol.binding.rawValue)")
        if let section = symbol.sectionName { lines.append("  section   \(section)") }
        return lines.joined(separator: "\n")
    }
}

import KernelLayouts

/// A kernel's symbols from System.map or `/proc/kallsyms` text, or a vmlinux's symbol table.
///
/// ```swift
/// let map = try SymbolMap(parsing: try String(contentsOfFile: "System.map", encoding: .utf8))
/// let nodeData = try map.address(of: "node_data")
/// ```
public struct SymbolMap: Sendable {
    /// Every symbol, in the order of the text.
    public private(set) var symbols: [KernelSymbol] = []
    /// The first symbol of each name from the kernel image (module symbols are not indexed by name).
    private var byName: [String: Int] = [:]

    /// Parses `ADDRESS TYPE NAME [module]` lines; blank lines are skipped.
    ///
    /// - Throws: ``SymbolMapError/malformedLine(number:line:reason:)`` for the first bad line,
    ///   ``SymbolMapError/empty`` if there is no symbol, ``SymbolMapError/debianStub`` for
    ///   the image package's placeholder.
    public init(parsing text: String) throws(SymbolMapError) {
        if text.contains("The real System.map is in the") { throw .debianStub }
        var number = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if fields.isEmpty { continue }
            guard fields.count == 3 || fields.count == 4 else {
                throw .malformedLine(number: number, line: String(line), reason: "\(fields.count) fields")
            }
            guard fields[0].count <= 16, let address = UInt64(fields[0], radix: 16) else {
                throw .malformedLine(number: number, line: String(line), reason: "address is not 1 to 16 hex digits")
            }
            guard fields[1].count == 1, let type = fields[1].first, type.isLetter || type == "?" else {
                throw .malformedLine(number: number, line: String(line), reason: "type is not one letter")
            }
            var module: String?
            if fields.count == 4 {
                let m = fields[3]
                guard m.hasPrefix("["), m.hasSuffix("]"), m.count > 2 else {
                    throw .malformedLine(number: number, line: String(line), reason: "fourth field is not [module]")
                }
                module = String(m.dropFirst().dropLast())
            }
            let symbol = KernelSymbol(address: address, type: type, name: String(fields[2]), module: module)
            if module == nil, byName[symbol.name] == nil { byName[symbol.name] = symbols.count }
            symbols.append(symbol)
        }
        if symbols.isEmpty { throw .empty }
    }

    /// The symbol table of an ELF image (a `vmlinux`): functions as `T`, objects as `D`, other
    /// named symbols as `A`; section and file symbols are left out.
    public init(elf: ElfFile) throws(SymbolMapError) {
        for s in elf.symbols where !s.name.isEmpty && s.kind != .section && s.kind != .file {
            let type: Character = s.kind == .function ? "T" : s.kind == .object ? "D" : "A"
            let symbol = KernelSymbol(address: s.address.rawValue, type: type, name: s.name)
            if byName[symbol.name] == nil { byName[symbol.name] = symbols.count }
            symbols.append(symbol)
        }
        if symbols.isEmpty { throw .empty }
    }

    /// Moves every kernel-image symbol (at or above ``kernelImageBase``) by `offset`.
    mutating func moveImageSymbols(by offset: UInt64) {
        for i in symbols.indices where symbols[i].address >= Self.kernelImageBase && symbols[i].module == nil {
            symbols[i].address &+= offset
        }
    }

    /// The kernel-image symbol called `name`, if present.
    public func symbol(named name: String) -> KernelSymbol? {
        byName[name].map { symbols[$0] }
    }

    /// The address of `name`.
    /// - Throws: ``SymbolMapError/missingSymbol(_:)``.
    public func address(of name: String) throws(SymbolMapError) -> UInt64 {
        guard let symbol = symbol(named: name) else { throw .missingSymbol(name) }
        return symbol.address
    }
}

/// The image's symbols with lookups by stored name, by demangled Swift name and by address.
public struct SymbolTable: Sendable {
    public let symbols: [Symbol]
    private let byName: [String: [Int]]
    /// Indexes of symbols that can describe an address (defined objects, functions, labels),
    /// sorted by address.
    private let byAddress: [Int]
    private let sections: [ElfSection]

    init(symbols: [Symbol], sections: [ElfSection]) {
        self.symbols = symbols
        self.sections = sections
        var byName: [String: [Int]] = [:]
        for (i, s) in symbols.enumerated() { byName[s.name, default: []].append(i) }
        self.byName = byName
        byAddress = symbols.indices.filter { i in
            let s = symbols[i]
            return s.sectionName != nil && !s.name.isEmpty
                && (s.kind == .object || s.kind == .function || s.kind == .notype || s.kind == .tls)
        }.sorted { symbols[$0].address < symbols[$1].address }
    }

    /// The symbol whose stored (mangled) name is exactly `name`, preferring a global one.
    public func symbol(named name: String) -> Symbol? {
        guard let hits = byName[name] else { return nil }
        return hits.map { symbols[$0] }.min { rank($0) < rank($1) }
    }

    /// Finds a symbol by its stored name (`$e6Kernel10kmem_zones…vp`), its full demangled
    /// name, its demangled name without type (`Kernel.kmem_zones`), or that name without the
    /// module (`kmem_zones`) when only one module has it.
    public func lookup(_ query: String) throws(KernelImageError) -> Symbol {
        if let s = symbol(named: query) { return s }
        let q = query.trimmingSpaces
        let levels: [(Symbol) -> Bool] = [
            { $0.demangledName == q },
            { $0.entityName == q },
            { $0.entityName.map(Self.withoutSwiftPrefix) == Self.withoutSwiftPrefix(q) },
            { $0.entityName.map(Self.withoutModule) == q },
        ]
        for matches in levels {
            var found: [Symbol] = []
            for s in symbols where matches(s) && !found.contains(where: { $0.name == s.name }) {
                found.append(s)
            }
            if found.count == 1 { return found[0] }
            if found.count > 1 {
                throw .ambiguousSymbol(query: query, candidates: found.map { "\($0.displayName) [\($0.name)]" })
            }
        }
        let names = symbols.flatMap { s in [s.name] + (s.entityName.map { [$0] } ?? []) }
        throw .symbolNotFound(query: query, closest: NameDistance.closest(to: query, in: names))
    }

    /// The symbol at or nearest below `address`, as gdb's `info symbol`: one whose size covers
    /// the address if there is one, else the nearest one below it in the same section.
    public func symbolicate(_ address: VirtualAddress) throws(KernelImageError) -> SymbolOffset {
        // Binary search for the first symbol above the address.
        var lo = 0, hi = byAddress.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if symbols[byAddress[mid]].address <= address { lo = mid + 1 } else { hi = mid }
        }
        var best: Symbol? = nil
        var i = lo - 1
        var looked = 0
        while i >= 0 && looked < 256 {
            let s = symbols[byAddress[i]]
            if s.covers(address) {
                if best == nil || !best!.covers(address) || rank(s) < rank(best!) { best = s }
            } else if best == nil {
                best = s
            }
            if let b = best, b.covers(address), s.address < b.address { break }
            i -= 1
            looked += 1
        }
        guard let symbol = best else { throw .noSymbolAt(address: address) }
        let inside = symbol.covers(address)
        if !inside {
            let section = sections.first { $0.contains(address) }
            if section == nil || section!.name != symbol.sectionName { throw .noSymbolAt(address: address) }
        }
        return SymbolOffset(symbol: symbol, offset: address.rawValue - symbol.address.rawValue, isInside: inside)
    }

    /// Lower is better: global before weak before local, objects and functions before labels.
    private func rank(_ s: Symbol) -> Int {
        let binding = s.binding == .global ? 0 : s.binding == .weak ? 1 : 2
        let kind = s.kind == .object || s.kind == .function ? 0 : 1
        return binding * 2 + kind
    }

    static func withoutSwiftPrefix(_ s: String) -> String { s.replacingAll("Swift.", with: "") }

    static func withoutModule(_ s: String) -> String {
        guard let dot = s.firstIndex(of: ".") else { return s }
        return String(s[s.index(after: dot)...])
    }
}

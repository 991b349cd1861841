/// An address described as symbol + offset, as gdb's `info symbol` prints it:
/// `Kernel.kmem_zones + 16 in section .bss`.
public struct SymbolOffset: Hashable, Sendable, Codable, CustomStringConvertible {
    public let symbol: Symbol
    public let offset: UInt64
    /// Whether the address lies inside the symbol's `st_size` (false: past its end, nearest below).
    public let isInside: Bool

    public var description: String {
        var s = symbol.displayName
        if offset != 0 { s += " + \(offset)" }
        if let section = symbol.sectionName { s += " in section \(section)" }
        if !isInside { s += " (past its \(symbol.size) bytes)" }
        return s
    }
}

/// Why a System.map / kallsyms text or a lookup in it failed.
public enum SymbolMapError: Error, Equatable, CustomStringConvertible {
    /// A line is not `ADDRESS TYPE NAME [module]`.
    case malformedLine(number: Int, line: String, reason: String)
    /// The text held no symbol at all (e.g. Debian's 83-byte stub /boot/System.map).
    case empty
    /// Debian's stub /boot/System.map ("The real System.map is in the linux-image-<version>-dbg package").
    case debianStub
    /// A symbol the decoder needs is absent.
    case missingSymbol(String)

    public var description: String {
        switch self {
        case .malformedLine(let number, let line, let reason):
            return "symbol map line \(number): \(reason): '\(line.prefix(120))' (expected 'ADDRESS TYPE NAME [module]', as System.map or /proc/kallsyms)"
        case .empty:
            return "the symbol map holds no symbol (Debian's /boot/System.map is a stub: use the guest's /proc/kallsyms, or System.map from the -dbg package)"
        case .debianStub:
            return "this is Debian's stub System.map: use System.map from the linux-image-<version>-dbg package, or a copy of the guest's /proc/kallsyms"
        case .missingSymbol(let name):
            return "symbol '\(name)' is not in the symbol map (read /proc/kallsyms as root, and with kptr_restrict=0 addresses are not zero)"
        }
    }
}

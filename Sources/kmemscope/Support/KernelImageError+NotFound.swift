import KernelLayouts

extension KernelImageError {
    /// Errors after which a DWARF global may still answer.
    var isNotFound: Bool {
        switch self {
        case .symbolNotFound, .noSymbolTable: return true
        default: return false
        }
    }
}

/// A symbol's binding, `GELF_ST_BIND(st_info)`.
public enum SymbolBinding: String, Hashable, Sendable, Codable {
    case local, global, weak, other

    init(stBind: UInt8) {
        switch stBind {
        case 0: self = .local
        case 1: self = .global
        case 2: self = .weak
        default: self = .other
        }
    }
}

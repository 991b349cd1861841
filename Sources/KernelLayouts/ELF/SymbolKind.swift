/// A symbol's type, `GELF_ST_TYPE(st_info)`.
public enum SymbolKind: String, Hashable, Sendable, Codable {
    case notype, object, function, section, file, common, tls, other

    init(stType: UInt8) {
        switch stType {
        case 0: self = .notype
        case 1: self = .object
        case 2: self = .function
        case 3: self = .section
        case 4: self = .file
        case 5: self = .common
        case 6: self = .tls
        default: self = .other
        }
    }
}

/// The language of the compile unit that declares a type (`dwarf_srclang`).
public enum SourceLanguage: String, Hashable, Sendable, Codable {
    case swift, c, cPlusPlus, other

    init(dwarfLanguage: Int32) {
        switch dwarfLanguage {
        case 0x1e: self = .swift
        case 0x01, 0x02, 0x0c, 0x1d, 0x2c: self = .c
        case 0x04, 0x1a, 0x21, 0x2b: self = .cPlusPlus
        default: self = .other
        }
    }
}

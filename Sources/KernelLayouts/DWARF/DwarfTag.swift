/// The `DW_TAG_*` values used here (from dwarf.h).
enum DwarfTag {
    static let arrayType: UInt32 = 0x01
    static let classType: UInt32 = 0x02
    static let enumerationType: UInt32 = 0x04
    static let lexicalBlock: UInt32 = 0x0b
    static let member: UInt32 = 0x0d
    static let pointerType: UInt32 = 0x0f
    static let referenceType: UInt32 = 0x10
    static let compileUnit: UInt32 = 0x11
    static let structureType: UInt32 = 0x13
    static let subroutineType: UInt32 = 0x15
    static let typedef: UInt32 = 0x16
    static let unionType: UInt32 = 0x17
    static let variant: UInt32 = 0x19
    static let inlinedSubroutine: UInt32 = 0x1d
    static let module: UInt32 = 0x1e
    static let subrangeType: UInt32 = 0x21
    static let baseType: UInt32 = 0x24
    static let constType: UInt32 = 0x26
    static let enumerator: UInt32 = 0x28
    static let subprogram: UInt32 = 0x2e
    static let templateTypeParameter: UInt32 = 0x2f
    static let templateValueParameter: UInt32 = 0x30
    static let variantPart: UInt32 = 0x33
    static let variable: UInt32 = 0x34
    static let volatileType: UInt32 = 0x35
    static let restrictType: UInt32 = 0x37
    static let atomicType: UInt32 = 0x47
}

/// One debugging information entry, copied out of libdw into plain values: only the
/// attributes layouts and globals need. DIEs refer to each other by their global offset.
struct DwarfEntry: Sendable {
    /// `dwarf_dieoffset`: the DIE's offset in `.debug_info`, unique in the file.
    let offset: UInt64
    /// `dwarf_tag`, a `DW_TAG_*` value.
    let tag: UInt32
    let name: String?
    let linkageName: String?
    let byteSize: UInt64?
    /// `DW_AT_type`, as the referenced DIE's offset.
    let type: UInt64?
    /// `DW_AT_specification`: a Swift generic specialisation points at the generic definition.
    let specification: UInt64?
    /// `DW_AT_data_member_location` as a constant (or `DW_OP_plus_uconst`).
    let memberLocation: UInt64?
    /// `DW_AT_data_bit_offset` and `DW_AT_bit_size`, for C bit-fields.
    let bitOffset: UInt64?
    let bitSize: UInt64?
    let constValue: Int64?
    /// `DW_AT_count`, or `DW_AT_upper_bound + 1`, of a subrange.
    let count: UInt64?
    let isDeclaration: Bool
    /// A variable's address from a `DW_OP_addr` location.
    let address: UInt64?
    var children: [UInt64]
    /// The enclosing `DW_TAG_module`'s name: Swift nests each module's types in one.
    let module: String?
    /// The compile unit's `DW_AT_language` (`dwarf_srclang`).
    let language: Int32
    /// The compile unit's name, for telling same-named C structs apart.
    let unitName: String?
}

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

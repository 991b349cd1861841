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

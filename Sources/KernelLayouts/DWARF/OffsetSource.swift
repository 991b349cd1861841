/// Where a struct's member offsets come from.
public enum OffsetSource: String, Hashable, Sendable, Codable {
    /// `DW_AT_data_member_location`, taken as it is (C, and Swift when it agrees with
    /// Swift's layout rules).
    case dwarf
    /// Recomputed from the members' sizes and alignments with Swift's struct layout rule
    /// (each field at the next multiple of its alignment, in declaration order), because
    /// the DWARF offsets leave out alignment padding. The DWARF value is kept in
    /// `StructMember.dwarfOffset`, and the recomputed end matches DWARF's `DW_AT_byte_size`.
    case swiftLayoutRules
}

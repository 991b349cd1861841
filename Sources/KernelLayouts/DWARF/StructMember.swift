/// One stored member of a struct: where it is and what it holds.
public struct StructMember: Hashable, Sendable, Codable {
    /// The member's name; a tuple's elements are named `0`, `1`, ….
    public let name: String
    /// Byte offset from the start of the enclosing struct.
    public let offset: UInt64
    public let size: UInt64
    public let alignment: UInt64
    /// The type as a person writes it: `UInt64`, `Kernel.Segment`, `InlineArray<4, UInt16>`,
    /// `UInt64?`, `struct list_head`, `uint32_t[8]`.
    public let typeName: String
    /// `DW_AT_data_member_location` as DWARF has it, when it differs from `offset`.
    public let dwarfOffset: UInt64?
    /// The layout of a struct-typed member (or of a Swift tuple), expanded.
    public let nested: StructLayout?
    /// For a fixed-size array (a C array or a Swift `InlineArray`): element count and stride.
    public let array: ArrayShape?
    /// For an enum-typed member: its cases.
    public let enumeration: EnumLayout?
    /// For a C bit-field: the bit offset within `offset`'s storage unit and the width.
    public let bitField: BitField?

    public struct ArrayShape: Hashable, Sendable, Codable {
        public let count: UInt64
        public let elementTypeName: String
        public let elementStride: UInt64
        /// The element's layout when it is a struct.
        public let elementLayout: StructLayout?
    }

    public struct BitField: Hashable, Sendable, Codable {
        public let bitOffset: UInt64
        public let bitSize: UInt64
    }
}

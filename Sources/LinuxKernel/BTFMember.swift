/// Where a struct member lies, as BTF describes it.
public struct BTFMember: Sendable, Hashable {
    /// Byte offset from the start of the outermost struct (anonymous members flattened).
    public var offset: Int
    /// The member's BTF type id, with typedefs and qualifiers (const, volatile, …) resolved.
    public var typeID: UInt32
    /// Its size in bytes.
    public var size: Int
    /// If it is an array: the element count and element size (multi-dimensional arrays give
    /// the outer count, the element being the inner array).
    public var array: (count: Int, elementSize: Int, elementTypeID: UInt32)?

    public static func == (a: BTFMember, b: BTFMember) -> Bool {
        a.offset == b.offset && a.typeID == b.typeID && a.size == b.size
            && a.array?.count == b.array?.count && a.array?.elementSize == b.array?.elementSize
    }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(offset); hasher.combine(typeID); hasher.combine(size)
    }
}

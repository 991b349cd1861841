/// The layout of one struct (Swift or C) read from DWARF: size, alignment and its members.
public struct StructLayout: Hashable, Sendable, Codable {
    /// The name without module: `FrameMeta`, `Box<UInt64>`, `(UInt8, UInt32)`, `c_zone`.
    public let name: String
    /// The name that picks exactly this struct: `Kernel.FrameMeta`, `Fix.Box<UInt64>`.
    public let qualifiedName: String
    /// The Swift type mangling (`$e6Kernel9FrameMetaVD`); nil for C.
    public let linkageName: String?
    public let language: SourceLanguage
    /// `DW_AT_byte_size`: `MemoryLayout<T>.size` for Swift, `sizeof` for C.
    public let size: UInt64
    /// The largest member alignment (DWARF has no `DW_AT_alignment` for these types).
    public let alignment: UInt64
    public let members: [StructMember]
    public let offsetSource: OffsetSource

    /// `MemoryLayout<T>.stride`: the size rounded up to the alignment (at least 1).
    public var stride: UInt64 { max(1, (size + alignment - 1) / alignment * alignment) }

    /// The member at `path`: a name, or a dotted path into nested structs and tuples
    /// (`inner.a`, `tup.2`). Offsets of nested members are relative to this struct.
    public func member(_ path: String) throws(KernelImageError) -> StructMember {
        var layout = self
        var base: UInt64 = 0
        let parts = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        for (i, part) in parts.enumerated() {
            guard let m = layout.members.first(where: { $0.name == part }) else {
                throw .memberNotFound(
                    structName: layout.qualifiedName, member: part,
                    closest: NameDistance.closest(to: part, in: layout.members.map(\.name)))
            }
            if i == parts.count - 1 {
                return StructMember(
                    name: path, offset: base + m.offset, size: m.size, alignment: m.alignment,
                    typeName: m.typeName, dwarfOffset: m.dwarfOffset, nested: m.nested, array: m.array,
                    enumeration: m.enumeration, bitField: m.bitField)
            }
            guard let nested = m.nested ?? m.array?.elementLayout else {
                throw .memberNotFound(structName: layout.qualifiedName, member: parts[i...].joined(separator: "."),
                                      closest: ["\(m.name) is a \(m.typeName), not a struct"])
            }
            base += m.offset
            layout = nested
        }
        throw .memberNotFound(structName: qualifiedName, member: path, closest: members.map(\.name))
    }

    /// The byte offset of the member at `path` (see `member(_:)`).
    public func offset(of path: String) throws(KernelImageError) -> UInt64 {
        try member(path).offset
    }
}

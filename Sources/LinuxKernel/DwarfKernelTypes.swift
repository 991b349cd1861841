import KernelLayouts

/// Kernel types from a `vmlinux` with DWARF (Debian's `linux-image-*-dbg`), read through
/// libdw by KernelLayouts: the same questions ``BTFTypes`` answers, for users who have the
/// debug image (and for kernels built without `CONFIG_DEBUG_INFO_BTF`).
public final class DwarfKernelTypes: KernelTypes {
    /// Read unit by unit, as far as the names asked for need (a Debian vmlinux's DWARF is 600 MB).
    public let types: DwarfTypesOnDemand
    public let path: String

    /// Opens the DWARF of the ELF at `path`; types are read when first asked for.
    /// - Throws: ``KernelImageError`` (`.noDWARF` for an image without debug information).
    public init(path: String) throws(KernelImageError) {
        self.path = path
        types = try DwarfTypesOnDemand(path: path)
    }

    public var origin: String { "DWARF of \(path)" }
    /// The struct, union and enum definitions read so far.
    public var typeCount: Int { types.typeCount }

    public func size(ofStruct name: String) throws(BTFError) -> Int {
        Int(clamping: try layout(name).size)
    }

    public func member(_ path: String, of type: String) throws(BTFError) -> BTFMember {
        var current = try layout(type)
        var offset: UInt64 = 0
        var found: StructMember?
        for part in path.split(separator: ".").map(String.init) {
            guard let (m, at) = Self.find(part, in: current, depth: 0) else { throw .missingMember(type: type, member: path) }
            let (sum, overflow) = offset.addingReportingOverflow(at)
            guard !overflow else { throw .missingMember(type: type, member: path) }
            offset = sum
            found = m
            if let nested = m.nested { current = nested }
        }
        guard let m = found, m.bitField == nil else { throw .missingMember(type: type, member: path) }
        let array = m.array.map { (count: Int(clamping: $0.count), elementSize: Int(clamping: $0.elementStride), elementTypeID: UInt32(0)) }
        return BTFMember(offset: Int(clamping: offset), typeID: 0, size: Int(clamping: m.size), array: array)
    }

    public func enumValue(_ name: String, in enumName: String) throws(BTFError) -> Int64 {
        guard let c = try enumCases(of: enumName).first(where: { $0.name == name }) else {
            throw .missingMember(type: "enum " + enumName, member: name)
        }
        return c.value
    }

    public func enumCases(of enumName: String) throws(BTFError) -> [(name: String, value: Int64)] {
        do {
            return try types.enumLayout(named: enumName).cases.map { ($0.name, $0.storedValue) }
        } catch {
            throw .missingType("enum " + enumName)
        }
    }

    private func layout(_ name: String) throws(BTFError) -> StructLayout {
        do { return try types.structLayout(named: name) } catch { throw .missingType(name) }
    }

    /// Member `name` of `layout`, searched through anonymous members (DWARF names them by
    /// their index), with its offset from the start of `layout`.
    static func find(_ name: String, in layout: StructLayout, depth: Int) -> (StructMember, UInt64)? {
        guard depth < 8 else { return nil }
        if let m = layout.members.first(where: { $0.name == name }) { return (m, m.offset) }
        for m in layout.members where m.name.allSatisfy(\.isNumber) {
            if let nested = m.nested, let (inner, at) = find(name, in: nested, depth: depth + 1),
               case (let sum, false) = m.offset.addingReportingOverflow(at) { return (inner, sum) }
        }
        return nil
    }
}

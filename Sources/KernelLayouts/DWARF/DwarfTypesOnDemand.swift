import Foundation

/// The struct and enum layouts of a C image, read only as far as the names asked for need.
///
/// For a distribution `vmlinux` (Debian's `linux-image-*-dbg`: 600 MB of DWARF in ~2,900
/// units) reading every unit into ``DwarfTypes`` takes minutes and gigabytes: every unit that
/// includes `<linux/mmzone.h>` defines `struct zone` again. Here units are gone through in
/// order, noting only which names each defines at its top level (a cheap walk of siblings),
/// until one defines the name asked for; that one unit is read in full and the layout resolved
/// inside it (C references stay inside their unit). Layouts are kept, and so is where each
/// name seen so far is defined, so a later question costs one unit or nothing.
///
/// A name defined differently in two units is taken from the first (a kernel build defines each
/// struct one way). A name no unit defines is reported as ``DwarfTypes`` reports it, after
/// every unit has been gone through once.
public final class DwarfTypesOnDemand: @unchecked Sendable {
    public let path: String
    private let units: DwarfUnitReader
    /// Where each name seen so far is first defined (`s:NAME`, `e:NAME` → unit offset).
    private var definedIn: [String: UInt64] = [:]
    private var structs: [String: StructLayout] = [:]
    private var enums: [String: EnumLayout] = [:]
    private let lock = NSLock()

    /// Opens `path`. Throws `.noDWARF` for an image without debug information.
    public init(path: String) throws(KernelImageError) {
        self.path = path
        units = try DwarfUnitReader(ElfHandle(path: path))
        guard DwarfReader.hasDebugInfo(units.handle) else { throw .noDWARF(path: path) }
    }

    /// Compile units gone through so far.
    public var unitsRead: Int { lock.withLock { units.unitsRead } }

    /// Struct, union and enum names seen defined so far.
    public var typeCount: Int { lock.withLock { definedIn.count } }

    /// The layout of `struct NAME` (or union), from the first unit that defines it.
    public func structLayout(named name: String) throws(KernelImageError) -> StructLayout {
        lock.lock()
        defer { lock.unlock() }
        if let known = structs[name] { return known }
        let layout = try types(defining: "s:" + name, query: name).structLayout(named: name)
        structs[name] = layout
        return layout
    }

    /// `enum NAME`, from the first unit that defines it.
    public func enumLayout(named name: String) throws(KernelImageError) -> EnumLayout {
        lock.lock()
        defer { lock.unlock() }
        if let known = enums[name] { return known }
        let layout = try types(defining: "e:" + name, query: name).enumLayout(named: name)
        enums[name] = layout
        return layout
    }

    /// The types of the first unit that defines `key`. Called with the lock held.
    private func types(defining key: String, query: String) throws(KernelImageError) -> DwarfTypes {
        while definedIn[key] == nil, let unit = units.nextUnit() {
            for name in unit.definitions where definedIn[name] == nil { definedIn[name] = unit.offset }
        }
        guard let offset = definedIn[key] else {
            if definedIn.isEmpty { throw .noDWARF(path: path) }
            let kind = key.hasPrefix("e:") ? "e:" : "s:"
            let names = definedIn.keys.filter { $0.hasPrefix(kind) }.map { String($0.dropFirst(2)) }
            throw .structNotFound(query: query, closest: NameDistance.closest(to: query, in: names))
        }
        return DwarfTypes(path: path, entries: units.entries(ofUnitAt: offset))
    }
}

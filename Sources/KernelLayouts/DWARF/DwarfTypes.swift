/// The struct, enum and global-variable descriptions of an image, read through libdw.
///
/// Opening reads every compile unit once (`dwarf_begin_elf`, `dwarf_nextcu`) into Swift values;
/// layouts are worked out on request by `LayoutResolver`. A name that fits several different
/// types (one per module, or one per generic specialisation) is an error listing the names
/// that pick one, never a silent choice.
public struct DwarfTypes: Sendable {
    public let path: String
    private let entries: [UInt64: DwarfEntry]
    private let structs: [Candidate]
    private let enums: [Candidate]
    private let globals: [GlobalVariable]

    /// One type under every name it can be asked for by.
    private struct Candidate: Sendable {
        let offset: UInt64
        /// What makes two DIEs the same type: the Swift mangling, or a C struct's name and shape.
        let key: String
        let linkageName: String?
        /// Demangled as the runtime prints it (`Fix.Box<Swift.UInt64>`).
        let demangled: String?
        /// Without `Swift.` (`Fix.Box<UInt64>`); a C type's tag name.
        let qualifiedName: String
        /// Without the module (`Box<UInt64>`).
        let plainName: String
        /// `DW_AT_name` or the generic's name (`Box`).
        let baseName: String?

        /// Lookups, most exact first.
        func matches(_ q: String, level: Int) -> Bool {
            switch level {
            case 0: return linkageName == q
            case 1: return demangled == q
            case 2: return qualifiedName == q
            case 3: return plainName == q
            default: return baseName == q
            }
        }
        static let levels = 5
    }

    /// Opens `path` and reads its DWARF. Throws `.noDWARF` for a stripped image.
    public init(path: String) throws(KernelImageError) {
        try self.init(handle: ElfHandle(path: path))
    }

    init(handle: ElfHandle) throws(KernelImageError) {
        self.init(path: handle.path, entries: try DwarfReader.read(handle))
    }

    /// The types of `entries`, DIEs read from the image at `path` (all of its units, or the
    /// ones ``DwarfTypesOnDemand`` has read so far).
    init(path: String, entries: [UInt64: DwarfEntry]) {
        self.path = path
        self.entries = entries
        let resolver = LayoutResolver(entries: entries)
        var specificationTargets = Set<UInt64>()
        for e in entries.values { if let s = e.specification { specificationTargets.insert(s) } }

        var structs: [String: Candidate] = [:]
        var enums: [String: Candidate] = [:]
        var globals: [String: GlobalVariable] = [:]
        for e in entries.values.sorted(by: { $0.offset < $1.offset }) {
            switch e.tag {
            case DwarfTag.structureType, DwarfTag.classType, DwarfTag.unionType:
                guard !e.isDeclaration, e.byteSize != nil, !specificationTargets.contains(e.offset),
                    SwiftTypeName.genericParameterIndex(e.name) == nil, !resolver.isPayloadEnum(e)
                else { continue }
                let c = Self.candidate(e, resolver)
                if structs[c.key] == nil { structs[c.key] = c }
            case DwarfTag.enumerationType:
                guard !e.isDeclaration else { continue }
                let c = Self.candidate(e, resolver)
                if enums[c.key] == nil { enums[c.key] = c }
            case DwarfTag.variable:
                guard let address = e.address, let name = e.name else { continue }
                var r = resolver
                let type = try? r.resolve(e.type)
                let qualified = e.module.map { "\($0).\(name)" } ?? name
                globals[e.linkageName ?? qualified] = GlobalVariable(
                    name: name, qualifiedName: qualified, linkageName: e.linkageName,
                    address: VirtualAddress(address), typeName: type?.typeName ?? resolver.shallowName(e.type),
                    size: type?.size)
            default:
                continue
            }
        }
        self.structs = structs.values.sorted { $0.qualifiedName < $1.qualifiedName }
        self.enums = enums.values.sorted { $0.qualifiedName < $1.qualifiedName }
        self.globals = globals.values.sorted { $0.qualifiedName < $1.qualifiedName }
    }

    private static func candidate(_ e: DwarfEntry, _ resolver: LayoutResolver) -> Candidate {
        let swift = SourceLanguage(dwarfLanguage: e.language) == .swift
        let mangled = swift ? resolver.mangledName(e) : nil
        let demangled = mangled.flatMap(SwiftTypeName.demangled)
        let qualified = demangled.map(SwiftTypeName.withoutStdlibPrefix) ?? e.name ?? "(anonymous)"
        let members = resolver.children(e, DwarfTag.member).map { $0.name ?? "_" }.joined(separator: ",")
        let key = mangled ?? "c:\(e.tag):\(qualified):\(e.byteSize ?? 0):\(members)"
        return Candidate(
            offset: e.offset, key: key, linkageName: mangled, demangled: demangled, qualifiedName: qualified,
            plainName: SwiftTypeName.withoutModule(qualified, module: e.module), baseName: resolver.baseName(e))
    }

    /// Every struct's qualified name (`Kernel.FrameMeta`, `Fix.Box<UInt64>`, `c_zone`).
    public var structNames: [String] { structs.map(\.qualifiedName) }

    /// Every global variable DWARF gives an address for.
    public var globalVariables: [GlobalVariable] { globals }

    /// The layout of the struct called `name`: its mangling, its qualified name
    /// (`Kernel.FrameMeta`, `Fix.Box<Swift.UInt64>` or `Fix.Box<UInt64>`), its name without
    /// module (`FrameMeta`, `Box<UInt64>`), or its bare name (`Box`) when only one type has it.
    public func structLayout(named name: String) throws(KernelImageError) -> StructLayout {
        let c = try find(name, in: structs, notFound: { .structNotFound(query: name, closest: $0) })
        var resolver = LayoutResolver(entries: entries)
        do throws(LayoutResolver.Failure) {
            let r = try resolver.resolve(c.offset)
            if resolver.isClass(entries[c.offset]!) {
                throw LayoutResolver.Failure(reason: "\(c.qualifiedName) is a class: its values are 8-byte references, "
                    + "and Swift's DWARF does not give its instance layout")
            }
            guard let layout = r.nested else {
                throw LayoutResolver.Failure(reason: "\(c.qualifiedName) is a \(r.typeName), not a struct")
            }
            return layout
        } catch {
            throw .layoutIncomplete(structName: c.qualifiedName, reason: error.reason)
        }
    }

    /// The enumeration called `name` (same naming rules as `structLayout(named:)`).
    public func enumLayout(named name: String) throws(KernelImageError) -> EnumLayout {
        let c = try find(name, in: enums, notFound: { .structNotFound(query: name, closest: $0) })
        return LayoutResolver(entries: entries).enumLayout(entries[c.offset]!)
    }

    /// The global variable called `name`: its linkage name, `Module.name`, or `name` when only
    /// one module has it.
    public func globalVariable(named name: String) throws(KernelImageError) -> GlobalVariable {
        for level in 0..<3 {
            let hits = globals.filter { g in
                level == 0 ? g.linkageName == name : level == 1 ? g.qualifiedName == name : g.name == name
            }
            if hits.count == 1 { return hits[0] }
            if hits.count > 1 {
                throw .ambiguousSymbol(query: name, candidates: hits.map(\.qualifiedName))
            }
        }
        throw .globalNotFound(query: name, closest: NameDistance.closest(to: name, in: globals.flatMap { [$0.qualifiedName, $0.name] }))
    }

    private func find(
        _ query: String, in candidates: [Candidate], notFound: ([String]) -> KernelImageError
    ) throws(KernelImageError) -> Candidate {
        let q = query.trimmingSpaces
        for level in 0..<Candidate.levels {
            let hits = candidates.filter { $0.matches(q, level: level) }
            if hits.count == 1 { return hits[0] }
            if hits.count > 1 {
                throw .ambiguousStruct(query: query, candidates: hits.map(\.qualifiedName))
            }
        }
        let names = candidates.flatMap { [$0.qualifiedName, $0.plainName] }
        throw notFound(NameDistance.closest(to: q, in: names))
    }
}

/// Works out sizes, alignments and member offsets from the copied DWARF entries.
///
/// C types are taken as DWARF gives them. Swift types need more care, because what Swift 6.3
/// emits is not enough on its own:
/// - member offsets (`DW_AT_data_member_location`) leave out alignment padding for members
///   whose type is a struct, enum, `Optional` or `InlineArray`, so they are recomputed with
///   Swift's layout rule from the members' sizes and alignments, and checked against the
///   struct's `DW_AT_byte_size`, which is right;
/// - there is no `DW_AT_alignment`, so alignment is derived: a scalar's from its size, an
///   aggregate's as its largest member's, an array's as its element's;
/// - a generic specialisation (`Box<UInt64>`) points with `DW_AT_specification` at the generic
///   definition, whose members have placeholder types (`$exD`); they are substituted with the
///   specialisation's `DW_TAG_template_type_parameter`s.
struct LayoutResolver {
    let entries: [UInt64: DwarfEntry]
    private var cache: [UInt64: ResolvedType] = [:]
    private var depth = 0

    init(entries: [UInt64: DwarfEntry]) { self.entries = entries }

    struct Failure: Error { let reason: String }

    struct ResolvedType {
        var size: UInt64
        var alignment: UInt64
        var typeName: String
        var nested: StructLayout? = nil
        var array: StructMember.ArrayShape? = nil
        var enumeration: EnumLayout? = nil
    }

    // MARK: Names

    /// The mangled Swift type name of an entry, from its linkage name, its own name when that
    /// is a mangling, or (for a wrapped specialisation) its single member's declaration.
    func mangledName(_ e: DwarfEntry) -> String? {
        if let l = e.linkageName, SwiftDemangler.isSwiftMangled(l) { return l }
        if let n = e.name, SwiftDemangler.isSwiftMangled(n) { return n }
        if let d = wrappedDeclaration(e), let n = d.name, SwiftDemangler.isSwiftMangled(n) { return n }
        return nil
    }

    /// `Kernel.FrameMeta`, `Fix.Box<Swift.UInt64>`: the runtime's demangling of the mangled name.
    func demangledName(_ e: DwarfEntry) -> String? { mangledName(e).flatMap(SwiftTypeName.demangled) }

    /// The name shown for a type: demangled without `Swift.` for Swift, with `struct`/`union`/
    /// `enum` for C aggregates.
    func displayName(_ e: DwarfEntry) -> String {
        if let d = demangledName(e) { return SwiftTypeName.withoutStdlibPrefix(d) }
        let base = e.name ?? baseName(e) ?? "(anonymous)"
        guard SourceLanguage(dwarfLanguage: e.language) != .swift else { return base }
        switch e.tag {
        case DwarfTag.structureType, DwarfTag.classType: return "struct " + base
        case DwarfTag.unionType: return "union " + base
        case DwarfTag.enumerationType: return "enum " + base
        default: return base
        }
    }

    /// `DW_AT_name`, or the generic definition's name for a specialisation.
    func baseName(_ e: DwarfEntry) -> String? {
        if let n = e.name, !SwiftDemangler.isSwiftMangled(n) { return n }
        if let s = e.specification, let g = entries[s] { return g.name }
        return e.name
    }

    /// A type's name without resolving its layout (used behind pointers).
    func shallowName(_ offset: UInt64?) -> String {
        guard let offset, let e = entries[offset] else { return "void" }
        switch e.tag {
        case DwarfTag.pointerType, DwarfTag.referenceType: return shallowName(e.type) + " *"
        case DwarfTag.constType: return "const " + shallowName(e.type)
        case DwarfTag.volatileType: return "volatile " + shallowName(e.type)
        case DwarfTag.restrictType, DwarfTag.atomicType: return shallowName(e.type)
        case DwarfTag.arrayType:
            let counts = children(e, DwarfTag.subrangeType).map { "[\($0.count ?? 0)]" }.joined()
            return shallowName(e.type) + counts
        case DwarfTag.subroutineType: return "func"
        default: return displayName(e)
        }
    }

    // MARK: Structure helpers

    func children(_ e: DwarfEntry, _ tag: UInt32) -> [DwarfEntry] {
        e.children.compactMap { entries[$0] }.filter { $0.tag == tag }
    }

    /// For the specialisation shape `struct { <unnamed member>: <declaration with template
    /// parameters> }` (how `Box<UInt64>` appears), that declaration.
    func wrappedDeclaration(_ e: DwarfEntry) -> DwarfEntry? {
        guard e.specification != nil else { return nil }
        let members = children(e, DwarfTag.member)
        guard members.count == 1, members[0].name == nil, let t = members[0].type, let d = entries[t],
            d.isDeclaration, !children(d, DwarfTag.templateTypeParameter).isEmpty
        else { return nil }
        return d
    }

    /// Whether the entry is a Swift enum with payloads (a structure with a `DW_TAG_variant_part`).
    func isPayloadEnum(_ e: DwarfEntry) -> Bool { !children(e, DwarfTag.variantPart).isEmpty }

    /// Whether the entry is a Swift class: Swift 6.3 emits classes as `DW_TAG_structure_type`
    /// too, told apart only by the mangling's nominal kind (`…C` + `D`, as in `$e3Fix4NodeCD`).
    /// Generic classes (`…CyxGD`) are not recognised.
    func isClass(_ e: DwarfEntry) -> Bool {
        guard let m = mangledName(e) else { return false }
        return m.hasSuffix("CD")
    }

    // MARK: Resolution

    mutating func resolve(_ offset: UInt64?, substitutions: [UInt64] = []) throws(Failure) -> ResolvedType {
        guard let offset else { return ResolvedType(size: 0, alignment: 1, typeName: "Void") }
        if substitutions.isEmpty, let hit = cache[offset] { return hit }
        guard let e = entries[offset] else { throw Failure(reason: "DIE \(offset) is missing") }
        depth += 1
        defer { depth -= 1 }
        if depth > 64 { throw Failure(reason: "types nest more than 64 deep at \(displayName(e))") }
        let r = try resolveUncached(e, substitutions: substitutions)
        if substitutions.isEmpty { cache[offset] = r }
        return r
    }

    private mutating func resolveUncached(_ e: DwarfEntry, substitutions: [UInt64]) throws(Failure) -> ResolvedType {
        switch e.tag {
        case DwarfTag.baseType:
            let size = e.byteSize ?? 0
            return ResolvedType(size: size, alignment: Self.naturalAlignment(size), typeName: e.name ?? "?")
        case DwarfTag.pointerType, DwarfTag.referenceType:
            return ResolvedType(size: e.byteSize ?? 8, alignment: 8, typeName: shallowName(e.offset))
        case DwarfTag.typedef:
            var r = try resolve(e.type, substitutions: substitutions)
            r.typeName = e.name ?? r.typeName
            return r
        case DwarfTag.constType, DwarfTag.volatileType, DwarfTag.restrictType, DwarfTag.atomicType:
            var r = try resolve(e.type, substitutions: substitutions)
            if e.tag == DwarfTag.constType { r.typeName = "const " + r.typeName }
            if e.tag == DwarfTag.volatileType { r.typeName = "volatile " + r.typeName }
            return r
        case DwarfTag.enumerationType:
            let layout = enumLayout(e)
            return ResolvedType(size: layout.size, alignment: Self.naturalAlignment(layout.size),
                                typeName: displayName(e), enumeration: layout)
        case DwarfTag.arrayType:
            return try resolveArray(e, substitutions: substitutions)
        case DwarfTag.structureType, DwarfTag.classType, DwarfTag.unionType:
            return try resolveAggregate(e, substitutions: substitutions)
        case DwarfTag.subroutineType:
            return ResolvedType(size: 0, alignment: 1, typeName: "func")
        default:
            throw Failure(reason: "DIE \(e.offset) has tag 0x\(String(e.tag, radix: 16)), not a type")
        }
    }

    private mutating func resolveArray(_ e: DwarfEntry, substitutions: [UInt64]) throws(Failure) -> ResolvedType {
        let element = try resolve(e.type, substitutions: substitutions)
        let counts = children(e, DwarfTag.subrangeType).map { $0.count ?? 0 }
        var count: UInt64 = counts.isEmpty ? 0 : 1
        for c in counts {
            let (product, overflow) = count.multipliedReportingOverflow(by: c)
            guard !overflow else { throw Failure(reason: "array DIE \(e.offset) has more elements than 64 bits count (\(counts))") }
            count = product
        }
        let swift = SourceLanguage(dwarfLanguage: e.language) == .swift
        guard let stride = swift ? Self.stride(size: element.size, alignment: element.alignment) : element.size else {
            throw Failure(reason: "array DIE \(e.offset): element size \(element.size) overflows when aligned to \(element.alignment)")
        }
        let (total, overflow) = count.multipliedReportingOverflow(by: stride)
        guard e.byteSize != nil || !overflow else {
            throw Failure(reason: "array DIE \(e.offset): \(count) elements of \(stride) bytes overflow 64 bits")
        }
        let shape = StructMember.ArrayShape(
            count: count, elementTypeName: element.typeName, elementStride: stride,
            elementLayout: element.nested)
        return ResolvedType(
            size: e.byteSize ?? total, alignment: element.alignment,
            typeName: element.typeName + counts.map { "[\($0)]" }.joined(), array: shape)
    }

    private mutating func resolveAggregate(_ e: DwarfEntry, substitutions: [UInt64]) throws(Failure) -> ResolvedType {
        let swift = SourceLanguage(dwarfLanguage: e.language) == .swift
        if swift, let index = SwiftTypeName.genericParameterIndex(e.name) {
            guard index < substitutions.count else {
                throw Failure(reason: "generic parameter \(e.name ?? "") is not specialised here")
            }
            return try resolve(substitutions[index])
        }
        if swift, let spec = e.specification, let generic = entries[spec] {
            let wrapped = wrappedDeclaration(e)
            let ownMembers = children(e, DwarfTag.member)
            if wrapped != nil || ownMembers.isEmpty {
                let parameters = children(wrapped ?? e, DwarfTag.templateTypeParameter).compactMap(\.type)
                return try resolveSpecialisation(e, generic: generic, parameters: parameters)
            }
        }
        guard let size = e.byteSize else {
            throw Failure(reason: "\(displayName(e)) is only declared in DWARF, without a size")
        }
        if swift && isClass(e) {
            // A class-typed value is a reference; the members DWARF lists are the instance's.
            return ResolvedType(size: size, alignment: 8, typeName: displayName(e))
        }
        if swift && isPayloadEnum(e) {
            return ResolvedType(size: size, alignment: try payloadAlignment(e, substitutions: substitutions, size: size),
                                typeName: displayName(e))
        }
        let demangled = swift ? demangledName(e) : nil
        if let d = demangled, d.hasPrefix("Swift.InlineArray<"),
            let storage = children(e, DwarfTag.member).first, let storageType = storage.type
        {
            var r = try resolve(storageType, substitutions: substitutions)
            r.size = size
            r.typeName = displayName(e)
            return r
        }
        if swift && children(e, DwarfTag.member).isEmpty && size > 0 {
            // An opaque Swift type: a Builtin (`Builtin.RawPointer`, `Builtin.Int64`) or a
            // stdlib scalar declared with a size only. Scalars are aligned to their size.
            return ResolvedType(size: size, alignment: Self.naturalAlignment(size), typeName: displayName(e))
        }
        if let d = demangled, d.hasPrefix("Swift.") {
            // A standard-library scalar (UInt64, Int, Bool, UnsafeMutableRawPointer…): a leaf.
            var alignment: UInt64 = 1
            for m in children(e, DwarfTag.member) {
                alignment = max(alignment, try resolve(m.type, substitutions: substitutions).alignment)
            }
            if children(e, DwarfTag.member).isEmpty { alignment = Self.naturalAlignment(size) }
            return ResolvedType(size: size, alignment: alignment, typeName: displayName(e))
        }
        let layout = try structLayout(e, members: children(e, DwarfTag.member), substitutions: substitutions,
                                      size: size, dwarfOffsetsMeaningful: true)
        return ResolvedType(size: size, alignment: layout.alignment, typeName: displayName(e), nested: layout)
    }

    /// A generic specialisation: the generic definition's members with the placeholders
    /// replaced by the specialisation's type parameters.
    private mutating func resolveSpecialisation(_ e: DwarfEntry, generic: DwarfEntry, parameters: [UInt64]) throws(Failure) -> ResolvedType {
        guard let size = e.byteSize else {
            throw Failure(reason: "\(displayName(e)) has no size in DWARF")
        }
        if isPayloadEnum(generic) {
            var alignment: UInt64
            do {
                alignment = try payloadAlignment(generic, substitutions: parameters, size: size)
            } catch {
                alignment = 1
                for p in parameters { alignment = max(alignment, (try? resolve(p))?.alignment ?? 1) }
            }
            return ResolvedType(size: size, alignment: alignment, typeName: displayName(e))
        }
        let layout = try structLayout(e, members: children(generic, DwarfTag.member), substitutions: parameters,
                                      size: size, dwarfOffsetsMeaningful: false)
        // Standard-library specialisations (UnsafeMutablePointer<T>…) are leaves, as their
        // unspecialised relatives are.
        let stdlib = demangledName(e)?.hasPrefix("Swift.") ?? false
        return ResolvedType(size: size, alignment: layout.alignment, typeName: displayName(e),
                            nested: stdlib ? nil : layout)
    }

    /// The alignment of a payload enum: its payloads' largest.
    private mutating func payloadAlignment(_ e: DwarfEntry, substitutions: [UInt64], size: UInt64) throws(Failure) -> UInt64 {
        var alignment: UInt64 = 1
        for part in children(e, DwarfTag.variantPart) {
            for variant in children(part, DwarfTag.variant) {
                for m in children(variant, DwarfTag.member) where m.type != nil {
                    alignment = max(alignment, try resolve(m.type, substitutions: substitutions).alignment)
                }
            }
        }
        return alignment
    }

    /// Builds the layout of a struct (or tuple, or union) from its members.
    mutating func structLayout(
        _ e: DwarfEntry, members: [DwarfEntry], substitutions: [UInt64], size: UInt64,
        dwarfOffsetsMeaningful: Bool
    ) throws(Failure) -> StructLayout {
        let language = SourceLanguage(dwarfLanguage: e.language)
        let stored = members.filter { !$0.isDeclaration }
        var resolved: [ResolvedType] = []
        for m in stored {
            do {
                resolved.append(try resolve(m.type, substitutions: substitutions))
            } catch {
                throw Failure(reason: "member '\(m.name ?? "?")' of \(displayName(e)): \(error.reason)")
            }
        }
        let alignment = resolved.map(\.alignment).max() ?? 1
        let dwarfOffsets = stored.map { m -> UInt64? in
            m.memberLocation ?? m.bitOffset.map { $0 / 8 } ?? (e.tag == DwarfTag.unionType ? 0 : nil)
        }
        var offsets: [UInt64] = dwarfOffsets.map { $0 ?? 0 }
        var source = OffsetSource.dwarf
        if language == .swift {
            // Swift's rule: each stored property at the next multiple of its alignment.
            var end: UInt64 = 0
            var computed: [UInt64] = []
            for r in resolved {
                guard let at = Self.roundUp(end, to: r.alignment), case (let next, false) = at.addingReportingOverflow(r.size) else {
                    throw Failure(reason: "\(displayName(e))'s members overflow 64 bits under Swift's layout rule")
                }
                computed.append(at)
                end = next
            }
            let agrees = zip(computed, dwarfOffsets).allSatisfy { $0 == $1 }
            if !(dwarfOffsetsMeaningful && agrees) {
                guard end == size else {
                    throw Failure(reason: "Swift's layout rule gives \(displayName(e)) \(end) bytes but DWARF says \(size)"
                        + " (DWARF offsets: \(dwarfOffsets.map { $0.map(String.init) ?? "-" }.joined(separator: ", ")))")
                }
                offsets = computed
                source = .swiftLayoutRules
            }
        }
        var out: [StructMember] = []
        for (i, m) in stored.enumerated() {
            let r = resolved[i]
            let dwarf = dwarfOffsetsMeaningful ? dwarfOffsets[i] : nil
            out.append(StructMember(
                name: m.name ?? "\(i)", offset: offsets[i], size: r.size, alignment: r.alignment,
                typeName: r.typeName, dwarfOffset: dwarf == offsets[i] ? nil : dwarf,
                nested: r.nested, array: r.array, enumeration: r.enumeration,
                bitField: m.bitSize.map { StructMember.BitField(bitOffset: (m.bitOffset ?? 0) % 8, bitSize: $0) }))
        }
        let display = displayName(e)
        let qualified = language == .swift ? display : (e.name ?? display)
        return StructLayout(
            name: SwiftTypeName.withoutModule(qualified, module: e.module), qualifiedName: qualified,
            linkageName: language == .swift ? mangledName(e) : nil, language: language, size: size,
            alignment: alignment, members: out, offsetSource: source)
    }

    /// An enumeration's cases (see `EnumLayout` for what Swift's DWARF does and does not say).
    func enumLayout(_ e: DwarfEntry) -> EnumLayout {
        let language = SourceLanguage(dwarfLanguage: e.language)
        let swift = language == .swift
        let cases = children(e, DwarfTag.enumerator).enumerated().map { i, c in
            EnumCase(name: c.name ?? "\(i)", storedValue: swift ? Int64(i) : (c.constValue ?? 0))
        }
        let display = displayName(e)
        let qualified = swift ? display : (e.name ?? display)
        return EnumLayout(
            name: SwiftTypeName.withoutModule(qualified, module: e.module), qualifiedName: qualified,
            linkageName: swift ? mangledName(e) : nil, language: language, size: e.byteSize ?? 0,
            rawTypeName: e.type.map { shallowName($0) }, cases: cases, storedValuesAreCaseIndexes: swift)
    }

    /// A scalar's alignment from its size: the largest power of two not above it, at most 16.
    static func naturalAlignment(_ size: UInt64) -> UInt64 {
        var a: UInt64 = 1
        while a * 2 <= min(size, 16) { a *= 2 }
        return a
    }

    /// Swift's stride: the size rounded up to the alignment, at least 1 (nil when that overflows).
    static func stride(size: UInt64, alignment: UInt64) -> UInt64? {
        roundUp(size, to: alignment).map { max(1, $0) }
    }

    /// `value` rounded up to a multiple of `alignment` (taken as 1 when 0); nil on overflow.
    static func roundUp(_ value: UInt64, to alignment: UInt64) -> UInt64? {
        let a = max(alignment, 1)
        let (sum, overflow) = value.addingReportingOverflow(a - 1)
        return overflow ? nil : sum / a * a
    }
}

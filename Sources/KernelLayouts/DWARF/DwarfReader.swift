import CLibDW
import CLibElf

/// Walks every compile unit of an image with libdw (`dwarf_begin_elf`, `dwarf_nextcu`,
/// `dwarf_child`, `dwarf_siblingof`) and copies the type and variable DIEs into `DwarfEntry`
/// values. Function bodies are skipped: layouts and globals live outside them.
enum DwarfReader {
    static func read(_ handle: ElfHandle) throws(KernelImageError) -> [UInt64: DwarfEntry] {
        let units = try DwarfUnitReader(handle)
        var entries: [UInt64: DwarfEntry] = [:]
        while let unit = units.nextUnit() { entries.merge(units.entries(ofUnitAt: unit.offset)) { a, _ in a } }
        if entries.isEmpty { throw .noDWARF(path: handle.path) }
        return entries
    }

    static func hasDebugInfo(_ handle: ElfHandle) -> Bool {
        var shstrndx = 0
        guard elf_getshdrstrndx(handle.elf, &shstrndx) == 0 else { return false }
        var scn: OpaquePointer? = nil
        while let s = elf_nextscn(handle.elf, scn) {
            scn = s
            var shdr = GElf_Shdr()
            guard gelf_getshdr(s, &shdr) != nil,
                let name = elf_strptr(handle.elf, shstrndx, Int(shdr.sh_name))
            else { continue }
            if String(cString: name) == ".debug_info" { return true }
        }
        return false
    }

    fileprivate struct Walker {
        let language: Int32
        let unitName: String?
        var entries: [UInt64: DwarfEntry] = [:]

        /// Records each child of `parent` and returns their offsets.
        @discardableResult
        mutating func visitChildren(of parent: inout Dwarf_Die, module: String?) -> [UInt64] {
            var offsets: [UInt64] = []
            var child = Dwarf_Die()
            guard dwarf_child(&parent, &child) == 0 else { return offsets }
            while true {
                let tag = UInt32(dwarf_tag(&child))
                if tag != DwarfTag.subprogram && tag != DwarfTag.lexicalBlock
                    && tag != DwarfTag.inlinedSubroutine
                {
                    offsets.append(visit(&child, tag: tag, module: module))
                }
                var sibling = Dwarf_Die()
                guard dwarf_siblingof(&child, &sibling) == 0 else { break }
                child = sibling
            }
            return offsets
        }

        mutating func visit(_ die: inout Dwarf_Die, tag: UInt32, module: String?) -> UInt64 {
            let offset = UInt64(dwarf_dieoffset(&die))
            let name = string(&die, DW_AT_name)
            let childModule = tag == DwarfTag.module ? name : module
            var count = unsigned(&die, DW_AT_count)
            // an upper bound of -1 (all ones) is a flexible array: no elements
            if count == nil, let upper = unsigned(&die, DW_AT_upper_bound) { count = upper == .max ? 0 : upper + 1 }
            var entry = DwarfEntry(
                offset: offset, tag: tag, name: name,
                linkageName: string(&die, DW_AT_linkage_name) ?? string(&die, DW_AT_MIPS_linkage_name),
                byteSize: unsigned(&die, DW_AT_byte_size),
                type: reference(&die, DW_AT_type),
                specification: reference(&die, DW_AT_specification),
                memberLocation: memberLocation(&die),
                bitOffset: unsigned(&die, DW_AT_data_bit_offset),
                bitSize: unsigned(&die, DW_AT_bit_size),
                constValue: signed(&die, DW_AT_const_value),
                count: count,
                isDeclaration: has(&die, DW_AT_declaration),
                address: tag == DwarfTag.variable ? address(&die) : nil,
                children: [], module: module, language: language, unitName: unitName)
            if dwarf_haschildren(&die) != 0 {
                entry.children = visitChildren(of: &die, module: childModule)
            }
            entries[offset] = entry
            return offset
        }

        private func attribute(_ die: inout Dwarf_Die, _ name: some BinaryInteger) -> Dwarf_Attribute? {
            var attr = Dwarf_Attribute()
            return dwarf_attr(&die, UInt32(name), &attr) != nil ? attr : nil
        }

        private func has(_ die: inout Dwarf_Die, _ name: some BinaryInteger) -> Bool {
            dwarf_hasattr(&die, UInt32(name)) != 0
        }

        /// `dwarf_formstring`.
        private func string(_ die: inout Dwarf_Die, _ name: some BinaryInteger) -> String? {
            guard var attr = attribute(&die, name), let s = dwarf_formstring(&attr) else { return nil }
            return String(cString: s)
        }

        /// `dwarf_formudata`.
        private func unsigned(_ die: inout Dwarf_Die, _ name: some BinaryInteger) -> UInt64? {
            guard var attr = attribute(&die, name) else { return nil }
            var value: Dwarf_Word = 0
            return dwarf_formudata(&attr, &value) == 0 ? UInt64(value) : nil
        }

        /// `dwarf_formsdata` for signed forms, `dwarf_formudata` for the others.
        private func signed(_ die: inout Dwarf_Die, _ name: some BinaryInteger) -> Int64? {
            guard var attr = attribute(&die, name) else { return nil }
            let form = dwarf_whatform(&attr)
            if form == UInt32(DW_FORM_sdata) || form == UInt32(DW_FORM_implicit_const) {
                var value: Dwarf_Sword = 0
                return dwarf_formsdata(&attr, &value) == 0 ? Int64(value) : nil
            }
            var value: Dwarf_Word = 0
            return dwarf_formudata(&attr, &value) == 0 ? Int64(bitPattern: UInt64(value)) : nil
        }

        /// `dwarf_formref_die` + `dwarf_dieoffset`.
        private func reference(_ die: inout Dwarf_Die, _ name: some BinaryInteger) -> UInt64? {
            guard var attr = attribute(&die, name) else { return nil }
            var target = Dwarf_Die()
            guard dwarf_formref_die(&attr, &target) != nil else { return nil }
            return UInt64(dwarf_dieoffset(&target))
        }

        /// A constant `DW_AT_data_member_location`, or a location expression that is one
        /// `DW_OP_plus_uconst` (`dwarf_getlocation`).
        private func memberLocation(_ die: inout Dwarf_Die) -> UInt64? {
            guard var attr = attribute(&die, DW_AT_data_member_location) else { return nil }
            var value: Dwarf_Word = 0
            if dwarf_formudata(&attr, &value) == 0 { return UInt64(value) }
            var ops: UnsafeMutablePointer<Dwarf_Op>? = nil
            var n = 0
            if dwarf_getlocation(&attr, &ops, &n) == 0, n == 1, let op = ops?.pointee,
                op.atom == UInt8(DW_OP_plus_uconst)
            {
                return UInt64(op.number)
            }
            return nil
        }

        /// A global's address: a `DW_AT_location` that is one `DW_OP_addr` (`dwarf_getlocation`).
        private func address(_ die: inout Dwarf_Die) -> UInt64? {
            guard var attr = attribute(&die, DW_AT_location) else { return nil }
            var ops: UnsafeMutablePointer<Dwarf_Op>? = nil
            var n = 0
            guard dwarf_getlocation(&attr, &ops, &n) == 0, n >= 1, let op = ops?.pointee,
                op.atom == UInt8(DW_OP_addr)
            else { return nil }
            return UInt64(op.number)
        }
    }
}

/// An image's compile units one at a time (`dwarf_nextcu`): for images whose DWARF is large
/// (a distribution vmlinux: 600 MB in ~2,900 units) and of which a reader needs a few types
/// (``DwarfTypesOnDemand``). ``nextUnit()`` names the struct, union and enum definitions at a
/// unit's top level without copying anything else; ``entries(ofUnitAt:)`` copies one unit
/// into `DwarfEntry` values by the same walk as ``DwarfReader/read(_:)``. DIE references stay
/// inside their unit in such images (GCC's `DW_FORM_ref4`), so a unit's entries resolve on
/// their own.
final class DwarfUnitReader {
    /// A unit's place and the names it defines at its top level (`s:NAME` for a struct or
    /// union with a size, `e:NAME` for an enum).
    struct Unit {
        let offset: UInt64
        let definitions: [String]
    }

    let handle: ElfHandle
    private let dbg: OpaquePointer
    private var offset: Dwarf_Off = 0
    /// Units gone through so far.
    private(set) var unitsRead = 0
    /// Whether every unit has been gone through.
    private(set) var finished = false

    /// Opens `handle`'s DWARF. Throws `.noDWARF` for an image without debug sections.
    init(_ handle: ElfHandle) throws(KernelImageError) {
        self.handle = handle
        guard let dbg = dwarf_begin_elf(handle.elf, DWARF_C_READ, nil) else {
            let err = dwarf_errno()
            if !DwarfReader.hasDebugInfo(handle) { throw .noDWARF(path: handle.path) }
            throw .library(function: "dwarf_begin_elf", message: String(cString: dwarf_errmsg(err)))
        }
        self.dbg = dbg
    }

    deinit { dwarf_end(dbg) }

    /// The next unit and its top-level definitions, nil once every unit was gone through.
    /// Bounded: a unit's top level is walked sibling by sibling, each visited once.
    func nextUnit() -> Unit? {
        guard !finished else { return nil }
        var next: Dwarf_Off = 0
        var headerSize = 0
        guard dwarf_nextcu(dbg, offset, &next, &headerSize, nil, nil, nil) == 0, next > offset else {
            finished = true
            return nil
        }
        defer { offset = next; unitsRead += 1 }
        let at = offset + Dwarf_Off(headerSize)
        var cu = Dwarf_Die()
        var definitions: [String] = []
        guard dwarf_offdie(dbg, at, &cu) != nil else { return Unit(offset: UInt64(at), definitions: []) }
        var child = Dwarf_Die()
        if dwarf_child(&cu, &child) == 0 {
            while true {
                let tag = UInt32(dwarf_tag(&child))
                let isType = tag == DwarfTag.structureType || tag == DwarfTag.unionType || tag == DwarfTag.enumerationType
                if isType, dwarf_hasattr(&child, UInt32(DW_AT_declaration)) == 0, let name = dwarf_diename(&child) {
                    if tag == DwarfTag.enumerationType {
                        definitions.append("e:" + String(cString: name))
                    } else if dwarf_hasattr(&child, UInt32(DW_AT_byte_size)) != 0 {
                        definitions.append("s:" + String(cString: name))
                    }
                }
                var sibling = Dwarf_Die()
                guard dwarf_siblingof(&child, &sibling) == 0 else { break }
                child = sibling
            }
        }
        return Unit(offset: UInt64(at), definitions: definitions)
    }

    /// Every entry of the unit whose DIE is at `offset` (as ``Unit/offset`` gives it).
    func entries(ofUnitAt offset: UInt64) -> [UInt64: DwarfEntry] {
        var cu = Dwarf_Die()
        guard dwarf_offdie(dbg, Dwarf_Off(offset), &cu) != nil else { return [:] }
        let language = dwarf_srclang(&cu)
        let unitName = dwarf_diename(&cu).map { String(cString: $0) }
        var walker = DwarfReader.Walker(language: Int32(language), unitName: unitName)
        walker.visitChildren(of: &cu, module: nil)
        return walker.entries
    }
}

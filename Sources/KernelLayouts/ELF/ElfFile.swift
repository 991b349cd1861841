import CLibElf

/// An ELF64 x86_64 image read through libelf: its sections, loadable segments, symbol table
/// and GNU build-id, copied into Swift values when it is opened (the file is closed after).
public struct ElfFile: Sendable {
    public let path: String
    /// `e_entry`.
    public let entry: VirtualAddress
    public let sections: [ElfSection]
    /// The `PT_LOAD` program headers, in file order.
    public let loadSegments: [LoadSegment]
    /// The GNU build-id note, if the image has one (`ld --build-id`).
    public let buildID: BuildID?
    /// Whether the image has a `.symtab` (or `.dynsym`); false once stripped of symbols.
    public let hasSymbolTable: Bool
    private let table: SymbolTable

    /// Opens `path` (`elf_begin`) and reads it whole.
    public init(path: String) throws(KernelImageError) {
        try self.init(handle: ElfHandle(path: path))
    }

    init(handle: ElfHandle) throws(KernelImageError) {
        path = handle.path
        let elf = handle.elf
        var ehdr = GElf_Ehdr()
        guard gelf_getehdr(elf, &ehdr) != nil else {
            throw .library(function: "gelf_getehdr", message: ElfHandle.lastError())
        }
        entry = VirtualAddress(ehdr.e_entry)

        var shstrndx = 0
        guard elf_getshdrstrndx(elf, &shstrndx) == 0 else {
            throw .library(function: "elf_getshdrstrndx", message: ElfHandle.lastError())
        }
        var sections: [ElfSection] = []
        var symtabs: [(scn: OpaquePointer, shdr: GElf_Shdr)] = []
        var notes: [OpaquePointer] = []
        var scn: OpaquePointer? = nil
        while let s = elf_nextscn(elf, scn) {
            scn = s
            var shdr = GElf_Shdr()
            guard gelf_getshdr(s, &shdr) != nil else {
                throw .library(function: "gelf_getshdr", message: ElfHandle.lastError())
            }
            let name = elf_strptr(elf, shstrndx, Int(shdr.sh_name)).map { String(cString: $0) } ?? ""
            sections.append(ElfSection(
                index: elf_ndxscn(s), name: name, type: shdr.sh_type, flags: shdr.sh_flags,
                address: VirtualAddress(shdr.sh_addr), fileOffset: shdr.sh_offset, size: shdr.sh_size))
            if shdr.sh_type == UInt32(SHT_SYMTAB) || shdr.sh_type == UInt32(SHT_DYNSYM) {
                symtabs.append((s, shdr))
            } else if shdr.sh_type == UInt32(SHT_NOTE) {
                notes.append(s)
            }
        }
        self.sections = sections

        var segments: [LoadSegment] = []
        var phnum = 0
        if elf_getphdrnum(elf, &phnum) == 0 {
            for i in 0..<Int32(phnum) {
                var phdr = GElf_Phdr()
                guard gelf_getphdr(elf, i, &phdr) != nil else {
                    throw .library(function: "gelf_getphdr", message: ElfHandle.lastError())
                }
                if phdr.p_type == UInt32(PT_LOAD) {
                    segments.append(LoadSegment(
                        virtualAddress: VirtualAddress(phdr.p_vaddr),
                        physicalAddress: PhysicalAddress(phdr.p_paddr), fileOffset: phdr.p_offset,
                        fileSize: phdr.p_filesz, memorySize: phdr.p_memsz, flags: phdr.p_flags,
                        alignment: phdr.p_align))
                }
            }
        }
        loadSegments = segments
        buildID = Self.readBuildID(notes: notes)

        // Prefer .symtab over .dynsym: a static kernel has only the former.
        let chosen = symtabs.first { $0.shdr.sh_type == UInt32(SHT_SYMTAB) } ?? symtabs.first
        hasSymbolTable = chosen != nil
        var symbols: [Symbol] = []
        if let (symScn, shdr) = chosen, let data = elf_getdata(symScn, nil), shdr.sh_entsize > 0 {
            let count = Int(shdr.sh_size / shdr.sh_entsize)
            symbols.reserveCapacity(count)
            for i in 1..<max(count, 1) {
                var sym = GElf_Sym()
                guard gelf_getsym(data, Int32(i), &sym) != nil else { continue }
                let name = elf_strptr(elf, Int(shdr.sh_link), Int(sym.st_name)).map { String(cString: $0) } ?? ""
                let shndx = Int(sym.st_shndx)
                let sectionName: String? =
                    shndx == 0 || shndx >= 0xff00 ? nil : sections.first { $0.index == shndx }?.name
                symbols.append(Symbol(
                    name: name, demangledName: SwiftDemangler.demangle(name),
                    address: VirtualAddress(sym.st_value), size: sym.st_size,
                    kind: SymbolKind(stType: sym.st_info & 0xf), binding: SymbolBinding(stBind: sym.st_info >> 4),
                    sectionName: sectionName))
            }
        }
        table = SymbolTable(symbols: symbols, sections: sections)
    }

    /// Every symbol of the table (without the null entry 0); empty when stripped.
    public var symbols: [Symbol] { table.symbols }

    /// The symbol table's lookups; throws `.noSymbolTable` when the image has none.
    public func symbolTable() throws(KernelImageError) -> SymbolTable {
        guard hasSymbolTable else { throw .noSymbolTable(path: path) }
        return table
    }

    /// The section called `name` (e.g. `.bss`), if any.
    public func section(named name: String) -> ElfSection? { sections.first { $0.name == name } }

    /// The physical address a virtual address of the image is loaded at, through the
    /// `PT_LOAD` headers (`p_vaddr` → `p_paddr`); nil when no segment covers it.
    public func physicalAddress(of address: VirtualAddress) -> PhysicalAddress? {
        for segment in loadSegments {
            if let p = segment.physicalAddress(of: address) { return p }
        }
        return nil
    }

    /// Reads `NT_GNU_BUILD_ID` (type 3, owner "GNU") from the note sections with `gelf_getnote`.
    private static func readBuildID(notes: [OpaquePointer]) -> BuildID? {
        for scn in notes {
            guard let data = elf_getdata(scn, nil), let base = data.pointee.d_buf else { continue }
            var offset = 0
            while true {
                var nhdr = GElf_Nhdr()
                var nameOffset = 0, descOffset = 0
                let next = gelf_getnote(data, offset, &nhdr, &nameOffset, &descOffset)
                if next == 0 { break }
                offset = next
                let owner = String(cString: base.advanced(by: nameOffset).assumingMemoryBound(to: CChar.self))
                if nhdr.n_type == UInt32(NT_GNU_BUILD_ID) && owner == "GNU" {
                    let bytes = UnsafeRawBufferPointer(start: base.advanced(by: descOffset), count: Int(nhdr.n_descsz))
                    return BuildID(bytes: Array(bytes))
                }
            }
        }
        return nil
    }
}

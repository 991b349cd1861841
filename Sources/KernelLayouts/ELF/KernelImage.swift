/// A kernel image opened once for both libelf and libdw: the ELF side always, the DWARF side
/// when the image has debug information.
public struct KernelImage: Sendable {
    public let elf: ElfFile
    /// Nil for an image without DWARF; `dwarfError` then says why and what still works.
    public let dwarf: DwarfTypes?
    public let dwarfError: KernelImageError?

    public var path: String { elf.path }

    /// Opens `path` (`elf_begin`, then `dwarf_begin_elf` on the same handle).
    public init(path: String) throws(KernelImageError) {
        let handle = try ElfHandle(path: path)
        elf = try ElfFile(handle: handle)
        do {
            dwarf = try DwarfTypes(handle: handle)
            dwarfError = nil
        } catch {
            dwarf = nil
            dwarfError = error
        }
    }

    /// The DWARF side, or the error saying why there is none.
    public func types() throws(KernelImageError) -> DwarfTypes {
        if let dwarf { return dwarf }
        throw dwarfError ?? .noDWARF(path: path)
    }

    /// The layout of the struct called `name` (see `DwarfTypes.structLayout(named:)`).
    public func structLayout(named name: String) throws(KernelImageError) -> StructLayout {
        try types().structLayout(named: name)
    }

    /// A symbol by mangled or demangled name (see `SymbolTable.lookup(_:)`).
    public func symbol(_ query: String) throws(KernelImageError) -> Symbol {
        try elf.symbolTable().lookup(query)
    }

    /// symbol + offset for an address, as gdb's `info symbol`.
    public func symbolicate(_ address: VirtualAddress) throws(KernelImageError) -> SymbolOffset {
        try elf.symbolTable().symbolicate(address)
    }

    /// Where a global variable lives: from the symbol table, or from DWARF's
    /// `DW_TAG_variable` location when the symbol table lacks it (or the image has none).
    public func address(ofGlobal name: String) throws(KernelImageError) -> VirtualAddress {
        var symbolError: KernelImageError? = nil
        do {
            let s = try symbol(name)
            if s.kind == .object || s.kind == .tls || s.kind == .notype { return s.address }
        } catch {
            symbolError = error
        }
        guard let dwarf else { throw symbolError ?? dwarfError ?? .noDWARF(path: path) }
        do {
            return try dwarf.globalVariable(named: name).address
        } catch {
            if case .ambiguousSymbol = symbolError { throw symbolError! }
            throw error
        }
    }
}

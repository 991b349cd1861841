/// Everything that can go wrong reading a kernel image, each case with what to do about it.
///
/// The messages are meant to be printed as they are: they name the file, what was found,
/// and what still works or what to try next.
public enum KernelImageError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No file at the path.
    case fileMissing(path: String)
    /// The file exists but `open(2)` failed.
    case unreadable(path: String, reason: String)
    /// The file does not start with the ELF magic (libelf's `elf_kind` is not `ELF_K_ELF`).
    case notELF(path: String, found: String)
    /// An ELF, but not a 64-bit x86_64 one.
    case notX86_64(path: String, found: String)
    /// The headers point past the end of the file.
    case truncated(path: String, detail: String)
    /// No `.symtab` (and no `.dynsym`): the image was stripped of symbols.
    case noSymbolTable(path: String)
    /// No `.debug_info`: built without `-g`, or stripped with `--strip-debug`.
    case noDWARF(path: String)
    /// No symbol matches; `closest` lists the nearest names found.
    case symbolNotFound(query: String, closest: [String])
    /// More than one symbol matches a demangled or unqualified name.
    case ambiguousSymbol(query: String, candidates: [String])
    /// No symbol at or below the address in the section that holds it.
    case noSymbolAt(address: VirtualAddress)
    /// No struct of that name in DWARF; `closest` lists the nearest names found.
    case structNotFound(query: String, closest: [String])
    /// The name fits several different structs (two modules, or several generic
    /// specialisations); `candidates` are the names that pick one.
    case ambiguousStruct(query: String, candidates: [String])
    /// The struct has no member of that name; `closest` lists its members nearest to it.
    case memberNotFound(structName: String, member: String, closest: [String])
    /// No global variable of that name, neither in the symbol table nor in DWARF.
    case globalNotFound(query: String, closest: [String])
    /// The layout cannot be worked out: a member's type has no size in DWARF.
    case layoutIncomplete(structName: String, reason: String)
    /// libelf or libdw reported an error (function name and `elf_errmsg`/`dwarf_errmsg`).
    case library(function: String, message: String)

    public var description: String {
        switch self {
        case .fileMissing(let path):
            return "\(path): no such file. Build the kernel first (make kernel) or pass --elf with the image's path."
        case .unreadable(let path, let reason):
            return "\(path): cannot be opened: \(reason)."
        case .notELF(let path, let found):
            return "\(path): not an ELF file (\(found)). Pass the kernel image (kernel/build/kernel.elf), not a raw binary or an ISO."
        case .notX86_64(let path, let found):
            return "\(path): an ELF for \(found), not ELF64 x86_64. kmemscope reads x86_64 kernels only."
        case .truncated(let path, let detail):
            return "\(path): truncated ELF: \(detail). The file was cut short; rebuild or copy it again."
        case .noSymbolTable(let path):
            return "\(path): no symbol table (.symtab): the image was stripped of symbols. Use the unstripped kernel.elf; global addresses can still come from DWARF if it is there."
        case .noDWARF(let path):
            return "\(path): no DWARF (.debug_info): built without -g or stripped with --strip-debug. Struct layouts are unavailable; symbols, sections, program headers, build-id and address lookup still work."
        case .symbolNotFound(let query, let closest):
            return "no symbol '\(query)'" + Self.suggest(closest)
        case .ambiguousSymbol(let query, let candidates):
            return "'\(query)' matches \(candidates.count) symbols; name one of: " + candidates.joined(separator: ", ")
        case .noSymbolAt(let address):
            return "no symbol at \(address)"
        case .structNotFound(let query, let closest):
            return "no struct '\(query)' in DWARF" + Self.suggest(closest)
        case .ambiguousStruct(let query, let candidates):
            return "'\(query)' names \(candidates.count) different structs; name one of: " + candidates.joined(separator: ", ")
        case .memberNotFound(let structName, let member, let closest):
            return "struct \(structName) has no member '\(member)'" + Self.suggest(closest)
        case .globalNotFound(let query, let closest):
            return "no global variable '\(query)' in the symbol table or DWARF" + Self.suggest(closest)
        case .layoutIncomplete(let structName, let reason):
            return "layout of \(structName) is incomplete: \(reason)"
        case .library(let function, let message):
            return "\(function) failed: \(message)"
        }
    }

    private static func suggest(_ closest: [String]) -> String {
        closest.isEmpty ? "" : "; closest: " + closest.joined(separator: ", ")
    }
}

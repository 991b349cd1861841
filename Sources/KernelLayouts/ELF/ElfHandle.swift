import CLibElf

#if canImport(Glibc)
import Glibc
#endif

/// Owns an open file descriptor and libelf's `Elf *` for it; both are closed when it goes.
///
/// Only `ElfFile` and `DwarfTypes` use it, while they copy what they need into Swift values:
/// no libelf pointer leaves this module.
final class ElfHandle {
    let path: String
    let fd: Int32
    let elf: OpaquePointer
    /// The file's size, for the truncation checks.
    let fileSize: UInt64

    /// Opens `path` with `open(2)` and `elf_begin(ELF_C_READ_MMAP)`, then checks that it is a
    /// complete ELF64 x86_64 file (`elf_kind`, `gelf_getehdr`, header ranges against the size).
    init(path: String) throws(KernelImageError) {
        self.path = path
        var st = stat()
        if stat(path, &st) != 0 {
            if errno == ENOENT { throw .fileMissing(path: path) }
            throw .unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        if (st.st_mode & S_IFMT) != S_IFREG {
            throw .unreadable(path: path, reason: "not a regular file")
        }
        fileSize = UInt64(st.st_size)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
        elf_version(UInt32(EV_CURRENT))
        guard let elf = elf_begin(fd, ELF_C_READ_MMAP, nil) else {
            let message = String(cString: elf_errmsg(-1))
            // libelf refuses a file that starts like an ELF but is too short for its header.
            var magic = [UInt8](repeating: 0, count: 4)
            let n = pread(fd, &magic, 4, 0)
            close(fd)
            if n == 4 && magic == [0x7f, 0x45, 0x4c, 0x46] {
                throw .truncated(path: path, detail: "\(fileSize) bytes, the ELF header is incomplete (\(message))")
            }
            if n >= 0 && magic != [0x7f, 0x45, 0x4c, 0x46] {
                throw .notELF(path: path, found: "libelf: \(message)")
            }
            throw .library(function: "elf_begin", message: message)
        }
        self.fd = fd
        self.elf = elf
        try validate()
    }

    deinit {
        elf_end(elf)
        close(fd)
    }

    /// The last libelf error, as `elf_errmsg(elf_errno())` says it.
    static func lastError() -> String { String(cString: elf_errmsg(elf_errno())) }

    private func validate() throws(KernelImageError) {
        guard elf_kind(elf) == ELF_K_ELF else {
            throw .notELF(path: path, found: fileSize < 4 ? "only \(fileSize) bytes" : "first bytes \(firstBytes())")
        }
        if fileSize < 64 {
            throw .truncated(path: path, detail: "\(fileSize) bytes, smaller than the 64-byte ELF64 header")
        }
        let elfClass = gelf_getclass(elf)
        var ehdr = GElf_Ehdr()
        guard gelf_getehdr(elf, &ehdr) != nil else {
            throw .truncated(path: path, detail: "the ELF header cannot be read (\(Self.lastError()))")
        }
        if elfClass != ELFCLASS64 || ehdr.e_machine != UInt16(EM_X86_64) {
            let bits = elfClass == ELFCLASS64 ? "ELF64" : elfClass == ELFCLASS32 ? "ELF32" : "ELF class \(elfClass)"
            throw .notX86_64(path: path, found: "\(bits) \(ElfMachine.name(ehdr.e_machine))")
        }
        // Sums of header fields are checked: a mutated file can make them wrap.
        let (phEnd, phWrapped) = ehdr.e_phoff.addingReportingOverflow(UInt64(ehdr.e_phnum) * UInt64(ehdr.e_phentsize))
        if ehdr.e_phnum > 0 && (phWrapped || phEnd > fileSize) {
            throw .truncated(path: path, detail: "program headers end at byte \(phEnd), the file has \(fileSize)")
        }
        let (shEnd, shWrapped) = ehdr.e_shoff.addingReportingOverflow(UInt64(ehdr.e_shnum) * UInt64(ehdr.e_shentsize))
        if ehdr.e_shoff > 0 && (shWrapped || shEnd > fileSize) {
            throw .truncated(path: path, detail: "section headers end at byte \(shEnd), the file has \(fileSize)")
        }
        var scn: OpaquePointer? = nil
        while let s = elf_nextscn(elf, scn) {
            scn = s
            var shdr = GElf_Shdr()
            guard gelf_getshdr(s, &shdr) != nil else {
                throw .truncated(path: path, detail: "a section header cannot be read (\(Self.lastError()))")
            }
            let (end, wrapped) = shdr.sh_offset.addingReportingOverflow(shdr.sh_size)
            if shdr.sh_type != UInt32(SHT_NOBITS) && (wrapped || end > fileSize) {
                throw .truncated(path: path, detail: "section \(elf_ndxscn(s)) ends at byte \(wrapped ? "past 2^64" : String(end)), the file has \(fileSize)")
            }
        }
    }

    private func firstBytes() -> String {
        var size = 0
        guard let raw = elf_rawfile(elf, &size), size > 0 else { return "empty file" }
        let bytes = UnsafeRawBufferPointer(start: raw, count: min(size, 4))
        return bytes.map { b in
            let h = String(b, radix: 16)
            return h.count == 1 ? "0" + h : h
        }.joined(separator: " ")
    }
}

import Glibc

/// The image's own bytes at a virtual address, read from the file: what the image holds before
/// it runs (a `static let` in `.rodata`, an initialised global in `.data`).
extension ElfFile {
    /// `count` bytes at `address` from the file. The range must lie in one allocated section that
    /// has contents in the file (not `.bss`, `SHT_NOBITS`, whose bytes only exist at run time).
    public func contents(at address: VirtualAddress, count: Int) throws(KernelImageError) -> [UInt8] {
        guard count >= 0, count <= 1 << 20,
              let section = sections.first(where: { $0.contains(address) }) else {
            throw .truncated(path: path, detail: "no section of the image holds \(count) bytes at \(address)")
        }
        let offset = address.rawValue - section.address.rawValue
        guard section.type != 8, section.size - offset >= UInt64(count) else {
            throw .truncated(path: path, detail: "\(count) bytes at \(address) are not stored in the file (section \(section.name))")
        }
        guard let file = fopen(path, "rb") else {
            throw .unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        defer { fclose(file) }
        var bytes = [UInt8](repeating: 0, count: count)
        let at = section.fileOffset + offset
        guard at <= UInt64(Int.max), fseeko(file, off_t(at), SEEK_SET) == 0,
              bytes.withUnsafeMutableBytes({ fread($0.baseAddress, 1, count, file) }) == count else {
            throw .truncated(path: path, detail: "cannot read \(count) bytes at file offset \(at)")
        }
        return bytes
    }

    /// A symbol's own bytes in the file, as a little-endian unsigned integer (1, 2, 4 or 8 bytes).
    public func integerValue(of symbol: Symbol) throws(KernelImageError) -> UInt64 {
        guard [1, 2, 4, 8].contains(symbol.size) else {
            throw .truncated(path: path, detail: "\(symbol.displayName) is \(symbol.size) bytes, not an integer")
        }
        let bytes = try contents(at: symbol.address, count: Int(symbol.size))
        return bytes.reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }
}

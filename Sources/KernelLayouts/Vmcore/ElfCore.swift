/// An x86-64 ELF core file as QEMU's `dump-guest-memory` writes it: its PT_LOAD segments
/// (guest-physical ranges and where their bytes lie in the file) and its notes. Everything is
/// checked against the file before it is used: the header's sizes, the program-header count
/// (with the PN_XNUM extension QEMU uses past 65,534 headers, `-p` dumps), every segment's
/// bytes inside the file, every note inside its segment.
public struct ElfCore: Sendable {
    /// One PT_LOAD: `fileSize` bytes at `offset` hold guest-physical `[physical, physical + fileSize)`.
    public struct Segment: Sendable, Equatable {
        public var physical: UInt64
        public var virtual: UInt64
        public var offset: UInt64
        public var fileSize: UInt64
        public var memorySize: UInt64
    }

    public var segments: [Segment]
    public var notes: [ElfNote]

    /// The most program headers read (a `-p` dump of a 1 GiB guest has ~65,000).
    public static let headerLimit = 1 << 22
    /// The most note bytes read.
    public static let noteLimit: UInt64 = 64 << 20

    /// Whether `bytes` start with the ELF magic.
    public static func isELF(_ bytes: [UInt8]) -> Bool { bytes.starts(with: [0x7f, 0x45, 0x4c, 0x46]) }

    /// Reads the headers and notes of the core in `file`.
    public init(_ file: some DumpBytes) throws(VmcoreError) {
        let path = file.path
        guard file.size >= 64 else { throw .truncated(path: path, what: "the ELF header", needed: 64, size: file.size) }
        let h = try file.bytes(at: 0, count: 64, what: "the ELF header")
        guard Self.isELF(h) else { throw .wrongKind(path: path, reason: "no ELF magic and no kdump signature") }
        guard h[4] == 2 else { throw .wrongKind(path: path, reason: "a 32-bit ELF (EI_CLASS \(h[4])): an x86-64 guest's core is ELF64") }
        guard h[5] == 1 else { throw .wrongKind(path: path, reason: "a big-endian ELF: an x86-64 guest's core is little-endian") }
        let type = Self.u16(h, 16), machine = Self.u16(h, 18)
        guard type == 4 else {
            throw .wrongKind(path: path, reason: "an ELF of type \(type) (\(type == 2 ? "an executable: the vmlinux? give it to --symbols" : "not ET_CORE")), not a core dump")
        }
        guard machine == 62 else { throw .wrongKind(path: path, reason: "a core of machine \(machine), not x86-64 (62)") }
        let phoff = Self.u64(h, 32), shoff = Self.u64(h, 40)
        let phentsize = Self.u16(h, 54), shentsize = Self.u16(h, 58)
        var phnum = UInt64(Self.u16(h, 56))
        guard phentsize == 56 else { throw .corrupt(path: path, reason: "program headers of \(phentsize) bytes (ELF64's are 56)") }
        if phnum == 0xffff {
            // PN_XNUM: the real count is section header 0's sh_info
            guard shoff != 0, shentsize == 64 else {
                throw .corrupt(path: path, reason: "e_phnum is PN_XNUM but there is no section header 0 to hold the count")
            }
            let s0 = try file.bytes(at: shoff, count: 64, what: "section header 0 (the program-header count)")
            phnum = UInt64(Self.u32(s0, 44))
        }
        guard phnum <= UInt64(Self.headerLimit) else { throw .corrupt(path: path, reason: "\(phnum) program headers (at most \(Self.headerLimit) are read)") }
        let table = try file.bytes(at: phoff, count: Int(phnum) * 56, what: "\(phnum) program headers")
        var segments: [Segment] = []
        var noteRanges: [(UInt64, UInt64)] = []
        for i in 0..<Int(phnum) {
            let b = i * 56
            let ptype = Self.u32(table, b)
            let offset = Self.u64(table, b + 8), filesz = Self.u64(table, b + 32)
            guard ptype == 1 || ptype == 4 else { continue }
            let (end, overflow) = offset.addingReportingOverflow(filesz)
            guard !overflow, end <= file.size else {
                throw .truncated(path: path, what: "program header \(i) (\(ptype == 1 ? "PT_LOAD" : "PT_NOTE") at offset \(offset), \(filesz) bytes)",
                                 needed: overflow ? .max : end, size: file.size)
            }
            if ptype == 4 {
                noteRanges.append((offset, filesz))
            } else {
                let physical = Self.u64(table, b + 24)
                guard physical.addingReportingOverflow(filesz).overflow == false else {
                    throw .corrupt(path: path, reason: "PT_LOAD \(i) at physical 0x\(String(physical, radix: 16)) of \(filesz) bytes wraps the address space")
                }
                segments.append(Segment(physical: physical, virtual: Self.u64(table, b + 16), offset: offset, fileSize: filesz, memorySize: Self.u64(table, b + 40)))
            }
        }
        guard !segments.isEmpty else { throw .corrupt(path: path, reason: "no PT_LOAD segment: the core holds no memory") }
        var notes: [ElfNote] = []
        var noteBytes: UInt64 = 0
        for (offset, size) in noteRanges {
            noteBytes += size
            guard noteBytes <= Self.noteLimit else { throw .corrupt(path: path, reason: "more than \(Self.noteLimit >> 20) MiB of ELF notes") }
            notes += try ElfNote.parse(try file.bytes(at: offset, count: Int(size), what: "the PT_NOTE segment at offset \(offset)"), path: path)
        }
        self.segments = segments
        self.notes = notes
    }

    static func u16(_ b: [UInt8], _ i: Int) -> UInt16 { b.withUnsafeBytes { UInt16(littleEndian: $0.loadUnaligned(fromByteOffset: i, as: UInt16.self)) } }
    static func u32(_ b: [UInt8], _ i: Int) -> UInt32 { b.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: i, as: UInt32.self)) } }
    static func u64(_ b: [UInt8], _ i: Int) -> UInt64 { b.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: i, as: UInt64.self)) } }
}

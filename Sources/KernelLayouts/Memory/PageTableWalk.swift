import AllocatorView

/// The walk an x86-64 MMU does for one virtual address through 4-level page tables, from CR3:
/// PML4E → PDPTE → PDE → PTE, stopping at a not-present entry or a large page (1 GiB at the
/// PDPTE, 2 MiB at the PDE). Every entry is untrusted: at most four reads, every table address
/// is checked against RAM before it is read, no trapping arithmetic.
public struct PageTableWalk: Sendable {
    /// One level of the walk.
    public struct Level: Sendable {
        /// `PML4E`, `PDPTE`, `PDE` or `PTE`.
        public var name: String
        /// The entry's index in its table (9 bits of the virtual address).
        public var index: Int
        /// Physical address of the entry.
        public var entryAddress: UInt64
        /// The entry's value.
        public var entry: UInt64
        /// The size of the page this entry maps when it ends the walk (a large page or a PTE).
        public var pageSize: UInt64?

        /// Names of the set flag bits: P RW US PWT PCD A D PS G NX.
        public var flags: [String] {
            let bits: [(UInt64, String)] = [(1 << 0, "P"), (1 << 1, "RW"), (1 << 2, "US"), (1 << 3, "PWT"), (1 << 4, "PCD"),
                                            (1 << 5, "A"), (1 << 6, "D"), (1 << 7, name == "PTE" ? "PAT" : "PS"), (1 << 8, "G"), (1 << 63, "NX")]
            return bits.filter { entry & $0.0 != 0 }.map(\.1)
        }
        public var present: Bool { entry & 1 != 0 }
    }

    public var virtual: UInt64
    public var cr3: UInt64
    public var levels: [Level] = []
    /// The physical address, when the walk reached a page.
    public var physical: UInt64?
    /// The size of that page (4 KiB, 2 MiB, 1 GiB).
    public var pageSize: UInt64?
    /// Why the walk stopped short (not present, non-canonical, a table outside RAM).
    public var stop: String?

    /// Bits 12…51 of an entry or CR3: the next table's (or page's) physical address.
    static let addressMask: UInt64 = 0x000F_FFFF_FFFF_F000

    /// Walks `virtual` from `cr3`. `ram` bounds the physical addresses of tables (a physical read
    /// past RAM reads zeros on QEMU); `readEntry` reads 8 bytes at a physical address.
    public init(virtual: UInt64, cr3: UInt64, ram: UInt64, readEntry: (UInt64) throws -> UInt64) rethrows {
        self.virtual = virtual
        self.cr3 = cr3
        // canonical: bits 63…47 all equal
        let top = virtual >> 47
        guard top == 0 || top == 0x1_ffff else { stop = "\(hex(virtual)) is not canonical (bits 63…47 differ)"; return }
        var table = cr3 & Self.addressMask
        let names = ["PML4E", "PDPTE", "PDE", "PTE"]
        for (depth, name) in names.enumerated() {
            let shift = UInt64(39 - 9 * depth)
            let index = Int((virtual >> shift) & 0x1ff)
            guard table < ram, ram - table >= 4096 else {
                stop = "the \(name == "PML4E" ? "PML4" : names[depth - 1]) points at \(hex(table)), outside RAM [0, \(hex(ram)))"
                return
            }
            let entryAddress = table &+ UInt64(index) &* 8
            let entry = try readEntry(entryAddress)
            var level = Level(name: name, index: index, entryAddress: entryAddress, entry: entry)
            guard level.present else {
                levels.append(level)
                stop = "\(name) \(index) is not present"
                return
            }
            let large = (name == "PDPTE" || name == "PDE") && entry & (1 << 7) != 0
            if large || name == "PTE" {
                let size: UInt64 = 1 << shift
                level.pageSize = size
                levels.append(level)
                pageSize = size
                physical = (entry & Self.addressMask & ~(size &- 1)) | (virtual & (size &- 1))
                return
            }
            levels.append(level)
            table = entry & Self.addressMask
        }
    }
}

import KernelLayouts
import Testing

/// The page-table walk on made-up tables: the 4 KiB path the bundled kernel never uses (it maps
/// with 2 MiB pages), a 1 GiB page, and hostile entries (a table outside RAM, not present).
@Suite("PageTableWalk")
struct PageTableWalkTests {
    /// Physical memory as a dictionary of 8-byte entries (absent = 0, as QEMU reads a hole).
    static func walk(_ virtual: UInt64, _ entries: [UInt64: UInt64], ram: UInt64 = 1 << 30) -> PageTableWalk {
        PageTableWalk(virtual: virtual, cr3: 0x1000 | 0x18, ram: ram) { entries[$0] ?? 0 }
    }

    @Test func fourKilobytePage() {
        let v: UInt64 = 0xffff_8000_4020_3abc   // PML4 256, PDPT 1, PD 1, PT 3
        let w = Self.walk(v, [0x1000 + 256 * 8: 0x2003, 0x2000 + 1 * 8: 0x3003, 0x3000 + 1 * 8: 0x4003,
                              0x4000 + 3 * 8: 0x8000_0000_0077_7063])
        #expect(w.levels.map(\.name) == ["PML4E", "PDPTE", "PDE", "PTE"])
        #expect(w.levels.map(\.index) == [256, 1, 1, 3])
        #expect(w.physical == 0x777abc)
        #expect(w.pageSize == 4096)
        #expect(w.levels.last?.flags == ["P", "RW", "A", "D", "NX"])
    }

    @Test func gigabytePage() {
        let v: UInt64 = 1 << 39 | 2 << 30 | 0x12_3456   // PML4 1, PDPT 2
        let w = Self.walk(v, [0x1000 + 1 * 8: 0x2003, 0x2000 + 2 * 8: 0x4000_0083])
        #expect(w.levels.count == 2)
        #expect(w.pageSize == 1 << 30)
        #expect(w.physical == 0x4000_0000 + 0x12_3456)
    }

    @Test func hostileEntriesEndTheWalk() {
        // a PDPTE pointing far past RAM: the walk stops before reading there
        let w = Self.walk(0, [0x1000: 0x2003, 0x2000: 0xf_ffff_ffff_f003])
        #expect(w.physical == nil)
        #expect(w.stop?.contains("outside RAM") == true)
        #expect(w.levels.count == 2)
        // CR3 itself outside RAM
        let c = PageTableWalk(virtual: 0, cr3: 0xffff_f000, ram: 1 << 20) { _ in .max }
        #expect(c.levels.isEmpty && c.stop?.contains("PML4 points at") == true)
        // every entry all ones: large at the PDPTE, never more than four reads
        var reads = 0
        let ones = PageTableWalk(virtual: 0xffff_ffff_ffff_f000, cr3: 0x1000, ram: .max) { _ in reads += 1; return .max }
        #expect(reads <= 4)
        #expect(ones.physical != nil)
    }
}

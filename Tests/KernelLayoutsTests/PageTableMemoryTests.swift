import KernelLayouts
import Testing

/// `PageTableMemory` on page tables built in a test buffer: 4 KiB and 2 MiB pages, a read that
/// crosses pages (contiguous or not), an unmapped page named, guest-physical reads passed through.
@Suite("page-table memory")
struct PageTableMemoryTests {
    /// Guest-physical memory, 8 MiB: byte at `a` is `a % 253`, except the 4 KiB tables written.
    final class RAM: GuestMemory {
        var tables: [UInt64: [UInt8]] = [:]
        var reads = 0
        func read(at address: UInt64, count: Int) throws -> [UInt8] { try read(.guestPhysical, at: address, count: count) }
        func read(_ space: AddressSpace, at address: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws {
            guard space == .guestPhysical, address + UInt64(buffer.count) <= 8 << 20 else {
                throw GuestMemoryError.unmapped(space, address: address, count: buffer.count, source: "test RAM")
            }
            reads += 1
            for i in 0..<buffer.count {
                let a = address + UInt64(i)
                buffer[i] = tables[a & ~0xfff].map { $0[Int(a & 0xfff)] } ?? UInt8(a % 253)
            }
        }
        func entry(_ table: UInt64, _ index: Int, _ value: UInt64) {
            var t = tables[table] ?? [UInt8](repeating: 0, count: 4096)
            withUnsafeBytes(of: value.littleEndian) { for (i, b) in $0.enumerated() { t[index * 8 + i] = b } }
            tables[table] = t
        }
    }

    // virtual 0xffff888000000000: PML4 index 273, PDPT index 0
    static let base: UInt64 = 0xffff_8880_0000_0000

    /// Tables at 0x1000 (PML4), 0x2000 (PDPT), 0x3000 (PD), 0x4000 (PT): the first 2 MiB of the
    /// window mapped by 4 KiB pages (page 0 → 0x600000, page 1 → 0x601000 contiguous, page 2 →
    /// 0x500000, page 3 not present), the second 2 MiB by one large page at 0x200000.
    static func ram() -> RAM {
        let r = RAM()
        r.entry(0x1000, 273, 0x2000 | 3)
        r.entry(0x2000, 0, 0x3000 | 3)
        r.entry(0x3000, 0, 0x4000 | 3)
        r.entry(0x3000, 1, 0x200000 | 0x83)   // PS: 2 MiB
        r.entry(0x4000, 0, 0x600000 | 3)
        r.entry(0x4000, 1, 0x601000 | 3)
        r.entry(0x4000, 2, 0x500000 | 3)
        return r
    }

    static func expected(_ physical: UInt64, _ count: Int) -> [UInt8] { (0..<count).map { UInt8((physical + UInt64($0)) % 253) } }

    @Test func pagesLargePagesAndContiguousReads() throws {
        let r = Self.ram()
        let m = PageTableMemory(physical: r, cr3: 0x1000 | 0x18, ram: 8 << 20)   // flag bits in CR3 are masked
        #expect(try m.read(at: Self.base + 0x10, count: 16) == Self.expected(0x600010, 16))
        // across pages 0 and 1 (contiguous): one physical read after the walks
        r.reads = 0
        #expect(try m.read(at: Self.base + 0xff0, count: 0x20) == Self.expected(0x600ff0, 0x20))
        #expect(r.reads == 1 + 4, "one data read and the walk of page 1: \(r.reads)")
        // across pages 1 and 2 (not contiguous): two pieces
        #expect(try m.read(at: Self.base + 0x1ff8, count: 16) == Self.expected(0x601ff8, 8) + Self.expected(0x500000, 8))
        // inside the 2 MiB page, at its end
        #expect(try m.read(at: Self.base + 0x3ffff0, count: 16) == Self.expected(0x3ffff0, 16))
        // guest-physical reads pass through
        #expect(try m.read(.guestPhysical, at: 0x123, count: 4) == Self.expected(0x123, 4))
    }

    @Test func anUnmappedPageIsNamed() throws {
        let m = PageTableMemory(physical: Self.ram(), cr3: 0x1000, ram: 8 << 20)
        #expect(throws: GuestMemoryError.self) { try m.read(at: Self.base + 0x3000, count: 1) }
        do {
            _ = try m.read(at: Self.base + 0x2ff0, count: 32)   // page 2 then page 3 (not present)
            Issue.record("read past a present page into a missing one")
        } catch {
            #expect("\(error)".contains("0xffff888000003000"), "\(error)")
        }
        // a PML4 entry pointing outside RAM: the walk refuses it
        let r = Self.ram()
        r.entry(0x1000, 273, 0x7fff_f000 | 3)
        #expect(throws: GuestMemoryError.self) { try PageTableMemory(physical: r, cr3: 0x1000, ram: 8 << 20).read(at: Self.base, count: 1) }
    }
}

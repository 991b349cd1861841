import KernelLayouts

/// Pageblocks per migratetype of each zone, as /proc/pagetypeinfo's "Number of blocks type"
/// table counts them (`pagetypeinfo_showblockcount_print`, mm/vmstat.c): every pageblock-sized
/// step from `zone_start_pfn` to the zone's end whose section is present and online, its
/// migratetype from the section's `usage->pageblock_flags` (`get_pfnblock_flags_mask`,
/// mm/page_alloc.c) — SPARSEMEM_EXTREME's `mem_section[root][index]`.
///
/// From BTF: `struct mem_section`'s size and its `section_mem_map`/`usage`, `struct
/// mem_section_usage`'s `pageblock_flags`, `NR_PAGEBLOCK_BITS` and the migratetype bits
/// (`enum pageblock_bits`). Macros, x86_64's values: `SECTION_SIZE_BITS` 27 (32,768 pages a
/// section), `pageblock_order` 9, `SECTION_MARKED_PRESENT` bit 0 and `SECTION_IS_ONLINE` bit 2 of
/// `section_mem_map`, `PB_migratetype_bits` 3 when BTF's enum does not say where they end.
public struct LinuxPageblockReader {
    public static let sectionShift = 15            // SECTION_SIZE_BITS 27 − PAGE_SHIFT 12
    public static let presentBit: UInt64 = 1 << 0  // SECTION_MARKED_PRESENT
    public static let onlineBit: UInt64 = 1 << 2   // SECTION_IS_ONLINE

    var memory: GuestMemory
    var roots: UInt64
    var sectionSize: Int
    var memMapOffset: Int
    var usageOffset: Int
    var flagsOffset: Int
    var bitsPerBlock: Int
    var migratetypeMask: UInt64
    var pageblockOrder = LinuxPerCPUReader.pageblockOrder

    /// Why the pageblocks cannot be counted.
    public struct Unavailable: Error, CustomStringConvertible {
        public var description: String
    }

    /// Learns the layout; `mem_section` must be in the symbols.
    public init(btf: KernelTypes, symbols: SymbolMap, memory: GuestMemory) throws(Unavailable) {
        do {
            let rootsAddress = try symbols.address(of: "mem_section")
            roots = try memory.readU64(at: rootsAddress)
            sectionSize = try btf.size(ofStruct: "mem_section")
            memMapOffset = try btf.member("section_mem_map", of: "mem_section").offset
            usageOffset = try btf.member("usage", of: "mem_section").offset
            flagsOffset = try btf.member("pageblock_flags", of: "mem_section_usage").offset
            bitsPerBlock = Int(try btf.enumValue("NR_PAGEBLOCK_BITS", in: "pageblock_bits"))
            let end = (try? btf.enumValue("PB_migrate_end", in: "pageblock_bits")).map { Int($0) + 1 } ?? 3
            migratetypeMask = (1 << UInt64(max(1, min(end, 8)))) - 1
        } catch {
            throw Unavailable(description: "\(error)")
        }
        guard sectionSize > 0, sectionSize <= 4096, bitsPerBlock > 0, bitsPerBlock <= 8, roots != 0 else {
            throw Unavailable(description: "implausible sparse-memory layout: sizeof(struct mem_section) \(sectionSize), NR_PAGEBLOCK_BITS \(bitsPerBlock), mem_section 0x\(String(roots, radix: 16))")
        }
        self.memory = memory
    }

    /// Pageblocks per migratetype (`migratetypeCount` entries) of the zone `[start, end)`.
    public func count(start: UInt64, end: UInt64, migratetypeCount: Int) throws -> [Int] {
        var counts = [Int](repeating: 0, count: migratetypeCount)
        let perRoot = UInt64(4096 / sectionSize)   // SECTIONS_PER_ROOT = PAGE_SIZE / sizeof(struct mem_section)
        let step = UInt64(1) << UInt64(pageblockOrder)
        // at most one step per pageblock of the zone's span (bounded by the caller's span)
        var cachedSection: UInt64 = .max
        var flags: [UInt8] = []
        var pfn = start
        while pfn < end {
            let nr = pfn >> UInt64(Self.sectionShift)
            if nr != cachedSection {
                cachedSection = nr
                flags = []
                let root = try memory.readU64(at: roots &+ (nr / perRoot) &* 8)
                if root != 0 {
                    let section = root &+ (nr % perRoot) &* UInt64(sectionSize)
                    let map = try memory.readU64(at: section &+ UInt64(memMapOffset))
                    let usage = try memory.readU64(at: section &+ UInt64(usageOffset))
                    if map & Self.presentBit != 0, map & Self.onlineBit != 0, usage != 0 {
                        let blocks = 1 << (Self.sectionShift - pageblockOrder)
                        flags = try memory.read(at: usage &+ UInt64(flagsOffset), count: (blocks * bitsPerBlock + 7) / 8)
                    }
                }
            }
            if !flags.isEmpty {
                let index = Int((pfn & ((1 << UInt64(Self.sectionShift)) - 1)) >> UInt64(pageblockOrder))
                let bit = index * bitsPerBlock
                // little-endian unsigned longs: bit n of the array is bit n % 8 of byte n / 8
                var value: UInt64 = 0
                for b in 0..<bitsPerBlock where flags[(bit + b) / 8] & (1 << UInt8((bit + b) % 8)) != 0 { value |= 1 << UInt64(b) }
                let migratetype = Int(value & migratetypeMask)
                if migratetype < migratetypeCount { counts[migratetype] += 1 }
            }
            let (next, overflow) = pfn.addingReportingOverflow(step)
            if overflow { break }
            pfn = next
        }
        return counts
    }
}

import KernelLayouts

/// What `kmem ADDR` and `vtop VADDR` read for any address, read once — so that a source that
/// records (`snapshot --kernel linux`) keeps it and both answer offline exactly as live: the
/// page-table pages reachable from CR3 (each through the direct map, as the walk reads them),
/// `max_pfn` and `vmalloc_base` (the address classification), every `struct page` below the
/// PFN limit (the vmemmap), and for each slab the reads of ``slubObject(at:headPFN:state:)``
/// (its cache, the CPUs' slabs, the freelists walked whole).
public struct LinuxAddressLookups: Sendable, Equatable {
    /// Page-table pages read.
    public var tablePages = 0
    /// False when ``tablePageLimit`` was reached: deeper tables were not read.
    public var tablesComplete = true
    /// The PFNs whose `struct page` was read (pages whose vmemmap could not be read are skipped).
    public var structPages: UInt64 = 0
    /// Slabs whose objects were looked up.
    public var slabs = 0

    /// At most this many page-table pages are read (64 MiB).
    public static let tablePageLimit = 16384
}

extension LinuxKernelTarget {
    /// Reads what ``LinuxAddressLookups`` lists; reads that fail are skipped (the offline
    /// command then says the snapshot does not hold those bytes, exit 2, as it would for any
    /// missing read). Bounded: ``LinuxAddressLookups/tablePageLimit`` tables, the PFN limit's
    /// pages, each slab's freelists by its object count.
    public func readForAddressLookups(cr3: UInt64, state: LinuxBuddyState) -> LinuxAddressLookups {
        var done = LinuxAddressLookups()
        let limit = pfnLimit(state)
        let ram = limit &* 4096
        if let base = symbols.symbol(named: "vmalloc_base")?.address { _ = try? memory.readU64(at: base) }
        readPageTables(cr3: cr3, ram: ram, base: state.pageOffsetBase, into: &done)
        readStructPages(limit: limit, state: state, into: &done)
        return done
    }

    /// Every table reachable from `cr3` (PML4 → PDPT → PD → PT; a large page ends a branch),
    /// each table page once.
    private func readPageTables(cr3: UInt64, ram: UInt64, base: UInt64, into done: inout LinuxAddressLookups) {
        let mask: UInt64 = 0x000F_FFFF_FFFF_F000
        var pending: [(table: UInt64, depth: Int)] = [(cr3 & mask, 0)]
        var seen: Set<UInt64> = []
        while let (table, depth) = pending.popLast() {
            guard table < ram, ram - table >= 4096, seen.insert(table).inserted else { continue }
            guard seen.count <= LinuxAddressLookups.tablePageLimit else { done.tablesComplete = false; return }
            guard let bytes = try? memory.read(at: base &+ table, count: 4096) else { continue }
            done.tablePages += 1
            guard depth < 3 else { continue }   // a PT's entries map pages, not tables
            for i in 0..<512 {
                let entry = loadU64(bytes, i * 8)
                let large = depth > 0 && entry & (1 << 7) != 0
                if entry & 1 != 0, !large { pending.append((entry & mask, depth + 1)) }
            }
        }
    }

    /// The vmemmap below `limit`, one section's worth (2 MiB of `struct page`) at a time, and the
    /// slab lookups of every slab's head page in it.
    private func readStructPages(limit: UInt64, state: LinuxBuddyState, into done: inout LinuxAddressLookups) {
        let size = UInt64(page.size)
        guard size > 0 else { return }
        let chunk: UInt64 = 32768   // PFNs per read: 128 MiB of memory
        let slabFlag = page.flagNames.first { $0.value == "slab" }.map { UInt64(1) << UInt64($0.key) }
        let slub = try? SlubLayout(btf: btf)
        var first: UInt64 = 0
        while first < limit {
            let count = min(chunk, limit - first)
            defer { first += count }
            guard let bytes = try? memory.read(at: state.vmemmapBase &+ first &* size, count: Int(count &* size)) else { continue }
            done.structPages += count
            for i in 0..<Int(count) {
                let at = i * Int(size)
                // a slab's head page: PG_slab (6.1), or the slab page type (6.12: no such flag);
                // not a tail page (bit 0 of compound_head)
                if let tail = page.compoundHeadOffset, loadU64(bytes, at + tail) & 1 == 1 { continue }
                let pfn = first + UInt64(i)
                if let bit = slabFlag {
                    guard loadU64(bytes, at + page.flagsOffset) & bit != 0 else { continue }
                } else {
                    let word = UInt32(bitPattern: Int32(bitPattern: loadU32(bytes, at + page.mapcountOffset)))
                    guard page.types.names(word).contains("slab") else { continue }
                }
                guard let layout = slub else { continue }
                if (try? slubObject(at: state.pageOffsetBase &+ pfn &* 4096, headPFN: pfn, state: state, layout: layout)) != nil { done.slabs += 1 }
            }
        }
    }
}

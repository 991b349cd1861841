import BundledState

// The /proc views and zones --tree as they were written against KernelSnapshot before the
// allocator view (commit 2e924dc, Sources/AllocatorModel/ProcViews.swift and
// Sources/kmemscope/Output/ZoneTree.swift), kept verbatim as the oracle the view's renderers must equal.
enum LegacyProcViews {
    /// Migratetype names as `migratetype_names[]` spells them.
    static let migratetypeNames = ["Unmovable", "Movable", "Reclaimable", "HighAtomic"]

    static func name(_ mt: Int) -> String { mt < migratetypeNames.count ? migratetypeNames[mt] : "Type\(mt)" }

    /// `%Nd`-style right alignment.
    static func right(_ v: CustomStringConvertible, _ width: Int) -> String {
        let s = v.description
        return String(repeating: " ", count: max(0, width - s.count)) + s
    }

    /// `%-Ns`-style left alignment.
    static func left(_ v: String, _ width: Int) -> String {
        v + String(repeating: " ", count: max(0, width - v.count))
    }

    /// Zones Linux would list (populated ones).
    static func populated(_ s: KernelSnapshot) -> [ZoneSnapshot] { s.zones.filter { $0.managedPages > 0 } }

    /// /proc/buddyinfo: `Node 0, zone %8s ` then `%6lu ` per order.
    static func buddyinfo(_ s: KernelSnapshot, _ census: FreeListCensus) -> String {
        populated(s).map { z in
            "Node 0, zone \(right(z.name, 8)) " + census.orders(zone: z.index).map { right($0, 6) + " " }.joined()
        }.joined(separator: "\n") + "\n"
    }

    /// /proc/pagetypeinfo: pageblock order, free blocks per migratetype and order, pageblocks
    /// per migratetype.
    static func pagetypeinfo(_ s: KernelSnapshot, _ census: FreeListCensus) -> String {
        var out = "Page block order: \(s.pageblockOrder)\nPages per block:  \(1 << s.pageblockOrder)\n\n"
        out += left("Free pages count per migrate type at order", 43) + " "
            + (0...s.maxOrder).map { right($0, 6) + " " }.joined() + "\n"
        for z in populated(s) {
            for mt in 0..<s.migratetypes {
                out += "Node \(right(0, 4)), zone \(right(z.name, 8)), type \(right(name(mt), 12)) "
                out += census.counts[z.index][mt].map { right($0, 6) + " " }.joined() + "\n"
            }
        }
        out += "\n" + left("Number of blocks type ", 23) + (0..<s.migratetypes).map { right(name($0), 12) + " " }.joined() + "\n"
        for z in populated(s) {
            var blocks = [UInt64](repeating: 0, count: s.migratetypes)
            var counted: Set<UInt64> = []
            for seg in s.segments where seg.zone == z.index {
                for (i, tag) in seg.pageblockTags.enumerated() where Int(tag) < s.migratetypes {
                    // a pageblock split by a hole is one pageblock
                    if counted.insert(seg.firstPageblock + UInt64(i)).inserted { blocks[Int(tag)] += 1 }
                }
            }
            out += "Node 0, zone \(right(z.name, 8)) " + blocks.map { right($0, 12) + " " }.joined() + "\n"
        }
        return out
    }

    /// /proc/zoneinfo, the fields this allocator has, in Linux's layout.
    static func zoneinfo(_ s: KernelSnapshot) -> String {
        var out = ""
        for z in s.zones {
            out += "Node 0, zone \(right(z.name, 8))\n"
            out += "  pages free     \(z.freePages)\n"
            out += "        boost    0\n"
            out += "        min      \(z.watermarkMin)\n"
            out += "        low      \(z.watermarkLow)\n"
            out += "        high     \(z.watermarkHigh)\n"
            out += "        spanned  \(z.spannedPages)\n"
            out += "        present  \(z.presentPages)\n"
            out += "        managed  \(z.managedPages)\n"
            out += "        cma      0\n"
            out += "        protection: (" + z.lowmemReserve.map(String.init).joined(separator: ", ") + ")\n"
            out += "      nr_free_pages \(z.freePages)\n"
            out += "  pagesets\n    cpu: 0\n"
            out += "              count: \(z.pcpCount)\n"
            out += "              high:  \(z.pcpHigh)\n"
            out += "              batch: \(z.pcpBatch)\n"
            out += "  node_unreclaimable:  0\n"
            out += "  start_pfn:           \(z.startPFN)\n"
        }
        return out
    }

    /// /proc/slabinfo, version 2.1: one line per cache (`%-17s %6lu %6lu %6u %4u %4d`, then
    /// tunables and slabdata).
    static func slabinfo(_ s: KernelSnapshot) -> String {
        var out = "slabinfo - version: 2.1\n"
        out += "# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab>"
            + " : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>\n"
        for c in s.heap?.caches ?? [] {
            // Counts read from the guest: a sum or product past 2^64 shows as the largest value,
            // never a trap (fuzz-snapshot, 2026-11-30); verify's slab-structure names the lie.
            let (sum, o1) = c.partialSlabs.addingReportingOverflow(c.fullSlabs)
            let slabs = o1 ? UInt64.max : sum
            let (objects, o2) = slabs.multipliedReportingOverflow(by: c.objectsPerSlab)
            out += left(c.name, 17) + " " + right(c.inUse, 6) + " " + right(o2 ? .max : objects, 6) + " "
                + right(c.objectSize, 6) + " " + right(c.objectsPerSlab, 4) + " " + right(1, 4)
                + " : tunables " + right(0, 4) + " " + right(0, 4) + " " + right(0, 4)
                + " : slabdata " + right(slabs, 6) + " " + right(slabs, 6) + " " + right(0, 6) + "\n"
        }
        return out
    }
}

enum LegacyZoneTree {
    static let migratetypeNames = ["Unmovable", "Movable"]

    static func migratetype(_ slot: Int) -> String {
        slot < migratetypeNames.count ? migratetypeNames[slot] : "slot \(slot)"
    }

    /// Blocks per migratetype slot of `order` in `segment`: the migratetypes in use, and a
    /// spare slot only when it holds blocks (it should not).
    static func blocks(_ s: KernelSnapshot, _ segment: SegmentSnapshot, order: Int) -> [(slot: Int, blocks: UInt64)] {
        (0..<s.migratetypeSlots).compactMap { mt in
            let i = mt * (s.maxOrder + 1) + order
            let n = i < segment.freeCounts.count ? segment.freeCounts[i] : 0
            return mt < s.migratetypes || n > 0 ? (mt, n) : nil
        }
    }

    static func text(_ s: KernelSnapshot) -> String {
        var lines = ["sequence \(s.sequence)"]
        for z in s.zones {
            lines.append("zone \(z.name)  pfn [0x\(String(z.startPFN, radix: 16)), 0x\(String(z.endPFN, radix: 16)))  "
                         + "managed \(z.managedPages)  free \(z.freePages)  segments \(z.segmentCount)")
            for seg in s.segments where seg.zone == z.index {
                lines.append("  segment \(seg.index)  pfn [0x\(String(seg.startPFN, radix: 16)), 0x\(String(seg.endPFN, radix: 16)))  "
                             + "pages \(seg.endPFN &- seg.startPFN)  free \(seg.freePages)  reserved \(seg.reservedPages)")
                for k in 0...s.maxOrder {
                    let counts = blocks(s, seg, order: k)
                    let total = counts.reduce(UInt64(0)) { $0 &+ $1.blocks }
                    guard total > 0 else { continue }
                    let order = k < 10 ? " \(k)" : "\(k)"
                    lines.append("    order \(order): " + counts.map { "\(migratetype($0.slot)) \($0.blocks)" }.joined(separator: "  ")
                                 + "  (\(total &* (1 << UInt64(k))) pages)")
                }
            }
        }
        return lines.joined(separator: "\n")
    }

}

/// `zones`' table as `ZoneTable.text` printed it from the snapshot (commit dbe6003,
/// Sources/AllocatorModel/ZoneTable.swift), before `ZoneTableText` printed it from the view.
enum LegacyZoneTable {
    static func text(_ s: KernelSnapshot) -> String {
        var lines = ["sequence \(s.sequence)"]
        for z in s.zones {
            let name = z.name + String(repeating: " ", count: max(1, 7 - z.name.count))
            lines.append("zone \(name)pfn [0x\(String(z.startPFN, radix: 16)), 0x\(String(z.endPFN, radix: 16))) "
                + "spanned \(z.spannedPages) present \(z.presentPages) managed \(z.managedPages) "
                + "boot-reserved \(z.bootReservedPages) reserved \(z.reservedPages) free \(z.freePages) "
                + "pcp \(z.cachedPages) allocated \(z.allocatedPages) min \(z.watermarkMin) low \(z.watermarkLow) "
                + "high \(z.watermarkHigh) segments \(z.segmentCount)")
        }
        let census = FreeListCensus(s)
        let buddyinfo = LegacyProcViews.buddyinfo(s, census)
        lines.append(buddyinfo.hasSuffix("\n") ? String(buddyinfo.dropLast()) : buddyinfo)
        for b in census.broken {
            lines.append("broken free list: " + b.text(zoneName: b.zone < s.zones.count ? s.zones[b.zone].name : "zone \(b.zone)"))
        }
        return lines.joined(separator: "\n")
    }
}

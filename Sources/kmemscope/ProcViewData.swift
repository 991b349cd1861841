import AllocatorModel

/// The numbers behind a /proc view, for `--json` (beside the printed `lines`): per populated
/// zone the free blocks per order, in total and per migratetype, free pages, watermarks and
/// page counts; per slab cache its objects and slabs. Counts stop where a list broke
/// (`brokenLists` names it).
struct ProcViewData {
    struct Zone: Encodable {
        struct Migratetype: Encodable { var migratetype: String; var freeBlocks: [UInt64] }
        var name: String
        var freeBlocks: [UInt64]
        var byMigratetype: [Migratetype]
        var freePages: UInt64
        var managedPages: UInt64
        var presentPages: UInt64
        var spannedPages: UInt64
        var watermarks: [String: UInt64]
    }

    struct Cache: Encodable {
        var name: String
        var activeObjects: UInt64
        var totalObjects: UInt64
        var objectSize: UInt64
        var objectsPerSlab: UInt64
        var slabs: UInt64
    }

    static let migratetypeNames = ["Unmovable", "Movable"]

    static func zones(_ s: KernelSnapshot, _ c: FreeListCensus) -> [Zone] {
        s.zones.filter { $0.managedPages > 0 }.map { z in
            let byType = (0..<min(s.migratetypes, c.counts.indices.contains(z.index) ? c.counts[z.index].count : 0)).map { mt in
                Zone.Migratetype(migratetype: mt < migratetypeNames.count ? migratetypeNames[mt] : "Type\(mt)", freeBlocks: c.counts[z.index][mt])
            }
            return Zone(name: z.name, freeBlocks: c.orders(zone: z.index), byMigratetype: byType, freePages: z.freePages,
                        managedPages: z.managedPages, presentPages: z.presentPages, spannedPages: z.spannedPages,
                        watermarks: ["min": z.watermarkMin, "low": z.watermarkLow, "high": z.watermarkHigh])
        }
    }

    static func caches(_ s: KernelSnapshot) -> [Cache] {
        (s.heap?.caches ?? []).map { c in
            let (sum, o1) = c.partialSlabs.addingReportingOverflow(c.fullSlabs)
            let slabs = o1 ? UInt64.max : sum
            let (objects, o2) = slabs.multipliedReportingOverflow(by: c.objectsPerSlab)
            return Cache(name: c.name, activeObjects: c.inUse, totalObjects: o2 ? .max : objects, objectSize: c.objectSize,
                         objectsPerSlab: c.objectsPerSlab, slabs: slabs)
        }
    }
}

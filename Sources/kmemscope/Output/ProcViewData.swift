import AllocatorView

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

    /// Populated zones: blocks per order as buddyinfo prints them, blocks walked per
    /// migratetype in use, the free-page counter, page counts and watermarks.
    static func zones(_ v: AllocatorView) -> [Zone] {
        v.zones.filter(\.populated).map { z in
            let byType = (0..<min(v.migratetypesInUse, z.freeAreas.first?.lists.count ?? 0)).map { mt in
                Zone.Migratetype(migratetype: v.migratetypeName(mt), freeBlocks: z.freeAreas.map { $0.lists[mt].walked })
            }
            return Zone(name: z.name, freeBlocks: z.freeAreas.map(\.blocks), byMigratetype: byType,
                        freePages: z.freePages?.pages ?? z.pagesOnLists, managedPages: z.managedPages,
                        presentPages: z.presentPages, spannedPages: z.spannedPages,
                        watermarks: z.watermarks.map { ["min": $0.min, "low": $0.low, "high": $0.high] } ?? [:])
        }
    }

    static func caches(_ v: AllocatorView) -> [Cache] {
        (v.heap?.caches ?? []).map { c in
            Cache(name: c.name, activeObjects: c.activeObjects, totalObjects: c.totalObjects, objectSize: c.objectSize,
                  objectsPerSlab: c.objectsPerSlab, slabs: c.slabs)
        }
    }
}

extension LinuxBuddyState {
    /// Whether one of this node's populated zones spans `pfn`.
    public func holds(_ pfn: UInt64) -> Bool {
        zones.contains { $0.isPopulated && pfn >= $0.startPFN && pfn - $0.startPFN < $0.spannedPages }
    }

    /// The most blocks Linux's /proc/pagetypeinfo counts on one list (`pagetypeinfo_showfree_print`).
    public static let procListCountLimit = 100_000

    /// The state as a kernel-neutral ``AllocatorView``: one node; per zone the span and page
    /// counts, `NR_FREE_PAGES`, `nr_free` per order (the free area's counter) and the blocks
    /// walked on each migratetype's list with their PFNs, each CPU's `pcp->count`; every list
    /// issue as a ``ListBreak``; the pageblocks per migratetype given (by zone name, from
    /// ``LinuxKernelTarget/pageblockCounts(_:)``). `lowmem_reserve` is not read (nil).
    ///
    /// - Parameters:
    ///   - orderCount: `NR_PAGE_ORDERS` (`LinuxMMLayout.orderCount`).
    ///   - watermarks: per zone index, where they were read.
    ///   - mergeableMigratetypes: `MIGRATE_PCPTYPES` (from BTF; 3 in 6.1 and 6.12): the view's
    ///     ``MergeRestriction`` from `pageblock_order` up, as `__free_one_page` merges.
    public func allocatorView(orderCount: Int, watermarks: [Int: Watermarks] = [:], pageblocks: [String: [Int]] = [:],
                              pageSize: UInt64 = 4096, pageblockOrder: Int? = LinuxPerCPUReader.pageblockOrder,
                              mergeableMigratetypes: Int = 3) -> AllocatorView {
        let slots = zones.map(\.walked.count).max() ?? migratetypeNames.count
        let names = migratetypeNames + (migratetypeNames.count..<max(slots, migratetypeNames.count)).map { "MT\($0)" }
        let zoneViews = zones.map { z in
            var pfns: [Int: [Int: [UInt64]]] = [:]
            for block in z.blocks { pfns[block.order, default: [:]][block.migratetype, default: []].append(block.pfn) }
            let areas = (0..<orderCount).map { order in
                FreeArea(order: order, counter: order < z.nrFree.count ? z.nrFree[order] : nil, lists: (0..<slots).map { mt in
                    let walked = mt < z.walked.count && order < z.walked[mt].count ? z.walked[mt][order] : 0
                    return FreeList(migratetype: mt, walked: UInt64(max(walked, 0)), blockPFNs: pfns[order]?[mt] ?? [],
                                    complete: !z.issues.contains { $0.order == order && $0.migratetype == mt },
                                    cutShort: z.cutShort.contains { $0.order == order && $0.migratetype == mt })
                })
            }
            return ZoneView(index: z.index, name: z.name, populated: z.isPopulated, startPFN: z.startPFN,
                            endPFN: z.startPFN &+ z.spannedPages, spannedPages: z.spannedPages, presentPages: z.presentPages,
                            managedPages: z.managedPages, freePages: z.freePagesCounter.map(Counter.signed),
                            watermarks: watermarks[z.index], freeAreas: areas,
                            perCPU: z.perCPUCounts.enumerated().map { cpu, count in
                                PerCPUCache(cpu: cpu, count: count < 0 ? nil : .signed(Int64(count)))
                            }, pageblocks: pageblocks[z.name].map { $0.map { UInt64(max(0, $0)) } })
        }
        let breaks = zones.flatMap { z in
            z.issues.map { ListBreak(node: node, zone: z.index, order: $0.order, migratetype: $0.migratetype,
                                     reason: $0.problem, text: $0.description) }
        }
        return AllocatorView(kernel: "linux", pageSize: pageSize, orderCount: orderCount, pageblockOrder: pageblockOrder,
                             migratetypeNames: names, migratetypesInUse: slots, nodes: [NodeView(id: node, zones: zoneViews)],
                             listBreaks: breaks, procListCountLimit: Self.procListCountLimit,
                             mergeRestriction: MergeRestriction(fromOrder: pageblockOrder ?? LinuxPerCPUReader.pageblockOrder,
                                                                mergeableBelow: mergeableMigratetypes))
    }
}

extension LinuxKernelTarget {
    /// `state` as an ``AllocatorView``, with each populated zone's watermarks read from the
    /// guest (nil where BTF lacks `_watermark` or the zone cannot be read: a view that needs
    /// only the free lists is not refused for them).
    public func allocatorView(_ state: LinuxBuddyState, pageblocks: [String: [Int]] = [:]) -> AllocatorView {
        var marks: [Int: Watermarks] = [:]
        for zone in state.zones where zone.isPopulated {
            if let m = (try? watermarks(zone: zone.index, node: state.node)) ?? nil { marks[zone.index] = Watermarks(min: m[0], low: m[1], high: m[2]) }
        }
        return state.allocatorView(orderCount: layout.orderCount, watermarks: marks, pageblocks: pageblocks,
                                   mergeableMigratetypes: mergeableMigratetypes)
    }

    /// `MIGRATE_PCPTYPES` from BTF (`enum migratetype`): the migratetypes below it merge with
    /// each other at `pageblock_order` and above; 3 (6.1's value) when BTF does not say.
    public var mergeableMigratetypes: Int {
        (try? btf.enumValue("MIGRATE_PCPTYPES", in: "migratetype")).map { Int($0) } ?? 3
    }

    /// Several nodes' states (each with its pageblock counts, when counted) as one view: a
    /// ``NodeView`` per state, in the order given, and every node's list breaks.
    public func allocatorView(_ states: [LinuxBuddyState], pageblocks: [[String: [Int]]] = []) -> AllocatorView {
        let views = states.enumerated().map { i, state in allocatorView(state, pageblocks: i < pageblocks.count ? pageblocks[i] : [:]) }
        guard var merged = views.first else {
            return AllocatorView(kernel: "linux", pageSize: 4096, orderCount: layout.orderCount, pageblockOrder: nil,
                                 migratetypeNames: [], migratetypesInUse: 0, nodes: [])
        }
        for view in views.dropFirst() {
            merged.nodes += view.nodes
            merged.listBreaks += view.listBreaks
            merged.migratetypesInUse = max(merged.migratetypesInUse, view.migratetypesInUse)
        }
        return merged
    }
}

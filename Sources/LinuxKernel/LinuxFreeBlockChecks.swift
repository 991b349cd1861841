import AllocatorChecks

/// Linux's names and words for the buddy-generic rules (``BuddyChecks``, written once for
/// every kernel), and the one block rule that is Linux's own:
///
/// - `list-links` (``BuddyRule/listLinks``): every free list walks closed;
/// - `nr-free` (``BuddyRule/orderCounter``): `free_area[order].nr_free` equals the blocks listed;
/// - `order-aligned`: a free block of order k starts at a PFN that is a multiple of 2^k;
/// - `in-zone` (``BuddyRule/inRange``): it lies inside [zone_start_pfn, zone_start_pfn + spanned_pages);
/// - `no-overlap`: no two free blocks share a page;
/// - `on-one-list`: no block is on two lists;
/// - `buddy-merged`: below the top order, a free block's buddy (`pfn ^ (1 << k)`) is not
///   also a free block of the same order where `__free_one_page` (mm/page_alloc.c, 6.1) would
///   have merged them: below `pageblock_order` always; at or above it when the two
///   migratetypes are equal or both mergeable (`migratetype_is_mergeable`: below
///   `MIGRATE_PCPTYPES`, so not HighAtomic or Isolate) — ``MergeRestriction``;
/// - `order-recorded` (Linux's own): the head page's `private` holds the order
///   (`set_buddy_order`), when the caller supplies it.
public enum LinuxFreeBlockChecks {
    /// One violation.
    public struct Finding: Sendable, Equatable, CustomStringConvertible {
        public var check: String
        public var zone: String
        public var pfn: UInt64
        public var detail: String
        public var description: String { "\(check): zone \(zone) pfn 0x\(String(pfn, radix: 16)): \(detail)" }
    }

    /// Checks every block of `zone` (the generic block rules, then `order-recorded`).
    /// `recordedOrder` returns the head page's `private` (nil: unknown or unreadable, not checked).
    public static func check(_ zone: LinuxZoneFreeArea, orderCount: Int, mergeableTypes: Int = 3,
                             pageblockOrder: Int = LinuxPerCPUReader.pageblockOrder,
                             recordedOrder: (LinuxFreeBlock) -> UInt64? = { _ in nil }) -> [Finding] {
        let blocks = zone.blocks.map { ListedBlock(pfn: $0.pfn, order: $0.order, migratetype: $0.migratetype) }
        let generic = BlockRules.check(blocks, start: zone.startPFN, pages: zone.spannedPages, orderCount: orderCount,
                                       restriction: MergeRestriction(fromOrder: pageblockOrder, mergeableBelow: mergeableTypes))
        return generic.compactMap { finding($0, zone: zone.name) } + orderRecorded(zone, label: zone.name, recordedOrder)
    }

    /// `order-recorded`: each head's `page->private` against the order of its list.
    static func orderRecorded(_ zone: LinuxZoneFreeArea, label: String, _ recordedOrder: (LinuxFreeBlock) -> UInt64?) -> [Finding] {
        zone.blocks.compactMap { block in
            guard let recorded = recordedOrder(block), recorded != UInt64(block.order) else { return nil }
            return Finding(check: "order-recorded", zone: label, pfn: block.pfn,
                           detail: "page.private = \(recorded), on the order \(block.order) list")
        }
    }

    /// A generic finding under Linux's check name, in Linux's words (nil for a rule Linux's
    /// view does not feed: per-list counters). `migratetypeName` names a `free_list[]` slot.
    static func finding(_ f: BuddyFinding, zone label: String, migratetypeName: (Int) -> String = { "MT\($0)" }) -> Finding? {
        func make(_ check: String, _ pfn: UInt64, _ detail: String) -> Finding {
            Finding(check: check, zone: label, pfn: pfn, detail: detail)
        }
        switch f.fact {
        case .listBroken(let b): return make("list-links", 0, "order \(b.order) \(migratetypeName(b.migratetype)): \(b.reason)")
        case .orderCounter(let order, let counter, let walked):
            return make("nr-free", 0, "order \(order): nr_free \(counter), the lists hold \(walked) blocks")
        case .impossibleOrder(let b), .misaligned(let b): return make("order-aligned", b.pfn, "order \(b.order)")
        case .outside(let b, let start, let end):
            return make("in-zone", b.pfn, "order \(b.order) outside [0x\(String(start, radix: 16)), 0x\(String(end, radix: 16)))")
        case .onTwoLists(let first, let second):
            return make("on-one-list", second.pfn, "on order \(first.order) mt \(first.migratetype) and order \(second.order) mt \(second.migratetype)")
        case .overlaps(let b, let container):
            return make("no-overlap", b.pfn, "inside the order \(container.order) block at 0x\(String(container.pfn, radix: 16))")
        case .unmerged(let b, let buddy): return make("buddy-merged", b.pfn, "its order \(b.order) buddy 0x\(String(buddy, radix: 16)) is free too")
        case .perCPUCount(let cpu, let count, let listed):
            return make("pcp-count", 0, "cpu \(cpu): pcp->count \(count), the lists hold \(listed) pages")
        case .listCounter: return nil
        }
    }
}

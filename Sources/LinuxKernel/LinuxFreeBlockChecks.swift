/// Invariants of Linux's buddy free lists that hold whatever the kernel version, checked on a
/// decoded ``LinuxZoneFreeArea``:
///
/// - `order-aligned`: a free block of order k starts at a PFN that is a multiple of 2^k;
/// - `in-zone`: it lies inside [zone_start_pfn, zone_start_pfn + spanned_pages);
/// - `no-overlap`: no two free blocks share a page;
/// - `on-one-list`: no block is on two lists;
/// - `buddy-merged`: below the top order, a free block's buddy (`pfn ^ (1 << k)`) is not
///   also a free block of the same order where `__free_one_page` (mm/page_alloc.c, 6.1) would
///   have merged them: below `pageblock_order` always; at or above it when the two
///   migratetypes are equal or both mergeable (`migratetype_is_mergeable`: below
///   `MIGRATE_PCPTYPES`, so not HighAtomic or Isolate);
/// - `order-recorded`: the head page's `private` holds the order (`set_buddy_order`), when
///   the caller supplies it.
public enum LinuxFreeBlockChecks {
    /// One violation.
    public struct Finding: Sendable, Equatable, CustomStringConvertible {
        public var check: String
        public var zone: String
        public var pfn: UInt64
        public var detail: String
        public var description: String { "\(check): zone \(zone) pfn 0x\(String(pfn, radix: 16)): \(detail)" }
    }

    /// Checks every block of `zone`. `recordedOrder` returns the head page's `private` (nil:
    /// unknown or unreadable, not checked).
    public static func check(_ zone: LinuxZoneFreeArea, orderCount: Int, mergeableTypes: Int = 3,
                             pageblockOrder: Int = LinuxPerCPUReader.pageblockOrder,
                             recordedOrder: (LinuxFreeBlock) -> UInt64? = { _ in nil }) -> [Finding] {
        var findings: [Finding] = []
        func add(_ check: String, _ block: LinuxFreeBlock, _ detail: String) {
            findings.append(Finding(check: check, zone: zone.name, pfn: block.pfn, detail: detail))
        }
        let end = zone.startPFN.addingReportingOverflow(zone.spannedPages)
        var byHead: [UInt64: LinuxFreeBlock] = [:]
        for block in zone.blocks {
            guard block.order >= 0, block.order < 64 else { add("order-aligned", block, "order \(block.order)"); continue }
            let size = UInt64(1) << UInt64(block.order)
            if block.pfn & (size - 1) != 0 { add("order-aligned", block, "order \(block.order)") }
            if block.pfn < zone.startPFN || end.overflow || block.pfn.addingReportingOverflow(size).partialValue > end.partialValue {
                add("in-zone", block, "order \(block.order) outside [0x\(String(zone.startPFN, radix: 16)), 0x\(String(end.partialValue, radix: 16)))")
            }
            if let other = byHead[block.pfn] {
                add("on-one-list", block, "on order \(other.order) mt \(other.migratetype) and order \(block.order) mt \(block.migratetype)")
            } else {
                byHead[block.pfn] = block
            }
            if let recorded = recordedOrder(block), recorded != UInt64(block.order) {
                add("order-recorded", block, "page.private = \(recorded), on the order \(block.order) list")
            }
        }
        // Overlap: sort by PFN, each block must end before the next begins.
        let sorted = byHead.values.sorted { $0.pfn < $1.pfn }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.order < 64 {
            let (aEnd, overflow) = a.pfn.addingReportingOverflow(UInt64(1) << UInt64(a.order))
            if overflow || aEnd > b.pfn { add("no-overlap", b, "inside the order \(a.order) block at 0x\(String(a.pfn, radix: 16))") }
        }
        for block in sorted where block.order + 1 < orderCount {
            let buddy = block.pfn ^ (UInt64(1) << UInt64(block.order))
            guard buddy > block.pfn, let other = byHead[buddy], other.order == block.order else { continue }
            let mergeable = block.order < pageblockOrder || other.migratetype == block.migratetype
                || (other.migratetype < mergeableTypes && block.migratetype < mergeableTypes)
            guard mergeable else { continue }
            add("buddy-merged", block, "its order \(block.order) buddy 0x\(String(buddy, radix: 16)) is free too")
        }
        return findings
    }
}

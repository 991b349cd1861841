import AllocatorView

/// The rules on the free blocks of one scope (a zone, or a segment where the kernel has
/// them): `order-aligned`, `in-range`, `on-one-list`, `no-overlap`, `buddy-merged`. The
/// blocks come from the guest: any order, any PFN; nothing here traps or loops unbounded.
public enum BlockRules {
    /// Every rule on `blocks` (in list order) of a scope spanning `pages` pages from `start`.
    /// Findings carry the block's PFN; the caller fills in where (node, zone, segment).
    public static func check(_ blocks: [ListedBlock], start: UInt64, pages: UInt64, orderCount: Int,
                             restriction: MergeRestriction?) -> [BuddyFinding] {
        var findings: [BuddyFinding] = []
        func add(_ rule: BuddyRule, _ block: ListedBlock, _ fact: BuddyFinding.Fact) {
            findings.append(BuddyFinding(rule, pfn: block.pfn, fact))
        }
        let end = start.addingReportingOverflow(pages)
        var byHead: [UInt64: ListedBlock] = [:]
        for block in blocks {
            guard block.order >= 0, block.order < 64 else { add(.orderAligned, block, .impossibleOrder(block)); continue }
            let size = UInt64(1) << UInt64(block.order)
            if block.pfn & (size - 1) != 0 { add(.orderAligned, block, .misaligned(block)) }
            if block.pfn < start || end.overflow || block.pfn.addingReportingOverflow(size).partialValue > end.partialValue {
                add(.inRange, block, .outside(block, start: start, end: end.partialValue))
            }
            if let other = byHead[block.pfn] {
                add(.onOneList, block, .onTwoLists(first: other, second: block))
            } else {
                byHead[block.pfn] = block
            }
        }
        // Overlap: sorted by PFN, each block must end before the next begins.
        let sorted = byHead.values.sorted { $0.pfn < $1.pfn }
        for (a, b) in zip(sorted, sorted.dropFirst()) {
            let (aEnd, overflow) = a.pfn.addingReportingOverflow(UInt64(1) << UInt64(a.order))
            if overflow || aEnd > b.pfn { add(.noOverlap, b, .overlaps(b, container: a)) }
        }
        for (block, buddy) in unmergedBuddies(sorted, orderCount: orderCount, restriction: restriction, freeBlock: { byHead[$0] }) {
            add(.buddyMerged, block, .unmerged(block, buddy: buddy))
        }
        return findings
    }

    /// Pairs of free buddies of the same order the kernel would have merged, each named once
    /// by its lower block, in the order of `blocks` (ascending PFNs give ascending findings).
    /// The top order (`orderCount - 1`) has no buddy. `freeBlock` answers the free block
    /// headed at a PFN, if any (a table, or a kernel's own per-frame record).
    public static func unmergedBuddies<S: Sequence>(_ blocks: S, orderCount: Int, restriction: MergeRestriction?,
                                                    freeBlock: (UInt64) -> ListedBlock?) -> [(block: ListedBlock, buddy: UInt64)]
    where S.Element == ListedBlock {
        var pairs: [(block: ListedBlock, buddy: UInt64)] = []
        for block in blocks where block.order >= 0 && block.order < 63 && block.order + 1 < orderCount {
            let buddy = block.pfn ^ (UInt64(1) << UInt64(block.order))
            guard buddy > block.pfn, let other = freeBlock(buddy), other.order == block.order else { continue }
            guard restriction?.merges(order: block.order, block.migratetype, other.migratetype) ?? true else { continue }
            pairs.append((block, buddy))
        }
        return pairs
    }
}

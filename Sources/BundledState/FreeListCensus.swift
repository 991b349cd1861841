import AllocatorView

/// Free blocks per zone, migratetype and order, counted by walking every free list once —
/// what buddyinfo and pagetypeinfo print. A walk stops at the end of the list, at a link
/// that leaves the segment or the frame table, at a node it has seen (a cycle), or after the
/// segment's page count; such a list is reported as broken and only the blocks before the
/// break are counted, so a view never prints a number larger than the zone.
public struct FreeListCensus: Sendable {
    /// A list whose walk did not end cleanly.
    public struct BrokenList: Sendable, Equatable {
        public var zone: Int
        public var segment: Int
        public var migratetype: Int
        public var order: Int
        /// Blocks walked before the break.
        public var walked: UInt64
        /// The link that broke the walk.
        public var link: UInt64
        /// What was wrong with it.
        public var reason: String

        /// The reason of a walk that came back to a node it had walked.
        public static let cycle = "a cycle back to"

        public init(zone: Int, segment: Int, migratetype: Int, order: Int, walked: UInt64, link: UInt64, reason: String) {
            self.zone = zone
            self.segment = segment
            self.migratetype = migratetype
            self.order = order
            self.walked = walked
            self.link = link
            self.reason = reason
        }

        /// `segment 2 (DMA32) migratetype 1 order 3: a cycle back to 0x1234 after 5 blocks`
        public func text(zoneName: String) -> String {
            "segment \(segment) (\(zoneName)) migratetype \(migratetype) order \(order): \(reason) 0x\(String(link, radix: 16)) after \(walked) blocks"
        }
    }

    /// `counts[zone][migratetype][order]`: free blocks.
    public private(set) var counts: [[[UInt64]]]
    public private(set) var broken: [BrokenList] = []
    /// `segmentCounts[i][migratetype][order]`: free blocks walked on the lists of
    /// `snapshot.segments[i]` (zero for a segment of no zone).
    public private(set) var segmentCounts: [[[UInt64]]]

    public init(_ s: KernelSnapshot) {
        let orders = s.maxOrder + 1
        counts = Array(repeating: Array(repeating: Array(repeating: 0, count: orders), count: s.migratetypeSlots),
                       count: s.zones.count)
        segmentCounts = Array(repeating: Array(repeating: Array(repeating: 0, count: orders), count: s.migratetypeSlots),
                              count: s.segments.count)
        for (position, seg) in s.segments.enumerated() where seg.zone < s.zones.count {
            for mt in 0..<s.migratetypeSlots {
                for k in 0..<orders {
                    let slot = mt * orders + k
                    guard slot < seg.freeHeads.count else { continue }
                    segmentCounts[position][mt][k] = walk(s, seg, mt, k, from: seg.freeHeads[slot])
                }
            }
        }
    }

    /// Why a link ended a walk: it leaves the segment or the frame table.
    private struct OutsideTheSegment: Error {}

    /// One list through the shared bounded walk (`ListWalk`): a link outside the segment or
    /// the frame table ends it, as does a node seen before. The bound, one more than the
    /// segment's pages, cannot be reached without one of those first (pigeonhole).
    private mutating func walk(_ s: KernelSnapshot, _ seg: SegmentSnapshot, _ mt: Int, _ k: Int, from head: UInt64) -> UInt64 {
        let limit = seg.pageCount < UInt64(Int.max) ? Int(seg.pageCount) + 1 : Int.max
        let walk = ListWalk.walk(first: head, terminator: KernelSnapshot.none, limit: limit) { p in
            guard p >= seg.startPFN && p < seg.endPFN, let f = s.frames[p] else { throw OutsideTheSegment() }
            return f.next
        }
        let n = UInt64(walk.nodes.count)
        if let (reason, link) = Self.breakReason(walk, head: head) {
            broken.append(BrokenList(zone: seg.zone, segment: seg.index, migratetype: mt, order: k, walked: n, link: link, reason: reason))
        }
        counts[seg.zone][mt][k] += n
        return n
    }

    /// Why a walk of a segment's list from `head` broke and at which link (nil: it ended at
    /// the terminator). The census and the verifier word a break alike.
    public static func breakReason(_ walk: ListWalk, head: UInt64) -> (reason: String, link: UInt64)? {
        switch walk.end {
        case .closed: return nil
        case .cycle(let node): return (BrokenList.cycle, node)
        case .unreadable(let node, _), .brokenBackLink(let node, _, _): return ("a link outside the segment to", node)
        case .limitReached: return ("more blocks than the segment has pages at", walk.nodes.last ?? head)
        }
    }

    /// Free blocks of each order in `zone`, all migratetypes.
    public func orders(zone: Int) -> [UInt64] {
        guard zone < counts.count, let first = counts[zone].first else { return [] }
        return counts[zone].dropFirst().reduce(first) { acc, row in zip(acc, row).map { $0 + $1 } }
    }
}

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

    private mutating func walk(_ s: KernelSnapshot, _ seg: SegmentSnapshot, _ mt: Int, _ k: Int, from head: UInt64) -> UInt64 {
        var seen: Set<UInt64> = []
        var n: UInt64 = 0
        var p = head
        func stop(_ reason: String) {
            broken.append(BrokenList(zone: seg.zone, segment: seg.index, migratetype: mt, order: k, walked: n, link: p, reason: reason))
        }
        while p != KernelSnapshot.none {
            guard p >= seg.startPFN && p < seg.endPFN, let f = s.frames[p] else { stop("a link outside the segment to"); break }
            guard seen.insert(p).inserted else { stop("a cycle back to"); break }
            guard n < seg.pageCount else { stop("more blocks than the segment has pages at"); break }
            n += 1
            p = f.next
        }
        counts[seg.zone][mt][k] += n
        return n
    }

    /// Free blocks of each order in `zone`, all migratetypes.
    public func orders(zone: Int) -> [UInt64] {
        guard zone < counts.count, let first = counts[zone].first else { return [] }
        return counts[zone].dropFirst().reduce(first) { acc, row in zip(acc, row).map { $0 + $1 } }
    }
}

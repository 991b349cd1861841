import AllocatorModel

/// `zones --tree`: zones → segments → orders. Each zone with its span, managed and free
/// pages; under it each segment (its PFN range, pages, free and reserved pages); under each
/// segment one line per order that has free blocks: the blocks on each migratetype's list
/// as the segment's counters say (`verify`'s free-list-counts checks them against the
/// lists) and the pages they hold.
enum ZoneTree {
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

    /// `zones --tree --json`.
    struct Document: Encodable {
        struct Order: Encodable {
            var order: Int
            /// Blocks per migratetype name.
            var blocks: [String: UInt64]
            var pages: UInt64
        }
        struct Segment: Encodable {
            var index: Int
            var startPFN: String
            var endPFN: String
            var freePages: UInt64
            var reservedPages: UInt64
            var orders: [Order]
        }
        struct Zone: Encodable {
            var name: String
            var startPFN: String
            var endPFN: String
            var managedPages: UInt64
            var freePages: UInt64
            var segments: [Segment]
        }
        var schemaVersion = 1
        var sequence: UInt64
        var zones: [Zone]

        init(_ s: KernelSnapshot) {
            sequence = s.sequence
            zones = s.zones.map { z in
                Zone(name: z.name, startPFN: hexJSON(z.startPFN), endPFN: hexJSON(z.endPFN), managedPages: z.managedPages,
                     freePages: z.freePages, segments: s.segments.filter { $0.zone == z.index }.map { seg in
                    Segment(index: seg.index, startPFN: hexJSON(seg.startPFN), endPFN: hexJSON(seg.endPFN), freePages: seg.freePages,
                            reservedPages: seg.reservedPages, orders: (0...s.maxOrder).compactMap { k in
                        let counts = ZoneTree.blocks(s, seg, order: k)
                        let total = counts.reduce(UInt64(0)) { $0 &+ $1.blocks }
                        guard total > 0 else { return nil }
                        return Order(order: k, blocks: Dictionary(counts.map { (ZoneTree.migratetype($0.slot), $0.blocks) }) { a, _ in a },
                                     pages: total &* (1 << UInt64(k)))
                    })
                })
            }
        }
    }
}

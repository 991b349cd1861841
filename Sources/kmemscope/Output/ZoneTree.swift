import AllocatorText
import AllocatorView

/// `zones --tree`: zones → segments → orders (zones → orders for a kernel without segments),
/// rendered from the allocator view by `ZoneTreeText`; this is its `--json`.
enum ZoneTree {
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
            var freePages: UInt64?
            var reservedPages: UInt64?
            var orders: [Order]
        }
        struct Zone: Encodable {
            var name: String
            var startPFN: String
            var endPFN: String
            var managedPages: UInt64
            var freePages: UInt64
            /// The bundled kernel's segments.
            var segments: [Segment]?
            /// The zone's own orders, for a kernel without segments (Linux).
            var orders: [Order]?
        }
        var schemaVersion = 1
        var sequence: UInt64?
        var zones: [Zone]

        init(_ v: AllocatorView) {
            func orders(_ areas: [FreeArea]) -> [Order] {
                ZoneTreeText.orders(v, areas).map { o in
                    Order(order: o.order, blocks: Dictionary(o.blocks.map { (v.migratetypeName($0.slot), $0.blocks) }) { a, _ in a },
                          pages: o.pages)
                }
            }
            sequence = v.sequence
            zones = v.zones.map { z in
                Zone(name: z.name, startPFN: hex(z.startPFN), endPFN: hex(z.endPFN), managedPages: z.managedPages,
                     freePages: z.freePages?.pages ?? z.pagesOnLists,
                     segments: z.segments?.map { seg in
                        Segment(index: seg.index, startPFN: hex(seg.startPFN), endPFN: hex(seg.endPFN), freePages: seg.freePages,
                                reservedPages: seg.reservedPages, orders: orders(seg.freeAreas))
                     },
                     orders: z.segments == nil ? orders(z.freeAreas) : nil)
            }
        }
    }
}

import AllocatorView

/// `zoneinfo --kernel linux --json` (docs/json.md): every node and zone as /proc/zoneinfo
/// prints them, counters in the kernel's order by the guest's own names, and the text's lines.
struct LinuxZoneinfoJSON: Encodable {
    struct Count: Encodable {
        var name: String
        var value: UInt64
    }
    struct Pageset: Encodable {
        var cpu: Int
        var count: Int64?
        var high: UInt64?
        var batch: UInt64?
        var highMin: UInt64?
        var highMax: UInt64?
        var statThreshold: Int?
    }
    struct Zone: Encodable {
        var name: String
        var populated: Bool
        var startPFN: UInt64
        var spannedPages: UInt64
        var presentPages: UInt64
        var managedPages: UInt64
        var freePages: UInt64?
        var watermarks: [String: UInt64]?
        var protection: [Int64]?
        var stats: [Count]?
        var numaEvents: [Count]?
        var pagesets: [Pageset]
    }
    struct Node: Encodable {
        var id: Int
        var unreclaimable: Bool?
        var stats: [Count]?
        var zones: [Zone]
    }
    var schemaVersion = 1
    var kernel = "linux"
    var nodes: [Node]
    var lines: [String]

    init(_ view: AllocatorView, text: String) {
        func counts(_ c: [NamedCount]?) -> [Count]? { c?.map { Count(name: $0.name, value: $0.value.pages) } }
        nodes = view.nodes.map { node in
            Node(id: node.id, unreclaimable: node.unreclaimable, stats: counts(node.stats), zones: node.zones.map { z in
                var marks: [String: UInt64]?
                if let w = z.watermarks {
                    marks = ["min": w.min, "low": w.low, "high": w.high, "boost": w.boost ?? 0]
                    if let promo = w.promo { marks?["promo"] = promo }
                }
                return Zone(name: z.name, populated: z.populated, startPFN: z.startPFN, spannedPages: z.spannedPages,
                            presentPages: z.presentPages, managedPages: z.managedPages, freePages: z.freePages?.pages,
                            watermarks: marks, protection: z.lowmemReserve?.map { Int64(bitPattern: $0) },
                            stats: counts(z.stats), numaEvents: counts(z.numaEvents),
                            pagesets: z.perCPU.map { p in
                                var count: Int64?
                                if let c = p.count { if case .signed(let v) = c { count = v } else { count = Int64(clamping: c.pages) } }
                                return Pageset(cpu: p.cpu, count: count, high: p.high, batch: p.batch, highMin: p.highMin,
                                               highMax: p.highMax, statThreshold: p.statThreshold)
                            })
            })
        }
        lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
    }
}

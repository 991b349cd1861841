import AllocatorView
import LinuxKernel

// `--json` of the views with `--kernel linux` (docs/json.md, "A stock Linux guest"): every
// document has `schemaVersion` 1 and `"kernel": "linux"`; addresses, PFNs and raw words are
// hex strings, migratetypes, zones, flags and page types by the names the guest's kernel uses.

/// `buddyinfo --kernel linux --json` and `pagetypeinfo --kernel linux --json`.
struct LinuxFreeCountsJSON: Encodable {
    struct Zone: Encodable {
        var node: Int
        var name: String
        /// `free_area[order].nr_free`, per order: /proc/buddyinfo's row.
        var freeBlocks: [UInt64]
        /// Blocks walked on each list, per order, by migratetype name: /proc/pagetypeinfo's rows.
        var freeBlocksByMigratetype: [String: [UInt64]]?
    }
    var schemaVersion = 1
    var kernel = "linux"
    var node: Int
    var zones: [Zone]
    /// The view's lines, as the guest's /proc file prints them.
    var lines: [String]
    /// A line per free list the walk could not finish (the counts are then what was walked).
    var brokenLists: [String]

    /// From the allocator view of the guest: `nr_free` per order (the free areas' counters),
    /// the blocks walked per migratetype capped as /proc/pagetypeinfo caps them.
    init(_ view: AllocatorView, text: String, byMigratetype: Bool) {
        node = view.nodes.first?.id ?? 0
        let cap = view.procListCountLimit.map(UInt64.init) ?? .max
        zones = view.nodes.flatMap { n in n.zones.filter(\.populated).map { (n.id, $0) } }.map { id, zone in
            Zone(node: id, name: zone.name, freeBlocks: zone.freeAreas.map(\.blocks),
                 freeBlocksByMigratetype: byMigratetype
                    ? Dictionary((0..<view.migratetypesInUse).map { mt in
                        (view.migratetypeName(mt), zone.freeAreas.map { mt < $0.lists.count ? min($0.lists[mt].walked, cap) : 0 })
                    }) { a, _ in a }
                    : nil)
        }
        lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        brokenLists = view.listBreaks.map(\.text)
    }
}

/// `zones --kernel linux --json`.
struct LinuxZonesJSON: Encodable {
    struct Zone: Encodable {
        var node: Int
        var name: String
        var index: Int
        var startPFN: String
        var spannedPages: UInt64
        var presentPages: UInt64
        var managedPages: UInt64
        var populated: Bool
        /// `vm_stat[NR_FREE_PAGES]` (signed, as the kernel's counter).
        var freePages: Int64?
        /// Σ nr_free × 2^order.
        var pagesOnLists: UInt64?
        /// Pages on the CPUs' per-CPU lists (`pcp->count` summed).
        var perCPUPages: Int?
        var watermarks: [String: UInt64]?
        /// nr_free per order (buddyinfo).
        var freeBlocks: [UInt64]?
    }
    var schemaVersion = 1
    var kernel = "linux"
    var node: Int
    var orders: Int
    var migratetypes: [String]
    var structPageSize: Int
    var kaslrOffset: String?
    var zones: [Zone]
    var brokenLists: [String]

    /// From the allocator view of the guest, with what only the target knows (orders,
    /// `struct page`'s size, the KASLR offset).
    init(_ linux: LinuxKernelTarget, _ view: AllocatorView) {
        node = view.nodes.first?.id ?? 0
        orders = linux.layout.orderCount
        migratetypes = view.migratetypeNames
        structPageSize = linux.layout.pageSize
        kaslrOffset = linux.kaslrOffset != 0 ? hex(linux.kaslrOffset) : nil
        zones = view.nodes.flatMap { n in n.zones.map { (n.id, $0) } }.map { id, z in
            let counter: Int64? = z.freePages.map { if case .signed(let v) = $0 { v } else { Int64(clamping: $0.pages) } }
            let marks = z.populated ? z.watermarks : nil
            return Zone(node: id, name: z.name, index: z.index, startPFN: hex(z.startPFN), spannedPages: z.spannedPages,
                        presentPages: z.presentPages, managedPages: z.managedPages, populated: z.populated,
                        freePages: counter, pagesOnLists: z.populated ? z.pagesOnLists : nil,
                        perCPUPages: z.populated ? z.perCPU.reduce(0) { $0 + Int(clamping: $1.count?.pages ?? 0) } : nil,
                        watermarks: marks.map { ["min": $0.min, "low": $0.low, "high": $0.high] },
                        freeBlocks: z.populated ? z.freeAreas.map(\.blocks) : nil)
        }
        brokenLists = view.listBreaks.map(\.text)
    }
}

/// `frame PFN [COUNT] --kernel linux --json`.
struct LinuxFrameJSON: Encodable {
    struct Block: Encodable {
        var head: String
        var order: UInt64
        /// The list it was found on (absent when it is on none).
        var migratetype: String?
        var onFreeList: Bool
    }
    struct Frame: Encodable {
        var pfn: String
        var structPage: String
        var zone: String?
        var flags: [String]
        var flagsValue: String
        /// The section/node/zone bits above NR_PAGEFLAGS.
        var fieldBits: String
        var refcount: Int32
        var mapcount: Int32?
        var pageType: String?
        var pageTypes: [String]?
        var `private`: String
        var compoundHead: String?
        /// `free` (PageBuddy head of a free block), `inside-free-block`, `in-use` (refcount > 0) or `other`.
        var state: String
        var block: Block?
    }
    var schemaVersion = 1
    var kernel = "linux"
    var frames: [Frame]

    init(_ linux: LinuxKernelTarget, _ pages: [LinuxPage], _ state: LinuxBuddyState) {
        let blocks = state.zones.flatMap(\.blocks)
        // the state as every kernel's frame view decides it (FrameStateLookup)
        let states = LinuxFrameStates(linux: linux, state: state)
        frames = pages.map { page in
            let types = page.pageTypes
            var frame = Frame(
                pfn: hex(page.pfn), structPage: hex(page.address),
                zone: state.zones.first { $0.isPopulated && page.pfn >= $0.startPFN && page.pfn - $0.startPFN < $0.spannedPages }?.name,
                flags: page.flagNames(linux.page), flagsValue: hex(page.flags), fieldBits: hex(page.fieldBits(linux.page)),
                refcount: page.refcount, mapcount: types.isEmpty ? page.mapcount : nil,
                pageType: types.isEmpty ? nil : hex(UInt64(page.pageType)), pageTypes: types.isEmpty ? nil : types,
                private: hex(page.private), compoundHead: page.compoundHeadPage.map(hex), state: "other")
            switch states.frameState(of: page) {
            case .freeHead:
                let listed = blocks.first { $0.pfn == page.pfn }
                frame.state = "free"
                frame.block = Block(head: hex(page.pfn), order: page.private,
                                    migratetype: listed.map { LinuxVerifier.name($0.migratetype, state) }, onFreeList: listed != nil)
            case .freeTail:
                if let b = states.freeBlock(around: page.pfn) {
                    frame.state = "inside-free-block"
                    frame.block = Block(head: hex(b.pfn), order: UInt64(max(b.order, 0)),
                                        migratetype: LinuxVerifier.name(b.migratetype, state), onFreeList: true)
                }
            case .allocated:
                frame.state = "in-use"
            case .perCPU, .reserved, .other:
                break
            }
            return frame
        }
    }
}

/// `verify --kernel linux --json`: the bundled kernel's verify document where it applies
/// (`passed`, one object per check, one per violation), plus what only Linux has.
struct LinuxVerifyJSON: Encodable {
    struct CheckResult: Encodable {
        var name: String
        /// Where the rule is in Linux's sources (docs/linux-checks.md).
        var source: String
        var violations: Int
        var passed: Bool
    }
    struct Violation: Encodable {
        var check: String
        var zone: String
        /// Absent for findings about a list or a counter rather than one page.
        var pfn: String?
        var detail: String
        var text: String
    }
    struct Zone: Encodable {
        var name: String
        var freeBlocks: Int
        var perCPULists: Int
        var violations: Int
    }
    var schemaVersion = 1
    var kernel = "linux"
    var passed: Bool
    var freeBlocksChecked: Int
    var checks: [CheckResult]
    var violations: [Violation]
    var zones: [Zone]
    /// What could not be checked, and why.
    var notes: [String]
    /// What the verdict covered and what it did not (issue 22, docs/checks.md).
    var covered: [String] = []
    var skipped: [Coverage.Skip] = []

    init(_ report: LinuxVerifier.Report) {
        passed = report.passed
        freeBlocksChecked = report.blocks
        checks = LinuxVerifier.checks.map { c in
            let n = report.findings(of: c.name).count
            return CheckResult(name: c.name, source: c.source, violations: n, passed: n == 0)
        }
        violations = report.findings.map {
            Violation(check: $0.check, zone: $0.zone, pfn: $0.pfn == 0 ? nil : hex($0.pfn), detail: $0.detail, text: $0.description)
        }
        zones = (report.states.isEmpty ? [report.state] : report.states).flatMap { state in
            state.zones.filter(\.isPopulated).map { z in
                let label = LinuxVerifier.zoneLabel(z.name, node: state.node)
                return Zone(name: label, freeBlocks: z.blocks.count, perCPULists: report.perCPU[label]?.count ?? 0,
                            violations: report.findings.filter { $0.zone == label }.count)
            }
        }
        notes = report.notes
    }
}

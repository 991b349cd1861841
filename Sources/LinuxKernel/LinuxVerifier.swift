import AllocatorChecks
import KernelLayouts

/// `kmemscope verify --kernel linux`: Linux's own rules for its buddy allocator, checked on
/// node 0 from guest memory. Each check is named after the rule and documented with the
/// source it comes from in docs/linux-checks.md.
public enum LinuxVerifier {
    /// A named check and its source in Linux (6.1).
    public struct Check: Sendable, Equatable {
        public var name: String
        public var source: String
    }

    /// Every check, in the order they are reported.
    public static let checks: [Check] = [
        Check(name: "list-links", source: "include/linux/list.h (__list_del_entry_valid); mm/page_alloc.c del_page_from_free_list"),
        Check(name: "nr-free", source: "mm/page_alloc.c add_to_free_list / del_page_from_free_list: nr_free++ / --"),
        Check(name: "page-buddy", source: "mm/page_alloc.c set_buddy_order → __SetPageBuddy; include/linux/page-flags.h PAGE_TYPE_OPS(Buddy)"),
        Check(name: "order-recorded", source: "mm/page_alloc.c set_buddy_order: set_page_private(page, order); buddy_order()"),
        Check(name: "order-aligned", source: "mm/page_alloc.c __free_one_page: VM_BUG_ON_PAGE(pfn & ((1 << order) - 1), page)"),
        Check(name: "in-zone", source: "mm/page_alloc.c page_is_buddy / bad_range: zone_spans_pfn"),
        Check(name: "on-one-list", source: "mm/page_alloc.c: a page is on at most one free list (one list_head)"),
        Check(name: "no-overlap", source: "mm/page_alloc.c: free blocks are disjoint (__free_one_page merges, expand splits)"),
        Check(name: "buddy-merged", source: "mm/page_alloc.c __free_one_page: merge while the buddy is free (migratetype_is_mergeable at pageblock_order and above)"),
        Check(name: "free-counter", source: "mm/page_alloc.c __mod_zone_freepage_state: NR_FREE_PAGES counts the free lists but not isolated pageblocks"),
        Check(name: "pcp-count", source: "mm/page_alloc.c free_unref_page_commit / free_pcppages_bulk: pcp->count ± 1 << order"),
        Check(name: "pcp-not-buddy", source: "mm/page_alloc.c: pages on per-CPU lists are not PageBuddy (free_pcppages_bulk sets it when they go back)"),
    ] + SlubChecker.checks

    /// What one run found.
    public struct Report: Sendable {
        /// Findings, each naming its check.
        public var findings: [LinuxFreeBlockChecks.Finding]
        /// What could not be checked, and why.
        public var notes: [String]
        /// Node 0's state (the first of ``states``).
        public var state: LinuxBuddyState
        /// Every node's state checked, node 0 first.
        public var states: [LinuxBuddyState] = []
        /// Per-CPU lists read, per zone label (``LinuxVerifier/zoneLabel(_:node:)``).
        public var perCPU: [String: [LinuxPerCPULists]]
        /// Free blocks checked.
        public var blocks: Int
        /// SLUB slabs checked (node partial slabs and the CPUs' slabs); nil when SLUB was not read.
        public var slabs: Int?
        /// Free lists read only in part (their walk reached its bound): `nr-free` and
        /// `free-counter` are not checked for those orders and zones (issue 22).
        public var cutShort: [String] = []
        public var passed: Bool { findings.isEmpty }

        /// Findings of `check`.
        public func findings(of check: String) -> [LinuxFreeBlockChecks.Finding] { findings.filter { $0.check == check } }
    }

    /// How findings and per-CPU lists name a zone: its name on node 0 (as on a guest of one
    /// node), `NAME (node N)` on another node.
    public static func zoneLabel(_ name: String, node: Int) -> String { node == 0 ? name : "\(name) (node \(node))" }

    /// Decodes the nodes `nodes` (node 0 by default; every id ``LinuxNodes`` lists to cover a
    /// NUMA guest) and runs every check on each, SLUB's once.
    public static func verify(_ linux: LinuxKernelTarget, nodes: [Int] = [0]) throws -> Report {
        let states = try (nodes.isEmpty ? [0] : nodes).map { try linux.decodeBuddy(node: $0) }
        let state = states[0]
        var findings: [LinuxFreeBlockChecks.Finding] = []
        var perCPU: [String: [LinuxPerCPULists]] = [:]
        var notes: [String] = []
        var cutShort: [String] = []
        let isolate = state.migratetypeNames.firstIndex(of: "Isolate")
        let mergeable = linux.mergeableMigratetypes
        for nodeState in states {
            let view = nodeState.allocatorView(orderCount: linux.layout.orderCount, mergeableMigratetypes: mergeable)
            for zone in nodeState.zones where zone.isPopulated {
                let label = zoneLabel(zone.name, node: nodeState.node)
                func add(_ check: String, _ pfn: UInt64, _ detail: String) {
                    findings.append(.init(check: check, zone: label, pfn: pfn, detail: detail))
                }
                let cut = Set(zone.cutShort.map(\.order))
                cutShort += zone.cutShort.map { "zone \(label) order \($0.order) \(name($0.migratetype, state)): \($0.problem)" }
                // The buddy-generic rules, written once for every kernel (list-links, nr-free,
                // order-aligned, in-zone, on-one-list, no-overlap, buddy-merged), on the view.
                if let zoneView = view.nodes.first?.zones.first(where: { $0.index == zone.index }) {
                    findings += BuddyChecks.check(zoneView, node: nodeState.node, in: view).compactMap {
                        LinuxFreeBlockChecks.finding($0, zone: label) { name($0, state) }
                    }
                }
                for block in zone.blocks {
                    if block.isBuddy(linux.page.types) == false {
                        add("page-buddy", block.pfn, "on the order \(block.order) \(name(block.migratetype, state)) list but page_type 0x\(String(block.pageType ?? 0, radix: 16)) is not PageBuddy")
                    }
                }
                findings += LinuxFreeBlockChecks.orderRecorded(zone, label: label) { $0.recordedOrder }
                if let counter = zone.freePagesCounter, cut.isEmpty {
                    let listed = zone.blocks.reduce(UInt64(0)) { $1.migratetype == isolate ? $0 : $0 &+ (1 << UInt64(min($1.order, 63))) }
                    // vm_stat lags by what each CPU has not folded in yet (vm_stat_diff, at most
                    // ±stat_threshold each): the exact count is their sum.
                    let pending = zone.freePagesCounterDiffs.reduce(0, +)
                    let exact = counter &+ Int64(pending)
                    if zone.freePagesCounterDiffs.isEmpty {
                        notes.append("zone \(label): the CPUs' unfolded free-page deltas (per_cpu_zonestats) were not read: free-counter compares vm_stat alone, which lags on a busy guest")
                    }
                    if exact != Int64(clamping: listed) {
                        let sum = zone.freePagesCounterDiffs.isEmpty ? "" : " + the CPUs' unfolded \(zone.freePagesCounterDiffs) = \(exact)"
                        add("free-counter", 0, "vm_stat[NR_FREE_PAGES] \(counter)\(sum), the lists (isolated pageblocks excepted) hold \(listed) pages")
                    }
                }
                let lists: [LinuxPerCPULists]
                do {
                    lists = try linux.perCPULists(zone: zone.index, node: nodeState.node, vmemmapBase: state.vmemmapBase)
                } catch let error as LinuxPerCPUReader.Unavailable {
                    notes.append("per-CPU lists of \(label) not checked: \(error)")
                    lists = []
                }
                perCPU[label] = lists
                for cpu in lists {
                    for problem in cpu.problems { add("list-links", 0, "cpu \(cpu.cpu) per-CPU \(problem)") }
                    if cpu.problems.isEmpty && cpu.count != cpu.walkedPages {
                        add("pcp-count", 0, "cpu \(cpu.cpu): pcp->count \(cpu.count), the lists hold \(cpu.walkedPages) pages")
                    }
                    for pfn in cpu.buddyPages { add("pcp-not-buddy", pfn, "cpu \(cpu.cpu): on a per-CPU list and PageBuddy") }
                }
            }
        }
        // SLUB: every cache's partial slabs and CPU slabs, object by object
        var slabs: Int?
        do {
            let slub = try linux.decodeSlub()
            if let issue = slub.listIssue { findings.append(.init(check: "slub-freelist", zone: "-", pfn: 0, detail: "the cache list is broken: \(issue)")) }
            for cache in slub.caches {
                for issue in cache.issues { findings.append(.init(check: "slub-freelist", zone: "-", pfn: 0, detail: "cache \(cache.name): \(issue)")) }
            }
            let result = try SlubChecker(linux: linux, state: state).check(slub)
            findings += result.findings
            notes += result.notes
            slabs = result.slabs
        } catch {
            notes.append("SLUB not checked: \(error)")
        }
        let order = Dictionary(uniqueKeysWithValues: checks.enumerated().map { ($1.name, $0) })
        findings.sort { (order[$0.check] ?? 99, $0.zone, $0.pfn) < (order[$1.check] ?? 99, $1.zone, $1.pfn) }
        return Report(findings: findings, notes: notes, state: state, states: states, perCPU: perCPU,
                      blocks: states.reduce(0) { $0 + $1.zones.reduce(0) { $0 + $1.blocks.count } }, slabs: slabs, cutShort: cutShort)
    }

    /// The name of migratetype `mt` as the guest calls it.
    public static func name(_ mt: Int, _ state: LinuxBuddyState) -> String {
        mt >= 0 && mt < state.migratetypeNames.count ? state.migratetypeNames[mt] : "MT\(mt)"
    }
}

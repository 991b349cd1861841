import AllocatorModel
import BundledChecks
import BundledState
import AllocatorView

// The JSON kmemscope prints with --json (schema in docs/json.md): every document has a
// `schemaVersion`; 64-bit addresses and PFNs are hex strings ("0x1a2b": jq and JavaScript
// lose integers above 2^53), enumerations are names, one object per check or entry.

/// A hex string for an address or PFN.

/// `verify --json`.
struct VerifyJSON: Encodable {
    struct CheckResult: Encodable {
        var name: String
        var summary: String
        var violations: Int
        var passed: Bool
    }
    struct ViolationJSON: Encodable {
        var check: String
        var zone: String?
        var cache: String?
        var segment: Int?
        var pfn: String?
        var expected: String
        var found: String
        var text: String
    }
    struct ReplayJSON: Encodable {
        /// Absent when the replay could not be fed (``verdict`` `no verdict`).
        var passed: Bool?
        /// `agrees`, `diverges` or `no verdict`.
        var verdict: String
        var operations: Int
        var illegalDivergences: Int
        var policyDivergences: Int
        var finalStateAgrees: Bool?
        /// The rule level (rules any buddy allocator keeps, judged on every operation).
        var ruleLevel: RuleLevelJSON
        var text: String
    }
    struct RuleLevelJSON: Encodable {
        /// False when the segments were too wide for the rule level's tables.
        var judged: Bool
        var operations: Int
        var broken: Int
        /// The first broken rules: sequence, frame (hex), rule.
        var first: [BrokenRuleJSON]
        /// The memory hot-add the rule level stopped at, if any.
        var stoppedAt: UInt64?
        /// Frames free in memory but not by the log, or the other way round (absent: not compared).
        var freeFramesDiffering: Int?
    }
    struct BrokenRuleJSON: Encodable {
        var sequence: UInt64
        var frame: String
        var rule: String
    }
    var schemaVersion = 1
    var sequence: UInt64
    /// Absent when there is no verdict (see ``verdict``).
    var passed: Bool?
    /// `passed`, `violations`, or `no verdict` (the checks passed but the replay could not be
    /// fed: the log ring no longer holds the entries it needs; exit status 2).
    var verdict: String
    var framesChecked: UInt64
    var checks: [CheckResult]
    var violations: [ViolationJSON]
    var replay: ReplayJSON?
    /// A kernel halted at its own BUG (issue 23): the BUG, the operation in progress, where each
    /// violation lies; `passed` is then false and `verdict` `violations`.
    var postMortem: PostMortemJSON? {
        didSet {
            guard postMortem != nil else { return }
            passed = false
            verdict = "violations"
        }
    }
    /// What the verdict covered and what it did not (issue 22, docs/checks.md).
    var covered: [String] = []
    var skipped: [Coverage.Skip] = []

    init(_ s: KernelSnapshot, _ r: VerifyReport, replay v: Replay.Verification? = nil) {
        sequence = s.sequence
        var unfed = false
        if let v, case .missing = v.replay.stop { unfed = true }
        let ok = r.passed && (v?.passed ?? true)
        passed = r.passed && unfed ? nil : ok
        verdict = r.passed && unfed ? "no verdict" : ok ? "passed" : "violations"
        framesChecked = r.framesChecked
        checks = Check.allCases.map { c in
            let n = r.counts[c, default: 0]
            return CheckResult(name: c.rawValue, summary: c.summary, violations: n, passed: n == 0)
        }
        violations = r.violations.map {
            ViolationJSON(check: $0.check.rawValue, zone: $0.zone, cache: $0.cache, segment: $0.segment, pfn: $0.pfn.map(hex),
                          expected: $0.expected, found: $0.found, text: $0.text)
        }
        replay = v.map {
            ReplayJSON(passed: unfed ? nil : $0.passed, verdict: unfed ? "no verdict" : $0.passed ? "agrees" : "diverges", operations: $0.replay.operations, illegalDivergences: $0.replay.illegalCount,
                       policyDivergences: $0.replay.policyCount, finalStateAgrees: $0.comparison?.matches,
                       ruleLevel: RuleLevelJSON(judged: $0.replay.rules.judged, operations: $0.replay.rules.operations, broken: $0.replay.rules.broken,
                                                first: $0.replay.rules.first.map { BrokenRuleJSON(sequence: $0.sequence, frame: hex($0.frame), rule: $0.rule) },
                                                stoppedAt: $0.replay.rules.stoppedAt, freeFramesDiffering: $0.ruleDifferences?.count),
                       text: $0.text)
        }
    }
}

/// `log --json`.
struct LogJSON: Encodable {
    struct Entry: Encodable {
        var sequence: UInt64
        var kind: String
        var status: String
        var parent: UInt64
        var order: Int
        var migratetype: String
        var zone: String
        var flags: Int
        var alignment: UInt64
        var size: UInt64
        var address: String
        var result: String
        var owner: String
        var text: String
    }
    var schemaVersion = 1
    var entries: [Entry]

    static let statuses = ["ok", "failed", "misuse", "corrupt"]
    static let migratetypes = ["unmovable", "movable"]
    static let zones = ["dma", "dma32", "any"]

    init(_ records: [OpLogRecord]) {
        entries = records.map { r in
            Entry(sequence: r.sequence, kind: r.kind?.name ?? "unknown-\(r.rawKind)",
                  status: Int(r.status) < Self.statuses.count ? Self.statuses[Int(r.status)] : "status-\(r.status)",
                  parent: r.parent, order: Int(r.order),
                  migratetype: Int(r.migratetype) < Self.migratetypes.count ? Self.migratetypes[Int(r.migratetype)] : "mt-\(r.migratetype)",
                  zone: Int(r.zone) < Self.zones.count ? Self.zones[Int(r.zone)] : "zone-\(r.zone)",
                  flags: Int(r.flags), alignment: r.alignment, size: r.size, address: hex(r.address),
                  result: hex(r.result), owner: hex(r.owner), text: r.text)
        }
    }
}

/// `zones --json`.
struct ZonesJSON: Encodable {
    struct Zone: Encodable {
        var name: String
        var startPFN: String
        var endPFN: String
        var spannedPages: UInt64
        var presentPages: UInt64
        var managedPages: UInt64
        var bootReservedPages: UInt64
        var reservedPages: UInt64
        var freePages: UInt64
        /// Frames on every CPU's per-CPU cache of the zone (the sum of `perCPU`'s counts).
        var perCPUPages: UInt64
        /// Each CPU's cache (the CPUs that came up, and any other that is not empty).
        var perCPU: [PerCPU]
        var allocatedPages: UInt64
        var watermarks: [String: UInt64]
        var segments: Int
        /// Free blocks per order, counted by walking the lists (buddyinfo).
        var freeBlocks: [UInt64]
    }
    struct PerCPU: Encodable {
        var cpu: Int
        var count: UInt64
        var high: UInt64
        var batch: UInt64
    }
    var schemaVersion = 1
    var sequence: UInt64
    var zones: [Zone]
    var brokenLists: [String]

    /// From the bundled kernel's view: the zones' own counters, each CPU's cache, and the
    /// blocks walked per order (every migratetype's list).
    init(_ view: AllocatorView) {
        sequence = view.sequence ?? 0
        zones = view.zones.map { z in
            Zone(name: z.name, startPFN: hex(z.startPFN), endPFN: hex(z.endPFN), spannedPages: z.spannedPages,
                 presentPages: z.presentPages, managedPages: z.managedPages, bootReservedPages: z.bootReservedPages ?? 0,
                 reservedPages: z.reservedPages ?? 0, freePages: z.freePages?.pages ?? 0,
                 perCPUPages: z.perCPU.reduce(UInt64(0)) { $0 &+ ($1.count?.pages ?? 0) },
                 perCPU: z.perCPU.map { PerCPU(cpu: $0.cpu, count: $0.count?.pages ?? 0, high: $0.high ?? 0, batch: $0.batch ?? 0) },
                 allocatedPages: z.allocatedPages ?? 0,
                 watermarks: ["min": z.watermarks?.min ?? 0, "low": z.watermarks?.low ?? 0, "high": z.watermarks?.high ?? 0],
                 segments: z.segmentCount ?? 0,
                 freeBlocks: z.freeAreas.map { $0.lists.reduce(UInt64(0)) { $0 &+ $1.walked } })
        }
        brokenLists = view.listBreaks.map(\.text)
    }
}

import AllocatorModel
import BundledChecks
import AllocatorView

/// `verify --json`'s `postMortem` object (docs/json.md): the BUG record, the operations in
/// progress and the frames they changed, each violation's place, and with --replay the
/// replay up to the operation before.
struct PostMortemJSON: Encodable {
    struct Bug: Encodable {
        var kind: String
        var code: UInt64
        var text: String
        var pfn: String?
        var sequence: UInt64
        var busy: UInt64
        var operationInProgress: Bool
        var rip: String?
        var haltedAtBugHalt: Bool?
    }
    struct Marked: Encodable {
        var text: String
        var attribution: String
    }
    struct ReplayBefore: Encodable {
        var through: UInt64
        var cleanBefore: Bool
        var differences: Int
        var byOperation: [String]
        var unexplained: [String]
        var listsAndCounters: [String]
        var text: String
    }
    var bug: Bug
    var operationsFrom: UInt64?
    var operationsThrough: UInt64?
    var changedFrames: Int
    var firstChangedFrames: [String]
    var violations: [Marked]
    var replay: ReplayBefore?

    init(_ p: PostMortem, _ report: VerifyReport, _ replayed: PostMortemReplay?) {
        let b = p.bug
        bug = Bug(kind: b.kind?.name ?? "kind-\(b.rawKind)", code: b.code, text: b.text, pfn: b.pfn.map(hex),
                  sequence: b.sequence, busy: b.busy, operationInProgress: b.operationInProgress,
                  rip: b.rip == 0 ? nil : hex(b.rip), haltedAtBugHalt: b.haltedAtBugHalt)
        operationsFrom = p.operations?.lowerBound
        operationsThrough = p.operations?.upperBound
        changedFrames = p.changedFrames.count
        firstChangedFrames = p.changedFrames.prefix(64).map(hex)
        violations = report.violations.map { Marked(text: $0.text, attribution: "\(p.attribution(of: $0))") }
        replay = replayed.map { r in
            let (by, other, lists) = r.split
            return ReplayBefore(through: r.through, cleanBefore: r.cleanBefore, differences: r.comparison?.count ?? 0,
                                byOperation: by.map(\.description), unexplained: other.map(\.description),
                                listsAndCounters: lists.map(\.description), text: r.text)
        }
    }
}

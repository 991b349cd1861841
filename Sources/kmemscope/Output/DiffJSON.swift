import BundledState
import AllocatorView

/// `kmemscope diff --json` (docs/json.md).
struct DiffJSON: Encodable {
    struct Zone: Encodable { var name: String; var freeBefore: UInt64; var freeAfter: UInt64; var orders: [Order] }
    struct Order: Encodable { var order: Int; var before: UInt64; var after: UInt64 }
    struct Cache: Encodable { var name: String; var inUseBefore: UInt64; var inUseAfter: UInt64; var slabsBefore: UInt64; var slabsAfter: UInt64 }
    struct State: Encodable { var flags: [String]; var order: Int; var migratetype: Int; var owner: String; var refcount: UInt32; var zone: Int; var segment: Int }
    struct Transition: Encodable { var from: String; var to: String; var frames: UInt64 }
    struct Run: Encodable {
        var pfn: String; var count: UInt64; var before: State?; var after: State
        var operations: [UInt64]; var lastSeq: UInt64; var explained: Bool
    }
    var schemaVersion = 1
    var before: String, after: String
    var sequenceBefore: UInt64, sequenceAfter: UInt64
    var missingSequences: [UInt64]?
    var zones: [Zone]
    var caches: [Cache]
    var transitions: [Transition]
    var changedFrames: UInt64
    var explained: Bool
    var runs: [Run]

    init(_ d: SnapshotDiff, before: String, after: String, flagNames: [(String, UInt32)]) {
        func state(_ s: SnapshotDiff.FrameState) -> State {
            State(flags: FrameReport.flagNames(s.flags, names: flagNames).split(separator: "|").map(String.init), order: Int(s.order),
                  migratetype: Int(s.migratetype), owner: hex(s.owner), refcount: s.refcount, zone: Int(s.zone), segment: Int(s.segment))
        }
        self.before = before
        self.after = after
        sequenceBefore = d.sequenceBefore
        sequenceAfter = d.sequenceAfter
        missingSequences = d.missing.map { [$0.lowerBound, $0.upperBound] }
        zones = d.zones.map { Zone(name: $0.name, freeBefore: $0.freeBefore, freeAfter: $0.freeAfter,
                                   orders: $0.orders.map { Order(order: $0.order, before: $0.before, after: $0.after) }) }
        caches = d.caches.map { Cache(name: $0.name, inUseBefore: $0.inUseBefore, inUseAfter: $0.inUseAfter, slabsBefore: $0.slabsBefore, slabsAfter: $0.slabsAfter) }
        transitions = d.transitions.map { Transition(from: $0.from, to: $0.to, frames: $0.frames) }
        changedFrames = d.changedFrames
        explained = d.explained
        runs = d.frames.map { Run(pfn: hex($0.pfn), count: $0.count, before: $0.before.map(state), after: state($0.after),
                                  operations: $0.operations, lastSeq: $0.lastSeq, explained: $0.explained) }
    }
}

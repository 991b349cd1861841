/// What any correct buddy allocator must do, whatever its policy — the rule level beside the
/// exact reference model (issue 20: "the model checks rules, not only a transcription").
///
/// `ModelState` is written from kernel/README.md at the level of the implementation (which list,
/// which block, list fronts, drain cursors), so it shares every choice with the kernel and can
/// only catch a difference of transcription: where both make the same mistake, a replay agrees.
/// `RuleModel` keeps nothing of the policy — one class per frame (free, allocated, reserved,
/// quarantined, unmanaged) and the order of each allocated block's head — and judges every
/// operation of the log against rules that hold for any buddy allocator:
/// - a block handed out (`allocate`, `allocateCount`, a claim, a reservation) was free, every
///   frame of it; it is aligned to its order (and to the alignment asked for), lies inside one
///   segment, in a zone the request allows;
/// - a block handed out without "watermarks ignored" left its zone at or above the `min`
///   watermark plus the lowmem reserve for the request's highest zone (the zone's free pages,
///   per-CPU frames included, before the operation ≥ min + reserve + 2^order: implied by the
///   contract's test on the buddy lists' count, whatever the pass);
/// - what is freed was allocated, as a block of that order at that head (`free`, the last
///   `put`, each piece of `freeCount`); what is unreserved was reserved (not quarantined);
/// - after the replay, the frames free in guest memory (buddy and per-CPU lists) are exactly
///   the frames the log left free (``differences(from:)``).
///
/// A replay runs it on every operation, diverging or not (``Replay``); it follows the kernel's
/// outcome, so one broken rule does not cascade. Memory hot-add changes the segments and
/// watermarks the rules are judged with: the rule level stops there and says so.
public struct RuleModel: Sendable {
    /// Class of a frame.
    enum FrameClass: UInt8 { case unmanaged = 0, free, allocated, reserved, quarantined }

    struct Span: Sendable {
        var start: UInt64
        var end: UInt64
        var zone: Int
    }

    struct ZoneRules: Sendable {
        var freePages: UInt64 = 0
        var watermarkMin: UInt64 = 0
        var lowmemReserve: [UInt64] = []
    }

    /// First PFN the tables cover.
    var base: UInt64 = 0
    /// `classes[pfn − base]`.
    var classes: [UInt8] = []
    /// `heads[pfn − base]`: 1 + the order of the allocated block whose head is pfn, 0 when none.
    var heads: [UInt8] = []
    var segments: [Span] = []
    var zones: [ZoneRules] = []
    /// Frames the start state held in two classes at once (free and allocated, say): the rules
    /// take them as not free.
    public private(set) var conflicts = 0
    /// The sequence of the memory hot-add the rules stopped at, if any.
    public internal(set) var stoppedAt: UInt64?

    /// The widest PFN range the tables cover (2^24 frames: 64 GiB, 32 MiB of tables).
    static let maxSpan: UInt64 = 1 << 24

    /// The rule level's view of `state`: each frame's class and the allocated heads' orders.
    /// Nil when the segments span more than ``maxSpan`` frames (the rules are then not judged).
    public init?(_ state: ModelState) {
        guard let low = state.segments.map(\.startPFN).min(), let high = state.segments.map(\.endPFN).max(), low < high,
              high - low <= Self.maxSpan else { return nil }
        base = low
        classes = Array(repeating: FrameClass.unmanaged.rawValue, count: Int(high - low))
        heads = Array(repeating: 0, count: Int(high - low))
        segments = state.segments.map { Span(start: $0.startPFN, end: $0.endPFN, zone: $0.zone) }
        zones = state.zones.map { ZoneRules(freePages: 0, watermarkMin: $0.watermarkMin, lowmemReserve: $0.lowmemReserve) }
        // In a segment and in no table: held as reserved (boot's own frames are outside segments).
        for s in segments where s.end > s.start { fill(s.start, s.end - s.start, .reserved) }
        var seen = Array(repeating: false, count: classes.count)
        func mark(_ p: UInt64, _ n: UInt64, _ c: FrameClass) {
            guard p >= base, p < base + UInt64(classes.count), n <= UInt64(classes.count) - (p - base) else { conflicts += 1; return }
            for i in Int(p - base)..<Int(p - base + n) {
                if seen[i] && classes[i] != c.rawValue {
                    conflicts += 1
                    if classes[i] == FrameClass.free.rawValue { classes[i] = c.rawValue }
                } else {
                    classes[i] = c.rawValue
                }
                seen[i] = true
            }
        }
        for (head, block) in state.freeBlocks where block.order >= 0 && block.order <= ModelState.maxOrder {
            mark(head, ModelState.pages(block.order), .free)
        }
        for (pfn, _) in state.cached { mark(pfn, 1, .free) }
        for (head, block) in state.allocated where block.order >= 0 && block.order <= ModelState.maxOrder {
            mark(head, ModelState.pages(block.order), .allocated)
            if let i = index(head) { heads[i] = UInt8(block.order + 1) }
        }
        for (pfn, frame) in state.reserved { mark(pfn, 1, frame.quarantined ? .quarantined : .reserved) }
        for s in segments where s.end > s.start && s.zone >= 0 && s.zone < zones.count {
            zones[s.zone].freePages += UInt64(classes[Int(s.start - base)..<Int(s.end - base)].lazy.filter { $0 == FrameClass.free.rawValue }.count)
        }
    }

    // MARK: frames

    func index(_ pfn: UInt64) -> Int? {
        pfn >= base && pfn - base < UInt64(classes.count) ? Int(pfn - base) : nil
    }

    func frameClass(_ pfn: UInt64) -> FrameClass {
        index(pfn).flatMap { FrameClass(rawValue: classes[$0]) } ?? .unmanaged
    }

    /// The segment holding every frame of `[pfn, pfn + count)`, if one does.
    func span(holding pfn: UInt64, count: UInt64) -> Span? {
        segments.first { pfn >= $0.start && pfn < $0.end && count <= $0.end - pfn }
    }

    /// Sets `[pfn, pfn + count)` (inside the tables) to `c`, keeping the zones' free counts.
    mutating func fill(_ pfn: UInt64, _ count: UInt64, _ c: FrameClass) {
        guard let i = index(pfn), count <= UInt64(classes.count - i) else { return }
        let end = pfn + count, free = FrameClass.free.rawValue
        for s in segments where s.start < end && pfn < s.end && s.zone >= 0 && s.zone < zones.count {
            for j in Int(max(s.start, pfn) - base)..<Int(min(s.end, end) - base) {
                let was = classes[j] == free
                if was && c != .free { zones[s.zone].freePages &-= 1 }
                if !was && c == .free { zones[s.zone].freePages &+= 1 }
            }
        }
        for j in i..<(i + Int(count)) { classes[j] = c.rawValue }
    }

    /// The first frame of `[pfn, pfn + count)` that is not of class `c`, if any.
    func firstNot(_ c: FrameClass, _ pfn: UInt64, _ count: UInt64) -> UInt64? {
        guard let i = index(pfn), count <= UInt64(classes.count - i) else { return pfn }
        return classes[i..<(i + Int(count))].firstIndex { $0 != c.rawValue }.map { base + UInt64($0) }
    }

    /// The PFNs where guest memory's free frames (buddy and per-CPU lists of `end`) and the
    /// rule level's differ (at most `limit`), with how many there are in all.
    public func differences(from end: ModelState, limit: Int = 8) -> (count: Int, first: [(pfn: UInt64, rules: String, memory: String)]) {
        var free = Array(repeating: false, count: classes.count)
        var outside = 0
        func markFree(_ p: UInt64, _ n: UInt64) {
            guard let i = index(p), n <= UInt64(classes.count - i) else { outside += 1; return }
            for j in i..<(i + Int(n)) { free[j] = true }
        }
        for (head, block) in end.freeBlocks where block.order >= 0 && block.order <= ModelState.maxOrder {
            markFree(head, ModelState.pages(block.order))
        }
        for (pfn, _) in end.cached { markFree(pfn, 1) }
        var count = outside
        var first: [(UInt64, String, String)] = []
        for j in 0..<classes.count where free[j] != (classes[j] == FrameClass.free.rawValue) {
            count += 1
            if first.count < limit {
                let c = FrameClass(rawValue: classes[j]) ?? .unmanaged
                first.append((base + UInt64(j), "\(c)", free[j] ? "free" : "not free"))
            }
        }
        return (count, first)
    }
}

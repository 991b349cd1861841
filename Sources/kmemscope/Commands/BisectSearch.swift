/// The binary search `bisect` runs over the stops a deterministic run can make (after any
/// workload operation, through `kmem_stop_seq`), for the first stop where verify fails.
///
/// `lo` is the last stop known clean, `hi` the first known failing; every stop point strictly
/// between them has a sequence ≤ `top`. A request for sequence `t` stops at the first stop
/// point ≥ `t`: clean moves `lo` up, failing moves `hi` down, and landing on `hi` itself says
/// there is no stop point in `[t, hi)`. It ends when `top ≤ lo`: the operations in `(lo, hi]`
/// are the first after which verify fails.
struct BisectSearch {
    /// What a stop found.
    enum Verdict { case clean, failing }

    private(set) var lo: UInt64
    private(set) var hi: UInt64?
    private(set) var top: UInt64 = 0
    /// The first stops to make before searching: `--lo` (if any), then `--hi` or the end of the run (nil).
    private var opening: [UInt64?]
    private let requestedLo: UInt64?
    /// True once a stop at `--lo` failed (the search then starts at the boot).
    private(set) var loWasNotClean = false

    init(lo: UInt64?, hi: UInt64?) {
        self.lo = 0
        requestedLo = lo
        opening = (lo.map { [$0] } ?? []) + [hi]
    }

    /// The sequence to stop at next (`.some(nil)`: the end of the run), or nil when done.
    var next: UInt64?? {
        if let first = opening.first { return .some(first) }
        guard hi != nil, top > lo else { return nil }
        return .some(lo + (top - lo + 1) / 2)
    }

    /// Whether a stop at `sequence` needs verifying (not when it is the known failing stop).
    func needsVerdict(at sequence: UInt64) -> Bool { hi.map { sequence < $0 } ?? true }

    /// Records the stop made for `requested` (from ``next``) at `sequence`, with its verdict
    /// (nil when ``needsVerdict(at:)`` said none was needed).
    mutating func record(requested: UInt64?, at sequence: UInt64, _ verdict: Verdict?) throws(BisectError) {
        if !opening.isEmpty {
            opening.removeFirst()
            let isLo = requestedLo != nil && requested == requestedLo && !opening.isEmpty
            switch verdict {
            case .clean?, nil: lo = sequence
            case .failing?:
                hi = sequence
                top = sequence &- 1
                if isLo { lo = 0; loWasNotClean = true; opening = [] }
            }
            return
        }
        guard let hi, let requested else { return }
        if sequence > hi { throw .nondeterministic(requested: requested, stopped: sequence, failing: hi) }
        if sequence == hi {
            top = requested &- 1
            return
        }
        switch verdict {
        case .clean?, nil: lo = sequence
        case .failing?:
            self.hi = sequence
            top = sequence &- 1
        }
    }

    /// True when the end of the run (or `--hi`) verified clean: nothing to bisect.
    var isClean: Bool { opening.isEmpty && hi == nil }
}

/// Why `bisect` cannot give a verdict.
enum BisectError: Error, CustomStringConvertible {
    case nondeterministic(requested: UInt64, stopped: UInt64, failing: UInt64)
    case noWorkload

    var description: String {
        switch self {
        case .nondeterministic(let requested, let stopped, let failing):
            return "a stop requested at seq \(requested) landed at seq \(stopped), after the failing stop at seq \(failing): the run is not deterministic (same seed, same memory, same kernel?)"
        case .noWorkload:
            return "bisect needs a workload to replay: --append must contain ops=N (N > 0), e.g. \"seed=1 ops=20000 phases=4\""
        }
    }
}

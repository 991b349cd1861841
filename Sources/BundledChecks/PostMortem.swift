import AllocatorView
import BundledState

/// A verify of a kernel halted at its own BUG: which operation was in progress, which frames it
/// had changed, and for each violation whether it lies in that operation's unfinished work or
/// in state no operation since touched (the corruption that stopped the kernel, or older).
public struct PostMortem: Sendable {
    /// What the kernel stopped on.
    public let bug: KernelBug
    /// The operations in progress when it halted (the top-level one the BUG is in and every
    /// operation nested in it), nil when the BUG is about no operation.
    public let operations: ClosedRange<UInt64>?
    /// Frames those operations changed (`FrameMeta.lastSeq` inside ``operations``), ascending.
    public let changedFrames: [UInt64]
    /// Segments and zones of those frames: whose lists and counters the operation may have left half changed.
    public let changedSegments: Set<Int>
    public let changedZones: Set<String>
    /// The log entries of ``operations`` that were written (nested ones that ended, or an
    /// operation that failed with the BUG).
    public let entries: [OpLogRecord]

    /// Most log entries looked at, back from the snapshot's sequence, to find where the
    /// operation in progress began (a guest log is untrusted: the walk is bounded).
    public static let logWindow = 256

    /// Where a violation lies with respect to the operation in progress.
    public enum Attribution: String, Sendable, Codable {
        /// On the frame the BUG names.
        case bugFrame = "the frame the BUG names"
        /// On a frame the operation in progress changed: maybe its own unfinished work.
        case changedByOperation = "a frame the operation in progress changed: may be its unfinished work"
        /// On a list or counter of a segment or zone the operation was changing.
        case operationLists = "a list or counter the operation in progress was changing: may be its unfinished work"
        /// Not touched by the operation in progress: state as it was before it.
        case before = "not touched by the operation in progress: wrong before it began"
    }

    /// `log`: the last entries of the ring up to the snapshot's sequence (oldest first), at
    /// least ``logWindow`` when there are that many.
    public init(bug: KernelBug, snapshot: KernelSnapshot, log: [OpLogRecord]) {
        self.bug = bug
        guard bug.sequence != 0, bug.sequence <= snapshot.sequence else {
            operations = nil
            changedFrames = []
            changedSegments = []
            changedZones = []
            entries = []
            return
        }
        // The top-level operation: just after the newest entry before the BUG's operation that
        // is a completed top-level one (parent 0, not failed with misuse or corruption).
        var root = bug.sequence
        for r in log.suffix(Self.logWindow).reversed() where r.sequence < bug.sequence {
            if r.parent == 0 && r.status != 2 && r.status != 3 { root = r.sequence + 1; break }
            root = min(root, r.sequence)
        }
        let range = root...max(root, snapshot.sequence)
        operations = range
        entries = log.filter { range.contains($0.sequence) }
        var frames: [UInt64] = []
        var segments = Set<Int>(), zones = Set<String>()
        let zoneNames = snapshot.zones.map(\.name)
        for pfn in 0..<UInt64(snapshot.frames.count) {
            guard let f = snapshot.frames[pfn], range.contains(f.lastSeq) else { continue }
            frames.append(pfn)
            segments.insert(Int(f.segment))
            if Int(f.zone) < zoneNames.count { zones.insert(zoneNames[Int(f.zone)]) }
        }
        changedFrames = frames
        changedSegments = segments
        changedZones = zones
    }

    /// Where violation `v` lies.
    public func attribution(of v: Violation) -> Attribution {
        if let pfn = v.pfn {
            if pfn == bug.pfn { return .bugFrame }
            if binarySearch(pfn) { return .changedByOperation }
        }
        let listLike: Set<Check> = [.freeListLinks, .freeListEntry, .freeListMembership, .counters, .perCPU, .unusedList, .stateFields, .tiling]
        if listLike.contains(v.check) {
            if let s = v.segment, changedSegments.contains(s) { return .operationLists }
            if v.segment == nil, let z = v.zone, changedZones.contains(z) { return .operationLists }
            if v.check == .stateFields && bug.operationInProgress { return .operationLists }
        }
        return .before
    }

    private func binarySearch(_ pfn: UInt64) -> Bool {
        var lo = 0, hi = changedFrames.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if changedFrames[mid] < pfn { lo = mid + 1 } else { hi = mid }
        }
        return lo < changedFrames.count && changedFrames[lo] == pfn
    }

    /// The lines verify prints before its checks: the BUG, the operation in progress, what it changed.
    public var header: [String] {
        var lines = [bug.summary]
        guard let operations else { return lines }
        let span = operations.lowerBound == operations.upperBound ? "operation \(operations.lowerBound)" : "operations \(operations.lowerBound)…\(operations.upperBound)"
        let shown = changedFrames.prefix(8).map(hexOrNone).joined(separator: ", ")
        lines.append((bug.operationInProgress ? "in progress at the halt: \(span) (\(entries.count) logged so far); "
                      : "the operation that failed: \(span) (\(entries.count) logged, each ended before the BUG reached the top); ")
                     + "\(changedFrames.count) frames changed by it\(changedFrames.isEmpty ? "" : ": " + shown + (changedFrames.count > 8 ? ", …" : ""))")
        for e in entries.prefix(8) { lines.append("  " + e.text) }
        return lines
    }

    /// The kernel's own caught violation, as verify counts it.
    public var caughtLine: String {
        "kernel-bug: the kernel's own check stopped it: \(bug.text)"
            + (bug.sequence != 0 ? " (operation \(bug.sequence))" : "")
    }

    /// Verify's violation lines, each marked with where it lies.
    public func lines(_ report: VerifyReport) -> [String] {
        report.violations.map { "\($0.text)  [\(attribution(of: $0).rawValue)]" }
    }
}

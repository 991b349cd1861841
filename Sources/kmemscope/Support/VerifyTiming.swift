import BundledState
import KernelSession

/// The line `verify --timing` prints: the phases' durations, the FrameMeta array's size and
/// the rate it was read at (the read phase's time, which also holds the bitmaps and slab pages).
enum VerifyTiming {
    static func text(source: String, snapshot: KernelSnapshot, attach: Duration, read: Duration, verify: Duration,
                     readUsage: ProcessUsage, verifyUsage: ProcessUsage) -> String {
        let bytes = snapshot.frames.count * snapshot.frames.layout.stride
        let mib = Double(bytes) / 1048576
        let seconds = Double(read.components.seconds) + Double(read.components.attoseconds) / 1e18
        let verifySeconds = Double(verify.components.seconds) + Double(verify.components.attoseconds) / 1e18
        let frames = max(snapshot.frames.count, 1)
        let mode = snapshot.frames.isStreamed
            ? " (streamed: read+decode is without FrameMeta, verify reads it in \(snapshot.frames.windowReads) windows)"
            : snapshot.frames.isLive ? " (FrameMeta checked in place in the file's mapping, no copy)" : ""
        return "timing: source \(source)\(mode), attach \(TimingLine.milliseconds(attach)) ms, read+decode \(TimingLine.milliseconds(read)) ms "
            + "(FrameMeta \(Int(mib.rounded())) MiB, \(Int((mib / max(seconds, 1e-9)).rounded())) MiB/s, \(readUsage.text)), "
            + "verify \(TimingLine.milliseconds(verify)) ms (\(Int((verifySeconds * 1e9 / Double(frames)).rounded())) ns/frame, \(frames) frames, \(verifyUsage.text), \(verifyUsage.cpuNanoseconds / frames) ns CPU/frame)"
    }
}

/// The timing layer around `verify`'s pipeline: when the session attached (the read's body
/// began) and when the read ended (the checks began), with the process's usage at each, so
/// that ``line(source:snapshot:)`` says how long each stage took.
final class StageClock {
    private let clock = ContinuousClock()
    private let start: ContinuousClock.Instant
    private var attachedAt: ContinuousClock.Instant
    private var readEndedAt: ContinuousClock.Instant
    private var usageAtAttach = ProcessUsage.now()
    private var usageAtReadEnd: ProcessUsage

    init() {
        start = clock.now
        attachedAt = start
        readEndedAt = start
        usageAtReadEnd = usageAtAttach
    }

    /// The source is open and the guest held: the read begins.
    func attached() {
        attachedAt = clock.now
        usageAtAttach = ProcessUsage.now()
    }

    /// The read is done: the checks begin.
    func readEnded() {
        readEndedAt = clock.now
        usageAtReadEnd = ProcessUsage.now()
    }

    /// `verify --timing`'s line, the checks ending now.
    func line(source: String, snapshot: KernelSnapshot) -> String {
        VerifyTiming.text(source: source, snapshot: snapshot, attach: attachedAt - start, read: readEndedAt - attachedAt,
                          verify: clock.now - readEndedAt, readUsage: usageAtReadEnd - usageAtAttach,
                          verifyUsage: ProcessUsage.now() - usageAtReadEnd)
    }
}

/// A progress line for long reads of guest memory: bytes read, rate and time left, redrawn in
/// place (`\r`) at most ten times a second once the reads have gone on for `delay` (one
/// second), and erased by ``finish()``. The rate is the last second's (reads change pace: a
/// pipelined array, then the op-log ring an entry at a time), time left is counted at it. Where the line goes is the caller's: the CLI gives
/// standard error, and only when it is a terminal.
///
/// Fed by ``ProgressMemory`` a megabyte at a time, never per packet. Not for concurrent use:
/// one thread reads, as a session does.
public final class ReadProgress: @unchecked Sendable {
    /// Writes a piece of the line (no newline): the text to draw, or the erasing sequence.
    public typealias Sink = (String) -> Void

    private let sink: Sink
    private let delay: Duration
    private let clock = ContinuousClock()
    private var start: ContinuousClock.Instant?
    private var lastDraw: ContinuousClock.Instant?
    /// Where the current rate's second began, and the rate of the last full one (nil: none yet
    /// since the start or the last ``expect(_:)``).
    private var sample: (at: ContinuousClock.Instant, bytes: UInt64)?
    private var recentRate: Double?
    /// Bytes added since the clock was last looked at (it is looked at every 64 KiB).
    private var unclocked = 0
    /// Bytes read since the first read after ``finish()``.
    public private(set) var bytes: UInt64 = 0
    /// Bytes the reads under way are expected to add up to (0: unknown).
    public private(set) var expected: UInt64 = 0
    /// Whether a line is on the screen now.
    public private(set) var isShown = false

    /// - Parameters:
    ///   - delay: how long reads go on before the line appears.
    ///   - sink: where the line is written.
    public init(delay: Duration = .seconds(1), sink: @escaping Sink) {
        self.delay = delay
        self.sink = sink
    }

    /// The next `count` bytes belong to one read: time left is counted to its end.
    public func expect(_ count: Int) {
        let (end, overflow) = bytes.addingReportingOverflow(UInt64(max(count, 0)))
        expected = overflow ? 0 : max(expected, end)
        // a new stretch of reads: its own pace, measured afresh
        sample = nil
        recentRate = nil
    }

    /// `count` more bytes were read; redraws the line when it is due.
    public func add(_ count: Int) {
        bytes &+= UInt64(max(count, 0))
        unclocked &+= max(count, 0)
        guard unclocked >= 1 << 16 || start == nil || sample == nil else { return }
        unclocked = 0
        let now = clock.now
        if start == nil { start = now }
        guard let sampled = sample else { sample = (now, bytes); return }
        if now - sampled.at >= .seconds(1) {
            recentRate = Double(bytes &- sampled.bytes) / Self.seconds(now - sampled.at)
            sample = (now, bytes)
        }
        guard let start, now - start >= delay else { return }
        if let lastDraw, now - lastDraw < .milliseconds(100) { return }
        lastDraw = now
        isShown = true
        sink("\r" + Self.line(bytes: bytes, expected: expected, elapsed: now - start, recentRate: recentRate) + "\u{1B}[K")
    }

    /// Erases the line, if one was drawn, and starts counting afresh for the next reads.
    public func finish() {
        if isShown { sink("\r\u{1B}[K") }
        isShown = false
        start = nil
        lastDraw = nil
        sample = nil
        recentRate = nil
        unclocked = 0
        bytes = 0
        expected = 0
    }

    /// The line's text: `reading guest memory: 48.0 of 96.0 MiB, 61.2 MiB/s, 1 s left`
    /// (without "of" and "left" when the total is not known or already passed). The rate is
    /// `recentRate` when known, else the average since the start; time left is said only at a
    /// known recent rate (not in the first second of a stretch of reads).
    public static func line(bytes: UInt64, expected: UInt64, elapsed: Duration, recentRate: Double? = nil) -> String {
        let seconds = Self.seconds(elapsed)
        let rate = recentRate ?? (seconds > 0 ? Double(bytes) / seconds : 0)
        var text = "reading guest memory: " + mebibytes(bytes)
        let knowsTotal = expected > bytes
        if knowsTotal { text += " of " + mebibytes(expected) }
        text += " MiB, " + mebibytes(UInt64(min(rate, 1e15))) + " MiB/s"
        if knowsTotal, let rate = recentRate, rate > 0 {
            let left = Double(expected - bytes) / rate
            text += left < 1 ? ", <1 s left" : ", \(Int(min(left, 1e9).rounded(.up))) s left"
        }
        return text
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    /// `n` bytes in MiB with one decimal.
    static func mebibytes(_ n: UInt64) -> String {
        let tenths = n / (1 << 20 / 10)
        return "\(tenths / 10).\(tenths % 10)"
    }
}

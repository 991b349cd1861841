/// A progress line for long reads of guest memory: bytes read, rate and time left, redrawn in
/// place (`\r`) at most ten times a second once the reads have gone on for `delay` (one
/// second), and erased by ``finish()``. Where the line goes is the caller's: the CLI gives
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
    }

    /// `count` more bytes were read; redraws the line when it is due.
    public func add(_ count: Int) {
        let now = clock.now
        if start == nil { start = now }
        bytes &+= UInt64(max(count, 0))
        guard let start, now - start >= delay else { return }
        if let lastDraw, now - lastDraw < .milliseconds(100) { return }
        lastDraw = now
        isShown = true
        sink("\r" + Self.line(bytes: bytes, expected: expected, elapsed: now - start) + "\u{1B}[K")
    }

    /// Erases the line, if one was drawn, and starts counting afresh for the next reads.
    public func finish() {
        if isShown { sink("\r\u{1B}[K") }
        isShown = false
        start = nil
        lastDraw = nil
        bytes = 0
        expected = 0
    }

    /// The line's text: `reading guest memory: 48.0 of 96.0 MiB, 61.2 MiB/s, 1 s left`
    /// (without "of" and "left" when the total is not known or already passed).
    public static func line(bytes: UInt64, expected: UInt64, elapsed: Duration) -> String {
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rate = seconds > 0 ? Double(bytes) / seconds : 0
        var text = "reading guest memory: " + mebibytes(bytes)
        let knowsTotal = expected > bytes
        if knowsTotal { text += " of " + mebibytes(expected) }
        text += " MiB, " + mebibytes(UInt64(min(rate, 1e15))) + " MiB/s"
        if knowsTotal && rate > 0 {
            let left = Double(expected - bytes) / rate
            text += left < 1 ? ", <1 s left" : ", \(Int(min(left, 1e9).rounded(.up))) s left"
        }
        return text
    }

    /// `n` bytes in MiB with one decimal.
    static func mebibytes(_ n: UInt64) -> String {
        let tenths = n / (1 << 20 / 10)
        return "\(tenths / 10).\(tenths % 10)"
    }
}

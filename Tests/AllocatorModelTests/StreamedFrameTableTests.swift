import BundledChecks
import BundledState
import Testing

/// A streamed FrameMeta table (windows read on demand into a small cache) gives the verifier
/// exactly what the whole array gives: the same violations, in the same order.
@Suite("Streamed frame table")
struct StreamedFrameTableTests {
    /// `s` with its frames served from 3-frame windows in 2 slots (every walk thrashes).
    static func streamed(_ s: KernelSnapshot, windowFrames: Int = 3, slots: Int = 2) -> (KernelSnapshot, () -> Int) {
        var t = s
        let bytes = s.frames.bytes
        var reads = 0
        t.frames = FrameTable(layout: s.frames.layout, count: s.frames.count, windowFrames: windowFrames, cachedWindows: slots) { offset, buffer in
            reads += 1
            bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + buffer.count)])) }
        }
        return (t, { reads })
    }

    static func corrupted() -> [KernelSnapshot] {
        var cycle = VerifierTests.Frames(); cycle.next[8] = 8
        var coalescible = VerifierTests.Frames()
        coalescible.flags[12] = 0b1 | 1 << 10; coalescible.refcount[12] = 0
        for i in 13..<16 { coalescible.flags[i] = 0b1 }
        var interior = VerifierTests.Frames(); interior.flags[3] |= 1 << 10; interior.refcount[5] = 2
        return [VerifierTests.snapshot(), VerifierTests.snapshot(cycle), VerifierTests.snapshot(coalescible),
                VerifierTests.snapshot(interior), VerifierTests.snapshot(heads: [7: 0], counts: [7: 1]),
                BitmapVerifierTests.snapshot(parityFlip: (2, 1)), BitmapVerifierTests.snapshot(allocFlip: 13),
                BitmapVerifierTests.snapshot(tag: 0)]
    }

    @Test func sameReportAsTheWholeArray() {
        for (i, s) in Self.corrupted().enumerated() {
            let whole = Verifier(s).run()
            let (t, reads) = Self.streamed(s)
            #expect(t.frames.isStreamed && t.frames.bytes.isEmpty)
            let report = Verifier(t).run()
            #expect(report.text == whole.text, "snapshot \(i)")
            #expect(report.counts == whole.counts, "snapshot \(i)")
            #expect(reads() > 0)
            #expect(t.frames.readFailure == nil)
        }
    }

    @Test func anUnreadableWindowIsKept() {
        struct Gone: Error {}
        var s = VerifierTests.snapshot()
        s.frames = FrameTable(layout: s.frames.layout, count: 16, windowFrames: 4, cachedWindows: 1) { _, _ in throw Gone() }
        _ = Verifier(s).run()
        #expect(s.frames.readFailure is Gone)
    }
}

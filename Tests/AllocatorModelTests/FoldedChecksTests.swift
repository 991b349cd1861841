import BundledChecks
import BundledState
import Testing

/// What the tiling walk now notes on its one pass (frame-fields suspects, the large heap's
/// frames) and the parity expected from the free heads alone: the same violations as the
/// checks that read every frame again, and a table borrowed in place checks like an array.
@Suite("Checks folded into the tiling walk")
struct FoldedChecksTests {
    /// The hand-made 16-frame snapshot with bytes patched: (offset in the record, value, width) per frame.
    static func patched(_ s: KernelSnapshot, _ patches: [(pfn: Int, offset: Int, value: UInt64, width: Int)]) -> KernelSnapshot {
        var bytes = s.frames.bytes
        for p in patches {
            for i in 0..<p.width { bytes[p.pfn * 64 + p.offset + i] = UInt8(truncatingIfNeeded: p.value >> (8 * i)) }
        }
        var t = s
        t.frames = FrameTable(layout: s.frames.layout, bytes: bytes)
        return t
    }

    @Test func frameFieldsInsideASegmentAreStillNamed() {
        // zone 1 on an interior frame of the free order-3 block, lastSeq past the sequence on
        // the allocated head and on an interior frame of it
        let s = Self.patched(VerifierTests.snapshot(), [(5, 22, 1, 1), (12, 40, 9, 8), (14, 40, 2, 8)])
        let r = Verifier(s).run()
        #expect(r.failedChecks == [.frameFields])
        #expect(r.counts[.frameFields] == 3)
        #expect(r.violations.map(\.pfn) == [5, 12, 14])
    }

    @Test func largeHeapCountsComeFromTheTiling() {
        let owner: UInt64 = 0xfeed
        var s = Self.patched(VerifierTests.snapshot(), (12..<16).map { ($0, 32, owner, 8) })
        var fields = StateFields()
        fields.largeOwner = owner
        fields.largeAllocations = 1
        fields.largePages = 4
        s.stateFields = fields
        #expect(Verifier(s).run().passed, "\(Verifier(s).run().text)")
        s.stateFields?.largePages = 3
        s.stateFields?.largeAllocations = 2
        let r = Verifier(s).run()
        #expect(r.failedChecks == [.stateFields])
        #expect(r.counts[.stateFields] == 2)
    }

    @Test func aBorrowedTableChecksLikeAnArray() {
        for (i, s) in StreamedFrameTableTests.corrupted().enumerated() {
            let bytes = s.frames.bytes
            let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 8)
            defer { copy.deallocate() }
            bytes.withUnsafeBytes { copy.copyMemory(from: $0) }
            final class Owner {}
            var t = s
            t.frames = FrameTable(layout: s.frames.layout, borrowing: UnsafeRawBufferPointer(copy), owner: Owner(), live: true)
            #expect(t.frames.isLive && !s.frames.isLive && !t.frames.isStreamed)
            #expect(t.frames.bytes == bytes)
            let whole = Verifier(s).run(), borrowed = Verifier(t).run()
            #expect(borrowed.text == whole.text, "snapshot \(i)")
            #expect(borrowed.counts == whole.counts, "snapshot \(i)")
        }
    }
}

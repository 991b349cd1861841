/// A set of frame numbers below a bound, one bit each: what the verifier marks frames in
/// instead of `Set<UInt64>` (a 32 GiB guest's 8 M frames take 1 MiB).
struct FrameBitmap: Equatable {
    private(set) var words: [UInt64]
    /// Members.
    private(set) var count = 0

    /// An empty set of numbers in `0..<bits`.
    init(bits: Int) { words = [UInt64](repeating: 0, count: (max(bits, 0) + 63) / 64) }

    /// Adds `i`; false when it was already there (or is out of range).
    @inline(__always)
    mutating func insert(_ i: UInt64) -> Bool {
        let w = Int(truncatingIfNeeded: i >> 6)
        guard i >> 6 < UInt64(words.count) else { return false }
        let bit: UInt64 = 1 << (i & 63)
        if words[w] & bit != 0 { return false }
        words[w] |= bit
        count += 1
        return true
    }

    /// Adds `range` (bounded by the bitmap's size).
    mutating func insert(_ range: Range<UInt64>) {
        var i = range.lowerBound
        while i < range.upperBound {
            if i & 63 == 0, range.upperBound - i >= 64, i >> 6 < UInt64(words.count) {
                let w = Int(i >> 6)
                count += 64 - words[w].nonzeroBitCount
                words[w] = ~0
                i += 64
            } else {
                _ = insert(i)
                i += 1
            }
        }
    }

    @inline(__always)
    func contains(_ i: UInt64) -> Bool {
        guard i >> 6 < UInt64(words.count) else { return false }
        return words[Int(i >> 6)] & (1 << (i & 63)) != 0
    }
}

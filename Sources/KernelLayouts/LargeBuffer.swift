/// Allocation of the one large buffer a snapshot holds (the FrameMeta array: 512 MiB for a
/// 32 GiB guest): not zeroed before the read fills it (a memset of 512 MiB is ~0.1 s here).
/// Transparent huge pages (`MADV_HUGEPAGE`) were tried and left out: with THP defrag on
/// `madvise` the faults compact memory synchronously and the read's time varied 3× run to run.
enum LargeBuffer {
    /// Below this, a plain array.
    static let threshold = 4 << 20

    /// An array of `count` bytes that `fill` writes completely (or throws).
    static func array(count: Int, _ fill: (UnsafeMutableRawBufferPointer) throws -> Void) throws -> [UInt8] {
        guard count >= threshold else {
            var out = [UInt8](repeating: 0, count: count)
            try out.withUnsafeMutableBytes(fill)
            return out
        }
        var failure: (any Error)?
        let out = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            do {
                try fill(raw)
            } catch {
                failure = error
                raw.initializeMemory(as: UInt8.self, repeating: 0)
            }
            initialized = count
        }
        if let failure { throw failure }
        return out
    }
}

import Glibc

/// The one large buffer a snapshot holds (the FrameMeta array: 528 MiB for a 32 GiB guest):
/// an anonymous mapping faulted in ahead (`MAP_POPULATE`), so the read that fills it takes no
/// page fault per 4 KiB (131,072 of them at 32G) and nothing zeroes it twice. Unmapped when the
/// last table that borrows it goes. Transparent huge pages (`MADV_HUGEPAGE`) were tried and
/// left out: with THP defrag on `madvise` the faults compact memory synchronously and the
/// read's time varied 3× run to run.
public final class LargeBuffer: @unchecked Sendable {
    /// Below this, a plain allocation (a mapping's set-up is not worth it).
    static let threshold = 4 << 20

    /// The buffer's bytes (written by `fill` in ``filled(count:_:)``).
    public let bytes: UnsafeMutableRawBufferPointer
    private let mapped: Bool

    private init(count: Int) {
        if count >= Self.threshold,
           let p = mmap(nil, count, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0),
           p != MAP_FAILED {
            bytes = UnsafeMutableRawBufferPointer(start: p, count: count)
            mapped = true
        } else {
            let b = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, 1), alignment: 64)
            b.initializeMemory(as: UInt8.self, repeating: 0)
            bytes = UnsafeMutableRawBufferPointer(rebasing: b[0..<count])
            mapped = false
        }
    }

    deinit {
        if mapped { munmap(bytes.baseAddress, bytes.count) } else { bytes.deallocate() }
    }

    /// A buffer of `count` bytes that `fill` writes completely (or throws).
    public static func filled(count: Int, _ fill: (UnsafeMutableRawBufferPointer) throws -> Void) throws -> LargeBuffer {
        let b = LargeBuffer(count: count)
        try fill(b.bytes)
        return b
    }
}

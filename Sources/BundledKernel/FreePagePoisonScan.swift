import BundledState
import KernelLayouts

/// Reads the contents of every free or per-CPU-cached frame that carries POISON_FILL and finds
/// the pages whose poison (`POISON_BYTE`, 0xAA) was overwritten — a write after free that the
/// kernel would only find when it hands the page out (kernel/README.md, Page poisoning).
/// Runs of such frames are read in chunks of up to 256 pages through the given memory source
/// (fast through the QEMU process or the RAM file; through the stub it is as slow as reading
/// every free page). Bounded by the frame table.
public struct FreePagePoisonScan {
    public var info: KernelInfo
    public var memory: GuestMemory

    public init(info: KernelInfo, memory: GuestMemory) {
        self.info = info
        self.memory = memory
    }

    /// The damaged pages (at most `limit`) and how many pages were read.
    public func scan(_ s: KernelSnapshot, limit: Int = 1024) throws -> (damage: [PoisonDamage], pagesRead: Int) {
        let pageSize = Int(s.pageSize)
        guard pageSize > 0, pageSize <= 1 << 16, pageSize % 8 == 0, s.flags.poisonFill != 0 else { return ([], 0) }
        let directMap = try info.number("DIRECT_MAP")
        let poison = UInt8(truncatingIfNeeded: (try? info.number("PAGE_POISON")) ?? 0xAA)
        let f = s.flags
        func poisoned(_ p: UInt64) -> Bool {
            guard let m = s.frames[p] else { return false }
            return m.flags & f.poisonFill != 0 && m.flags & (f.free | f.pcp) != 0
        }
        var damage: [PoisonDamage] = []
        var read = 0
        let count = UInt64(s.frames.count)
        let chunk: UInt64 = 256
        var buffer = [UInt8](repeating: 0, count: Int(chunk) * pageSize)
        var p: UInt64 = 0
        while p < count && damage.count < limit {
            guard poisoned(p) else { p += 1; continue }
            var end = p + 1
            while end < count && end - p < chunk && poisoned(end) { end += 1 }
            let n = Int(end - p)
            let (offset, overflow) = p.multipliedReportingOverflow(by: UInt64(pageSize))
            guard !overflow else { break }
            try buffer.withUnsafeMutableBytes { b in
                try memory.read(.kernelVirtual, at: directMap &+ offset, into: UnsafeMutableRawBufferPointer(rebasing: b[0..<(n * pageSize)]))
            }
            let word = UInt64(poison) &* 0x0101_0101_0101_0101
            buffer.withUnsafeBytes { raw in
                for i in 0..<n {
                    let base = i * pageSize
                    var w = 0
                    // Eight bytes at a time; the first differing word is searched byte by byte.
                    while w < pageSize && raw.loadUnaligned(fromByteOffset: base + w, as: UInt64.self) == word { w += 8 }
                    guard w < pageSize else { continue }
                    var j = w
                    while j < min(w + 8, pageSize) && raw[base + j] == poison { j += 1 }
                    damage.append(PoisonDamage(pfn: p + UInt64(i), offset: j, found: raw[base + j]))
                }
            }
            read += n
            p = end
        }
        return (damage, read)
    }
}

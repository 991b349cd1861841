/// Watermarks, lowmem reserve and per-CPU batch sizes, computed as Linux does at boot.
///
/// - `min_free_kbytes = sqrt(16 × managed KiB)`, clamped to [128, 65536], shared among
///   zones in proportion to their managed pages; `low = min × 5/4`, `high = min × 3/2`.
/// - `lowmemReserve[j]` of zone i (j > i) is the managed pages of zones i+1…j divided by
///   the ratio 256 (DMA, DMA32) or 32 (Normal), as `sysctl_lowmem_reserve_ratio`.
/// - per-CPU `batch = clamp(managed / 4096, 1, 31)`, `high = 6 × batch`.
extension PageAllocator {
    /// Sets every zone's watermarks, lowmem reserve and per-CPU sizes from managed pages.
    public func computeWatermarks() {
        var total: UInt64 = 0
        for z in 0..<ZoneKind.count { total &+= zone(z).pointee.managedPages }
        let kb = total &* (Kmem.pageSize / 1024)
        let minKB = min(max(isqrt(kb &* 16), 128), 65536)
        let minPages = minKB / (Kmem.pageSize / 1024)
        let ratios: InlineArray<3, UInt64> = [256, 256, 32]
        for z in 0..<ZoneKind.count {
            let zp = zone(z)
            let managed = zp.pointee.managedPages
            let share = total == 0 ? 0 : minPages &* managed / total
            zp.pointee.watermarkMin = share
            zp.pointee.watermarkLow = share &+ share / 4
            zp.pointee.watermarkHigh = share &+ share / 2
            var sum: UInt64 = 0
            for j in 0..<ZoneKind.count {
                if j > z { sum &+= zone(j).pointee.managedPages }
                zp.pointee.lowmemReserve[j] = j > z ? sum / ratios[z] : 0
            }
            let batch = min(max(managed / 4096, 1), 31)
            for c in 0..<Kmem.maxCPUs {  // every CPU's cache of the zone: the same parameters
                perCPU(z, cpu: c).pointee.batch = managed == 0 ? 0 : batch
                perCPU(z, cpu: c).pointee.high = managed == 0 ? 0 : batch &* 6
            }
        }
    }
}

/// Integer square root (floor), without floating point.
func isqrt(_ n: UInt64) -> UInt64 {
    if n < 2 { return n }
    var x = n
    var y = (x &+ 1) / 2
    while y < x {
        x = y
        y = (x &+ n / x) / 2
    }
    return x
}

/// Debug page poisoning (boot option): free pages are filled with `Kmem.poisonByte` and
/// checked when allocated again, as Linux's page_poison and Zircon's checker do.
extension PageAllocator {
    /// Fills frame `pfn` with the poison pattern.
    func fillPoison(_ pfn: UInt64) {
        let p = virt(pfn << Kmem.pageShift).assumingMemoryBound(to: UInt64.self)
        var i = 0
        while i < Int(Kmem.pageSize / 8) { p[i] = 0xAAAA_AAAA_AAAA_AAAA; i += 1 }
    }

    /// Checks that frame `pfn` still holds the poison pattern.
    func checkPoison(_ pfn: UInt64) throws(KmemError) {
        let p = virt(pfn << Kmem.pageShift).assumingMemoryBound(to: UInt64.self)
        var i = 0
        while i < Int(Kmem.pageSize / 8) {
            let w = p[i]
            if w != 0xAAAA_AAAA_AAAA_AAAA {
                var b = 0
                while b < 8 {
                    let byte = UInt8(truncatingIfNeeded: w >> UInt64(b * 8))
                    if byte != Kmem.poisonByte {
                        throw .poisonOverwritten(pfn: pfn, offset: UInt64(i * 8 + b), found: byte)
                    }
                    b += 1
                }
            }
            i += 1
        }
    }
}

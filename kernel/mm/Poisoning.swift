/// Debug page poisoning (boot option): free pages are filled with `Kmem.poisonByte` and
/// checked when allocated again, as Linux's page_poison and Zircon's checker do.
extension PageAllocator {
    /// Fills frame `pfn` with the poison pattern.
    func fillPoison(_ pfn: PFN) {
        let p = virt(pfn).assumingMemoryBound(to: UInt64.self)
        var i = 0
        while i < Int(Kmem.pageSize / 8) { p[i] = Kmem.poisonWord; i += 1 }
    }

    /// The first byte of frame `pfn` that no longer holds the poison pattern: its offset and
    /// value, or nil when the pattern is intact.
    func poisonDamage(_ pfn: PFN) -> (offset: UInt64, found: UInt8)? {
        let p = virt(pfn).assumingMemoryBound(to: UInt64.self)
        var i = 0
        while i < Int(Kmem.pageSize / 8) {
            let w = p[i]
            if w != Kmem.poisonWord {
                var b = 0
                while b < 8 {
                    let byte = UInt8(truncatingIfNeeded: w >> UInt64(b * 8))
                    if byte != Kmem.poisonByte { return (UInt64(i * 8 + b), byte) }
                    b += 1
                }
            }
            i += 1
        }
        return nil
    }

    /// Page poisoning's check before frames are handed out (kernel/README.md, "Page
    /// poisoning"): the first of `count` frames from `pfn` whose pattern was overwritten is
    /// quarantined. Returns whether one was (the caller then starts again or fails).
    func quarantineIfPoisoned(_ pfn: PFN, _ count: UInt64, _ held: borrowing ZoneLocksHeld) throws(KmemError) -> Bool {
        guard poisoning else { return false }
        var i: UInt64 = 0
        while i < count {
            let p = pfn &+ i
            if meta(p).pointee.state.contains(.poisonFill), let damage = poisonDamage(p) {
                try quarantine(p, offset: damage.offset, found: damage.found, held)
                return true
            }
            i &+= 1
        }
        return false
    }

    /// Takes a free or cached frame whose poison was overwritten out of use for good, as
    /// its own logged operation nested in the one that found it: RESERVED|POISONED, owner
    /// `Kmem.quarantineOwner`, counted as reserved.
    func quarantine(_ pfn: PFN, offset: UInt64, found: UInt8, _ held: borrowing ZoneLocksHeld) throws(KmemError) {
        var args = OpArguments()
        args.address = pfn.raw
        args.size = offset
        args.owner = Kmem.quarantineOwner
        try logged(.quarantine, args, { (_) throws(KmemError) in
            guard try claimFrame(pfn, held) else { throw .corruptedFrame(pfn: pfn, flags: meta(pfn).pointee.flags) }
            reserveClaimed(pfn, owner: Kmem.quarantineOwner, add: .poisoned)
        }, outcome: { (.ok, UInt64(found)) })
    }
}

import Synchronization

/// The per-CPU cache locks (kernel/README.md "Per-CPU cache locks"): every `PerCPUPages` has its
/// own ticket lock (`PerCPUPages.lock`, Linux's `pcp->lock`). A cache hit takes only its own
/// CPU's lock of one zone, with interrupts off, never a zone lock; every other change to a cache
/// is made by a holder of the zone's lock, who takes the cache's lock after it (zone locks
/// lowest first, then the caches' locks, each zone's lowest CPU first).
///
/// Why this cannot deadlock: a cache's lock is held either by a hit, which waits for no lock
/// while it holds it, or by the holder of that zone's lock, of which there is one at a time. So
/// whoever waits for a cache's lock waits for a hit (which ends) or for the one zone-lock holder
/// (which, holding the zone lock, waits for no other cache lock of that zone than hits hold).

/// Proof that the running CPU holds, with interrupts off, the lock of one per-CPU cache (its
/// own): made only by ``PageAllocator/withLocalPerCPULock(_:_:_:)`` and lent to its closure.
public struct PerCPULockHeld: ~Copyable {
    /// The cache whose lock is held.
    public let cache: UnsafeMutablePointer<PerCPUPages>

    fileprivate init(_ cache: UnsafeMutablePointer<PerCPUPages>) { self.cache = cache }
}

/// What a hit read of the zone locks before it looked at zone state: each zone's `owner` word
/// (`next` was equal: the lock was free). Unchanged when the hit takes its sequence number, no
/// operation held the zone in between, so the zone state the hit read is exactly the state
/// after every operation on that zone numbered below it (a seqcount read, the zone lock's
/// tickets as the count).
struct ZoneLockStamps {
    var owners: InlineArray<3, UInt32> = .init(repeating: 0)
    var mask: UInt32 = 0
}

extension PageAllocator {
    /// The lock word of a per-CPU cache (`PerCPUPages.lock`, in the entry's own memory).
    @inline(__always)
    public func perCPULockWord(_ pcp: UnsafeMutablePointer<PerCPUPages>) -> UnsafeMutablePointer<TicketLockWord> {
        Self.address(of: &pcp.pointee.lock)
    }

    /// Runs `body` holding the running CPU's cache of zone `z`'s lock, with interrupts off (a
    /// cache hit). Nothing else is locked; the caller counts the section in `busy`.
    @inline(__always)
    func withLocalPerCPULock<R>(_ z: Int, _ token: borrowing IrqDisabledToken,
                                _ body: (borrowing PerCPULockHeld) -> R) -> R {
        let pcp = perCPU(z, cpu: currentCPU)
        let lock = TicketLock(perCPULockWord(pcp))
        lock.lock(token)
        defer { lock.unlock(token) }
        return body(PerCPULockHeld(pcp))
    }

    /// Takes, after the zone locks of `zones`, the per-CPU caches' locks a zone section needs:
    /// in each zone (lowest first) the running CPU's cache, or, with `everyCPU` (a claim of a
    /// frame that may sit on any CPU's list, hot-add), every CPU's cache in CPU order.
    @inline(__always)
    func lockPerCPU(_ zones: UInt32, everyCPU: Bool, _ token: borrowing IrqDisabledToken) {
        var z = 0
        while z < ZoneKind.count {
            if zones & (1 << UInt32(z)) != 0 {
                if everyCPU {
                    for c in 0..<Kmem.maxCPUs { TicketLock(perCPULockWord(perCPU(z, cpu: c))).lock(token) }
                } else {
                    TicketLock(perCPULockWord(perCPU(z, cpu: currentCPU))).lock(token)
                }
            }
            z += 1
        }
    }

    /// Releases what ``lockPerCPU(_:everyCPU:_:)`` took, in the reverse order.
    @inline(__always)
    func unlockPerCPU(_ zones: UInt32, everyCPU: Bool, _ token: borrowing IrqDisabledToken) {
        var z = ZoneKind.count &- 1
        while z >= 0 {
            if zones & (1 << UInt32(z)) != 0 {
                if everyCPU {
                    var c = Kmem.maxCPUs &- 1
                    while c >= 0 { TicketLock(perCPULockWord(perCPU(z, cpu: c))).unlock(token); c -= 1 }
                } else {
                    TicketLock(perCPULockWord(perCPU(z, cpu: currentCPU))).unlock(token)
                }
            }
            z -= 1
        }
    }

    /// The `next` and `owner` words of zone `z`'s lock, read atomically (each).
    @inline(__always)
    func zoneLockWords(_ z: Int) -> (next: UInt32, owner: UInt32) {
        let raw = UnsafeMutableRawPointer(zoneLockWord(z))
        let owner = raw.advanced(by: 4).assumingMemoryBound(to: Atomic<UInt32>.self).pointee.load(ordering: .acquiring)
        let next = raw.assumingMemoryBound(to: Atomic<UInt32>.self).pointee.load(ordering: .acquiring)
        return (next, owner)
    }

    /// Adds zone `z` to `stamps`: false when its lock is held (the hit cannot read it now).
    @inline(__always)
    func stamp(_ stamps: inout ZoneLockStamps, _ z: Int) -> Bool {
        let w = zoneLockWords(z)
        guard w.next == w.owner else { return false }
        stamps.owners[z] = w.owner
        stamps.mask |= 1 << UInt32(z)
        return true
    }

    /// Whether every zone in `stamps` is still free with the same tickets.
    @inline(__always)
    func stampsHold(_ stamps: ZoneLockStamps) -> Bool {
        var z = 0
        while z < ZoneKind.count {
            if stamps.mask & (1 << UInt32(z)) != 0 {
                let w = zoneLockWords(z)
                if w.next != stamps.owners[z] || w.owner != stamps.owners[z] { return false }
            }
            z += 1
        }
        return true
    }

    /// The hit's sequence number, taken only while `stamps` hold: the sequence word is read,
    /// the stamps checked, and the number taken by `lock cmpxchg` from exactly that value
    /// (again when another CPU took one in between). `nil` (no number taken) when a zone lock
    /// was taken since the stamps: the zone state the hit read may be out of sequence order.
    ///
    /// Why that orders the hit: an operation on a stamped zone numbered below the hit took its
    /// number holding that zone's lock before the `cmpxchg`, and the lock was free, with the same
    /// tickets, from the stamps to after the sequence read; so it had released the lock, its
    /// work done, before the stamps. One numbered above took its number after the `cmpxchg`
    /// and changes state only after that (every operation takes its number before its first
    /// change), so after the hit's reads.
    @inline(__always)
    func sequenceWhile(_ stamps: ZoneLockStamps) -> UInt64? {
        let word = atomicWord(Self.address(of: &state.pointee.sequence))
        atomicMemoryFence(ordering: .acquiring)  // the zone reads stay before what follows
        while true {
            let s = word.pointee.load(ordering: .acquiring)
            guard stampsHold(stamps) else { return nil }
            if word.pointee.compareExchange(expected: s, desired: s &+ 1, ordering: .sequentiallyConsistent).exchanged {
                return s &+ 1
            }
        }
    }
}

/// A lock per zone (kernel/README.md, "Zone locks"): every operation that changes a zone's state
/// holds that zone's ``TicketLock`` (`Zone.lock`) with interrupts off, from before it takes its
/// sequence number until after it wrote its log entry. An operation that may touch several
/// zones (an allocation falls back to lower zones and drains them) holds all of them, taken in
/// zone order, lowest first, so two CPUs taking overlapping sets cannot deadlock.
///
/// The functions that change zone state (`allocateUnlogged`, `freeUnlogged`, `drainUnlogged`,
/// `freeToBuddy`, `claimFrame`, the per-CPU fast paths, …) take a ``ZoneLocksHeld``, which only
/// ``PageAllocator/withZoneLocks(_:everyCPU:_:)`` makes: a caller cannot reach them without the locks.

/// Proof that the running CPU holds, with interrupts off, the locks of a set of zones and,
/// after them, its own per-CPU caches' locks in those zones (every CPU's, for a claim; as
/// strat9's `IrqDisabledToken`, one level up): made only by
/// ``PageAllocator/withZoneLocks(_:everyCPU:_:)`` and lent to its closure, `~Copyable` and only
/// ever borrowed, so it cannot outlive the locks.
public struct ZoneLocksHeld: ~Copyable {
    /// Bit z set: zone z's lock is held.
    public let zones: UInt32
    /// Every CPU's cache lock in those zones is held, not only the running CPU's (a claim may
    /// take a frame off any CPU's list).
    public let everyCPU: Bool

    fileprivate init(_ zones: UInt32, everyCPU: Bool) { self.zones = zones; self.everyCPU = everyCPU }

    /// Whether zone `z`'s lock is among those held.
    @inline(__always)
    public func covers(_ z: Int) -> Bool { z >= 0 && z < ZoneKind.count && zones & (1 << UInt32(z)) != 0 }
}

extension PageAllocator {
    /// Every zone (an operation that may touch any: hot-add, a frame outside the zones).
    @inline(__always) static var allZones: UInt32 { (1 << UInt32(ZoneKind.count)) &- 1 }

    /// The lock word of zone `z` (`Zone.lock`, in the zone's own memory).
    @inline(__always)
    public func zoneLockWord(_ z: Int) -> UnsafeMutablePointer<TicketLockWord> {
        Self.address(of: &zone(z).pointee.lock)
    }

    @inline(__always)
    static func address(of field: UnsafeMutablePointer<TicketLockWord>) -> UnsafeMutablePointer<TicketLockWord> { field }

    /// The zones from `first`'s to `last`'s (by the zone limits, `zoneIndex(of:)`: zones are ordered by PFN), `first`'s alone when
    /// `last` lies below it.
    @inline(__always)
    func zoneMask(_ first: PFN, through last: PFN) -> UInt32 {
        let a = zoneIndex(of: first)
        let b = max(a, zoneIndex(of: last))
        return ((1 << UInt32(b &+ 1)) &- 1) & ~((1 << UInt32(a)) &- 1)
    }

    /// The zones of `count` frames from `start` (a count of 0 or one that wraps: `start`'s zone).
    @inline(__always)
    func zoneMask(_ start: PFN, count: UInt64) -> UInt32 {
        guard count != 0, start.raw <= UInt64.max &- count else { return zoneMask(start, through: start) }
        return zoneMask(start, through: start &+ (count &- 1))
    }

    /// Zones 0 through `highest` (what an allocation may fall back to and drain).
    @inline(__always)
    func zoneMask(upTo highest: Int) -> UInt32 {
        let h = min(max(highest, 0), ZoneKind.count &- 1)
        return (1 << UInt32(h &+ 1)) &- 1
    }

    /// Runs `body` holding the locks of the zones in `mask` (bit z = zone z) with interrupts
    /// off: taken lowest zone first, then the running CPU's per-CPU cache lock in each of those
    /// zones (with `everyCPU`, every CPU's: a claim), released in the reverse order after `body`
    /// returns or throws (kernel/README.md "Per-CPU cache locks"). Not reentrant: an operation
    /// nested in one that holds locks (a quarantine in an allocation) runs under its parent's
    /// proof.
    ///
    /// The section counts in `KmemState.busy` from before the locks are taken until after they
    /// are released, so a debugger never finds `busy` at 0 with a lock held, and `kmem_op_end`
    /// (called when `busy` returns to 0) is reached with every lock free.
    @inline(__always)
    func withZoneLocks<R>(_ mask: UInt32, everyCPU: Bool = false,
                          _ body: (borrowing ZoneLocksHeld) throws(KmemError) -> R) throws(KmemError) -> R {
        let zones = mask & Self.allZones
        let op = cpuOperation
        enterBusy(op)
        defer { leaveBusy(op) }
        return try withInterruptsDisabled { (token: borrowing IrqDisabledToken) throws(KmemError) -> R in
            var z = 0
            while z < ZoneKind.count {
                if zones & (1 << UInt32(z)) != 0 { TicketLock(zoneLockWord(z)).lock(token) }
                z += 1
            }
            lockPerCPU(zones, everyCPU: everyCPU, token)
            defer {
                unlockPerCPU(zones, everyCPU: everyCPU, token)
                var u = ZoneKind.count &- 1
                while u >= 0 {
                    if zones & (1 << UInt32(u)) != 0 { TicketLock(zoneLockWord(u)).unlock(token) }
                    u -= 1
                }
            }
            return try body(ZoneLocksHeld(zones, everyCPU: everyCPU))
        }
    }
}

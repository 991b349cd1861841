import KernelHarness
import Testing
@testable import KernelMM

/// A cache hit holds only its own CPU's cache lock and reads zone state under the zone locks'
/// tickets (kernel/README.md "Per-CPU cache locks"): it takes its sequence number only while
/// the zone locks it stamped are free with the same tickets, and otherwise leaves the request
/// to the general path with nothing changed and no number used.
@Suite("Per-CPU cache locks")
struct PerCPULockTests {
    /// A warm cache: CPU 1's Movable list in the highest zone holds frames.
    func warmArena() throws -> HostArena {
        let a = try HostArena()
        let cpu = a.allocator.onCPU(1)
        let p = try #require(try cpu.allocate(AllocationRequest(order: 0, migratetype: .movable)))
        try cpu.free(p, order: 0)
        return a
    }

    @Test func aHitTakesNoZoneLockAndOneCacheLock() throws {
        let a = try warmArena()
        let pa = a.allocator.onCPU(1)
        let zones = (0..<ZoneKind.count).map { pa.zoneLockWord($0).pointee.next }
        let caches = (0..<ZoneKind.count).map { pa.perCPULockWord(pa.perCPU($0, cpu: 1)).pointee.owner }
        let seq = pa.state.pointee.sequence
        let p = try #require(pa.allocatePerCPUHit(AllocationRequest(order: 0, migratetype: .movable)))
        #expect(pa.state.pointee.sequence == seq + 1)
        #expect((0..<ZoneKind.count).map { pa.zoneLockWord($0).pointee.next } == zones, "no zone lock taken")
        let z = pa.zoneIndex(of: p)
        for c in 0..<ZoneKind.count {
            let taken = pa.perCPULockWord(pa.perCPU(c, cpu: 1)).pointee.owner &- caches[c]
            #expect(taken == (c == z ? 1 : 0), "zone \(c): its own cache lock of the frame's zone taken once, no other")
        }
        #expect(!TicketLock(pa.perCPULockWord(pa.perCPU(z, cpu: 1))).isLocked)
    }

    @Test func aHeldZoneLockSendsTheHitToTheGeneralPath() throws {
        let a = try warmArena()
        let pa = a.allocator.onCPU(1)
        let before = Array(UnsafeRawBufferPointer(start: a.base, count: a.bytes))
        // another CPU holds every zone's lock (a ticket taken, not served)
        for z in 0..<ZoneKind.count { pa.zoneLockWord(z).pointee.next &+= 1 }
        #expect(pa.allocatePerCPUHit(AllocationRequest(order: 0, migratetype: .movable)) == nil)
        for z in 0..<ZoneKind.count { pa.zoneLockWord(z).pointee.next &-= 1 }
        // nothing changed but the hit's own cache lock's tickets (none taken: it stopped first)
        #expect(Array(UnsafeRawBufferPointer(start: a.base, count: a.bytes)) == before)
    }

    @Test func aZoneLockTakenSinceTheStampsRefusesTheSequence() throws {
        let a = try warmArena()
        let pa = a.allocator.onCPU(1)
        var stamps = ZoneLockStamps()
        #expect(pa.stamp(&stamps, 1))
        let seq = pa.state.pointee.sequence
        // another CPU took zone 1's lock and released it since the stamps
        pa.zoneLockWord(1).pointee.next &+= 1
        pa.zoneLockWord(1).pointee.owner &+= 1
        #expect(pa.sequenceWhile(stamps) == nil)
        #expect(pa.state.pointee.sequence == seq, "no number used")
        var fresh = ZoneLockStamps()
        #expect(pa.stamp(&fresh, 1))
        #expect(pa.sequenceWhile(fresh) == seq + 1)
    }
}

import KernelHarness
import Testing
@testable import KernelMM

/// The lock per zone (kernel/mm/ZoneLock.swift, kernel/README.md "Zone locks"): its published
/// layout, the locks an operation holds, and every lock free again between operations.
@Suite("Zone locks")
struct ZoneLockTests {
    /// `writeZoneLockLayout` measures what `MemoryLayout` says, and the lock is Zone's last field.
    @Test func layoutMatchesMemoryLayout() throws {
        let a = try HostArena()
        var s = TextCollector()
        a.allocator.writeZoneLockLayout(to: &s)
        var d: [String: String] = [:]
        for line in s.text.split(separator: "\n") {
            let kv = line.split(separator: "=", maxSplits: 1)
            d[String(kv[0])] = String(kv[1])
        }
        #expect(d["OFFSET(Zone.lock)"] == "\(MemoryLayout<Zone>.offset(of: \Zone.lock)!)")
        #expect(MemoryLayout<Zone>.offset(of: \Zone.lock)! + MemoryLayout<TicketLockWord>.size == MemoryLayout<Zone>.size)
        #expect(d["SIZE(TicketLockWord)"] == "\(MemoryLayout<TicketLockWord>.size)")
        #expect(d["OFFSET(TicketLockWord.next)"] == "\(MemoryLayout<TicketLockWord>.offset(of: \.next)!)")
        #expect(d["OFFSET(TicketLockWord.owner)"] == "\(MemoryLayout<TicketLockWord>.offset(of: \.owner)!)")
    }

    /// Which zones an operation locks: an allocation every zone it may fall back to, a frame's
    /// operation its zone, a range every zone it spans.
    @Test func masks() throws {
        let arena = try HostArena()  // kept alive: the allocator's state lives in its memory
        defer { withExtendedLifetime(arena) {} }
        let pa = arena.allocator
        #expect(pa.zoneMask(upTo: 0) == 0b001 && pa.zoneMask(upTo: 2) == 0b111)
        let dma32 = PFN(pa.state.pointee.dma32StartPFN)
        #expect(pa.zoneMask(dma32 &- 1, through: dma32 &- 1) == 0b001)
        #expect(pa.zoneMask(dma32, through: dma32) == 0b010)
        #expect(pa.zoneMask(dma32 &- 1, count: 2) == 0b011)
        #expect(pa.zoneMask(dma32, count: 0) == 0b010)
    }

    /// Inside `withZoneLocks` the named zones' locks are held (and only those); after it, and
    /// after every operation (also one that throws), all are free.
    @Test func heldInsideFreeAfter() throws {
        let arena = try HostArena()  // kept alive: the allocator's state lives in its memory
        defer { withExtendedLifetime(arena) {} }
        let pa = arena.allocator
        func held() -> [Bool] { (0..<ZoneKind.count).map { TicketLock(pa.zoneLockWord($0)).isLocked } }
        try pa.withZoneLocks(0b011) { (proof: borrowing ZoneLocksHeld) throws(KmemError) in
            #expect(held() == [true, true, false])
            #expect(proof.covers(0) && proof.covers(1) && !proof.covers(2))
        }
        #expect(held() == [false, false, false])
        var live: [PFN] = []
        for order in [0, 0, 3, 5, 0] {
            if let p = try pa.allocate(AllocationRequest(order: order, migratetype: .movable)) { live.append(p) }
            #expect(held() == [false, false, false])
        }
        #expect(throws: KmemError.self) { try pa.free(live[2], order: 4) }  // wrong order: misuse
        #expect(held() == [false, false, false])
        for (p, order) in zip(live, [0, 0, 3, 5, 0]) { try pa.free(p, order: order) }
        try pa.drainPerCPU(pa.zone(1), all: true)
        #expect(held() == [false, false, false])
        #expect(pa.selfCheck().passed)
    }
}

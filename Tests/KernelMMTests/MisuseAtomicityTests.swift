import KernelHarness
import Testing
@testable import KernelMM

/// Errors change nothing (kernel/README.md): after every misuse throw, the arena's bytes are
/// exactly what they were, except the sequence number and the operation's own log entry;
/// the self-check passes; and the entry says `misuse`.
@Suite("Misuse changes nothing")
struct MisuseAtomicityTests {
    /// An arena with some of everything: blocks of several orders, cached frames, slab
    /// objects, a large heap block, a reservation, a freed object (for double frees).
    final class Scene {
        let arena: HostArena
        var pa: PageAllocator { arena.allocator }
        let block: PFN           // an allocated order-2 block
        let cached: PFN          // a frame on a per-CPU list
        let free: PFN            // a free buddy head
        let object: UInt64       // a live slab object
        let freedObject: UInt64  // a freed slab object whose slab lives on
        let large: UInt64        // a large heap allocation
        let reserved: PFN = 0x700
        let shared: PFN          // an order-1 block with two references

        init(poison: Bool) throws {
            arena = try HostArena(poison: poison)
            let pa = arena.allocator
            block = try #require(try pa.allocate(AllocationRequest(order: 2)))
            cached = try #require(try pa.allocate(AllocationRequest(order: 0)))
            try pa.free(cached, order: 0)
            let f = try #require(try pa.allocate(AllocationRequest(order: 3, migratetype: .movable)))
            try pa.free(f, order: 3)
            free = f
            object = try pa.kmalloc(size: 64)
            freedObject = try pa.kmalloc(size: 64)
            try pa.kfree(freedObject)
            large = try pa.kmalloc(size: 10_000)
            #expect(try pa.reserveRange(start: reserved, count: 2))
            shared = try #require(try pa.allocate(AllocationRequest(order: 1)))
            try pa.get(shared)
        }

        var slabPFN: PFN { PFN((object - pa.state.pointee.directMapOffset) >> 12) }
        var largePFN: PFN { PFN((large - pa.state.pointee.directMapOffset) >> 12) }
    }

    /// One misuse: a name, and the call that must throw.
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let call: @Sendable (Scene) throws -> Void
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "allocate invalid order") { s in _ = try s.pa.allocate(AllocationRequest(order: 12)) },
        Case(name: "allocate negative order") { s in _ = try s.pa.allocate(AllocationRequest(order: -1)) },
        Case(name: "allocate alignment 0") { s in _ = try s.pa.allocate(AllocationRequest(order: 1, alignment: 0)) },
        Case(name: "allocate alignment 3") { s in _ = try s.pa.allocate(AllocationRequest(order: 1, alignment: 3)) },
        Case(name: "free invalid order") { s in try s.pa.free(s.block, order: 12) },
        Case(name: "free in a hole") { s in try s.pa.free(0x600, order: 0) },
        Case(name: "free past the end") { s in try s.pa.free(0x1800, order: 0) },
        Case(name: "free far past the end") { s in try s.pa.free(PFN(1 << 40), order: 0) },
        Case(name: "free firmware frame") { s in try s.pa.free(0x10, order: 0) },
        Case(name: "free kernel image") { s in try s.pa.free(0x100, order: 0) },
        Case(name: "free reserved frame") { s in try s.pa.free(s.reserved, order: 0) },
        Case(name: "double free of a free block") { s in try s.pa.free(s.free, order: 3) },
        Case(name: "double free of a cached frame") { s in try s.pa.free(s.cached, order: 0) },
        Case(name: "free of a frame inside a block") { s in try s.pa.free(s.block &+ 1, order: 0) },
        Case(name: "free with a smaller order") { s in try s.pa.free(s.block, order: 1) },
        Case(name: "free with a larger order") { s in try s.pa.free(s.block, order: 3) },
        Case(name: "free of a slab page") { s in try s.pa.free(s.slabPFN, order: 0) },
        Case(name: "free of a large heap block") { s in try s.pa.free(s.largePFN, order: 2) },
        Case(name: "allocateFrame outside") { s in _ = try s.pa.allocateFrame(0x650) },
        Case(name: "reserve 0 frames") { s in _ = try s.pa.reserveRange(start: 0x800, count: 0) },
        Case(name: "reserve a range that wraps") { s in _ = try s.pa.reserveRange(start: PFN(.max - 1), count: 4) },
        Case(name: "reserve across a hole") { s in _ = try s.pa.reserveRange(start: 0x5FE, count: 4) },
        Case(name: "kmalloc alignment 0") { s in _ = try s.pa.kmalloc(size: 8, alignment: 0) },
        Case(name: "kmalloc alignment 24") { s in _ = try s.pa.kmalloc(size: 8, alignment: 24) },
        Case(name: "kfree of a non-heap address") { s in try s.pa.kfree(0x1234) },
        Case(name: "kfree of an allocated page") { s in try s.pa.kfree(s.pa.state.pointee.directMapOffset + s.block.address.raw) },
        Case(name: "kfree inside an object") { s in try s.pa.kfree(s.object + 8) },
        Case(name: "kfree of a free object") { s in try s.pa.kfree(s.freedObject) },
        Case(name: "kfree inside a large block") { s in try s.pa.kfree(s.large + 4096) },
        Case(name: "get of a free block") { s in _ = try s.pa.get(s.free) },
        Case(name: "get of an interior frame") { s in _ = try s.pa.get(s.block &+ 1) },
        Case(name: "get of a slab page") { s in _ = try s.pa.get(s.slabPFN) },
        Case(name: "put of a large heap block") { s in _ = try s.pa.put(s.largePFN) },
        Case(name: "put of a cached frame") { s in _ = try s.pa.put(s.cached) },
        Case(name: "free of a shared block") { s in try s.pa.free(s.shared, order: 1) },
        Case(name: "allocateCount of 0") { s in _ = try s.pa.allocateCount(0) },
        Case(name: "allocateCount of 2049") { s in _ = try s.pa.allocateCount(2049) },
        Case(name: "freeCount that does not match") { s in try s.pa.freeCount(s.block, count: 3) },
        Case(name: "freeCount of a free block") { s in try s.pa.freeCount(s.free, count: 8) },
        Case(name: "unreserve of a free frame") { s in try s.pa.unreserve(start: s.free, count: 1) },
        Case(name: "unreserve past the reservation") { s in try s.pa.unreserve(start: s.reserved, count: 3) },
        Case(name: "unreserve of a boot reservation") { s in try s.pa.unreserve(start: 0x100, count: 1) },
        Case(name: "addMemory over managed memory") { s in try s.pa.addMemory(start: 0x700, count: 0x10) },
        Case(name: "addMemory of a hole") { s in try s.pa.addMemory(start: 0x600, count: 0x10) },
        Case(name: "addMemory past the metadata") { s in try s.pa.addMemory(start: 0x1800, count: 0x10) },
    ]

    @Test(arguments: cases, [false, true])
    func misuseChangesNothing(_ c: Case, poison: Bool) throws {
        let s = try Scene(poison: poison)
        let a = s.arena
        #expect(a.check().passed, "\(a.check().text)")
        let before = Array(UnsafeRawBufferPointer(start: a.base, count: a.bytes))
        let seq = a.allocator.state.pointee.sequence
        var threw: KmemError?
        do { try c.call(s) } catch let e as KmemError { threw = e }
        let error = try #require(threw, "\(c.name) did not throw")
        #expect(!error.isCorruption, "\(c.name): \(error) is misuse, not corruption")
        #expect(a.allocator.state.pointee.sequence == seq + 1, "one operation, nothing nested")
        #expect(a.allocator.state.pointee.busy == 0)
        let entry = try #require(a.allocator.logEntry(seq + 1))
        #expect(entry.status == OpStatus.misuse.rawValue)
        // every byte but the sequence number and that log entry
        let statePtr = UnsafeRawPointer(a.allocator.state)
        let seqOffset = statePtr - UnsafeRawPointer(a.base) + 8
        let log = UnsafeRawPointer(bitPattern: UInt(a.allocator.state.pointee.opLog))!
        let entryOffset = log - UnsafeRawPointer(a.base) + Int((seq + 1) % a.allocator.state.pointee.opLogCapacity) * 64
        let after = UnsafeRawBufferPointer(start: a.base, count: a.bytes)
        // and the zone locks', the per-CPU cache locks' and the heap lock's ticket words, which
        // every operation (every kmalloc and kfree) advances (each lock free again)
        let pcpLocks = (0..<ZoneKind.count).flatMap { z in
            (0..<Kmem.maxCPUs).map { UnsafeRawPointer(a.allocator.perCPULockWord(a.allocator.perCPU(z, cpu: $0))) - UnsafeRawPointer(a.base) }
        }
        let locks = (0..<ZoneKind.count).map { UnsafeRawPointer(a.allocator.zoneLockWord($0)) - UnsafeRawPointer(a.base) }
            + [UnsafeRawPointer(a.allocator.heapLockWord) - UnsafeRawPointer(a.base)] + pcpLocks
        for z in 0..<ZoneKind.count { #expect(!TicketLock(a.allocator.zoneLockWord(z)).isLocked, "zone \(z)'s lock free") }
        for z in 0..<ZoneKind.count {
            for c in 0..<Kmem.maxCPUs { #expect(!TicketLock(a.allocator.perCPULockWord(a.allocator.perCPU(z, cpu: c))).isLocked) }
        }
        #expect(!TicketLock(a.allocator.heapLockWord).isLocked, "the heap lock free")
        var changed: [Int] = []
        for i in 0..<a.bytes where before[i] != after[i] {
            if (seqOffset..<(seqOffset + 8)).contains(i) || (entryOffset..<(entryOffset + 64)).contains(i) { continue }
            if locks.contains(where: { ($0..<($0 + MemoryLayout<TicketLockWord>.size)).contains(i) }) { continue }
            changed.append(i)
            if changed.count > 8 { break }
        }
        #expect(changed.isEmpty, "\(c.name) changed bytes at \(changed.map { "0x" + String($0, radix: 16) })")
        #expect(a.check().passed, "\(a.check().text)")
    }
}

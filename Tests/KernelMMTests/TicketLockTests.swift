import Foundation
import KernelHarness
import KernelMM
import Synchronization
import Testing

/// The kernel's ticket spinlock (`kernel/mm/TicketLock.swift`) under real host threads: mutual
/// exclusion (no lost update of a plain counter, never two holders at once), the lock free and
/// its words consistent afterwards, FIFO order, and `tryLock`.
@Suite("Ticket lock", .serialized)
struct TicketLockTests {
    /// Shared state the threads touch only under the lock (plain memory on purpose).
    final class Shared: @unchecked Sendable {
        let word = UnsafeMutablePointer<TicketLockWord>.allocate(capacity: 1)
        var counter = 0
        var inside = 0
        var overlaps = 0
        var order: [Int] = []
        init() { word.initialize(to: TicketLockWord()) }
        deinit { word.deallocate() }
    }


    @Test(arguments: [2, 4, 8])
    func threadsNeverHoldItTogetherAndLoseNoUpdate(threads: Int) {
        let s = Shared()
        let rounds = 5_000
        HostThreads.run(threads) { _ in
            let lock = TicketLock(s.word)
            for _ in 0..<rounds {
                withInterruptsDisabled { token in
                    lock.withLock(token) {
                        s.inside += 1
                        if s.inside != 1 { s.overlaps += 1 }
                        let c = s.counter      // a read-modify-write with a window in it
                        s.counter = c + 1
                        s.inside -= 1
                    }
                }
            }
        }
        #expect(s.counter == threads * rounds)
        #expect(s.overlaps == 0)
        let lock = TicketLock(s.word)
        #expect(!lock.isLocked)
        #expect(s.word.pointee.next == UInt32(threads * rounds) && s.word.pointee.owner == s.word.pointee.next)
    }

    /// Tickets are served in the order they were taken: while the main thread holds the lock,
    /// threads take tickets one after another (each waits until the previous one's ticket is
    /// visible in `next`), and they get the lock in that order.
    @Test func waitersAreServedInTicketOrder() {
        let s = Shared()
        let lock = TicketLock(s.word)
        let waiters = 4
        let held = withInterruptsDisabled { token in lock.lock(token) }
        #expect(held == 0)
        let done = DispatchSemaphore(value: 0)
        for t in 0..<waiters {
            let thread = Thread {
                withInterruptsDisabled { token in
                    let ticket = lock.lock(token)
                    s.order.append(Int(ticket))
                    lock.unlock(token)
                }
                done.signal()
            }
            thread.start()
            // wait until this thread has its ticket before starting the next
            let deadline = Date().addingTimeInterval(30)
            // read as the lock reads it (atomically): the waiters change it meanwhile
            let next = UnsafeMutableRawPointer(s.word).assumingMemoryBound(to: Atomic<UInt32>.self)
            while next.pointee.load(ordering: .acquiring) != UInt32(t + 2) && Date() < deadline { usleep(100) }
            #expect(next.pointee.load(ordering: .acquiring) == UInt32(t + 2), "waiter \(t) took a ticket")
        }
        #expect(lock.isLocked)
        withInterruptsDisabled { token in lock.unlock(token) }
        for _ in 0..<waiters { done.wait() }
        #expect(s.order == [1, 2, 3, 4])
        #expect(!lock.isLocked)
    }

    @Test func tryLockTakesOnlyAFreeLockAndTakesNoTicketOtherwise() {
        let s = Shared()
        let lock = TicketLock(s.word)
        // (#expect cannot capture the ~Copyable token: the results are taken first)
        withInterruptsDisabled { token in
            let first = lock.tryLock(token)
            #expect(first)
            #expect(lock.isLocked)
            let second = lock.tryLock(token)
            #expect(!second)
            #expect(s.word.pointee.next == 1, "a failed tryLock took no ticket")
            lock.unlock(token)
            #expect(!lock.isLocked)
            let third = lock.tryLock(token)
            #expect(third)
            lock.unlock(token)
        }
        #expect(s.word.pointee.next == 2 && s.word.pointee.owner == 2)
    }

    /// The words wrap: a lock whose counters are about to overflow still works.
    @Test func ticketsWrapAround() {
        let s = Shared()
        s.word.pointee.next = UInt32.max - 1
        s.word.pointee.owner = UInt32.max - 1
        let rounds = 1000
        HostThreads.run(4) { _ in
            let lock = TicketLock(s.word)
            for _ in 0..<rounds { withInterruptsDisabled { token in lock.withLock(token) { s.counter += 1 } } }
        }
        #expect(s.counter == 4 * rounds)
        #expect(s.word.pointee.next == UInt32.max &- 1 &+ UInt32(4 * rounds) && s.word.pointee.owner == s.word.pointee.next)
    }
}

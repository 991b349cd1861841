import Synchronization
#if !KMEM_KERNEL && canImport(Glibc)
import Glibc
#endif
#if KMEM_KERNEL
/// boot.S: one `pause`.
@_extern(c, "kmem_spin_pause")
func kmemSpinPause()
#endif

/// A ticket spinlock's state: two 32-bit words in plain memory, so a structure can embed it at
/// a fixed offset and a debugger can read it. `next` is the next ticket to hand out, `owner`
/// the ticket now served; the lock is free when they are equal, and `next − owner` is the
/// holder plus the waiters. Both start at 0 (all-zero memory is a free lock).
public struct TicketLockWord: Sendable {
    public var next: UInt32
    public var owner: UInt32
    public init() { next = 0; owner = 0 }
}

/// A ticket spinlock on a ``TicketLockWord`` in memory: FIFO (CPUs get the lock in the order
/// they asked), one `lock xadd` to ask, plain loads to wait, one store to hand over. Built on
/// the Synchronization module's `Atomic<UInt32>` (which Embedded Swift compiles for
/// x86_64-unknown-none-elf to `lock xadd` / `lock cmpxchg`, no runtime calls): each word is
/// viewed in place as an `Atomic<UInt32>`, which has `UInt32`'s size and alignment.
///
/// Every entry takes an ``IrqDisabledToken``: the lock is only taken with interrupts off, so an
/// interrupt on the same CPU can never spin on a lock its own CPU holds.
public struct TicketLock: @unchecked Sendable {
    /// The lock's words.
    public let word: UnsafeMutablePointer<TicketLockWord>

    public init(_ word: UnsafeMutablePointer<TicketLockWord>) { self.word = word }

    private var next: UnsafeMutablePointer<Atomic<UInt32>> {
        UnsafeMutableRawPointer(word).assumingMemoryBound(to: Atomic<UInt32>.self)
    }
    private var owner: UnsafeMutablePointer<Atomic<UInt32>> {
        (UnsafeMutableRawPointer(word) + 4).assumingMemoryBound(to: Atomic<UInt32>.self)
    }

    /// Takes a ticket and spins until it is served. Returns the ticket.
    @discardableResult
    public func lock(_ token: borrowing IrqDisabledToken) -> UInt32 {
        let ticket = next.pointee.wrappingAdd(1, ordering: .relaxed).oldValue
        var spins = 0
        while owner.pointee.load(ordering: .acquiring) != ticket {
            spinWait(spins)
            spins &+= 1
        }
        return ticket
    }

    /// Takes the lock only when it is free (no ticket is taken otherwise).
    public func tryLock(_ token: borrowing IrqDisabledToken) -> Bool {
        let served = owner.pointee.load(ordering: .acquiring)
        return next.pointee.compareExchange(expected: served, desired: served &+ 1, ordering: .acquiring).exchanged
    }

    /// Hands the lock to the next ticket. Only the holder calls it.
    public func unlock(_ token: borrowing IrqDisabledToken) {
        let served = owner.pointee.load(ordering: .relaxed)
        owner.pointee.store(served &+ 1, ordering: .releasing)
    }

    /// Runs `body` holding the lock.
    @inline(__always)
    public func withLock<R, E: Error>(_ token: borrowing IrqDisabledToken, _ body: () throws(E) -> R) throws(E) -> R {
        lock(token)
        defer { unlock(token) }
        return try body()
    }

    /// Whether some CPU holds the lock (a snapshot: it may change at once).
    public var isLocked: Bool {
        next.pointee.load(ordering: .relaxed) != owner.pointee.load(ordering: .relaxed)
    }

    /// The spin-wait step. In the kernel, a `pause` every 4,096 spins only: a `pause` under
    /// QEMU's TCG ends the translated block and goes back through the vCPU loop and QEMU's
    /// global lock (kernel/README.md, Several CPUs, on the convoy a ticket lock shows there), so
    /// not on every spin; but under single-threaded TCG it hands the host thread to the next
    /// vCPU, so a waiter does not spin out its whole time slice while the holder waits to run
    /// (smp=free, pcpbench=). On the host, where a waiter's thread may hold the only core the
    /// holder needs, a `sched_yield` every 4 spins.
    @inline(__always)
    private func spinWait(_ spins: Int) {
        #if KMEM_KERNEL
        if spins & 0xFFF == 0xFFF { kmemSpinPause() }
        #elseif canImport(Glibc)
        if spins & 3 == 3 { sched_yield() }
        #endif
    }
}

import KernelSupport

/// `pcptest=K` (diagnostic; kernel/README.md "Per-CPU caches"): once the allocator is up and
/// before the workload, each AP in turn (CPU 1, 2, …; the BSP hands the turn over and waits for
/// it back) allocates K order-0 Movable frames on its own CPU and frees them there, so its own
/// per-CPU cache refills from and parks on its own lists; then it parks. One CPU runs the
/// allocator at a time, so the log stays in order and the run is the same every boot. The words
/// are boot.S `kmem_smp_test`: +40 K, +48 the CPU whose turn it is (0: the BSP's).
enum PCPTest {
    static let maxFrames: UInt64 = 256
    static var roundsAddress: UInt64 { UInt64(UInt(bitPattern: LockTest.base + 40)) }
    static var turnAddress: UInt64 { UInt64(UInt(bitPattern: LockTest.base + 48)) }

    /// Set by the BSP from the command line before the APs start.
    static func request(_ k: UInt64) { volatile_store_u64(roundsAddress, min(k, maxFrames)) }

    /// On AP `cpu`, before it parks: waits (bounded) for its turn, runs, and gives the turn back.
    static func runOnAP(_ cpu: Int) {
        let k = volatile_load_u64(roundsAddress)
        guard k > 0 else { return }
        var spins: UInt64 = 0
        // no `pause` (it takes QEMU's global lock under TCG: see TicketLock.spinWait)
        while volatile_load_u64(turnAddress) != UInt64(cpu) && spins < 40_000_000_000 { spins &+= 1 }
        guard volatile_load_u64(turnAddress) == UInt64(cpu) else { return }
        if let a = kernelAllocator { exercise(a, k) }
        volatile_store_u64(turnAddress, 0)
    }

    /// K order-0 Movable allocations, then their frees in reverse, on the running CPU.
    static func exercise(_ a: PageAllocator, _ k: UInt64) {
        withUnsafeTemporaryAllocation(of: PFN.self, capacity: Int(maxFrames)) { frames in
            var n = 0
            do throws(KmemError) {
                while UInt64(n) < k {
                    guard let p = try a.allocate(AllocationRequest(order: 0, migratetype: .movable, owner: 0x7063_7074)) else { break }
                    frames[n] = p
                    n += 1
                }
                while n > 0 {
                    n -= 1
                    try a.free(frames[n], order: 0)
                }
            } catch {
                kmemBug(error)
            }
        }
    }

    /// On the BSP, with the allocator up: hands the turn to each AP in turn and waits (about 10 s
    /// at most) for it back, printing what each CPU's caches hold after.
    static func drive(_ a: PageAllocator, cpus: Int) {
        let k = volatile_load_u64(roundsAddress)
        guard k > 0 else { return }
        for cpu in 1 ..< max(cpus, 1) {
            volatile_store_u64(turnAddress, UInt64(cpu))
            var waited: UInt64 = 0
            while volatile_load_u64(turnAddress) != 0 && waited < 10_000 {
                PIT.delay(microseconds: 1000)
                waited &+= 1
            }
            console.write("kmem: pcptest: cpu "); console.dec(UInt64(cpu))
            if volatile_load_u64(turnAddress) != 0 {
                volatile_store_u64(turnAddress, 0)
                console.write(" did not take its turn"); console.newline()
                continue
            }
            console.write(": "); console.dec(k); console.write(" order-0 allocations and frees, its caches hold")
            for z in 0 ..< ZoneKind.count {
                console.put(32); console.dec(a.perCPU(z, cpu: cpu).pointee.count)
            }
            console.write(" frames"); console.newline()
        }
    }
}

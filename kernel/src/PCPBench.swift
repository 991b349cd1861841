import KernelSupport

/// `pcpbench=K` (diagnostic; kernel/README.md "Per-CPU caches", docs/performance.md): once the
/// allocator is up and before the workload, rounds of 1, 2, 4, 8 … CPUs (up to the CPUs online)
/// in which every CPU of the round, all at once, times K order-0 Movable allocate+free pairs on
/// its own CPU (its per-CPU cache: a hit after the first refill) with the time-stamp counter.
/// The BSP calibrates the counter against the PIT and prints one line per round:
/// `kmem: pcpbench: N cpu(s) x K pairs: M ns/pair per CPU (slowest S)`, M the mean over the
/// round's CPUs. The operations are logged as any (owner `0x70636262`). Words: boot.S
/// `kmem_pcp_bench`.
enum PCPBench {
    static var base: UInt64 { pcp_bench_area() }
    static var roundsAddress: UInt64 { base }
    static var cpusAddress: UInt64 { base &+ 8 }
    static var roundAddress: UInt64 { base &+ 16 }
    static var doneAddress: UInt64 { base &+ 24 }
    static var startedAddress: UInt64 { base &+ 32 }
    static var endedAddress: UInt64 { base &+ 40 }
    static func ticksAddress(_ cpu: Int) -> UInt64 { base &+ 64 &+ UInt64(cpu) &* 8 }
    static let maxPairs: UInt64 = 1_000_000
    static let owner: UInt64 = 0x7063_6262

    /// A waiting CPU's `pause` every 4,096 spins: under single-threaded TCG it passes the host
    /// thread on, so a CPU of the round (or the lock's holder) runs instead of an idle spinner.
    @inline(__always)
    static func relax(_ spins: UInt64) { if spins & 0xFFF == 0 { cpu_relax() } }

    /// Set by the BSP from the command line before the APs start.
    static func request(_ k: UInt64) { volatile_store_u64(roundsAddress, min(k, maxPairs)) }

    /// K pairs on the running CPU, all CPUs of the round released together; its ticks stored.
    static func pairs(_ a: PageAllocator, cpu: Int, cpus: UInt64, k: UInt64) {
        atomic_add_u64(startedAddress, 1)
        var spins: UInt64 = 0
        while volatile_load_u64(startedAddress) < cpus && spins < 40_000_000_000 { spins &+= 1; relax(spins) }
        let t0 = read_tsc()
        do throws(KmemError) {
            var i: UInt64 = 0
            while i < k {
                guard let p = try a.allocate(AllocationRequest(order: 0, migratetype: .movable, owner: owner)) else { break }
                try a.free(p, order: 0)
                i &+= 1
            }
        } catch {
            kmemBug(error)
        }
        volatile_store_u64(ticksAddress(cpu), read_tsc() &- t0)
        compiler_barrier()
        atomic_add_u64(endedAddress, 1)
    }

    /// On AP `cpu` before its turns: takes part in every round that includes it, until the last.
    /// The first round starts once the allocator is up (the BSP's `kernelAllocator` is written
    /// before it), so the AP reads that only then.
    static func runOnAP(_ cpu: Int) {
        let k = volatile_load_u64(roundsAddress)
        guard k > 0 else { return }
        var seen: UInt64 = 0
        var spins: UInt64 = 0
        while volatile_load_u64(doneAddress) == 0 && spins < 40_000_000_000 {
            let round = volatile_load_u64(roundAddress)
            if round != seen {
                seen = round
                compiler_barrier()
                let cpus = volatile_load_u64(cpusAddress)
                if UInt64(cpu) < cpus, let a = kernelAllocator { pairs(a, cpu: cpu, cpus: cpus, k: k) }
                spins = 0
            }
            spins &+= 1
            relax(spins)
        }
    }

    /// On the BSP, with the allocator up: the rounds, one line each.
    static func drive(_ a: PageAllocator, cpus online: Int) {
        let k = volatile_load_u64(roundsAddress)
        guard k > 0 else { return }
        // TSC ticks per microsecond, against 50 ms of the PIT
        let c0 = read_tsc()
        PIT.delay(microseconds: 50_000)
        let perMicrosecond = max((read_tsc() &- c0) / 50_000, 1)
        var n: UInt64 = 1
        while n <= UInt64(online) {
            volatile_store_u64(startedAddress, 0)
            volatile_store_u64(endedAddress, 0)
            volatile_store_u64(cpusAddress, n)
            compiler_barrier()
            volatile_store_u64(roundAddress, volatile_load_u64(roundAddress) &+ 1)
            pairs(a, cpu: 0, cpus: n, k: k)
            var spins: UInt64 = 0
            while volatile_load_u64(endedAddress) < n && spins < 40_000_000_000 { spins &+= 1; relax(spins) }
            var sum: UInt64 = 0, slowest: UInt64 = 0
            for c in 0 ..< Int(n) {
                let t = volatile_load_u64(ticksAddress(c))
                sum &+= t
                slowest = max(slowest, t)
            }
            // ns per pair = ticks × 1000 / (ticks per µs × K)
            let mean = sum &* 1000 / (perMicrosecond &* k &* n)
            console.write("kmem: pcpbench: "); console.dec(n); console.write(n == 1 ? " cpu x " : " cpus x ")
            console.dec(k); console.write(" pairs: "); console.dec(mean); console.write(" ns/pair per CPU (slowest ")
            console.dec(slowest &* 1000 / (perMicrosecond &* k)); console.write(")"); console.newline()
            if n == UInt64(online) { break }
            n = min(n &* 2, UInt64(online))
        }
        volatile_store_u64(doneAddress, 1)
    }
}

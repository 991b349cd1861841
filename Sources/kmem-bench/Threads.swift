// kmem-bench's rows for several CPUs at once: host threads, each a CPU of one arena
// (`PageAllocator.onCPU`), all released together, each timing its own order-0 alloc+free
// pairs (its per-CPU cache: a hit takes only that CPU's cache lock, but every pair still takes the
// atomic sequence number, the global in-operation count and the zone's allocated-pages counter,
// so the CPUs meet on those words). kernel/README.md "Operations in
// progress", docs/performance.md.
import Foundation
import KernelHarness
import KernelMM

/// What the threads of one run share.
final class ThreadRun: @unchecked Sendable {
    let allocator: PageAllocator
    let threads: Int
    let pairs: Int
    /// Each thread's nanoseconds for its pairs: wall time, and the thread's own CPU time
    /// (`CLOCK_THREAD_CPUTIME_ID`: time it ran, so threads waiting for a core do not count).
    var elapsed: [UInt64]
    var cpuTime: [UInt64]
    let lock = NSLock()
    var ready = 0
    var failure: String?

    init(_ allocator: PageAllocator, threads: Int, pairs: Int) {
        self.allocator = allocator
        self.threads = threads
        self.pairs = pairs
        elapsed = [UInt64](repeating: 0, count: threads)
        cpuTime = [UInt64](repeating: 0, count: threads)
    }

    /// Spins (yielding) until every thread is ready, so they start together.
    func arrive() {
        lock.lock(); ready += 1; lock.unlock()
        while true {
            lock.lock(); let all = ready >= threads; lock.unlock()
            if all { return }
            sched_yield()
        }
    }

    func body(_ t: Int) {
        let a = allocator.onCPU(t)
        do {
            for _ in 0..<pairs / 10 {  // warm up: the CPU's cache filled
                let p = try a.allocate(AllocationRequest(order: 0))!
                try a.free(p, order: 0)
            }
            arrive()
            let t0 = now(), c0 = threadCPUTime()
            for _ in 0..<pairs {
                let p = try a.allocate(AllocationRequest(order: 0))!
                try a.free(p, order: 0)
            }
            let dt = now() - t0, dc = threadCPUTime() - c0
            lock.lock(); elapsed[t] = dt; cpuTime[t] = dc; lock.unlock()
        } catch {
            lock.lock(); failure = "cpu \(t): \(error)"; lock.unlock()
        }
    }
}

/// The running thread's CPU time in ns (`CLOCK_THREAD_CPUTIME_ID`).
func threadCPUTime() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// `order 0, N CPUs at once`: the best of `repeats` runs of N threads × `pairs` pairs; prints the
/// mean over the threads of each thread's ns per pair (wall time), the slowest thread's, and the
/// mean in each thread's own CPU time (which, with more threads than free cores, leaves out the
/// time a thread waited for a core; spinning on a lock still counts).
@MainActor
func measureThreads(_ threads: Int, pairs: Int = 200_000, repeats: Int = 5) {
    let name = "order 0, \(threads) CPU\(threads == 1 ? "" : "s") at once (threads)"
    guard only.isEmpty || name == only || name.hasPrefix(only + " ") else { return }
    var best = (mean: UInt64.max, slowest: UInt64.max, cpu: UInt64.max)
    for _ in 0..<repeats {
        let run = ThreadRun(pa, threads: threads, pairs: fixedRounds ?? pairs)
        let done = DispatchSemaphore(value: 0)
        for t in 0..<threads {
            let thread = Thread { run.body(t); done.signal() }
            thread.start()
        }
        for _ in 0..<threads { done.wait() }
        if let failure = run.failure { print(name + ": failed: " + failure); return }
        let per = run.elapsed.map { $0 * 10 / UInt64(max(run.pairs, 1)) }
        let mean = per.reduce(0, +) / UInt64(threads)
        let cpu = run.cpuTime.map { $0 * 10 / UInt64(max(run.pairs, 1)) }.reduce(0, +) / UInt64(threads)
        if mean < best.mean { best = (mean, per.max()!, best.cpu) }
        best.cpu = min(best.cpu, cpu)
    }
    let label = name + String(repeating: " ", count: max(1, 34 - name.count))
    print(label + "\(best.mean / 10).\(best.mean % 10) ns (slowest CPU \(best.slowest / 10).\(best.slowest % 10), "
        + "thread CPU time \(best.cpu / 10).\(best.cpu % 10) ns)")
}

import Foundation

/// Host threads standing in for CPUs: what the tests and benches that hammer one arena from
/// several threads at once (each through `PageAllocator.onCPU(n)`) start them with.
public enum HostThreads {
    /// Runs `body(thread)` on `threads` new threads, released together once all exist, and
    /// returns when every one has returned.
    public static func run(_ threads: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let start = DispatchSemaphore(value: 0)
        let done = DispatchSemaphore(value: 0)
        for t in 0..<max(threads, 0) {
            let thread = Thread { start.wait(); body(t); done.signal() }
            thread.start()
        }
        for _ in 0..<max(threads, 0) { start.signal() }
        for _ in 0..<max(threads, 0) { done.wait() }
    }
}

// kmem-bench: the kernel's allocator (KernelMM, the very sources the kernel builds) over a
// host buffer, timing alloc+free pairs per order, a mixed sequence, and kmalloc/kfree per
// size class. Prints ns per pair; `scripts/bench-allocator.sh` runs it in release mode.
import Glibc
import KernelHarness
import KernelMM

/// Monotonic nanoseconds.
func now() -> UInt64 {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
}

// Arguments: [MiB of host "physical memory"] [only: run just the measurement named this, or
// whose name continues it after a space ("order 0" runs "order 0 (per-CPU cache)")] [rounds:
// fixed round count, no warm-up — for instruction counts with valgrind, run once with
// rounds 0 and once with N and divide the difference by N].
let arguments = CommandLine.arguments
let megabytes = arguments.count > 1 ? Int(arguments[1]) ?? 512 : 512
let only = arguments.count > 2 ? arguments[2] : ""
let fixedRounds = arguments.count > 3 ? Int(arguments[3]) : nil
let bytes = megabytes << 20
// Two usable ranges (below and above the first MiB), the kernel's own zone limits (DMA below
// 16 MiB, DMA32 below 4 GiB), the kernel image at [1M, 4M).
let arena = try HostArena(map: ArenaMap(regions: [MemoryRegion(base: 0, length: 0x9F000, type: 1),
                                                  MemoryRegion(base: 0x100000, length: UInt64(bytes - 0x100000), type: 1)],
                                        bytes: bytes, dma32StartPFN: 0x1000, normalStartPFN: 0x10_0000,
                                        kernel: PhysRange(start: 0x100000, end: 0x400000)),
                          opLogCapacity: 65536)
let pa = arena.allocator

/// Times `count` rounds of `body` in 50 slices and prints ns per round of the fastest slice:
/// on a shared machine a slice of a millisecond or less often runs undisturbed, where the
/// whole run never does (the mean of a loaded run mostly measures the other processes).
func measure(_ name: String, _ defaultCount: Int, _ body: () throws -> Void) rethrows {
    guard only.isEmpty || name == only || name.hasPrefix(only + " ") else { return }
    let count = fixedRounds ?? defaultCount
    if fixedRounds == nil { for _ in 0..<count / 10 { try body() } }  // warm up
    guard count > 0 else { print(name + ": 0 rounds"); return }
    let slices = fixedRounds == nil ? min(50, count) : 1
    let perSlice = count / slices
    var best = UInt64.max
    for _ in 0..<slices {
        let t0 = now()
        for _ in 0..<perSlice { try body() }
        best = min(best, (now() - t0) * 10 / UInt64(perSlice))
    }
    let label = name + String(repeating: " ", count: max(1, 34 - name.count))
    print(label + "\(best / 10).\(best % 10) ns")
}

print("kmem-bench: KernelMM over \(megabytes) MiB, ns per alloc+free pair, fastest of 50 slices (lower is better)")
for order in [0, 3, 9, 10, 11] {
    try measure("order \(order)" + (order == 0 ? " (per-CPU cache)" : ""), order >= 9 ? 20_000 : 500_000) {
        let p = try pa.allocate(AllocationRequest(order: order))!
        try pa.free(p, order: order)
    }
}
// Mixed: a window of 64 live blocks of orders 0…5, oldest freed first.
var window = [(PFN, Int)](repeating: (PFN(0), 0), count: 64)
var rng: UInt64 = 0x9E37_79B9_7F4A_7C15
for i in 0..<64 {
    let o = i % 6
    window[i] = (try pa.allocate(AllocationRequest(order: o))!, o)
}
var slot = 0
try measure("mixed orders 0…5 (64 live)", 300_000) {
    rng = rng &* 6364136223846793005 &+ 1442695040888963407
    let (p, o) = window[slot]
    try pa.free(p, order: o)
    let order = Int((rng >> 33) % 6)
    window[slot] = (try pa.allocate(AllocationRequest(order: order))!, order)
    slot = (slot + 1) % 64
}
// kmalloc+kfree of a cached size class: one object of the class stays allocated, so its slab
// stays on the partial list (the steady state of a heap in use). Above 2048 bytes: a buddy block.
for size: UInt64 in [16, 32, 64, 128, 256, 512, 1024, 2048, 8192] {
    let keep = size <= 2048 ? try pa.kmalloc(size: size) : 0
    try measure("kmalloc+kfree \(size)", size > 2048 ? 50_000 : 500_000) {
        let a = try pa.kmalloc(size: size)
        try pa.kfree(a)
    }
    if keep != 0 { try pa.kfree(keep) }
}
// The same pair on an empty cache: every kmalloc grows the cache by a slab page (poisoned and
// linked whole) and every kfree returns it to the buddy allocator.
try measure("kmalloc+kfree 16, empty cache", 200_000) {
    let a = try pa.kmalloc(size: 16)
    try pa.kfree(a)
}
// Several CPUs at once (Threads.swift): order-0 pairs on each CPU's own cache, 1, 2, 4 threads.
for threads in [1, 2, 4] { measureThreads(threads) }

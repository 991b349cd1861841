import KernelSupport

/// `locktest=K`: every CPU takes the kernel's ticket lock (`mm/TicketLock.swift`) K times and
/// adds 1 to a plain counter under it — the APs as soon as they are online, the BSP once all
/// are up — and the BSP checks that no increment was lost and the lock is free at the end.
/// Under QEMU's multi-threaded TCG each vCPU is a host thread, so the CPUs really race.
/// The APs wait for the BSP's go once all CPUs are up, so all of them start together.
/// The words live in boot.S `kmem_smp_test`: +0 the lock, +8 the counter, +16 K, +24 the
/// number of APs that finished (counted under the lock), +32 the go flag, +40 the order digest:
/// a hash of the CPU number of every acquisition in the order the lock granted them, so two boots
/// can be compared for the same interleaving (kernel/README.md, "Determinism").
enum LockTest {
    static var base: UnsafeMutableRawPointer { UnsafeMutableRawPointer(smp_test_area()!) }
    static var lock: TicketLock { TicketLock(base.assumingMemoryBound(to: TicketLockWord.self)) }
    static var counter: UnsafeMutablePointer<UInt64> { (base + 8).assumingMemoryBound(to: UInt64.self) }
    static var rounds: UnsafeMutablePointer<UInt64> { (base + 16).assumingMemoryBound(to: UInt64.self) }
    static var finished: UnsafeMutablePointer<UInt64> { (base + 24).assumingMemoryBound(to: UInt64.self) }
    static var go: UInt64 { UInt64(UInt(bitPattern: base + 32)) }
    static var digest: UnsafeMutablePointer<UInt64> { (base + 40).assumingMemoryBound(to: UInt64.self) }

    /// FNV-1a over the acquiring CPU's number, one step per acquisition (under the lock).
    @inline(__always)
    static func record(_ cpu: Int) {
        digest.pointee = (digest.pointee ^ UInt64(truncatingIfNeeded: cpu)) &* 0x100_0000_01b3
    }

    /// Takes the lock `rounds` times on this CPU; an AP then counts itself finished.
    static func run(isAP: Bool) {
        let k = volatile_load_u64(UInt64(UInt(bitPattern: rounds)))
        guard k > 0 else { return }
        if isAP {
            var spins: UInt64 = 0
            // no `pause` (it takes QEMU's global lock under TCG: see TicketLock.spinWait)
            while volatile_load_u32(go) == 0 && spins < 4_000_000_000 { spins &+= 1 }
        }
        let lock = self.lock
        let cpu = PerCPU.current
        for _ in 0 ..< k {
            withInterruptsDisabled { token in lock.withLock(token) { counter.pointee &+= 1; record(cpu) } }
        }
        if isAP { withInterruptsDisabled { token in lock.withLock(token) { finished.pointee &+= 1 } } }
    }

    /// On the BSP after the bring-up: its own rounds, a wait (bounded, about 60 s) for the APs,
    /// and the verdict line. Returns whether the counter is exact and the lock free.
    @discardableResult
    static func finish(cpus: Int) -> Bool {
        let k = rounds.pointee
        guard k > 0 else { return true }
        digest.pointee = 0xcbf2_9ce4_8422_2325
        volatile_store_u32(go, 1)
        run(isAP: false)
        var waited: UInt64 = 0
        while volatile_load_u64(UInt64(UInt(bitPattern: finished))) < UInt64(cpus &- 1) && waited < 60_000 {
            PIT.delay(microseconds: 1000)
            waited &+= 1
        }
        let total = withInterruptsDisabled { token in lock.withLock(token) { counter.pointee } }
        let ok = total == UInt64(cpus) &* k && !lock.isLocked
        console.write("kmem: smp: lock test: "); console.dec(UInt64(cpus)); console.write(" CPU(s) x ")
        console.dec(k); console.write(" rounds: counter "); console.dec(total); console.write(", lock ")
        console.write(lock.isLocked ? "held" : "free"); console.write(ok ? ": ok" : ": FAILED")
        console.write(", order digest "); console.hex(withInterruptsDisabled { token in lock.withLock(token) { digest.pointee } })
        console.newline()
        return ok
    }
}

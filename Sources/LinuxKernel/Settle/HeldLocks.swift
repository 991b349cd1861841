import KernelLayouts

extension LinuxKernelTarget {
    /// The page allocator's locks of node 0's populated zones that are held right now:
    /// `zone->lock` and each CPU's `per_cpu_pages.lock` (6.0+). A lock word (the qspinlock's
    /// `val`) other than 0 means a CPU holds it or waits for it: the lists it guards may be
    /// mid-change. Locks BTF does not describe are left out and said in `notes`.
    public func heldAllocatorLocks(notes: inout [String]) throws -> [String] {
        var held: [String] = []
        let zoneLock = try? btf.member("lock", of: "zone")
        let pcpLock = try? btf.member("lock", of: "per_cpu_pages")
        let word = spinlockWord
        func isHeld(_ lock: UInt64) throws -> UInt64? {
            let value = word.width == 8 ? try memory.readU64(at: lock &+ UInt64(word.offset))
                                        : UInt64(try memory.readU32(at: lock &+ UInt64(word.offset)))
            return value == 0 ? nil : value
        }
        if zoneLock == nil { notes.append("struct zone has no lock in BTF: zone locks not checked") }
        if pcpLock == nil { notes.append("struct per_cpu_pages has no lock in BTF: per-CPU list locks not checked") }
        let cpuOffsets = decoder.perCPUOffsets()
        if pcpLock != nil, cpuOffsets.isEmpty {
            notes.append("per-CPU list locks not checked: \(decoder.perCPUOffsetsUnavailable() ?? "no CPU's per-CPU offset could be read")")
        }
        for index in 0..<layout.zoneCount {
            let zone = try zoneAddress(index)
            let present = try memory.readU64(at: zone &+ UInt64(layout.zonePresentPagesOffset))
            guard present != 0 else { continue }
            let name = (try? zoneName(at: zone)) ?? "zone\(index)"
            if let lock = zoneLock, let value = try isHeld(zone &+ UInt64(lock.offset)) {
                held.append("zone \(name)'s lock (0x\(String(value, radix: 16)))")
            }
            if let lock = pcpLock, let pagesetOffset = layout.zonePerCPUPagesetOffset {
                let pageset = try memory.readU64(at: zone &+ UInt64(pagesetOffset))
                for (cpu, offset) in cpuOffsets.enumerated() {
                    if let value = try isHeld(pageset &+ offset &+ UInt64(lock.offset)) {
                        held.append("cpu \(cpu)'s per-CPU list lock of zone \(name) (0x\(String(value, radix: 16)))")
                    }
                }
            }
        }
        return held
    }

    /// The word of a `spinlock_t` that is non-zero while it is held: the qspinlock's `val` (4
    /// bytes at 0), or on PREEMPT_RT, where `spinlock_t` is a sleeping `rt_mutex_base`, its
    /// `owner` (8 bytes; BTF's `struct spinlock` then has `lock`, not `rlock`).
    var spinlockWord: (offset: Int, width: Int) {
        if (try? btf.member("rlock", of: "spinlock")) == nil,
           let lock = try? btf.member("lock", of: "spinlock"), let owner = try? btf.member("owner", of: "rt_mutex_base") {
            return (lock.offset + owner.offset, 8)
        }
        return (0, 4)
    }

    /// `zone->name`, read from the guest (at most 32 bytes).
    func zoneName(at zone: UInt64) throws -> String {
        let pointer = try memory.readU64(at: zone &+ UInt64(layout.zoneNameOffset))
        let bytes = try memory.read(at: pointer, count: 32)
        return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }
}

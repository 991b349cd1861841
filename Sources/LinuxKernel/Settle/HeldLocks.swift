import KernelLayouts

extension LinuxKernelTarget {
    /// The allocators' locks that are held right now: every node's populated zones' `zone->lock`
    /// and each CPU's `per_cpu_pages.lock` (6.0+), and every SLUB cache's per-node
    /// `kmem_cache_node.list_lock` (``heldSlabListLocks(notes:)``). A lock word (the qspinlock's
    /// `val`; PREEMPT_RT: the rt_mutex's `owner`) other than 0 means a CPU holds it or waits for
    /// it: the lists it guards may be mid-change. Locks BTF does not describe are left out and
    /// said in `notes`.
    public func heldAllocatorLocks(notes: inout [String]) throws -> [String] {
        var held: [String] = []
        let zoneLock = try? btf.member("lock", of: "zone")
        let pcpLock = try? btf.member("lock", of: "per_cpu_pages")
        if zoneLock == nil { notes.append("struct zone has no lock in BTF: zone locks not checked") }
        if pcpLock == nil { notes.append("struct per_cpu_pages has no lock in BTF: per-CPU list locks not checked") }
        let cpuOffsets = decoder.perCPUOffsets()
        if pcpLock != nil, cpuOffsets.isEmpty {
            notes.append("per-CPU list locks not checked: \(decoder.perCPUOffsetsUnavailable() ?? "no CPU's per-CPU offset could be read")")
        }
        // every node with a pglist_data (node 0 when node_data cannot be scanned)
        let nodeIDs = ((try? nodes())?.ids).flatMap { $0.isEmpty ? nil : $0 } ?? [0]
        for node in nodeIDs {
            let suffix = nodeIDs.count > 1 ? " (node \(node))" : ""
            for index in 0..<layout.zoneCount {
                let zone = try zoneAddress(index, node: node)
                let present = try memory.readU64(at: zone &+ UInt64(layout.zonePresentPagesOffset))
                guard present != 0 else { continue }
                let name = ((try? zoneName(at: zone)) ?? "zone\(index)") + suffix
                if let lock = zoneLock, let value = try lockValue(at: zone &+ UInt64(lock.offset)) {
                    held.append("zone \(name)'s lock (0x\(String(value, radix: 16)))")
                }
                if let lock = pcpLock, let pagesetOffset = layout.zonePerCPUPagesetOffset {
                    let pageset = try memory.readU64(at: zone &+ UInt64(pagesetOffset))
                    for (cpu, offset) in cpuOffsets.enumerated() {
                        if let value = try lockValue(at: pageset &+ offset &+ UInt64(lock.offset)) {
                            held.append("cpu \(cpu)'s per-CPU list lock of zone \(name) (0x\(String(value, radix: 16)))")
                        }
                    }
                }
            }
        }
        held += try heldSlabListLocks(notes: &notes)
        return held
    }

    /// The most caches `slab_caches` is walked for when looking at their list locks.
    static let slabCacheLockLimit = 65_536

    /// Every SLUB cache's `kmem_cache_node.list_lock` (nodes `0 ..< nr_node_ids`) that is held:
    /// it guards the node's partial (and, with `slub_debug`'s user tracking, full) list and
    /// `nr_partial`. `slab_caches` is walked bounded (``slabCacheLockLimit``); a walk that does
    /// not close is itself a reason not to call the guest settled (a cache being added or removed
    /// under `slab_mutex` is mid-change too).
    public func heldSlabListLocks(notes: inout [String]) throws -> [String] {
        guard let listLock = try? btf.member("list_lock", of: "kmem_cache_node") else {
            notes.append("struct kmem_cache_node has no list_lock in BTF: SLUB's list locks not checked")
            return []
        }
        guard let head = symbols.symbol(named: "slab_caches")?.address,
              let nodeCountAddress = symbols.symbol(named: "nr_node_ids")?.address else {
            notes.append("slab_caches or nr_node_ids not in the symbols: SLUB's list locks not checked")
            return []
        }
        let cacheList = try btf.member("list", of: "kmem_cache").offset
        let cacheName = try btf.member("name", of: "kmem_cache").offset
        let node = try btf.arrayMember("node", of: "kmem_cache")
        let next = try btf.member("next", of: "list_head").offset, prev = try btf.member("prev", of: "list_head").offset
        let nodeIDs = try memory.readU32(at: nodeCountAddress)
        guard nodeIDs >= 1, nodeIDs <= node.count, node.elementSize == 8 else {
            throw LinuxDecodeError.implausible(what: "nr_node_ids", value: UInt64(nodeIDs))
        }
        let walk = ListWalk.walk(head: head, limit: Self.slabCacheLockLimit) { link in
            let bytes = try memory.read(at: link, count: max(next, prev) + 8)
            return (loadU64(bytes, next), loadU64(bytes, prev))
        }
        var held: [String] = []
        if walk.end != .closed { held.append("slab_caches does not walk closed (\(walk.end))") }
        for link in walk.nodes {
            let cache = link &- UInt64(cacheList)
            let from = min(cacheName, node.offset)
            let bytes = try memory.read(at: cache &+ UInt64(from), count: max(cacheName + 8, node.offset + Int(nodeIDs) * 8) - from)
            for slot in 0..<Int(nodeIDs) {
                let perNode = loadU64(bytes, node.offset - from + slot * 8)
                guard perNode != 0, let value = try lockValue(at: perNode &+ UInt64(listLock.offset)) else { continue }
                let name = (try? decoder.readCString(at: loadU64(bytes, cacheName - from), limit: 64)) ?? "0x\(String(cache, radix: 16))"
                held.append("cache \(name)'s node \(slot) list_lock (0x\(String(value, radix: 16)))")
            }
        }
        return held
    }

    /// The held-word of the `spinlock_t` at `lock` (see ``spinlockWord``); nil when free.
    func lockValue(at lock: UInt64) throws -> UInt64? {
        let word = spinlockWord
        let value = word.width == 8 ? try memory.readU64(at: lock &+ UInt64(word.offset))
                                    : UInt64(try memory.readU32(at: lock &+ UInt64(word.offset)))
        return value == 0 ? nil : value
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

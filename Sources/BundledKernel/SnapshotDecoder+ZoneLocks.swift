import BundledState
import KernelLayouts

extension SnapshotDecoder {
    /// Each zone's lock words (`Zone.lock`, kernel/README.md "Zone locks"), when the descriptor
    /// publishes `OFFSET(Zone.lock)` and `OFFSET(TicketLockWord.next|owner)`; empty otherwise
    /// (an older kernel). Every offset is bounded by the record's size before it is read.
    func decodeZoneLocks(zoneCount: Int, zoneSize: UInt64) throws -> [StateFields.ZoneLockWords] {
        guard info["OFFSET(Zone.lock)"] != nil, info["OFFSET(TicketLockWord.next)"] != nil,
              info["OFFSET(TicketLockWord.owner)"] != nil else { return [] }
        let lock = UInt64(try info.boundedOffset(of: "Zone", "lock", width: try info.boundedSize(of: "TicketLockWord")))
        let zones = try info.number("ZONES")
        var locks: [StateFields.ZoneLockWords] = []
        for z in 0..<zoneCount {
            locks.append(try ticketLockWords(at: zones &+ UInt64(z) &* zoneSize &+ lock))
        }
        return locks
    }

    /// The two words of the ticket lock at `address` (`TicketLockWord`'s published offsets; the
    /// caller has checked they are published): a zone's lock, the heap's.
    func ticketLockWords(at address: UInt64) throws -> StateFields.ZoneLockWords {
        let next = UInt64(try info.boundedOffset(of: "TicketLockWord", "next", width: 4))
        let owner = UInt64(try info.boundedOffset(of: "TicketLockWord", "owner", width: 4))
        return .init(next: UInt32(truncatingIfNeeded: littleEndian(try memory.read(at: address &+ next, count: 4)[...])),
                     owner: UInt32(truncatingIfNeeded: littleEndian(try memory.read(at: address &+ owner, count: 4)[...])))
    }

    /// Every per-CPU cache's lock (`PerCPUPages.lock`, kernel/README.md "Per-CPU cache locks"),
    /// by CPU and zone, from one read of the `PCP` table: empty when the kernel does not publish
    /// it. `PCP_CPUS` (at most 16), `PCP_ZONES` and `PCP_STRIDE` are bounded as the cache decoder
    /// bounds them.
    func decodePerCPULocks() throws -> [StateFields.PerCPULockWords] {
        guard info["OFFSET(PerCPUPages.lock)"] != nil, info["OFFSET(TicketLockWord.next)"] != nil,
              info["OFFSET(TicketLockWord.owner)"] != nil, info["PCP"] != nil else { return [] }
        let cpus = try info.number("PCP_CPUS"), zones = try info.number("PCP_ZONES"), stride = try info.number("PCP_STRIDE")
        guard cpus >= 1, cpus <= Self.maximumCPUs else { throw SnapshotError.implausible(what: "PCP_CPUS", value: cpus, limit: Self.maximumCPUs) }
        guard zones >= 1, zones <= 8 else { throw SnapshotError.implausible(what: "PCP_ZONES", value: zones, limit: 8) }
        guard stride <= 4096 else { throw SnapshotError.implausible(what: "PCP_STRIDE", value: stride, limit: 4096) }
        let lock = try info.boundedOffset(of: "PerCPUPages", "lock", width: try info.boundedSize(of: "TicketLockWord"))
        let next = try info.boundedOffset(of: "TicketLockWord", "next", width: 4)
        let owner = try info.boundedOffset(of: "TicketLockWord", "owner", width: 4)
        guard lock + 8 <= Int(stride) else { throw SnapshotError.implausible(what: "OFFSET(PerCPUPages.lock)", value: UInt64(lock), limit: stride) }
        let bytes = try memory.read(at: try info.number("PCP"), count: Int(cpus * zones * stride))
        var locks: [StateFields.PerCPULockWords] = []
        for c in 0..<Int(cpus) {
            for z in 0..<Int(zones) {
                let at = (c * Int(zones) + z) * Int(stride) + lock
                locks.append(.init(cpu: c, zone: z, words: .init(next: UInt32(truncatingIfNeeded: littleEndian(bytes[(at + next)..<(at + next + 4)])),
                                                                 owner: UInt32(truncatingIfNeeded: littleEndian(bytes[(at + owner)..<(at + owner + 4)])))))
            }
        }
        return locks
    }
}

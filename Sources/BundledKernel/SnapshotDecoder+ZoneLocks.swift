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
}

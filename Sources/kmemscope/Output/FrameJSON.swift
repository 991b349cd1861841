import BundledState
import AllocatorView

/// `frame --json` (schema version 1): each frame's metadata with flag and migratetype names,
/// its block, and the operation that last changed it; addresses and PFNs as hex strings.
struct FrameJSON: Encodable {
    struct Frame: Encodable {
        var pfn: String
        var physical: String
        var flags: [String]
        var flagsValue: String
        var order: Int
        var migratetype: String
        var zone: String?
        var segment: Int?
        var refcount: UInt32
        var owner: String
        var next: String?
        var prev: String?
        var block: KmemJSON.Block?
        /// The CPU whose per-CPU cache lists the frame, when it is on one.
        var perCPU: Int?
        var lastChangedSequence: UInt64
        var lastChangedBy: KmemJSON.Operation?
    }
    var schemaVersion = 1
    var sequence: UInt64
    /// With `--address`: the address given, how it was read, and where it lies.
    var address: String?
    var addressSpace: String?
    var physical: String?
    var frames: [Frame]
    /// How many of the PFNs asked for lie past the frame table.
    var pastFrameTable: Int

    init(_ s: KernelSnapshot, _ reports: [FrameReport?], flagNames: [(String, UInt32)], log: [UInt64: OpLogRecord],
         address: String?, resolved: (AddressReport.Space, UInt64)?) {
        func link(_ v: UInt64) -> String? { v == KernelSnapshot.none ? nil : hex(v) }
        sequence = s.sequence
        self.address = address
        addressSpace = resolved?.0.rawValue
        physical = resolved.map { hex($0.1) }
        frames = reports.compactMap { $0 }.map { r in
            let m = r.record
            return Frame(pfn: hex(r.pfn), physical: hex(r.pfn &* s.pageSize),
                         flags: FrameReport.flagNames(m.flags, names: flagNames).split(separator: "|").map(String.init),
                         flagsValue: hex(UInt64(m.flags)), order: Int(m.order), migratetype: FrameJSON.migratetype(m.migratetype),
                         zone: r.zone, segment: r.segment, refcount: m.refcount, owner: hex(m.owner), next: link(m.next), prev: link(m.prev),
                         block: r.block.map { KmemJSON.Block(head: hex($0.head), order: $0.order, start: hex($0.head &* s.pageSize),
                                                             end: hex(($0.head &+ (1 << UInt64($0.order))) &* s.pageSize)) },
                         perCPU: r.perCPU, lastChangedSequence: m.lastSeq, lastChangedBy: log[m.lastSeq].map(KmemJSON.Operation.init))
        }
        pastFrameTable = reports.filter { $0 == nil }.count
    }

    /// The bundled kernel's migratetype names by slot.
    static func migratetype(_ value: UInt8) -> String {
        value == 0 ? "Unmovable" : value == 1 ? "Movable" : "slot \(value)"
    }
}

import BundledState
import AllocatorView

/// `kmem`'s text: the address and how it was read, the frame (as `frame` prints it), the
/// state, the slab object, and the operations that handed it out and last changed it.
enum KmemText {
    /// How an address was read: `kernel virtual address (direct map), physical 0x…`.
    static func space(_ space: AddressReport.Space, physical: UInt64) -> String {
        switch space {
        case .directMap: return "kernel virtual address (direct map), physical 0x\(String(physical, radix: 16))"
        case .kernelImage: return "kernel virtual address (kernel image), physical 0x\(String(physical, radix: 16))"
        case .physical: return "physical address"
        }
    }

    static func text(_ r: AddressReport, flagNames names: [(String, UInt32)]) -> String {
        var lines = ["\(hex(r.address)): " + space(r.space, physical: r.physical)]
        var what = r.state.rawValue
        if let slab = r.slab {
            what += slab.inTail
                ? "; slab page of \(slab.cache), in the tail past its last object"
                : "; slab object \(slab.index) of \(slab.cache) at \(hex(slab.start)) (+\(hex(slab.offset)) of \(slab.objectSize) bytes), \(slab.free ? "free" : "in use")"
        } else if r.largeHeapBlock {
            what += "; a large kmalloc block"
        }
        lines.append("  " + what)
        lines += r.frame.text(flagNames: names, lastOperation: r.lastChangedBy).split(separator: "\n").map { "  " + $0 }
        if let op = r.handedOutBy { lines.append("  handed out by " + op.text) }
        else if r.state == .allocated || r.slab.map({ !$0.free && !$0.inTail }) == true {
            lines.append("  handed out by an operation no longer in the log")
        }
        if let op = r.freedBy { lines.append("  freed by " + op.text) }
        return lines.joined(separator: "\n")
    }
}

/// `kmem --json` (schema version 1): addresses as hex strings, enums by name.
struct KmemJSON: Encodable {
    struct Block: Encodable { var head: String; var order: Int; var start: String; var end: String }
    struct Slab: Encodable {
        var cache: String; var objectSize: UInt64; var index: UInt64; var start: String; var offset: UInt64
        var state: String
    }
    struct Operation: Encodable {
        var sequence: UInt64; var cpu: Int; var kind: String; var status: String; var text: String
        init(_ r: OpLogRecord) {
            sequence = r.sequence
            cpu = Int(r.cpu)
            kind = r.kind?.name ?? "kind-\(r.rawKind)"
            status = ["ok", "failed", "misuse", "corrupt"][safe: Int(r.status)] ?? "status-\(r.status)"
            text = r.text
        }
    }
    var schemaVersion = 1
    var address: String
    var addressSpace: String
    var physical: String
    var pfn: String
    var state: String
    var flags: [String]
    var zone: String?
    var segment: Int?
    var block: Block?
    var slab: Slab?
    var largeHeapBlock: Bool
    var handedOutBy: Operation?
    var freedBy: Operation?
    var lastChangedBy: Operation?
    var lastChangedSequence: UInt64

    init(_ r: AddressReport, flagNames names: [(String, UInt32)]) {
        address = hex(r.address)
        addressSpace = r.space.rawValue
        physical = hex(r.physical)
        pfn = hex(r.frame.pfn)
        state = r.state.rawValue
        flags = FrameReport.flagNames(r.frame.record.flags, names: names).split(separator: "|").map(String.init)
        zone = r.frame.zone
        segment = r.frame.segment
        block = r.frame.block.map { Block(head: hex($0.head), order: $0.order, start: hex($0.head << 12), end: hex(($0.head &+ (1 << UInt64($0.order))) << 12)) }
        slab = r.slab.map { Slab(cache: $0.cache, objectSize: $0.objectSize, index: $0.index, start: hex($0.start), offset: $0.offset,
                                 state: $0.inTail ? "tail" : $0.free ? "free" : "in-use") }
        largeHeapBlock = r.largeHeapBlock
        handedOutBy = r.handedOutBy.map(Operation.init)
        freedBy = r.freedBy.map(Operation.init)
        lastChangedBy = r.lastChangedBy.map(Operation.init)
        lastChangedSequence = r.frame.record.lastSeq
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}

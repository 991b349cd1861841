import AllocatorView

extension KernelSnapshot: FrameStateLookup {
    /// Frame `pfn`'s state from its FrameMeta state bits (FREE, ALLOCATED, RESERVED, PCP)
    /// and, for a free frame, the block head `FrameReport` finds; nil past the frame table.
    public func frameState(_ pfn: UInt64) -> FrameState? {
        guard let report = FrameReport(self, pfn: pfn) else { return nil }
        let bits = report.record.flags & flags.states
        switch bits {
        case flags.free:
            guard let block = report.block else { return .other(detail: "FREE with no block head covering it") }
            return block.head == pfn ? .freeHead(order: block.order) : .freeTail(head: block.head)
        case flags.pcp:
            return .perCPU
        case flags.allocated:
            return .allocated(refcount: UInt64(report.record.refcount), slab: report.record.flags & flags.slab != 0)
        case flags.reserved:
            return .reserved
        default:
            return .other(detail: "state bits 0x\(String(bits, radix: 16))")
        }
    }
}

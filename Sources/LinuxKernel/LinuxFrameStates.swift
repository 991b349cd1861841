/// Frame states of a Linux guest, from each `struct page` read on demand and the free
/// blocks the decoder walked: a PageBuddy head is a free block's head (its order in
/// `private`), a page inside a walked free block is a tail, a page with references is
/// allocated (a slab page when PG_slab is set).
public struct LinuxFrameStates: FrameStateLookup {
    public var linux: LinuxKernelTarget
    public var state: LinuxBuddyState

    public init(linux: LinuxKernelTarget, state: LinuxBuddyState) {
        self.linux = linux
        self.state = state
    }

    public func frameState(_ pfn: UInt64) -> FrameState? {
        guard let page = try? linux.page(pfn, vmemmapBase: state.vmemmapBase) else { return nil }
        return frameState(of: page)
    }

    /// The state of a `struct page` already read (the frame view reads it for its other fields).
    public func frameState(of page: LinuxPage) -> FrameState {
        if page.isBuddy { return .freeHead(order: Int(clamping: page.private)) }
        if let block = freeBlock(around: page.pfn) { return .freeTail(head: block.pfn) }
        if page.refcount > 0 {
            return .allocated(refcount: UInt64(page.refcount), slab: page.flagNames(linux.page).contains("slab"))
        }
        return .other(detail: "refcount \(page.refcount), flags 0x\(String(page.flags, radix: 16))")
    }

    /// The walked free block `pfn` lies inside of (past its head), if any.
    public func freeBlock(around pfn: UInt64) -> LinuxFreeBlock? {
        state.zones.lazy.flatMap(\.blocks).first { pfn > $0.pfn && pfn - $0.pfn < (1 << UInt64(min(max($0.order, 0), 63))) }
    }
}

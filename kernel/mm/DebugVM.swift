#if KMEM_KERNEL && KMEM_DEBUG_VM
@_extern(c, "kmem_debug_vm_failed")
func kmemDebugVMFailed(_ pfn: UInt64, _ order: UInt64, _ what: UInt32)
#endif

/// The debug build's checks of the buddy arithmetic at each step (pushFree, split, merge),
/// as SerenityOS's VERIFY and Linux's VM_BUG_ON under CONFIG_DEBUG_VM: compiled in only
/// with `KMEM_DEBUG_VM` (the kernel's `make kernel KMEM_DEBUG_VM=1`; the host's debug build
/// of KernelMM, which the tests run), and none of them costs anything otherwise.
public enum DebugVMCheck: UInt32, Sendable {
    case orderTooHigh = 1
    case misaligned
    case outsideSegment
    case splitUpward
    case mergeOutsideSegment
    case zoneNotLocked

    /// What the kernel prints after `debug check failed at pfn … order …:`.
    public var message: StaticString {
        switch self {
        case .orderTooHigh: return "order above MAX_ORDER"
        case .misaligned: return "block not aligned to its order"
        case .outsideSegment: return "block not inside its segment"
        case .splitUpward: return "split to an order above the block's"
        case .mergeOutsideSegment: return "merge with a buddy outside the segment"
        case .zoneNotLocked: return "zone changed without its lock"
        }
    }
}

extension PageAllocator {
    /// A block of `order` at `pfn` about to be listed in `seg`: order ≤ MAX_ORDER, aligned,
    /// inside the segment.
    @inline(__always)
    func debugCheckBlock(_ seg: UnsafeMutablePointer<Segment>, _ pfn: PFN, _ order: Int) {
        #if KMEM_DEBUG_VM
        if order < 0 || order > Kmem.maxOrder { debugVMFailed(pfn, order, .orderTooHigh) }
        if !pfn.isAligned(order: order) { debugVMFailed(pfn, order, .misaligned) }
        if pfn < seg.pointee.start || pfn &+ pages(order) > seg.pointee.end || pfn &+ pages(order) < pfn {
            debugVMFailed(pfn, order, .outsideSegment)
        }
        #endif
    }

    /// A split of the block at `pfn` from `high` down to `low`.
    @inline(__always)
    func debugCheckSplit(_ seg: UnsafeMutablePointer<Segment>, _ pfn: PFN, _ high: Int, _ low: Int) {
        #if KMEM_DEBUG_VM
        if low > high || low < 0 { debugVMFailed(pfn, high, .splitUpward) }
        debugCheckBlock(seg, pfn, high)
        #endif
    }

    /// Two buddies of `order` at `pfn` and `buddy` about to merge.
    @inline(__always)
    func debugCheckMerge(_ seg: UnsafeMutablePointer<Segment>, _ pfn: PFN, _ buddy: PFN, _ order: Int) {
        #if KMEM_DEBUG_VM
        if buddy != pfn.buddy(order: order) || buddy < seg.pointee.start || buddy &+ pages(order) > seg.pointee.end {
            debugVMFailed(buddy, order, .mergeOutsideSegment)
        }
        #endif
    }

    /// A zone about to change: its lock is among those `held` (pfn = the zone, order = the mask).
    @inline(__always)
    func debugCheckLocked(_ held: borrowing ZoneLocksHeld, _ zone: Int) {
        #if KMEM_DEBUG_VM
        if !held.covers(zone) { debugVMFailed(PFN(UInt64(truncatingIfNeeded: zone)), Int(held.zones), .zoneNotLocked) }
        #endif
    }

    /// Zones 0 through `highest` about to be tried by an allocation: all their locks are held.
    @inline(__always)
    func debugCheckLocked(_ held: borrowing ZoneLocksHeld, upTo highest: Int) {
        #if KMEM_DEBUG_VM
        var z = 0
        while z <= highest { debugCheckLocked(held, z); z += 1 }
        #endif
    }

    #if KMEM_DEBUG_VM
    @inline(never)
    func debugVMFailed(_ pfn: PFN, _ order: Int, _ check: DebugVMCheck) {
        #if KMEM_KERNEL
        kmemDebugVMFailed(pfn.raw, UInt64(truncatingIfNeeded: order), check.rawValue)
        #else
        fatalError("debug check failed at pfn 0x\(String(pfn.raw, radix: 16)) order \(order): \(check.message)")
        #endif
    }
    #endif
}

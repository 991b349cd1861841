import Synchronization

/// One CPU's in-operation state (kernel/README.md "Operations in progress"): how many
/// allocator operations (and lock sections) that CPU is inside, and the sequence of the
/// innermost one. Written only by its own CPU; a row of 64 bytes (a cache line) per CPU, so
/// CPUs running operations at once never share a line. The table is the kernel's
/// `kmem_cpu_ops` (`KmemState.cpuOperations`), `Kmem.maxCPUs` rows, CPU c's at row c.
public struct CPUOperation: Sendable {
    /// Operations and lock sections this CPU is inside, nested ones included: 0 when it is
    /// between operations. The kernel calls `kmem_op_end` on this CPU each time it returns to 0.
    public var busy: UInt64
    /// Sequence of the innermost operation this CPU runs now, 0 between operations: what
    /// `FrameMeta.lastSeq` records, and the `parent` of an operation nested inside it.
    public var parentSequence: UInt64
    public var _pad0: UInt64
    public var _pad1: UInt64
    public var _pad2: UInt64
    public var _pad3: UInt64
    public var _pad4: UInt64
    public var _pad5: UInt64

    public init() {
        busy = 0; parentSequence = 0
        _pad0 = 0; _pad1 = 0; _pad2 = 0; _pad3 = 0; _pad4 = 0; _pad5 = 0
    }
}

/// A 64-bit word of the allocator's state viewed in place as an `Atomic<UInt64>` (as
/// ``TicketLock`` views its words): `lock xadd` in the kernel, no runtime call.
@inline(__always)
func atomicWord(_ p: UnsafeMutablePointer<UInt64>) -> UnsafeMutablePointer<Atomic<UInt64>> {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: Atomic<UInt64>.self)
}

extension PageAllocator {
    /// The running CPU's row of the in-operation table.
    @inline(__always) public var cpuOperation: UnsafeMutablePointer<CPUOperation> {
        cpuOperationBase + currentCPU
    }

    /// CPU `cpu`'s row of the in-operation table (`cpu` < `Kmem.maxCPUs`).
    @inline(__always) public func cpuOperation(_ cpu: Int) -> UnsafeMutablePointer<CPUOperation> {
        cpuOperationBase + (cpu & (Kmem.maxCPUs - 1))
    }

    /// Enters an operation or a lock section on the running CPU: its own `busy` and the
    /// global `KmemState.busy` (the sum over the CPUs, taken atomically) up by one.
    @inline(__always)
    func enterBusy(_ op: UnsafeMutablePointer<CPUOperation>) {
        op.pointee.busy &+= 1
        atomicWord(Self.address(of: &state.pointee.busy)).pointee.wrappingAdd(1, ordering: .sequentiallyConsistent)
    }

    /// Leaves it: both counts down by one; when the running CPU's own count returns to 0 it
    /// is between operations and calls `kmem_op_end`.
    @inline(__always)
    func leaveBusy(_ op: UnsafeMutablePointer<CPUOperation>) {
        atomicWord(Self.address(of: &state.pointee.busy)).pointee.wrappingSubtract(1, ordering: .sequentiallyConsistent)
        op.pointee.busy &-= 1
        if op.pointee.busy == 0 { operationBoundary() }
    }

    @inline(__always)
    static func address(of field: UnsafeMutablePointer<UInt64>) -> UnsafeMutablePointer<UInt64> { field }

    /// The next global sequence number, taken atomically (several CPUs may take one at once;
    /// each gets its own, and operations on one zone take theirs under its lock, so their
    /// order is the order they changed it in).
    @inline(__always)
    func nextSequence() -> UInt64 {
        atomicWord(Self.address(of: &state.pointee.sequence)).pointee.wrappingAdd(1, ordering: .sequentiallyConsistent).newValue
    }
}

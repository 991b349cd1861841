/// The zoned buddy page allocator. A `PageAllocator` is a handle on a `KmemState` in
/// memory; all state lives there (and in the arrays it points to), never in the handle, so
/// a debugger reading guest memory sees everything, and the host tests can run many
/// allocators over private arenas.
///
/// Fast path files: `PerCPUFastPath.swift` (the per-CPU cache hit, tried first by `allocate`
/// and `free`), `FreeLists.swift` (list and bitmap primitives), `Allocation.swift`,
/// `Freeing.swift`, `PerCPUCache.swift`, `SpecificFrames.swift`. Debug checks live beside
/// them: `SelfCheck.swift`, `Poisoning.swift`.
#if KMEM_KERNEL
/// boot.S: the running CPU's number (`%gs:8`).
@_extern(c, "kmem_current_cpu")
func kmemCurrentCPU() -> UInt32
#endif

public struct PageAllocator {
    /// The state this handle operates on.
    public let state: UnsafeMutablePointer<KmemState>
    @usableFromInline let metaBase: UnsafeMutablePointer<FrameMeta>
    @usableFromInline let zoneBase: UnsafeMutablePointer<Zone>
    @usableFromInline let segmentBase: UnsafeMutablePointer<Segment>
    @usableFromInline let perCPUBase: UnsafeMutablePointer<PerCPUPages>
    @usableFromInline let cpuOperationBase: UnsafeMutablePointer<CPUOperation>
    /// The CPU this handle acts as on the host (`onCPU(_:)`); the kernel reads GS instead.
    @usableFromInline let hostCPU: Int

    /// A handle on the state at `state` (set up by `PageAllocator.boot`), acting as CPU 0 on
    /// the host.
    public init(state: UnsafeMutablePointer<KmemState>) {
        self.state = state
        metaBase = UnsafeMutablePointer(bitPattern: UInt(state.pointee.frameMeta))!
        zoneBase = UnsafeMutablePointer(bitPattern: UInt(state.pointee.zones))!
        segmentBase = UnsafeMutablePointer(bitPattern: UInt(state.pointee.segments))!
        perCPUBase = UnsafeMutablePointer(bitPattern: UInt(state.pointee.perCPUPages))!
        cpuOperationBase = UnsafeMutablePointer(bitPattern: UInt(state.pointee.cpuOperations))!
        hostCPU = 0
    }

    private init(_ other: PageAllocator, cpu: Int) {
        state = other.state
        metaBase = other.metaBase
        zoneBase = other.zoneBase
        segmentBase = other.segmentBase
        perCPUBase = other.perCPUBase
        cpuOperationBase = other.cpuOperationBase
        hostCPU = cpu
    }

    /// A handle on the same state that acts as CPU `cpu` (0 ..< `Kmem.maxCPUs`, masked into
    /// that range): its order-0 operations use that CPU's per-CPU caches and log that CPU.
    /// The host's way to run several "CPUs" (one handle per thread); in the kernel the CPU is
    /// the one the code runs on (GS), and this changes nothing.
    public func onCPU(_ cpu: Int) -> PageAllocator { PageAllocator(self, cpu: cpu & (Kmem.maxCPUs - 1)) }

    /// The CPU running this operation: in the kernel its number read through GS
    /// (`kmem_current_cpu`, masked to the table's rows), on the host the handle's (`onCPU`).
    @inline(__always) public var currentCPU: Int {
        #if KMEM_KERNEL
        return Int(kmemCurrentCPU() & UInt32(Kmem.maxCPUs - 1))
        #else
        return hostCPU
        #endif
    }

    /// CPU `cpu`'s per-CPU cache of zone `zone` (`cpu` < `Kmem.maxCPUs`, `zone` < 3).
    @inline(__always) public func perCPU(_ zone: Int, cpu: Int) -> UnsafeMutablePointer<PerCPUPages> {
        perCPUBase + (cpu &* ZoneKind.count &+ zone)
    }

    /// The running CPU's per-CPU cache of `zone`.
    @inline(__always) func localPerCPU(_ zone: UnsafeMutablePointer<Zone>) -> UnsafeMutablePointer<PerCPUPages> {
        perCPU(zoneBase.distance(to: zone), cpu: currentCPU)
    }

    /// Frames on every CPU's per-CPU cache of zone `z`.
    public func perCPUCount(zone z: Int) -> UInt64 {
        var n: UInt64 = 0
        for c in 0..<Kmem.maxCPUs { n &+= perCPU(z, cpu: c).pointee.count }
        return n
    }

    /// Frames covered by the metadata array.
    @inline(__always) public var frameCount: UInt64 { state.pointee.frameCount }

    /// The first frame past the metadata array (frames `0 ..< frameEnd` have metadata).
    @inline(__always) public var frameEnd: PFN { PFN(state.pointee.frameCount) }

    /// Number of segments.
    @inline(__always) public var segmentCount: Int { Int(state.pointee.segmentCount) }

    /// Metadata of `pfn`; the caller has checked `pfn < frameCount`.
    @inline(__always) public func meta(_ pfn: PFN) -> UnsafeMutablePointer<FrameMeta> {
        metaBase + Int(pfn.raw)
    }

    /// Zone `index` (`ZoneKind.rawValue`).
    @inline(__always) public func zone(_ index: Int) -> UnsafeMutablePointer<Zone> { zoneBase + index }

    /// Segment `index`.
    @inline(__always) public func segment(_ index: Int) -> UnsafeMutablePointer<Segment> { segmentBase + index }

    /// The zone of a segment.
    @inline(__always) func zone(of seg: UnsafeMutablePointer<Segment>) -> UnsafeMutablePointer<Zone> {
        zoneBase + Int(seg.pointee.zone)
    }

    /// Direct-map pointer to physical address `phys`.
    @inline(__always) public func virt(_ phys: PhysicalAddress) -> UnsafeMutableRawPointer {
        UnsafeMutableRawPointer(bitPattern: UInt(phys.raw &+ state.pointee.directMapOffset))!
    }

    /// Direct-map pointer to the first byte of frame `pfn`.
    @inline(__always) public func virt(_ pfn: PFN) -> UnsafeMutableRawPointer { virt(pfn.address) }

    /// Pointer to a bitmap stored at virtual address `address`.
    @inline(__always) func words(_ address: UInt64) -> UnsafeMutablePointer<UInt64> {
        UnsafeMutablePointer(bitPattern: UInt(address))!
    }

    /// Whether page poisoning is on.
    @inline(__always) public var poisoning: Bool { state.pointee.options & 1 != 0 }

    /// The sequence number of the innermost operation the running CPU runs now (what
    /// `lastSeq` records).
    @inline(__always) var sequence: UInt64 { cpuOperation.pointee.parentSequence }

    /// Starts a new operation (see `logged`) on the running CPU (`op`, its row): counts it in
    /// `busy` and takes the next global sequence number, atomically.
    @inline(__always)
    func beginOperation(_ op: UnsafeMutablePointer<CPUOperation>) -> UInt64 {
        enterBusy(op)
        return nextSequence()
    }

    /// The segment that manages `pfn`, if any: read from its `FrameMeta.segment` and checked
    /// against that segment's range (so a corrupted index cannot mislead it).
    public func segmentIndex(containing pfn: PFN) -> Int? {
        guard pfn < frameEnd else { return nil }
        let s = Int(meta(pfn).pointee.segment)
        guard s < segmentCount, segment(s).pointee.contains(pfn) else { return nil }
        return s
    }

    /// Metadata of a PFN read from a link in memory, checked against the array bounds.
    @inline(__always) func linked(_ pfn: PFN, from: PFN) throws(KmemError) -> UnsafeMutablePointer<FrameMeta> {
        guard pfn < frameEnd else { throw .corruptedList(pfn: from, link: pfn.raw) }
        return meta(pfn)
    }
}

import Glibc
import KernelMM

/// The kernel's allocator (KernelMM, the very sources the kernel builds) booted over an
/// anonymous host mapping that plays physical memory from address 0: the one host harness of
/// the KernelMM and model-differential tests, model-bench and the fuzz targets.
///
/// The direct map is the mapping itself, so the layout descriptor's addresses and every
/// `FrameMeta` pointer are host pointers; ``memory`` reads them as a `GuestMemory` and
/// ``snapshot()`` decodes them the way the CLI decodes a guest.
public final class HostArena {
    /// The map this arena booted.
    public let map: ArenaMap
    /// Start of the host mapping (physical address 0).
    public let base: UnsafeMutableRawPointer
    /// The booted allocator.
    public let allocator: PageAllocator

    /// Bytes of the host mapping.
    public var bytes: Int { map.bytes }
    /// The boot memory map.
    public var regions: [MemoryRegion] { map.regions }
    /// The direct-map offset: the host address of physical address 0.
    public var directMap: UInt64 { UInt64(UInt(bitPattern: base)) }
    /// The allocator's sequence number (operations so far).
    public var sequence: UInt64 { allocator.state.pointee.sequence }

    /// Maps `map.bytes` and boots the allocator over it.
    /// - Parameters:
    ///   - poison: debug page poisoning (`poison=1`).
    ///   - opLogCapacity: entries of the operation-log ring.
    ///   - heldBack: RAM held back for a later `addMemory` (`hotadd=`); empty for none.
    ///   - fixedAddress: map at this host address (the fuzz targets: a descriptor that holds
    ///     absolute addresses is then the same in every process); anywhere when nil.
    /// - Throws: the allocator's boot error (a map it cannot boot).
    public init(map: ArenaMap = .standard, poison: Bool = false, opLogCapacity: UInt64 = 4096,
                heldBack: PhysRange = PhysRange(start: 0, end: 0), fixedAddress: UInt? = nil) throws(KmemError) {
        self.map = map
        let flags = MAP_PRIVATE | MAP_ANONYMOUS | (fixedAddress == nil ? 0 : MAP_FIXED_NOREPLACE)
        guard let p = mmap(fixedAddress.flatMap { UnsafeMutableRawPointer(bitPattern: $0) }, map.bytes,
                           PROT_READ | PROT_WRITE, flags, -1, 0), p != MAP_FAILED else {
            // The host, not the code under test, is out of resources: nothing to report but that.
            fatalError("HostArena: mmap of \(map.bytes) bytes failed (errno \(errno))")
        }
        base = p
        var config = BootConfig(directMapOffset: UInt64(UInt(bitPattern: p)))
        config.dma32StartPFN = map.dma32StartPFN
        config.normalStartPFN = map.normalStartPFN
        config.kernel = map.kernel
        config.poison = poison
        config.opLogCapacity = opLogCapacity
        config.heldBack = heldBack
        // The per-CPU cache table in the arena's kernel image, as the kernel's `kmem_pcp` is in its.
        let table = UInt64(MemoryLayout<PerCPUPages>.stride * Kmem.maxCPUs * ZoneKind.count)
        if map.kernel.end >= map.kernel.start &+ table && map.kernel.start & 63 == 0 && map.kernel.end <= UInt64(map.bytes) {
            config.perCPUTable = config.directMapOffset &+ map.kernel.start
            // and the in-operation table after it, as the kernel's `kmem_cpu_ops`
            let ops = UInt64(MemoryLayout<CPUOperation>.stride * Kmem.maxCPUs)
            if map.kernel.end >= map.kernel.start &+ table &+ ops {
                config.cpuOperationTable = config.directMapOffset &+ map.kernel.start &+ table
            }
        }
        do {
            allocator = try map.regions.withUnsafeBufferPointer { (r) throws(KmemError) in
                try PageAllocator.boot(regions: r, reservations: UnsafeBufferPointer(start: nil, count: 0), config: config)
            }
        } catch {
            munmap(p, map.bytes)
            throw error
        }
    }

    deinit { munmap(base, map.bytes) }
}

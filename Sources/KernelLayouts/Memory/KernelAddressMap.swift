/// How the bundled kernel's virtual addresses map to guest-physical ones: its image mapping
/// (`KERNEL_VIRT_BASE` maps physical 0, 2 GiB) and its direct map of all RAM (`DIRECT_MAP`),
/// both published in `kmem_info`. What a source without page tables (the RAM file, the QEMU
/// process) translates through.
public struct KernelAddressMap: Sendable, Equatable {
    /// One linear window: `[virtualStart, virtualStart + size)` → `physicalStart…`.
    public struct Window: Sendable, Equatable {
        public var virtualStart: UInt64
        public var size: UInt64
        public var physicalStart: UInt64
        public init(virtualStart: UInt64, size: UInt64, physicalStart: UInt64) {
            self.virtualStart = virtualStart
            self.size = size
            self.physicalStart = physicalStart
        }
    }

    public var windows: [Window]

    public init(windows: [Window]) { self.windows = windows }

    /// The kernel image's mapping is 2 GiB (the top of the address space, `-mcmodel=kernel`).
    public static let kernelImageSize: UInt64 = 2 << 30
    /// The direct map covers at most 64 TiB (x86_64's 4-level direct-map region).
    public static let directMapSize: UInt64 = 64 << 40

    /// The windows `info` publishes (`DIRECT_MAP`, `KERNEL_VIRT_BASE`).
    public init(info: KernelInfo) throws {
        let direct = try info.number("DIRECT_MAP")
        let image = try info.number("KERNEL_VIRT_BASE")
        windows = [Window(virtualStart: image, size: Self.kernelImageSize, physicalStart: 0),
                   Window(virtualStart: direct, size: Self.directMapSize, physicalStart: 0)]
    }

    /// The guest-physical address of `[address, address + count)`, when one window holds it all.
    public func physical(_ address: UInt64, count: Int) -> UInt64? {
        let n = UInt64(max(count, 0))
        for w in windows where address >= w.virtualStart {
            let offset = address - w.virtualStart
            if offset < w.size && n <= w.size - offset { return w.physicalStart &+ offset }
        }
        return nil
    }
}

import KernelLayouts

/// Reads the bundled kernel's per-CPU areas (descriptor `PERCPU`, `PERCPU_STRIDE`,
/// `CPU_COUNT`, the `PerCPU` layout and the `CPU_STATE(…)` values; kernel/README.md "Several
/// CPUs"). Guest data: the count is bounded by `CPU_MAX` (itself at most ``maximumCPUs``), the
/// stride by ``KernelInfo/maximumStructureSize``, every offset by `SIZE(PerCPU)` ≤ the stride.
public struct CPUTableDecoder {
    public let info: KernelInfo
    public let memory: any GuestMemory

    /// The most CPUs a descriptor may claim room for.
    public static let maximumCPUs: UInt64 = 4096

    public init(info: KernelInfo, memory: any GuestMemory) {
        self.info = info
        self.memory = memory
    }

    /// Whether this kernel publishes its CPUs (one older than the SMP descriptor does not).
    public var published: Bool { info["CPU_COUNT"] != nil && info["PERCPU"] != nil && info["SIZE(PerCPU)"] != nil }

    /// Every CPU that came up (`CPU_COUNT` of them), in number order; empty when the kernel
    /// publishes none.
    /// - Throws: `SnapshotError.implausible` for a count, stride or layout beyond what the
    ///   kernel can have; the memory's error when an area cannot be read.
    public func decode() throws -> [GuestCPU] {
        guard published else { return [] }
        let max = try info.number("CPU_MAX", atMost: Self.maximumCPUs)
        let count = try info.number("CPU_COUNT", atMost: max)
        let stride = try info.number("PERCPU_STRIDE", atMost: KernelInfo.maximumStructureSize)
        let size = try info.boundedSize(of: "PerCPU")
        guard UInt64(size) <= stride else { throw SnapshotError.implausible(what: "SIZE(PerCPU)", value: UInt64(size), limit: stride) }
        let base = try info.number("PERCPU")
        let offsets = (selfAddress: try info.boundedOffset(of: "PerCPU", "selfAddress", width: 8),
                       cpu: try info.boundedOffset(of: "PerCPU", "cpu", width: 4),
                       apicID: try info.boundedOffset(of: "PerCPU", "apicID", width: 4),
                       state: try info.boundedOffset(of: "PerCPU", "state", width: 4),
                       stackTop: try info.boundedOffset(of: "PerCPU", "stackTop", width: 8))
        let states = (offline: try? info.number("CPU_STATE(offline)"), running: try? info.number("CPU_STATE(running)"),
                      parked: try? info.number("CPU_STATE(parked)"))
        var cpus: [GuestCPU] = []
        for n in 0..<count {
            let (offset, o1) = n.multipliedReportingOverflow(by: stride)
            let (area, o2) = base.addingReportingOverflow(offset)
            guard !o1, !o2 else { throw SnapshotError.implausible(what: "PERCPU + CPU \(n) × PERCPU_STRIDE", value: base, limit: .max - offset) }
            let bytes = try memory.read(at: area, count: size)
            func load(_ at: Int, _ width: Int) -> UInt64 { littleEndian(bytes[at..<(at + width)]) }
            let raw = load(offsets.state, 4)
            let state: GuestCPU.State = raw == states.offline ? .offline : raw == states.running ? .running
                : raw == states.parked ? .parked : .unknown(raw)
            cpus.append(GuestCPU(number: Int(n), area: area, recordedNumber: load(offsets.cpu, 4), apicID: load(offsets.apicID, 4),
                                 state: state, selfAddress: load(offsets.selfAddress, 8), stackTop: load(offsets.stackTop, 8)))
        }
        return cpus
    }
}

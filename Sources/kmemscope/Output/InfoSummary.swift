import BundledKernel
import KernelLayouts
import BundledState
import AllocatorView

/// What `kmemscope info` prints.
struct InfoSummary: Encodable {
    var schemaVersion = 1
    var elf: String
    var buildID: String
    var descriptorAddress: String
    var version: UInt32
    var pageSize: UInt64
    var maxOrder: UInt64
    var pageblockOrder: UInt64
    var directMap: String
    var frames: UInt64
    var frameMetaSize: UInt64
    var segments: UInt64
    var zones: UInt64
    var opLogCapacity: UInt64
    var sequence: UInt64
    var slabCaches: UInt64
    var check: DescriptorCheck
    /// Fields of `kmem_info` cross-checked against the ELF (docs/checks.md); fields whose
    /// rules could not run, and keys no rule covers.
    var crossChecked: Int
    var crossCheckSkipped: [String]
    var unknownFields: [String]
    /// The CPUs that came up, from their per-CPU areas (empty for a kernel that publishes none).
    var cpus: [GuestCPU]
    /// Each CPU's in-operation row at the moment of the read (`info` does not settle), for the
    /// CPUs that came up; empty for a kernel that publishes none.
    var cpuOperations: [CPUOperationRow]
    /// The workload's turn word, nil for a kernel that publishes none.
    var workload: WorkloadTurns?

    /// One CPU's in-operation row: `busy` its nesting depth (0 between operations),
    /// `parentSequence` the sequence of the operation a nested one runs in (0 at top level).
    struct CPUOperationRow: Encodable {
        var cpu: Int
        var busy: UInt64
        var parentSequence: UInt64
    }

    init(info: KernelInfo, sequence: UInt64, check: DescriptorCheck, crossCheck: DescriptorCrossCheck, elf: String, cpus: [GuestCPU] = [],
         cpuOperations: [StateFields.CPUOperationWords] = [], workload: WorkloadTurns? = nil) {
        self.cpus = cpus
        let upCPUs = cpus.isEmpty ? cpuOperations.count : min(cpus.count, cpuOperations.count)
        self.cpuOperations = cpuOperations.prefix(upCPUs).enumerated().map {
            CPUOperationRow(cpu: $0.offset, busy: $0.element.busy, parentSequence: $0.element.parentSequence)
        }
        self.workload = workload
        crossChecked = crossCheck.checked.count
        crossCheckSkipped = crossCheck.skipped
        unknownFields = crossCheck.unknown
        func n(_ k: String) -> UInt64 { (try? info.number(k)) ?? 0 }
        self.elf = elf
        buildID = info.buildID ?? ""
        descriptorAddress = hex(info.address)
        version = KernelInfo.version
        pageSize = n("PAGE_SIZE")
        maxOrder = n("MAX_ORDER")
        pageblockOrder = n("PAGEBLOCK_ORDER")
        directMap = hex(n("DIRECT_MAP"))
        frames = n("FRAME_COUNT")
        frameMetaSize = n("SIZE(FrameMeta)")
        segments = n("SEGMENT_COUNT")
        zones = n("ZONE_COUNT")
        opLogCapacity = n("OPLOG_CAPACITY")
        self.sequence = sequence
        slabCaches = n("SLAB_CACHE_COUNT")
        self.check = check
    }

    var text: String {
        var lines = [
            "kmem_info at \(descriptorAddress), version \(version); build-id \(buildID) matches \(elf)",
            "page size \(pageSize), orders 0…\(maxOrder) (MAX_ORDER \(maxOrder), inclusive: buddyinfo has \(maxOrder + 1) columns), pageblock order \(pageblockOrder), direct map \(directMap)",
            "\(frames) frames (FrameMeta \(frameMetaSize) bytes each), \(zones) zones, \(segments) segments, \(slabCaches) slab caches",
            "operation log \(opLogCapacity) entries; sequence \(sequence)",
        ]
        if !cpus.isEmpty {
            lines.append("cpus \(cpus.count): " + cpus.map { cpu in
                "\(cpu.number) \(cpu.state) (APIC \(cpu.apicID))" + (cpu.consistent ? "" : " [area inconsistent: self 0x\(String(cpu.selfAddress, radix: 16)), cpu \(cpu.recordedNumber)]")
            }.joined(separator: ", "))
        }
        // one CPU: nothing to tell apart (and the line would change a one-CPU guest's info)
        if cpus.count > 1, workload != nil || !cpuOperations.isEmpty {
            let inside = cpuOperations.filter { $0.busy != 0 }
            let now = inside.isEmpty ? "no CPU inside an allocator operation"
                : "inside an allocator operation: " + inside.map { row in
                    "cpu \(row.cpu) (depth \(row.busy)" + (row.parentSequence == 0 ? ")" : ", nested in seq \(row.parentSequence))")
                }.joined(separator: ", ")
            lines.append("now: " + [workload?.summary, now].compactMap { $0 }.joined(separator: "; ") + " (read as found, not settled)")
        }
        lines.append("kmem_info: \(crossChecked) of \(crossChecked + crossCheckSkipped.count + unknownFields.count) fields cross-checked against the ELF"
                     + (crossCheckSkipped.isEmpty ? "" : ", \(crossCheckSkipped.count) not (\(crossCheckSkipped[0])…)")
                     + (unknownFields.isEmpty ? "" : "; not known to this kmemscope: \(unknownFields.joined(separator: ", "))"))
        if let skipped = check.skipped {
            lines.append(skipped)
        } else if check.mismatches.isEmpty {
            lines.append("layouts: the kernel's \(check.agreed) measured sizes and offsets agree with DWARF")
        } else {
            lines.append("layouts: \(check.mismatches.count) disagree with DWARF (\(check.agreed) agree):")
            lines += check.mismatches.map { "  " + $0 }
        }
        return lines.joined(separator: "\n")
    }
}

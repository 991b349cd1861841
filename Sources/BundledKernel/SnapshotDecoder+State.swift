import BundledState
import KernelLayouts

extension SnapshotDecoder {
    /// `KmemState`'s magic, "KMEMSTAT" (kernel/mm/Constants.swift `Kmem.stateMagic`).
    public static let stateMagic: UInt64 = 0x4B4D_454D_5354_4154

    /// The fields only `state-fields` reads (see `StateFields`); each one the descriptor does
    /// not publish is left out.
    func decodeStateFields(zoneCount: Int, segmentCount: Int) throws -> StateFields {
        var s = StateFields()
        let state = try info.number("STATE")
        func field(_ type: String, _ base: UInt64, _ name: String, width: Int = 8) throws -> UInt64? {
            guard info["OFFSET(\(type).\(name))"] != nil else { return nil }
            let bytes = try memory.read(at: base &+ UInt64(try info.boundedOffset(of: type, name, width: width)), count: width)
            return littleEndian(bytes[...])
        }
        func copy(_ name: String, _ key: String?, _ expected: UInt64? = nil) throws {
            guard let found = try field("KmemState", state, name) else { return }
            guard let want = try expected ?? key.map({ try info.number($0) }) else { return }
            s.copies.append(.init(field: "KmemState.\(name)", found: found, expected: want))
        }
        try copy("magic", nil, Self.stateMagic)
        try copy("directMapOffset", "DIRECT_MAP")
        try copy("frameMeta", "FRAME_META")
        try copy("frameCount", "FRAME_COUNT")
        try copy("zones", "ZONES")
        try copy("segments", "SEGMENTS")
        try copy("opLog", "OPLOG")
        try copy("opLogCapacity", "OPLOG_CAPACITY")
        try copy("heap", "HEAP")
        s.parentSequence = try field("KmemState", state, "parentSequence")
        if info["HEAP"] != nil {
            let heap = try info.number("HEAP")
            if let n = try field("HeapState", heap, "cacheCount") {
                s.copies.append(.init(field: "HeapState.cacheCount", found: n, expected: try info.number("SLAB_CACHE_COUNT")))
            }
            s.largeAllocations = try field("HeapState", heap, "largeAllocations")
            s.largePages = try field("HeapState", heap, "largePages")
            s.largeOwner = try? info.number("LARGE_HEAP_OWNER")
        }
        let zoneSize = UInt64(try info.boundedSize(of: "Zone"))
        for z in 0..<zoneCount {
            if let k = try field("Zone", try info.number("ZONES") &+ UInt64(z) &* zoneSize, "kind", width: 4) { s.zoneKinds.append(k) }
        }
        s.zoneLocks = try decodeZoneLocks(zoneCount: zoneCount, zoneSize: zoneSize)
        (s.cpuOperations, s.heapLock) = try decodeCPUOperations()
        s.perCPULocks = try decodePerCPULocks()
        let segmentSize = UInt64(try info.boundedSize(of: "Segment"))
        for i in 0..<segmentCount {
            if let k = try field("Segment", try info.number("SEGMENTS") &+ UInt64(i) &* segmentSize, "index", width: 4) { s.segmentIndices.append(k) }
        }
        return s
    }
}

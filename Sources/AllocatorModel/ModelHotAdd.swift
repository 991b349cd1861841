/// "Memory hot-add" of kernel/README.md: RAM held back at boot becomes segments.
extension ModelState {
    /// Most segments the allocator has room for (`SEGMENT_CAPACITY`).
    public static let segmentCapacity = 128

    /// Bytes of bitmaps and tags a hot-added segment `[s, e)` takes: "the 12 parity bitmaps
    /// (order 0…11, each 8·⌈bits/64⌉ bytes, bits as in Segment), the allocation bitmap
    /// (8·⌈pages/64⌉ bytes) and the tags (one byte per pageblock the piece touches, rounded up
    /// to 8)". Parity bits of order k: one per buddy pair the segment touches.
    static func hotAddMetadataBytes(_ s: UInt64, _ e: UInt64) -> UInt64 {
        var b: UInt64 = 0
        for k in 0...maxOrder {
            let shift = UInt64(k + 1)
            let bits = ((e - 1) >> shift) - (s >> shift) + 1
            b += (bits + 63) / 64 * 8
        }
        b += (e - s + 63) / 64 * 8
        let pb = UInt64(pageblockOrder)
        let blocks = ((e - 1) >> pb) - (s >> pb) + 1
        return b + (blocks + 7) / 8 * 8
    }

    /// "`addMemory(start, count)` … makes it managed: every frame must be such held-back RAM
    /// (else misuse, nothing changed). The range is split at the zone limits; each piece becomes
    /// a segment inserted in PFN order …, the segment is `[start, end − ⌈B/4096⌉)` …; the rest is
    /// given to the buddy lists as at boot; … watermarks, lowmem reserves and per-CPU sizes are
    /// computed again." Result: the number of segments added.
    @discardableResult
    public mutating func addMemory(start: UInt64, count: UInt64) -> ModelResult {
        let seq = beginOperation()
        return operation(seq, entry(seq, .addMemory, size: count, address: start)) { m in
            guard count > 0, start <= UInt64.max - count, let limits = m.zoneLimits else { return .misuse }
            let end = start + count
            // Held back: inside one of the held-back ranges (anything else is managed, boot-reserved,
            // a hole or past the metadata: misuse either way).
            guard m.heldBack.contains(where: { $0.lowerBound <= start && end <= $0.upperBound }) else { return .misuse }
            var pieces: [(UInt64, UInt64)] = []
            var a = start
            while a < end {
                let b = limits.pieceEnd(a, end)
                guard (Self.hotAddMetadataBytes(a, b) + 64 + Self.pageSize - 1) / Self.pageSize < b - a else { return .misuse }
                pieces.append((a, b))
                a = b
            }
            guard m.segments.count + pieces.count <= Self.segmentCapacity else { return .misuse }
            for (s, e) in pieces { m.addSegment(s, e, zone: limits.zone(of: s)) }
            m.events.hotAddedSegments += pieces.count
            m.heldBack = m.heldBack.flatMap { r -> [Range<UInt64>] in
                guard r.lowerBound < end && start < r.upperBound else { return [r] }
                return [r.lowerBound..<start, end..<r.upperBound].filter { !$0.isEmpty }
            }
            let p = Parameters.formulas(managed: m.zones.map(\.managedPages))
            for z in m.zones.indices { m.apply(p[z], zone: z) }
            return .ok(UInt64(pieces.count))
        }
    }

    /// One piece: the segment below its bitmaps, inserted in PFN order, released as at boot.
    mutating func addSegment(_ s: UInt64, _ e: UInt64, zone z: Int) {
        let segEnd = e - (Self.hotAddMetadataBytes(s, e) + Self.pageSize - 1) / Self.pageSize
        let position = segments.firstIndex { $0.startPFN > s } ?? segments.count
        segments.insert(Segment(index: position, zone: z, startPFN: s, endPFN: segEnd), at: position)
        for i in segments.indices { segments[i].index = i }
        for zi in zones.indices { zones[zi].segments = segments.indices.filter { segments[$0].zone == zi } }
        zones[z].managedPages += segEnd - s
        bootReservedFrames.formUnion(segEnd..<e)
        var pfn = s
        while pfn < segEnd {
            var k = Self.maxOrder
            while k > 0 && (pfn % Self.pages(k) != 0 || pfn + Self.pages(k) > segEnd) { k -= 1 }
            pushFree(pfn, order: k, mt: 1, segment: position)
            pfn += Self.pages(k)
        }
    }
}

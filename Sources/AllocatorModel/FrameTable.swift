/// Every frame's metadata, kept as the raw bytes of the kernel's `FrameMeta` array and
/// decoded on access through the field offsets the kernel published.
public struct FrameTable: Sendable {
    /// Byte offsets of the fields read, and the record size.
    public struct Layout: Sendable, Equatable {
        public var stride: Int
        public var next: Int, prev: Int, flags: Int, order: Int, migratetype: Int, zone: Int
        public var refcount: Int, segment: Int, owner: Int, lastSeq: Int
        /// Slab words (address of the first free object; in use | objects << 32), -1 when absent.
        public var slabFree = -1, slabInfo = -1

        public init(stride: Int, next: Int, prev: Int, flags: Int, order: Int, migratetype: Int, zone: Int,
                    refcount: Int, segment: Int, owner: Int, lastSeq: Int) {
            self.stride = stride
            self.next = next
            self.prev = prev
            self.flags = flags
            self.order = order
            self.migratetype = migratetype
            self.zone = zone
            self.refcount = refcount
            self.segment = segment
            self.owner = owner
            self.lastSeq = lastSeq
        }

        /// Whether every field (8, 4, 2 or 1 bytes wide) fits inside the record.
        public var isValid: Bool {
            stride > 0 && [next, prev, owner, lastSeq].allSatisfy { $0 >= 0 && $0 + 8 <= stride }
                && [flags, refcount].allSatisfy { $0 >= 0 && $0 + 4 <= stride }
                && segment >= 0 && segment + 2 <= stride
                && [order, migratetype, zone].allSatisfy { $0 >= 0 && $0 < stride }
                && [slabFree, slabInfo].allSatisfy { $0 == -1 || ($0 >= 0 && $0 + 8 <= stride) }
        }
    }

    public let layout: Layout
    public let bytes: [UInt8]

    /// A table over `bytes` (a whole number of records); the layout must be valid.
    public init(layout: Layout, bytes: [UInt8]) {
        precondition(layout.isValid)
        self.layout = layout
        self.bytes = bytes
    }

    /// Frames in the table.
    public var count: Int { bytes.count / layout.stride }

    /// Frame `pfn`'s record, or nil past the table.
    public subscript(pfn: UInt64) -> FrameRecord? {
        guard pfn < UInt64(count) else { return nil }
        let base = Int(pfn) * layout.stride
        let l = layout
        return bytes.withUnsafeBytes { p in
            func u64(_ o: Int) -> UInt64 { UInt64(littleEndian: p.loadUnaligned(fromByteOffset: base + o, as: UInt64.self)) }
            func u32(_ o: Int) -> UInt32 { UInt32(littleEndian: p.loadUnaligned(fromByteOffset: base + o, as: UInt32.self)) }
            func u16(_ o: Int) -> UInt16 { UInt16(littleEndian: p.loadUnaligned(fromByteOffset: base + o, as: UInt16.self)) }
            return FrameRecord(next: u64(l.next), prev: u64(l.prev), flags: u32(l.flags), order: p[base + l.order],
                               migratetype: p[base + l.migratetype], zone: p[base + l.zone], refcount: u32(l.refcount),
                               segment: u16(l.segment), owner: u64(l.owner), lastSeq: u64(l.lastSeq),
                               slabFree: l.slabFree < 0 ? 0 : u64(l.slabFree), slabInfo: l.slabInfo < 0 ? 0 : u64(l.slabInfo))
        }
    }
}

/// One frame's metadata.
public struct FrameRecord: Sendable, Equatable {
    public var next: UInt64
    public var prev: UInt64
    public var flags: UInt32
    public var order: UInt8
    public var migratetype: UInt8
    public var zone: UInt8
    public var refcount: UInt32
    public var segment: UInt16
    public var owner: UInt64
    public var lastSeq: UInt64
    public var slabFree: UInt64 = 0
    public var slabInfo: UInt64 = 0
}

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
    /// Where the records are held.
    let storage: Storage
    /// For a streamed table: the windows it reads on demand.
    let windows: FrameWindows?
    /// Frames in the table.
    public let count: Int

    /// The records: an array the table owns, host memory borrowed from an owner (a buffer, or
    /// guest RAM mapped in place), or nothing held (streamed).
    enum Storage: @unchecked Sendable {
        case array([UInt8])
        case borrowed(UnsafeRawBufferPointer, owner: AnyObject, live: Bool)
        case streamed
    }

    /// A table over `bytes` (a whole number of records); the layout must be valid.
    public init(layout: Layout, bytes: [UInt8]) {
        precondition(layout.isValid)
        self.layout = layout
        storage = .array(bytes)
        windows = nil
        count = bytes.count / layout.stride
    }

    /// A table over `raw`, which stays valid while `owner` lives (the table keeps it). `live`
    /// says `raw` is guest RAM mapped in place: it changes when the guest runs, so the table
    /// may be used only while the guest stays stopped (``isLive``).
    public init(layout: Layout, borrowing raw: UnsafeRawBufferPointer, owner: AnyObject, live: Bool) {
        precondition(layout.isValid)
        self.layout = layout
        storage = .borrowed(raw, owner: owner, live: live)
        windows = nil
        count = raw.count / layout.stride
    }

    /// The whole table's bytes, copied (empty for a streamed table).
    public var bytes: [UInt8] {
        switch storage {
        case .array(let a): return a
        case .borrowed(let raw, _, _): return Array(raw)
        case .streamed: return []
        }
    }

    /// Whether the records are guest memory read in place (or on demand, streamed): such a table
    /// must be used while the guest is still stopped.
    public var isLive: Bool {
        switch storage {
        case .array: return false
        case .borrowed(_, _, let live): return live
        case .streamed: return true
        }
    }

    /// A streamed table of `count` frames: windows of `windowFrames` records are read on
    /// demand with `read(byteOffset, buffer)` into `cachedWindows` buffers, so its memory does
    /// not grow with the table. A window that cannot be read reads as zeros and is kept in
    /// ``readFailure``.
    public init(layout: Layout, count: Int, windowFrames: Int = 256, cachedWindows: Int = 2048,
                read: @escaping (Int, UnsafeMutableRawBufferPointer) throws -> Void) {
        precondition(layout.isValid && count >= 0)
        self.layout = layout
        storage = .streamed
        self.count = count
        windows = FrameWindows(stride: layout.stride, count: count, windowFrames: max(windowFrames, 1),
                               slots: max(cachedWindows, 1), read: read)
    }

    /// Windows a streamed table has read so far (0 for a whole table).
    public var windowReads: Int { windows?.reads ?? 0 }

    /// Whether frames are read on demand rather than held.
    public var isStreamed: Bool { windows != nil }

    /// The first error a streamed table met reading a window (the checks then saw zeros).
    public var readFailure: (any Error)? { windows?.failure }

    /// Frame `pfn`'s record, or nil past the table.
    public subscript(pfn: UInt64) -> FrameRecord? {
        withReader { $0[pfn] }
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

extension FrameTable {
    /// Frame fields read straight from the table's one buffer with unaligned loads: no copy,
    /// no per-frame allocation. Valid only inside ``FrameTable/withReader(_:)``.
    public struct Reader {
        @usableFromInline let raw: UnsafeRawBufferPointer
        /// For a streamed table: its window cache, not retained (the table holds it for as
        /// long as ``withReader(_:)`` runs), and the cache's slot tables copied out, so that a
        /// hit costs a shift, a mask, a load and a compare (no retain, no call).
        @usableFromInline let windows: Unmanaged<FrameWindows>?
        @usableFromInline let tags: UnsafeMutablePointer<Int>?
        @usableFromInline let storage: UnsafeRawPointer?
        @usableFromInline let windowShift: Int, slotMask: Int, frameMask: Int
        public let layout: Layout
        /// Frames in the table.
        public let count: Int

        init(raw: UnsafeRawBufferPointer, windows: FrameWindows?, layout: Layout, count: Int) {
            self.raw = raw
            self.windows = windows.map { Unmanaged.passUnretained($0) }
            tags = windows?.tags
            storage = windows.map { UnsafeRawPointer($0.storage.baseAddress!) }
            windowShift = windows?.windowShift ?? 0
            slotMask = (windows?.slots ?? 1) - 1
            frameMask = (windows?.windowFrames ?? 1) - 1
            self.layout = layout
            self.count = count
        }

        /// Where frame `pfn`'s record starts (`pfn` below ``count``): in the one buffer, or
        /// in the cached window that holds it (valid until the next window is read).
        /// (Inlinable, as the accessors below: verify's per-frame loops in `BundledChecks` call them.)
        @inlinable @inline(__always)
        public func record(_ pfn: UInt64) -> UnsafeRawPointer {
            let index = Int(truncatingIfNeeded: pfn)
            guard let tags, let storage else { return raw.baseAddress! + index &* layout.stride }
            let w = index >> windowShift, slot = w & slotMask
            if tags[slot] != w { windows!._withUnsafeGuaranteedRef { $0.fill(w, slot) } }
            return storage + ((slot << windowShift) + (index & frameMask)) &* layout.stride
        }

        /// Whether `pfn` has a record.
        @inlinable @inline(__always)
        public func contains(_ pfn: UInt64) -> Bool { pfn < UInt64(count) }

        /// Frame `pfn`'s flags; `pfn` must be below ``count``.
        @inlinable @inline(__always)
        public func flags(_ pfn: UInt64) -> UInt32 {
            UInt32(littleEndian: record(pfn).loadUnaligned(fromByteOffset: layout.flags, as: UInt32.self))
        }

        /// Frame `pfn`'s reference count; `pfn` must be below ``count``.
        @inlinable @inline(__always)
        public func refcount(_ pfn: UInt64) -> UInt32 {
            UInt32(littleEndian: record(pfn).loadUnaligned(fromByteOffset: layout.refcount, as: UInt32.self))
        }

        /// Frame `pfn`'s zone index; `pfn` must be below ``count``.
        @inlinable @inline(__always)
        public func zone(_ pfn: UInt64) -> UInt8 { record(pfn).load(fromByteOffset: layout.zone, as: UInt8.self) }

        /// Frame `pfn`'s segment index; `pfn` must be below ``count``.
        @inlinable @inline(__always)
        public func segment(_ pfn: UInt64) -> UInt16 {
            UInt16(littleEndian: record(pfn).loadUnaligned(fromByteOffset: layout.segment, as: UInt16.self))
        }

        /// The sequence number of the operation that last changed frame `pfn`; `pfn` below ``count``.
        @inlinable @inline(__always)
        public func lastSeq(_ pfn: UInt64) -> UInt64 {
            UInt64(littleEndian: record(pfn).loadUnaligned(fromByteOffset: layout.lastSeq, as: UInt64.self))
        }

        /// Frame `pfn`'s record, or nil past the table.
        @inline(__always)
        public subscript(pfn: UInt64) -> FrameRecord? {
            guard pfn < UInt64(count) else { return nil }
            let b = record(pfn)
            let l = layout
            func u64(_ o: Int) -> UInt64 { UInt64(littleEndian: b.loadUnaligned(fromByteOffset: o, as: UInt64.self)) }
            func u32(_ o: Int) -> UInt32 { UInt32(littleEndian: b.loadUnaligned(fromByteOffset: o, as: UInt32.self)) }
            func u16(_ o: Int) -> UInt16 { UInt16(littleEndian: b.loadUnaligned(fromByteOffset: o, as: UInt16.self)) }
            func u8(_ o: Int) -> UInt8 { b.load(fromByteOffset: o, as: UInt8.self) }
            return FrameRecord(next: u64(l.next), prev: u64(l.prev), flags: u32(l.flags), order: u8(l.order),
                               migratetype: u8(l.migratetype), zone: u8(l.zone), refcount: u32(l.refcount),
                               segment: u16(l.segment), owner: u64(l.owner), lastSeq: u64(l.lastSeq),
                               slabFree: l.slabFree < 0 ? 0 : u64(l.slabFree), slabInfo: l.slabInfo < 0 ? 0 : u64(l.slabInfo))
        }
    }

    /// Runs `body` with a ``Reader`` over the table's bytes.
    public func withReader<T>(_ body: (Reader) throws -> T) rethrows -> T {
        switch storage {
        case .array(let a):
            return try a.withUnsafeBytes { try body(Reader(raw: $0, windows: windows, layout: layout, count: count)) }
        case .borrowed(let raw, let owner, _):
            return try withExtendedLifetime(owner) { try body(Reader(raw: raw, windows: windows, layout: layout, count: count)) }
        case .streamed:
            return try withExtendedLifetime(windows) {
                try body(Reader(raw: UnsafeRawBufferPointer(start: nil, count: 0), windows: windows, layout: layout, count: count))
            }
        }
    }
}

extension OpLogRecord {
    /// The frames this operation handed out, freed, claimed or changed, as `(first PFN, count)`;
    /// heap operations name the frame of their object through the direct map. Empty when the
    /// operation names no frame (a drain, a failed allocation).
    public func touchedFrames(directMap: UInt64) -> [(pfn: UInt64, count: UInt64)] {
        let none = UInt64.max
        func block(_ pfn: UInt64, order: UInt8) -> [(UInt64, UInt64)] {
            pfn == none || order > 11 ? [] : [(pfn, UInt64(1) << UInt64(order))]
        }
        func object(_ address: UInt64) -> [(UInt64, UInt64)] {
            address == none || address < directMap ? [] : [((address &- directMap) >> 12, UInt64(1))]
        }
        switch kind {
        case .allocate: return block(result, order: order)
        case .free: return block(address, order: order)
        case .allocateFrame, .get, .put, .quarantine: return address == none ? [] : [(address, UInt64(1))]
        case .allocateCount: return result == none ? [] : [(result, size)]
        case .reserveRange, .freeCount, .unreserve, .addMemory: return address == none ? [] : [(address, size)]
        case .heapAllocate: return object(result)
        case .heapFree: return object(address)
        case .drain, nil: return []
        }
    }
}

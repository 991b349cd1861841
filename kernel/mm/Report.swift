/// Text reports of the allocator's state, in the shape of /proc/zoneinfo and
/// /proc/buddyinfo. Counts of free blocks come from walking the lists.
extension PageAllocator {
    /// One line per zone: span, present, managed, boot-reserved, free, watermarks, segments.
    public func writeZones<S: TextSink>(to out: inout S) {
        for z in 0..<ZoneKind.count {
            let zp = zone(z)
            out.write("kmem: zone "); out.padded(ZoneKind(rawValue: UInt8(z))!.name, width: 7)
            out.write("pfn ["); out.hex(zp.pointee.startPFN); out.write(", "); out.hex(zp.pointee.endPFN)
            out.write(") spanned "); out.dec(zp.pointee.spannedPages)
            out.write(" present "); out.dec(zp.pointee.presentPages)
            out.write(" managed "); out.dec(zp.pointee.managedPages)
            out.write(" boot-reserved "); out.dec(zp.pointee.bootReservedPages)
            out.write(" free "); out.dec(zp.pointee.freePages)
            out.write(" min "); out.dec(zp.pointee.watermarkMin)
            out.write(" low "); out.dec(zp.pointee.watermarkLow)
            out.write(" high "); out.dec(zp.pointee.watermarkHigh)
            out.write(" segments "); out.dec(UInt64(zp.pointee.segmentCount))
            out.newline()
        }
    }

    /// One line per segment: index, zone, PFN range, pages.
    public func writeSegments<S: TextSink>(to out: inout S) {
        var i = 0
        while i < segmentCount {
            let seg = segment(i)
            out.write("kmem:   segment "); out.dec(UInt64(i), width: 2); out.write(" ")
            out.padded(ZoneKind(rawValue: UInt8(seg.pointee.zone))!.name, width: 7)
            out.write("pfn ["); out.hex(seg.pointee.startPFN); out.write(", "); out.hex(seg.pointee.endPFN)
            out.write(") pages "); out.dec(seg.pointee.pageCount); out.newline()
            i += 1
        }
    }

    /// /proc/buddyinfo: `Node 0, zone <name>` and the free blocks of each order, walked.
    public func writeBuddyinfo<S: TextSink>(to out: inout S) {
        for z in 0..<ZoneKind.count where zone(z).pointee.managedPages != 0 {
            out.write("Node 0, zone ")
            let name = ZoneKind(rawValue: UInt8(z))!.name
            var pad = 8 - name.utf8CodeUnitCount
            while pad > 0 { out.put(32); pad -= 1 }
            out.write(name)
            for k in 0...Kmem.maxOrder { out.put(32); out.dec(freeBlocks(zone: z, order: k), width: 6) }
            out.newline()
        }
    }
}

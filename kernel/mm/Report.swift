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

extension PageAllocator {
    /// /proc/slabinfo: `kmalloc-SIZE active_objs num_objs objsize objperslab pagesperslab :
    /// slabdata active_slabs num_slabs`, counted by walking each cache's slab lists.
    public func writeSlabinfo<S: TextSink>(to out: inout S) {
        for i in 0..<Kmem.slabCacheCount {
            let c = cache(i)
            var slabs: UInt64 = 0
            var active: UInt64 = 0
            for pass in 0..<2 {
                let full = pass == 1
                var p = PFN(full ? c.pointee.fullHead : c.pointee.partialHead)
                var n: UInt64 = 0
                while p < frameEnd && n < frameCount {
                    active &+= meta(p).pointee.slabInfo & 0xFFFF_FFFF
                    slabs &+= 1
                    n &+= 1
                    p = meta(p).pointee.nextFrame
                }
            }
            out.write("slabinfo: kmalloc-"); out.dec(c.pointee.objectSize)
            var pad = 5 - (c.pointee.objectSize >= 1000 ? 4 : c.pointee.objectSize >= 100 ? 3 : 2)
            while pad > 0 { out.put(32); pad -= 1 }
            out.dec(active, width: 7); out.dec(slabs &* c.pointee.objectsPerSlab, width: 7)
            out.dec(c.pointee.objectSize, width: 6); out.dec(c.pointee.objectsPerSlab, width: 5)
            out.write("    1 : slabdata"); out.dec(slabs, width: 6); out.dec(slabs, width: 6); out.newline()
        }
        out.write("slabinfo: large "); out.dec(heap.pointee.largeAllocations); out.write(" blocks, ")
        out.dec(heap.pointee.largePages); out.write(" pages"); out.newline()
    }
}

extension PageAllocator {
    /// One line per populated zone: largest free order, fragmentation score at orders 3 and 9
    /// (the pageblock order), free pages by migratetype (as /proc/pagetypeinfo sums them) and
    /// pages on the per-CPU lists.
    public func writeZoneStatistics<S: TextSink>(to out: inout S) {
        for z in 0..<ZoneKind.count where zone(z).pointee.managedPages != 0 {
            out.write("kmem: zonestat "); out.padded(ZoneKind(rawValue: UInt8(z))!.name, width: 7)
            out.write("largest-order ")
            let k = largestFreeOrder(zone: z)
            if k < 0 { out.write("none") } else { out.dec(UInt64(k)) }
            out.write(" frag(3) "); out.dec(fragmentationScore(zone: z, order: 3)); out.write("%")
            out.write(" frag(9) "); out.dec(fragmentationScore(zone: z, order: Kmem.pageblockOrder)); out.write("%")
            for mt in 0..<Migratetype.count {
                out.put(32); out.write(Migratetype(rawValue: UInt8(mt))!.name); out.put(32)
                out.dec(freePages(zone: z, migratetype: mt))
            }
            out.write(" pcp "); out.dec(perCPUCount(zone: z))
            out.newline()
        }
    }
}

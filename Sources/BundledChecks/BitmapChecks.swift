import BundledState

/// Parity bitmaps, the allocation bitmap and pageblock tags against the tiling of a segment.
extension Verifier {
    func checkBitmaps(_ seg: SegmentSnapshot, _ t: Tiled, _ frames: FrameTable.Reader, _ r: inout VerifyReport) {
        let zone = zoneName(seg.zone)
        func fail(_ c: Check, _ p: UInt64, _ e: String, _ found: String) {
            r.add(Violation(c, zone: zone, segment: seg.index, pfn: p, expected: e, found: found))
        }
        func bit(_ words: [UInt64], _ i: UInt64) -> Bool? {
            let w = Int(i >> 6)
            return w < words.count ? words[w] & (1 << (i & 63)) != 0 : nil
        }
        // parity: one bit per buddy pair of each order. The expected bits are built from the
        // free heads alone (each order-k head toggles its pair's bit: one free → 1, both → 0),
        // then compared a word at a time; pair by pair only in a word that differs (or past
        // the end of the kernel's bitmap), in the same order as a pair-by-pair walk.
        let heads = freeHeadsByOrder(t)
        for (k, words) in seg.parity.enumerated() where k <= snapshot.maxOrder && seg.endPFN > seg.startPFN {
            let shift = UInt64(k + 1)
            let firstPair = seg.startPFN >> shift
            let pairs = Int(truncatingIfNeeded: ((seg.endPFN - 1) >> shift) - firstPair + 1)
            var want = [UInt64](repeating: 0, count: (pairs + 63) / 64)
            if k < heads.count {
                for h in heads[k] {
                    let i = Int(truncatingIfNeeded: (h >> shift) - firstPair)
                    want[i >> 6] ^= 1 << UInt64(i & 63)
                }
            }
            for w in 0..<want.count {
                let bits = min(64, pairs - w << 6)
                let mask: UInt64 = bits == 64 ? ~0 : (1 << UInt64(bits)) - 1
                if w < words.count, (words[w] ^ want[w]) & mask == 0 { continue }
                for b in 0..<bits {
                    let index = w << 6 + b
                    let wanted = want[w] & (1 << UInt64(b)) != 0
                    let have = bit(words, UInt64(index))
                    if have != wanted {
                        let left = (firstPair + UInt64(index)) << shift
                        let right = left + (1 << UInt64(k))
                        fail(.parity, left, "bit \(wanted ? 1 : 0) for the order-\(k) pair 0x\(String(left, radix: 16))/0x\(String(right, radix: 16))",
                             have.map { $0 ? "1" : "0" } ?? "no bit (bitmap too short)")
                    }
                }
            }
        }
        // allocation bitmap: 1 exactly for frames in use
        if !seg.allocBitmap.isEmpty {
            // Word by word: the tiling's in-use bits against the kernel's, frame by frame only
            // where a word differs (or the kernel's bitmap is short).
            let words = (Int(truncatingIfNeeded: seg.pageCount) + 63) / 64
            for w in 0..<words {
                let firstBit = UInt64(w) << 6
                let bits = min(64, seg.pageCount - firstBit)
                let mask: UInt64 = bits == 64 ? ~0 : (1 << bits) - 1
                if w < seg.allocBitmap.count, w < t.inUse.words.count, (seg.allocBitmap[w] ^ t.inUse.words[w]) & mask == 0 { continue }
                for b in 0..<bits {
                    let p = seg.startPFN + firstBit + b
                    let want = t.inUse.contains(firstBit + b)
                    let have = bit(seg.allocBitmap, firstBit + b)
                    if have != want { fail(.allocBitmap, p, want ? "1 (in use)" : "0 (free or cached)", have.map { $0 ? "1" : "0" } ?? "no bit") }
                }
            }
        }
        // pageblock tags: valid, and free blocks agree with them
        if !seg.pageblockTags.isEmpty {
            for (i, tag) in seg.pageblockTags.enumerated() where Int(tag) >= snapshot.migratetypes {
                fail(.pageblockTags, (seg.firstPageblock &+ UInt64(i)) << UInt64(snapshot.pageblockOrder),
                     "a migratetype below \(snapshot.migratetypes)", "\(tag)")
            }
            for (i, o) in t.freeOrder.enumerated() where o != 0 {
                let head = seg.startPFN + UInt64(i), k = o - 1
                guard let mt = frames[head]?.migratetype else { continue }
                var p = head
                let end = min(head + (UInt64(1) << UInt64(k)), seg.endPFN)
                while p < end {
                    // firstPageblock is guest data: a pageblock before it has no tag (no trap)
                    let pb = p >> UInt64(snapshot.pageblockOrder)
                    let index = pb >= seg.firstPageblock ? Int(clamping: pb - seg.firstPageblock) : -1
                    if index < 0 || index >= seg.pageblockTags.count {
                        fail(.pageblockTags, head, "a tag for pageblock 0x\(String(pb, radix: 16)) of this free block",
                             "none (segment's pageblocks 0x\(String(seg.firstPageblock, radix: 16)) + \(seg.pageblockTags.count))")
                    } else if seg.pageblockTags[index] != mt {
                        fail(.pageblockTags, head, "the pageblock of this migratetype-\(mt) free block tagged \(mt)", "tag \(seg.pageblockTags[index])")
                    }
                    p = ((p >> UInt64(snapshot.pageblockOrder)) + 1) << UInt64(snapshot.pageblockOrder)
                }
            }
            // one tag per pageblock per zone: a pageblock this segment shares with the
            // previous one of its zone (split by a hole) carries the same tag in both
            if seg.index > 0, seg.index - 1 < snapshot.segments.count {
                let prev = snapshot.segments[seg.index - 1]
                let edge = seg.startPFN >> UInt64(snapshot.pageblockOrder)
                if prev.zone == seg.zone, prev.endPFN > prev.startPFN, (prev.endPFN - 1) >> UInt64(snapshot.pageblockOrder) == edge,
                   edge >= prev.firstPageblock, Int(edge - prev.firstPageblock) < prev.pageblockTags.count,
                   edge >= seg.firstPageblock, Int(edge - seg.firstPageblock) < seg.pageblockTags.count {
                    let a = prev.pageblockTags[Int(edge - prev.firstPageblock)], b = seg.pageblockTags[Int(edge - seg.firstPageblock)]
                    if a != b {
                        fail(.pageblockTags, seg.startPFN, "tag \(a), as segment \(prev.index) has for this shared pageblock", "tag \(b)")
                    }
                }
            }
        }
    }

    /// The segment's free heads (absolute PFNs, ascending) by order, from the tiling's
    /// per-frame bytes (eight frames at a time where none heads a free block).
    func freeHeadsByOrder(_ t: Tiled) -> [[UInt64]] {
        var heads = [[UInt64]](repeating: [], count: snapshot.maxOrder + 1)
        t.freeOrder.withUnsafeBytes { raw in
            var i = 0
            let n = raw.count
            while i < n {
                if i & 7 == 0, n - i >= 8, raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) == 0 {
                    i += 8
                    continue
                }
                let o = Int(raw[i])
                if o != 0, o - 1 < heads.count { heads[o - 1].append(t.start + UInt64(i)) }
                i += 1
            }
        }
        return heads
    }
}

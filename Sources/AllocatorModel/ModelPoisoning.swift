/// "Page poisoning" of kernel/README.md. The model cannot see page contents: a
/// `PoisonOracle` tells it which frames' pattern was overwritten — in the differential tests
/// the frames the test overwrote, in a replay the kernel's own `quarantine` log entries.
public struct PoisonOracle: Sendable, Equatable {
    /// Where a frame's pattern was found overwritten.
    public struct BadFrame: Sendable, Equatable {
        public var pfn: UInt64
        /// Offset of the first bad byte, and that byte.
        public var offset: UInt64
        public var byte: UInt8

        public init(pfn: UInt64, offset: UInt64, byte: UInt8) {
            self.pfn = pfn
            self.offset = offset
            self.byte = byte
        }
    }

    /// Frames whose pattern is overwritten now, by PFN (direct mode).
    public var overwritten: [UInt64: BadFrame] = [:]
    /// Quarantines the kernel logged, by the sequence of the operation they ran inside, in
    /// sequence order (replay).
    public var logged: [UInt64: [BadFrame]] = [:]

    public init(overwritten: [UInt64: BadFrame] = [:], logged: [UInt64: [BadFrame]] = [:]) {
        self.overwritten = overwritten
        self.logged = logged
    }

    public static let none = PoisonOracle()

    /// The first bad frame among `frames` (the candidate of operation `seq`), consumed.
    mutating func firstBad(_ seq: UInt64, in frames: Range<UInt64>) -> BadFrame? {
        if !logged.isEmpty, var pending = logged[seq], let first = pending.first {
            guard frames.contains(first.pfn) else { return nil }
            pending.removeFirst()
            logged[seq] = pending.isEmpty ? nil : pending
            return first
        }
        guard !overwritten.isEmpty else { return nil }
        for p in frames {
            if let bad = overwritten.removeValue(forKey: p) { return bad }
        }
        return nil
    }
}

extension ModelState {
    /// "checks the pattern of the frames it would hand out": with poisoning on, the oracle's first
    /// bad frame among them ("Only the first bad frame of a candidate is quarantined per attempt").
    mutating func poisonCheck(_ seq: UInt64, frames: Range<UInt64>) -> PoisonOracle.BadFrame? {
        guard poisoning else { return nil }
        return poisonOracle.firstBad(seq, in: frames)
    }

    /// "A frame whose pattern was overwritten is quarantined …: it is taken out of its free block
    /// (the block unlinked and split around it exactly as allocateFrame does) or off its per-CPU
    /// list, becomes RESERVED|POISONED with owner 0x0bad0000, counts as reserved in its segment and
    /// zone, and the quarantine is logged as its own operation (kind quarantine, parent = the
    /// allocation, address = PFN, size = offset of the first bad byte, result = that byte)."
    mutating func quarantine(_ bad: PoisonOracle.BadFrame) {
        events.quarantines += 1
        let seq = beginOperation()
        _ = operation(seq, entry(seq, .quarantine, size: bad.offset, address: bad.pfn, owner: Self.quarantineOwner)) { m in
            m.take(bad.pfn)
            m.reserved[bad.pfn] = ReservedFrame(owner: Self.quarantineOwner, quarantined: true, lastSeq: seq)
            let s = m.segmentIndex(of: bad.pfn)!
            m.segments[s].reservedPages += 1
            m.zones[m.segments[s].zone].reservedPages += 1
            return .ok(UInt64(bad.byte))
        }
    }
}

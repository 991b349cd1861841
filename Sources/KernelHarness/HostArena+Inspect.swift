import KernelMM

extension HostArena {
    /// The allocator's self-check: its verdict and its report as text (for a failure message).
    public func check() -> (passed: Bool, text: String) {
        let report = allocator.selfCheck()
        var text = TextCollector()
        report.write(to: &text)
        return (report.passed, text.text)
    }

    /// The self-check's verdict alone.
    public var selfCheckPassed: Bool { allocator.selfCheck().passed }

    /// Free pages of zone `z` by its counter.
    public func free(zone z: Int) -> UInt64 { allocator.zone(z).pointee.freePages }

    /// The zone of `pfn` by this arena's limits.
    public func zoneOf(_ pfn: PFN) -> Int { allocator.zoneIndex(of: pfn) }

    /// `/proc/buddyinfo` as the kernel prints it.
    public var buddyinfo: String {
        var text = TextCollector()
        allocator.writeBuddyinfo(to: &text)
        return text.text
    }

    /// Every managed frame, segment by segment.
    public var managedPFNs: [PFN] {
        (0..<allocator.segmentCount).flatMap { i -> [PFN] in
            let s = allocator.segment(i).pointee
            return (s.startPFN..<s.endPFN).map(PFN.init)
        }
    }

    /// Overwrites byte `offset` of frame `pfn` behind the allocator's back (a free page's
    /// poison pattern, say).
    public func scribble(_ pfn: UInt64, offset: UInt64, byte: UInt8) {
        precondition(pfn * 4096 + offset < UInt64(bytes), "scribble outside the arena")
        base.storeBytes(of: byte, toByteOffset: Int(pfn * 4096 + offset), as: UInt8.self)
    }
}

/// A `TextSink` collecting the kernel's text output (reports, the layout descriptor).
public struct TextCollector: TextSink {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8] = []
    public init() {}
    public mutating func put(_ byte: UInt8) { bytes.append(byte) }
    /// The bytes as UTF-8 text.
    public var text: String { String(decoding: bytes, as: UTF8.self) }
}

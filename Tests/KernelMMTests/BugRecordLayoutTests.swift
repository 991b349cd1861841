import Testing
@testable import KernelMM

/// The BUG record (`kmem_bug`, kernel/README.md "A kernel halted at its BUG") is a contract
/// with the toolkit: its README table, `MemoryLayout` and the kernel's own measurement agree.
@Suite("BUG record layout")
struct BugRecordLayoutTests {
    nonisolated(unsafe) static let table: [(PartialKeyPath<BugRecord>, String, Int)] = [
        (\.magic, "magic", 0), (\.kind, "kind", 8), (\.code, "code", 16), (\.pfn, "pfn", 24), (\.sequence, "sequence", 32),
        (\.busy, "busy", 40), (\.rip, "rip", 48), (\.detail, "detail", 56), (\.detail2, "detail2", 64),
        (\.textLength, "textLength", 72), (\.text, "text", 80),
    ]

    @Test func pinnedAsTheReadmeSays() {
        #expect(MemoryLayout<BugRecord>.size == 256)
        #expect(BugRecord.textOffset + BugRecord.textCapacity == 256)
        for (path, _, offset) in Self.table {
            #expect(MemoryLayout<BugRecord>.offset(of: path) == offset, "\(path)")
        }
        // "KMEMBUG!" read little-endian
        #expect(withUnsafeBytes(of: BugRecord.magicValue.littleEndian) { Array($0) } == Array("KMEMBUG!".utf8))
    }

    /// The kernel's measured lines (what it publishes after `BUG=`) equal `MemoryLayout`.
    @Test func theKernelsMeasurementAgrees() {
        var sink = ByteSink()
        LayoutDescriptor.writeBugRecordLayout(to: &sink)
        let text = String(decoding: sink.bytes, as: UTF8.self)
        var expected = ["SIZE(BugRecord)=\(MemoryLayout<BugRecord>.size)"]
        for (path, name, _) in Self.table { expected.append("OFFSET(BugRecord.\(name))=\(MemoryLayout<BugRecord>.offset(of: path)!)") }
        #expect(text.split(separator: "\n").map(String.init) == expected)
    }

    /// Every error has its own code, and the kinds are the README's 1…8.
    @Test func codesAndKinds() {
        let errors: [KmemError] = [.invalidOrder(order: 12), .doubleFree(pfn: 1), .corruptedList(pfn: 2, link: 3),
                                   .parityMismatch(pfn: 4, order: 1, free: true), .bootFailed(reason: "x"), .heapDoubleFree(address: 16)]
        #expect(Set(errors.map(\.code)).count == errors.count)
        #expect(errors.map(\.bugKind) == [.misuse, .misuse, .corruption, .corruption, .boot, .misuse])
        #expect(BugKind.allCases.map(\.rawValue) == Array(1...8))
        #expect(KmemError.heapDoubleFree(address: 0x40).heapAddress == 0x40)
    }
}

private struct ByteSink: TextSink {
    var bytes: [UInt8] = []
    mutating func put(_ byte: UInt8) { bytes.append(byte) }
}

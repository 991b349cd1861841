import Foundation
import Testing

/// The real kernel, booted in real QEMU: its serial report is the contract checked here.
@Suite("Kernel boots in QEMU")
struct KernelBootTests {
    /// Parses `kmem: zone NAME pfn [...] ... managed N ... free N` lines.
    static func zones(_ serial: String) -> [String: [String: UInt64]] {
        var out: [String: [String: UInt64]] = [:]
        for line in serial.split(whereSeparator: \.isNewline) where line.hasPrefix("kmem: zone ") {
            let words = line.split(separator: " ").map(String.init)
            var fields: [String: UInt64] = [:]
            var i = 3
            while i + 1 < words.count {
                if let v = UInt64(words[i + 1].trimmingCharacters(in: .whitespaces)) { fields[words[i]] = v }
                i += 1
            }
            out[words[2]] = fields
        }
        return out
    }

    /// buddyinfo lines: zone → free blocks per order.
    static func buddyinfo(_ serial: String) -> [String: [UInt64]] {
        var out: [String: [UInt64]] = [:]
        for line in serial.split(whereSeparator: \.isNewline) where line.hasPrefix("Node 0, zone") {
            let w = line.split(separator: " ")
            out[String(w[3])] = w.dropFirst(4).compactMap { UInt64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
        return out
    }

    /// Usable RAM of the `kmem: e820: [mem 0xSTART-0xLAST] usable` lines (the map QEMU handed
    /// the kernel, printed as it came), as page ranges: partial pages at the edges dropped.
    static func usablePages(_ serial: String) -> [Range<UInt64>] {
        serial.split(whereSeparator: \.isNewline).compactMap { line -> Range<UInt64>? in
            guard line.hasPrefix("kmem: e820: [mem 0x"), line.hasSuffix("] usable") else { return nil }
            let bounds = line.dropFirst("kmem: e820: [mem ".count).prefix { $0 != "]" }.split(separator: "-")
            guard bounds.count == 2, let first = UInt64(bounds[0].dropFirst(2), radix: 16),
                  let last = UInt64(bounds[1].dropFirst(2), radix: 16) else { return nil }
            let start = (first + 4095) >> 12, end = (last + 1) >> 12
            return start < end ? start..<end : nil
        }
    }

    /// Present pages per zone from a usable map by the contract's zone limits: DMA below
    /// 16 MiB, DMA32 below 4 GiB, Normal above.
    static func presentPages(_ usable: [Range<UInt64>]) -> [String: UInt64] {
        let zones: [(String, Range<UInt64>)] = [("DMA", 0..<0x1000), ("DMA32", 0x1000..<0x10_0000), ("Normal", 0x10_0000..<UInt64.max)]
        var out: [String: UInt64] = [:]
        for (name, limits) in zones {
            out[name] = usable.reduce(0) { sum, r in
                let lo = max(r.lowerBound, limits.lowerBound), hi = min(r.upperBound, limits.upperBound)
                return sum + (lo < hi ? hi - lo : 0)
            }
        }
        return out
    }

    /// The hex numbers of a line, in order (`0x…` words, brackets and commas stripped).
    static func hexNumbers(_ line: Substring) -> [UInt64] {
        line.split(whereSeparator: { " [](),".contains($0) }).compactMap { w in
            w.hasPrefix("0x") ? UInt64(w.dropFirst(2), radix: 16) : nil
        }
    }

    /// `kmem:   segment N ZONE pfn [0xS, 0xE) pages P` lines: zone, PFN range, pages.
    static func segments(_ serial: String) -> [(zone: String, pfns: Range<UInt64>, pages: UInt64)] {
        serial.split(whereSeparator: \.isNewline).compactMap { line in
            guard line.hasPrefix("kmem:   segment ") else { return nil }
            let w = line.split(separator: " ")
            let hex = hexNumbers(line)
            guard w.count >= 9, hex.count == 2, hex[0] < hex[1], let pages = UInt64(w[w.count - 1]) else { return nil }
            return (String(w[3]), hex[0]..<hex[1], pages)
        }
    }

    /// What boot took as physical page ranges: `kmem: kernel image phys [S, E) boot memory phys
    /// [S, E)` and, when the FrameMeta array was carved apart, `and [S, E) for FrameMeta`.
    static func bootRanges(_ serial: String) -> [Range<UInt64>] {
        guard let line = serial.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("kmem: kernel image phys [") })
        else { return [] }
        let hex = hexNumbers(line)
        return stride(from: 0, to: hex.count - 1, by: 2).map { (hex[$0] >> 12)..<((hex[$0 + 1] + 4095) >> 12) }
    }

    @Test(arguments: ["128M", "1G", "6G"])
    func bootsAndPassesItsSelfCheck(memory: String) throws {
        let r = try QEMUBoot.run(memory: memory, append: "exit=1")
        #expect(r.status == 1, "isa-debug-exit status 1 means the self-check passed; serial:\n\(r.serial)")
        #expect(r.serial.contains("kmem: self-check: ok"))
        let zones = Self.zones(r.serial)
        let buddy = Self.buddyinfo(r.serial)
        #expect(zones["DMA"]?["managed"] ?? 0 > 3000)
        #expect(zones["DMA32"]?["managed"] ?? 0 > 20000)
        if memory == "6G" {
            // RAM above 4 GiB: all three zones, DMA32 ends at the PCI hole (3 GiB here).
            #expect(zones["Normal"]?["present"] == 3 << 18)
            #expect(r.serial.contains("kmem: zone DMA32  pfn [0x1000, 0xbffe0)"))
            #expect(buddy.keys.sorted() == ["DMA", "DMA32", "Normal"])
        } else {
            #expect(zones["Normal"]?["managed"] == 0)
            #expect(buddy["Normal"] == nil)
        }
        // Walked buddyinfo agrees with the zone's free counter.
        for (name, counts) in buddy {
            #expect(counts.count == 12)
            let pages = counts.enumerated().reduce(UInt64(0)) { $0 + $1.element << UInt64($1.offset) }
            #expect(pages == zones[name]?["free"], "zone \(name)")
        }
        // Present pages are the usable RAM of the memory map QEMU gave, zone by zone; managed
        // pages are those less what boot reserved (first MiB, kernel image, boot memory).
        let usable = Self.usablePages(r.serial)
        #expect(!usable.isEmpty, "no usable e820 range printed")
        let present = Self.presentPages(usable)
        #expect(zones.count == 3)
        for (name, z) in zones {
            #expect(z["present"] == present[name], "zone \(name): present by the e820 map \(usable)")
        }
        // Managed pages are the zone's segments, and every segment is usable RAM of its zone
        // that boot did not take: above the first MiB, outside the kernel image and boot memory.
        let segments = Self.segments(r.serial)
        let taken = Self.bootRanges(r.serial)
        #expect(!segments.isEmpty && taken.count >= 2, "segments \(segments), boot ranges \(taken)")
        let limits: [String: Range<UInt64>] = ["DMA": 0..<0x1000, "DMA32": 0x1000..<0x10_0000, "Normal": 0x10_0000..<UInt64.max]
        for (name, z) in zones {
            #expect(z["managed"] == segments.filter { $0.zone == name }.reduce(0) { $0 + $1.pages }, "zone \(name): \(segments)")
        }
        for s in segments {
            #expect(s.pages == s.pfns.count && s.pfns.lowerBound >= 0x100, "\(s)")
            #expect(usable.contains { $0.lowerBound <= s.pfns.lowerBound && s.pfns.upperBound <= $0.upperBound }, "\(s) in \(usable)")
            #expect(limits[s.zone].map { $0.lowerBound <= s.pfns.lowerBound && s.pfns.upperBound <= $0.upperBound } == true, "\(s)")
            #expect(taken.allSatisfy { !$0.overlaps(s.pfns) }, "\(s) overlaps \(taken)")
        }
        // … and the usable RAM of the first MiB is never managed.
        let firstMiB = usable.reduce(UInt64(0)) { $0 + (min($1.upperBound, 0x100) > $1.lowerBound ? min($1.upperBound, 0x100) - $1.lowerBound : 0) }
        #expect(firstMiB > 0 && zones["DMA"]?["boot-reserved"] ?? 0 >= firstMiB, "first MiB: \(firstMiB) usable pages")
        print("boot to self-check, -m \(memory): \(String(format: "%.2f", r.seconds)) s")
    }

    @Test func bootsWithPagePoisoning() throws {
        let r = try QEMUBoot.run(memory: "128M", append: "poison=1 exit=1")
        #expect(r.status == 1, "\(r.serial)")
        #expect(r.serial.contains("poison on"))
    }

    @Test func exceptionsAreReportedNeverSilent() throws {
        let r = try QEMUBoot.run(memory: "128M", append: "crash=pagefault exit=1", until: ["r15="])
        #expect(r.status == nil, "the kernel halts after an exception")
        #expect(r.serial.contains("kmem: EXCEPTION vector 14 error 0x0 rip 0xffffffff8"), "\(r.serial)")
        #expect(r.serial.contains("cr2 0x00000000dead0000"))
        #expect(r.serial.contains("rax=") && r.serial.contains("cr3="))
    }

    @Test(arguments: [
        ("double-free", "kmem: BUG: double free pfn 0x"),
        ("wrong-order", "kmem: BUG: free with wrong order pfn 0x"),
        ("interior", "kmem: BUG: free of a frame inside a block pfn 0x"),
        ("outside", "kmem: BUG: address outside managed memory pfn 0x"),
        ("free-reserved", "kmem: BUG: free of reserved frame pfn 0x"),
    ])
    func misuseIsCaughtAndHalts(kind: String, message: String) throws {
        let r = try QEMUBoot.run(memory: "128M", append: "misuse=\(kind) exit=1", until: ["kmem: BUG:"])
        #expect(r.status == nil, "the kernel halts (no exit) after a BUG")
        #expect(r.serial.contains(message), "\(r.serial)")
        #expect(!r.serial.contains("kmem: ready"))
    }
}

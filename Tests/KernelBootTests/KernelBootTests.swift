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
        for (_, z) in zones { #expect(z["present"] == (z["managed"] ?? 0) + (z["boot-reserved"] ?? 0)) }
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

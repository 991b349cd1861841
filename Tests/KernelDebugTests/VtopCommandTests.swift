import Foundation
import GDBRemote
import Testing

/// `kmemscope vtop VADDR` on the real kernel: the walk from CR3 against the kernel's documented
/// mappings (image at 0xffffffff80000000 + phys, all RAM at 0xffff888000000000 + phys), against
/// the index bits of the address, and against QEMU's own translation (the bytes read at the
/// virtual address equal the bytes read at the physical address vtop gives).
@Suite("kmemscope vtop", .serialized)
struct VtopCommandTests {
    @Test func walksTheGuestsPageTables() throws {
        let boot = try DebugBoot(append: "seed=1 ops=2000 phases=1")
        defer { boot.stop() }
        try boot.runUntil()
        let target = "unix:" + boot.socket
        func vtop(_ address: UInt64) throws -> (status: Int32, json: [String: Any], text: String) {
            let hex = "0x" + String(address, radix: 16)
            let j = try InfoCommandTests.kmemscope(["vtop", hex, "--json", "--target", target, "--elf", DebugBoot.kernel])
            let t = try InfoCommandTests.kmemscope(["vtop", hex, "--target", target, "--elf", DebugBoot.kernel])
            #expect(j.status == 0 && t.status == 0, "\(j.err)\(t.err)")
            return (j.status, try KmemCommandTests.json(j.out), t.out)
        }
        let sym = try InfoCommandTests.kmemscope(["sym", "kmem_checkpoint", "--elf", DebugBoot.kernel])
        let symbol = try #require(sym.out.split(separator: "\n").first { $0.contains("address") }?.split(separator: " ").last)
        let image = try #require(UInt64(symbol.dropFirst(2), radix: 16))
        let direct: UInt64 = 0xffff_8880_0000_0000 + 0x5_0012_3
        var checked: [(UInt64, UInt64)] = []
        for (virtual, expected) in [(image, image - 0xffff_ffff_8000_0000), (direct, direct - 0xffff_8880_0000_0000)] {
            let r = try vtop(virtual)
            #expect(r.json["mapped"] as? Bool == true, "\(r.text)")
            #expect(r.json["physical"] as? String == "0x" + String(expected, radix: 16), "\(r.text)")
            let levels = try #require(r.json["levels"] as? [[String: Any]])
            #expect(levels.count >= 3 && levels.count <= 4, "\(r.text)")
            for (depth, level) in levels.enumerated() {
                #expect(level["index"] as? Int == Int((virtual >> UInt64(39 - 9 * depth)) & 0x1ff), "\(r.text)")
                #expect((level["flags"] as? [String])?.contains("P") == true)
            }
            #expect(levels.first?["level"] as? String == "PML4E")
            #expect((r.json["frame"] as? [String: Any])?["pfn"] as? String == "0x" + String(expected >> 12, radix: 16))
            #expect(r.text.contains("  PML4E ") && r.text.contains("  physical 0x" + String(expected, radix: 16)), "\(r.text)")
            checked.append((virtual, expected))
        }
        // the kernel image's frames are reserved at boot
        #expect(try vtop(image).text.contains("(reserved|kernel)"))

        // not mapped, and not canonical: answers, not errors
        let hole = try vtop(0xffff_9000_0000_0000)
        #expect(hole.json["mapped"] as? Bool == false)
        #expect(hole.text.contains("not mapped: PML4E 288 is not present"), "\(hole.text)")
        let odd = try vtop(0x8000_0000_0000)
        #expect((odd.json["notMappedBecause"] as? String)?.contains("not canonical") == true)

        // QEMU's own translation: the same bytes through the virtual and the physical address
        let remote = try RemoteTarget.connect(to: .unix(boot.socket))
        defer { try? remote.detach() }
        for (virtual, physical) in checked {
            let viaVirtual = try remote.readMemory(at: virtual, count: 64)
            let viaPhysical = try remote.readPhysicalMemory(at: physical, count: 64)
            #expect(viaVirtual == viaPhysical, "0x\(String(virtual, radix: 16)) vs physical 0x\(String(physical, radix: 16))")
        }
    }
}

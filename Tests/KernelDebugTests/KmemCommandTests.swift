import Foundation
import Testing

/// `kmemscope kmem ADDR` on the real kernel after its workload, each answer checked against
/// what the test knows on its own: the operation log's kmalloc results and page allocations
/// (read with `log`), and the kernel's fixed image mapping (virtual 0xffffffff80000000 + phys).
@Suite("kmemscope kmem", .serialized)
struct KmemCommandTests {
    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not a JSON object: \(text)")
    }

    /// Log lines as `(sequence, text)`, oldest first.
    static func logLines(_ target: String, last: Int) throws -> [(UInt64, String)] {
        let r = try InfoCommandTests.kmemscope(["log", "--last", "\(last)", "--target", target, "--elf", DebugBoot.kernel])
        return r.out.split(separator: "\n").compactMap { line in
            let words = line.split(separator: " ")
            guard words.count > 2, words[0] == "seq", let n = UInt64(words[1]) else { return nil }
            return (n, String(line))
        }
    }

    @Test func addressesOfTheWorkload() throws {
        let boot = try DebugBoot(append: "seed=1 ops=20000 phases=2")
        defer { boot.stop() }
        try boot.runUntil()
        let target = "unix:" + boot.socket
        func kmem(_ address: String) throws -> (status: Int32, json: [String: Any]?, out: String) {
            let r = try InfoCommandTests.kmemscope(["kmem", address, "--json", "--target", target, "--elf", DebugBoot.kernel])
            return (r.status, r.status == 0 ? try Self.json(r.out) : nil, r.out + r.err)
        }
        let log = try Self.logLines(target, last: 2000)
        #expect(log.count > 1000)

        // the newest kmalloc whose object no later kfree gave back: a slab object in use
        let kmallocs = log.filter { $0.1.contains(" kmalloc size ") && $0.1.hasSuffix(" ok") && !$0.1.contains("size 0 ") }
        let live = try #require(kmallocs.reversed().first { k in
            let address = String(k.1.split(separator: " ").last { $0.hasPrefix("0x") }!)
            let size = Int(k.1.split(separator: " ")[6])!  // seq N cpu C kmalloc size S …
            return size <= 2048 && !log.contains { $0.0 > k.0 && $0.1.contains("kfree \(address) ") }
        })
        let object = String(live.1.split(separator: " ").last { $0.hasPrefix("0x") }!)
        let inside = "0x" + String(UInt64(object.dropFirst(2), radix: 16)! + 5, radix: 16)
        let a = try kmem(inside)
        #expect(a.status == 0, "\(a.out)")
        let aj = try #require(a.json)
        #expect(aj["schemaVersion"] as? Int == 1)
        #expect(aj["addressSpace"] as? String == "direct-map")
        #expect(aj["state"] as? String == "allocated")
        let slab = try #require(aj["slab"] as? [String: Any], "\(a.out)")
        #expect(slab["start"] as? String == object)
        #expect(slab["offset"] as? Int == 5)
        #expect(slab["state"] as? String == "in-use")
        #expect((aj["handedOutBy"] as? [String: Any])?["sequence"] as? Int == Int(live.0), "\(a.out)")
        #expect((aj["handedOutBy"] as? [String: Any])?["kind"] as? String == "kmalloc")

        // the newest kfree whose address no later kmalloc handed out again: free
        let kfrees = log.filter { $0.1.contains(" kfree 0x") && $0.1.hasSuffix(" ok") }
        let freed = try #require(kfrees.reversed().first { f in
            let address = String(f.1.split(separator: " ")[5])  // seq N cpu C kfree ADDRESS …
            return !log.contains { $0.0 > f.0 && $0.1.hasSuffix("-> \(address) ok") }
        })
        let freedAddress = String(freed.1.split(separator: " ")[5])
        let f = try kmem(freedAddress)
        let fj = try #require(f.json, "\(f.out)")
        if let s = fj["slab"] as? [String: Any] {
            #expect(s["state"] as? String == "free", "\(f.out)")
            #expect((fj["freedBy"] as? [String: Any])?["sequence"] as? Int == Int(freed.0), "\(f.out)")
        } else {
            // its slab went back to the buddy allocator, or it was a large block
            #expect(fj["state"] as? String != "allocated" || (fj["largeHeapBlock"] as? Bool) == false, "\(f.out)")
        }

        // the newest page allocation nothing later touched: allocated, its head, its order
        let allocations = log.filter { $0.1.contains(" allocate order ") && $0.1.hasSuffix(" ok") && $0.1.contains("-> pfn 0x") }
        let page = try #require(allocations.reversed().first { p in
            let pfn = String(p.1.split(separator: " ").last { $0.hasPrefix("0x") }!)
            return !log.contains { $0.0 > p.0 && $0.1.contains("pfn \(pfn) ") }
        })
        let words = page.1.split(separator: " ")
        let pfn = UInt64(words.last { $0.hasPrefix("0x") }!.dropFirst(2), radix: 16)!
        let order = Int(words[6])!  // seq N cpu C allocate order K …
        let physical = "0x" + String((pfn << 12) + 0x123, radix: 16)
        let p = try kmem(physical)
        let pj = try #require(p.json, "\(p.out)")
        #expect(pj["addressSpace"] as? String == "physical")
        #expect(pj["pfn"] as? String == "0x" + String(pfn, radix: 16))
        let block = try #require(pj["block"] as? [String: Any], "\(p.out)")
        #expect(block["head"] as? String == "0x" + String(pfn, radix: 16))
        #expect(block["order"] as? Int == order)
        #expect(pj["slab"] == nil)
        if (pj["largeHeapBlock"] as? Bool) != true {
            #expect(pj["state"] as? String == "allocated", "\(p.out)")
            #expect((pj["handedOutBy"] as? [String: Any])?["sequence"] as? Int == Int(page.0), "\(p.out)")
        }

        // the kernel image: virtual 0xffffffff80000000 + phys, frames reserved at boot
        let sym = try InfoCommandTests.kmemscope(["sym", "kmem_checkpoint", "--elf", DebugBoot.kernel])
        let text = try #require(sym.out.split(separator: "\n").first { $0.contains("address") }?.split(separator: " ").last)
        let virtual = UInt64(text.dropFirst(2), radix: 16)!
        let k = try kmem(String(text))
        let kj = try #require(k.json, "\(k.out)")
        #expect(kj["addressSpace"] as? String == "kernel-image")
        #expect(kj["physical"] as? String == "0x" + String(virtual - 0xffff_ffff_8000_0000, radix: 16))
        #expect(kj["state"] as? String == "reserved")

        // text: says how it read the address
        let t = try InfoCommandTests.kmemscope(["kmem", inside, "--target", target, "--elf", DebugBoot.kernel])
        #expect(t.out.contains("\(inside): kernel virtual address (direct map)"), "\(t.out)")
        #expect(t.out.contains("handed out by seq \(live.0) cpu 0 kmalloc"), "\(t.out)")

        // frame --address: the frame kmem named, with the address's reading; --json
        let fr = try InfoCommandTests.kmemscope(["frame", "--address", inside, "--json", "--target", target, "--elf", DebugBoot.kernel])
        #expect(fr.status == 0, "\(fr.err)")
        let frj = try Self.json(fr.out)
        #expect(frj["schemaVersion"] as? Int == 1)
        #expect(frj["addressSpace"] as? String == "direct-map")
        let frame = try #require((frj["frames"] as? [[String: Any]])?.first, "\(fr.out)")
        #expect(frame["pfn"] as? String == aj["pfn"] as? String)
        #expect((frame["flags"] as? [String])?.contains("slab") == true, "\(fr.out)")
        let ft = try InfoCommandTests.kmemscope(["frame", "--address", String(text), "--target", target, "--elf", DebugBoot.kernel])
        #expect(ft.out.hasPrefix("\(text): kernel virtual address (kernel image), physical 0x"), "\(ft.out)")
        #expect(ft.out.contains("(reserved|kernel)"), "\(ft.out)")

        // freelist --json: the lists of one order add up to the kernel's own buddyinfo column,
        // printed at its last checkpoint (the workload's last operation comes before it)
        let last = try #require(boot.serial.split(whereSeparator: \.isNewline).last { $0.hasPrefix("Node 0, zone    DMA32") })
        let columns = last.split(separator: " ").dropFirst(4).compactMap { Int($0) }
        #expect(columns.count == 12, "\(last)")
        for order in [0, 3, 6] {
            let fl = try InfoCommandTests.kmemscope(["freelist", "DMA32", "\(order)", "--json", "--target", target, "--elf", DebugBoot.kernel])
            #expect(fl.status == 0, "\(fl.err)")
            let flj = try Self.json(fl.out)
            #expect(flj["broken"] as? Bool == false)
            let lists = try #require(flj["lists"] as? [[String: Any]])
            let walked = lists.reduce(0) { $0 + ($1["walked"] as? Int ?? 0) }
            #expect(walked == columns[order], "order \(order): \(fl.out.prefix(400)) vs \(last)")
            for l in lists {
                #expect(l["walked"] as? Int == l["counted"] as? Int)
                #expect((l["blocks"] as? [String])?.count == l["walked"] as? Int)
            }
        }

        // nowhere: no verdict, one line that says what to give
        let bad = try kmem("0xdead00000000")
        #expect(bad.status == 2)
        #expect(bad.out.contains("is not in the direct map"), "\(bad.out)")
    }
}

import Foundation
import GDBRemote
import BundledKernel
import KernelLayouts
@testable import KernelSession
import Testing

/// The gdbstub's view of a 4-CPU guest: one thread per CPU, each CPU in long mode in the kernel
/// with GS on its own per-CPU area, and the kernel's `kmem_cpus` and per-CPU areas agreeing.
@Suite("Kernel on several CPUs through the gdbstub", .serialized)
struct SMPDebugTests {
    /// The thread IDs `qfThreadInfo` / `qsThreadInfo` list (`p1.2` with multiprocess, `2` without).
    static func threads(_ target: RemoteTarget) throws -> [String] {
        var ids: [String] = []
        var reply = String(decoding: try target.checked("qfThreadInfo"), as: UTF8.self)
        var rounds = 0
        while reply.hasPrefix("m") && rounds < 64 {
            ids += reply.dropFirst().split(separator: ",").map(String.init)
            reply = String(decoding: try target.checked("qsThreadInfo"), as: UTF8.self)
            rounds += 1
        }
        #expect(reply == "l", "the thread list ends with l, not \(reply)")
        return ids
    }

    static func u64(_ b: [UInt8], _ at: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(b[at + $1]) << (8 * UInt64($1)) } }
    static func u32(_ b: [UInt8], _ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(b[at + $1]) << (8 * UInt32($1)) } }

    @Test func fourCPUsAreFourThreadsEachOnItsOwnPerCPUArea() throws {
        let boot = try DebugBoot(memory: "128M", append: "", cpus: 4)
        defer { boot.stop() }
        let image = try KernelImage(path: DebugBoot.kernel)
        let percpu = try image.symbol("kmem_percpu").address.rawValue
        let cpusWord = try image.symbol("kmem_cpus").address.rawValue
        let park = try image.symbol("ap_park").address.rawValue
        let parkSize = max(try image.symbol("ap_park").size, 1)
        try boot.target.resume()
        let start = Date()
        while !boot.serial.contains("kmem: ready") && Date().timeIntervalSince(start) < 120 { usleep(50_000) }
        _ = try boot.target.interrupt()
        #expect(boot.serial.contains("kmem: cpus 4"), "\(boot.serial.prefix(1500))")

        let ids = try Self.threads(boot.target)
        #expect(ids.count == 4, "\(ids)")
        #expect(Self.u64(try boot.target.readMemory(at: cpusWord, count: 8), 0) == 4)
        var bases: [UInt64] = []
        for id in ids {
            try boot.target.expectOK("Hg\(id)")
            let rip = try boot.target.register("rip")
            let gsBase = try boot.target.register("gs_base")
            #expect(rip >= 0xffff_ffff_8000_0000, "thread \(id) runs the kernel in the higher half, rip \(String(rip, radix: 16))")
            #expect((try boot.target.register("cr0")) & 0x8000_0001 == 0x8000_0001, "thread \(id): paging and protection on")
            let index = (gsBase &- percpu) / 256
            #expect(gsBase >= percpu && (gsBase - percpu) % 256 == 0 && index < 4, "thread \(id): GS base \(String(gsBase, radix: 16))")
            guard gsBase >= percpu, index < 4 else { continue }
            bases.append(gsBase)
            // the area: its own address, the CPU number, online
            let area = try boot.target.readMemory(at: gsBase, count: 24)
            #expect(Self.u64(area, 0) == gsBase)
            #expect(UInt64(Self.u32(area, 8)) == index)
            // the state word: the BSP running, every AP parked in ap_park
            #expect(Self.u32(area, 16) == (index == 0 ? 1 : 2), "CPU \(index)'s state")
            if index > 0 {
                #expect(rip >= park && rip < park + parkSize, "AP \(index) halts in ap_park, rip \(String(rip, radix: 16))")
            }
            // every CPU sits in a hlt with interrupts off: the APs since ap_main, the BSP after
            // `kmem: ready` (no workload)
            #expect(try boot.target.readMemory(at: rip - 1, count: 1) == [0xF4], "thread \(id) halted")
            #expect((try boot.target.register("eflags")) & 0x200 == 0, "thread \(id): interrupts off")
        }
        #expect(Set(bases) == Set((0..<4).map { percpu + UInt64($0) * 256 }), "each CPU on its own area")
        try boot.target.expectOK("Hg\(ids[0])")
    }
    /// The toolkit on a running 4-CPU guest (issue 19): verify and zones at random moments of
    /// the workload, which takes turns on every CPU, so the CPU inside an operation when the
    /// guest stops can be any of them; each attach settles to an operation boundary (running to
    /// `kmem_op_end` on whichever CPU ends it) with no false verdict and leaves the guest
    /// running (30 attaches: scripts/random-attach.sh 30 256M 20000000 4); `info` lists the
    /// four CPUs, all running their turns, every descriptor field cross-checked.
    @Test func verifyZonesAndInfoOnARunningFourCPUGuest() throws {
        let boot = try DebugBoot(memory: "256M", append: "seed=1 ops=5000000 phases=4", cpus: 4)
        defer { boot.stop() }
        try boot.release()
        #expect(boot.serial.contains("kmem: cpus 4"))
        let target = ["--target", "unix:" + boot.socket, "--elf", DebugBoot.kernel]
        var sequences: [UInt64] = []
        for attach in 1...8 {
            usleep(UInt32.random(in: 0...200_000))
            let command = attach % 4 == 0 ? "zones" : "verify"
            let r = try InfoCommandTests.kmemscope([command] + target)
            #expect(r.status == 0, "attach \(attach) (\(command)): \(r.err)\n\(r.out.prefix(1500))")
            let line = r.err.split(separator: "\n").first { $0.hasPrefix("stopped at sequence ") }
            #expect(line?.contains("between operations") == true, "attach \(attach): \(r.err)")
            if let n = line?.split(separator: " ")[3].filter(\.isNumber), let v = UInt64(n) { sequences.append(v) }
            if command == "verify" { #expect(r.out.contains("all passed"), "\(r.out.prefix(1500))") }
            if command == "zones" { #expect(r.out.contains("zone DMA32"), "\(r.out.prefix(1500))") }
            #expect(try boot.vmStatus() == "running", "attach \(attach) left the guest stopped")
        }
        #expect(sequences.count == 8 && Set(sequences).count >= 6, "the workload moved between attaches: \(sequences)")
        let info = try InfoCommandTests.kmemscope(["info"] + target)
        #expect(info.status == 0, "\(info.err)")
        #expect(info.out.contains("cpus 4: 0 running (APIC 0), 1 running (APIC 1), 2 running (APIC 2), 3 running (APIC 3)"), "\(info.out)")
        // the operations around the last attach ran on several CPUs
        let log = try InfoCommandTests.kmemscope(["log", "--last", "200"] + target)
        #expect(log.status == 0 && Set(SMPTurnsTests.cpus(log.out)).count == 4, "\(log.out.suffix(1500))")
        let crossChecked = info.out.split(separator: "\n").first { $0.hasPrefix("kmem_info: ") && $0.contains(" fields cross-checked") }
        let words = crossChecked?.split(separator: " ") ?? []
        #expect(words.count > 3 && words[1] == words[3], "every field cross-checked: \(info.out)")
        #expect(try boot.vmStatus() == "running")
        #expect(!boot.serial.contains("kmem: BUG") && !boot.serial.contains("EXCEPTION"))
        print("-smp 4: 8 attaches at random moments, sequences \(sequences.first ?? 0)…\(sequences.last ?? 0)")
    }

    /// Per-CPU caches on a 4-CPU guest (kernel/README.md "Per-CPU caches"): with `pcptest=20`
    /// each AP allocates and frees on its own CPU before the workload, so every CPU's cache
    /// holds frames; zoneinfo prints a pageset for each of the four CPUs in every zone, as
    /// Linux's /proc/zoneinfo does, verify (every CPU's cache walked) and verify --replay (each
    /// entry replayed on its CPU) pass, and the log names the CPU of every entry.
    @Test func zoneinfoShowsFourPagesetsAndVerifyAndReplayPass() throws {
        let boot = try DebugBoot(memory: "256M", append: "pcptest=20 seed=2 ops=20000 phases=2", cpus: 4)
        defer { boot.stop() }
        try boot.release(until: "kmem: done", timeout: 300)
        #expect(boot.serial.contains("kmem: cpus 4") && boot.serial.contains("kmem: self-check: ok"))
        let target = ["--target", "unix:" + boot.socket, "--elf", DebugBoot.kernel]
        let zoneinfo = try InfoCommandTests.kmemscope(["zoneinfo"] + target)
        #expect(zoneinfo.status == 0, "\(zoneinfo.err)")
        let lines = zoneinfo.out.split(separator: "\n").map(String.init)
        let pagesetZones = lines.filter { $0 == "  pagesets" }.count
        #expect(pagesetZones >= 2, "\(zoneinfo.out.prefix(3000))")
        for cpu in 0..<4 {
            #expect(lines.filter { $0 == "    cpu: \(cpu)" }.count == pagesetZones, "cpu \(cpu) in every zone's pagesets: \(zoneinfo.out.prefix(3000))")
        }
        #expect(!lines.contains("    cpu: 4"))
        // every AP's cache of the zone it allocated from (DMA32 at 256M) holds frames
        for cpu in 1..<4 {
            #expect(boot.serial.contains("kmem: pcptest: cpu \(cpu): 20 order-0 allocations and frees"), "\(boot.serial.prefix(3000))")
            let dma32 = try #require(lines.firstIndex { $0.hasPrefix("Node 0, zone") && $0.hasSuffix("DMA32") })
            let at = try #require(lines[dma32...].firstIndex(of: "    cpu: \(cpu)"))
            let count = lines[at + 1].split(separator: " ").last.flatMap { UInt64($0) } ?? 0
            #expect(lines[at + 1].hasPrefix("              count: ") && count > 0, "cpu \(cpu): \(lines[at + 1])")
        }
        let verify = try InfoCommandTests.kmemscope(["verify"] + target)
        #expect(verify.status == 0 && verify.out.contains("all passed"), "\(verify.err)\n\(verify.out.prefix(2000))")
        let replay = try InfoCommandTests.kmemscope(["verify", "--replay"] + target)
        #expect(replay.status == 0, "\(replay.err)\n\(replay.out.prefix(2000))")
        let log = try InfoCommandTests.kmemscope(["log", "--last", "65536"] + target)
        #expect(log.status == 0, "\(log.err)")
        let entries = log.out.split(separator: "\n").filter { $0.hasPrefix("seq ") }
        func cpu(_ line: Substring) -> String? {
            let words = line.split(separator: " ")
            return words.count > 3 && words[2] == "cpu" ? String(words[3]) : nil
        }
        let cpus: [String] = entries.compactMap(cpu)
        #expect(cpus.count == entries.count && Set(cpus) == ["0", "1", "2", "3"], "every entry names its CPU, all four ran")
        #expect(boot.serial.contains("kmem: workload on 4 CPUs taking turns"), "the workload runs on every CPU")
        let lastTurns = Set(entries.suffix(200).compactMap(cpu))
        #expect(lastTurns == ["0", "1", "2", "3"], "the workload's last turns ran on every CPU: \(lastTurns)")
    }

    /// Whichever thread the stub addresses when a session attaches (here an AP's, selected
    /// with `Hg` before), the session reads the boot CPU's registers: its GS base is CPU 0's
    /// area, while the AP's RIP is in `ap_park`.
    @Test func aSessionReadsTheBootCPUWhicheverThreadWasSelected() throws {
        let boot = try DebugBoot(memory: "128M", append: "", cpus: 4)
        defer { boot.stop() }
        let image = try KernelImage(path: DebugBoot.kernel)
        try boot.target.resume()
        let start = Date()
        while !boot.serial.contains("kmem: ready") && Date().timeIntervalSince(start) < 120 { usleep(50_000) }
        _ = try boot.target.interrupt()
        let ids = try boot.target.threadIDs()
        #expect(ids.count == 4, "\(ids)")
        let percpu = try image.symbol("kmem_percpu").address.rawValue
        let park = try image.symbol("ap_park").address.rawValue
        let parkSize = max(try image.symbol("ap_park").size, 1)
        try boot.target.selectThread(ids[3])
        let apRIP = try boot.target.register("rip")
        #expect(apRIP >= park && apRIP < park + parkSize, "rip \(String(apRIP, radix: 16))")
        #expect(try boot.target.register("gs_base") == percpu + 3 * 256)

        let connection = StubSession(address: .unix(boot.socket), target: boot.target, found: .stopped, policy: .asFound)
        let session = try GuestSession.adopt(kernel: image, connection: connection, descriptor: try image.symbol("kmem_info").address.rawValue)
        #expect(session.bootCPUThread == ids[0])
        #expect(try session.target.register("gs_base") == percpu)
        let rip = try session.target.register("rip")
        #expect(!(rip >= park && rip < park + parkSize), "the boot CPU is not parked")
        let cpus = try CPUTableDecoder(info: session.info, memory: session.memory).decode()
        #expect(cpus.map(\.state) == [.running, .parked, .parked, .parked])
        #expect(cpus.map(\.apicID) == [0, 1, 2, 3])
        #expect(cpus.filter { !$0.consistent }.isEmpty)
        #expect(try session.settle().betweenOperations)
        session.restore()
    }
}

import Foundation
import GDBRemote
import KernelLayouts
import Testing

/// The gdbstub's view of a 4-CPU guest: one thread per CPU, each CPU in long mode in the kernel
/// with GS on its own per-CPU area, and the kernel's `kmem_cpus` and per-CPU areas agreeing.
@Suite("Kernel on several CPUs through the gdbstub")
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
            #expect(Self.u32(area, 16) == 1, "CPU \(index) is online")
            // every CPU sits in a hlt with interrupts off: the APs since ap_main, the BSP after
            // `kmem: ready` (no workload)
            #expect(try boot.target.readMemory(at: rip - 1, count: 1) == [0xF4], "thread \(id) halted")
            #expect((try boot.target.register("eflags")) & 0x200 == 0, "thread \(id): interrupts off")
        }
        #expect(Set(bases) == Set((0..<4).map { percpu + UInt64($0) * 256 }), "each CPU on its own area")
        try boot.target.expectOK("Hg\(ids[0])")
    }
}

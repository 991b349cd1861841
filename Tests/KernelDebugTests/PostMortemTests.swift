import Foundation
import KernelLayouts
import Testing

/// A kernel halted at its own BUG (issue 23): every halt the kernel can be driven to on a real
/// guest — each fault kind that makes it stop, each misuse, a CPU exception — is read as a
/// post-mortem: which BUG, at which operation, on which frame; verify marks the violations and
/// exits 1; --replay replays to the operation before; nothing waits; the guest stays halted.
@Suite("Post-mortem of a halted kernel")
struct PostMortemTests {
    /// (kernel command line, the record's kind as kmemscope names it, whether an operation was
    /// still in progress at the halt); 128M unless the line starts with `-m SIZE`.
    static let halts: [(String, String, Bool)] = [
        // the fault kinds that make the kernel stop (seed 1, injected at seq 3000, or 3500); the
        // other five (parity-flip, alloc-bitmap-flip, counter-drift, refcount, pageblock-tag) run
        // to the end. Which BUG a fault leads to depends on where the kernel image ends (one page
        // more or less shifts every frame and the workload's limits); the image ends at a fixed
        // 4 MiB (kernel/arch/linker.ld, KERNEL_IMAGE_END), so new code no longer moves it. With
        // that end overlap@3000 ends in a double free and use-after-free@3000 is never handed out
        // again, so those two are injected at 3500
        ("seed=1 ops=20000 phases=2 fault=double-free@3000", "corruption", false),
        ("seed=1 ops=20000 phases=2 fault=broken-link@3000", "corruption", false),
        ("seed=1 ops=20000 phases=2 fault=list-cycle@3000", "corruption", false),
        ("seed=1 ops=20000 phases=2 fault=wrong-order@3000", "corruption", false),
        ("seed=1 ops=20000 phases=2 fault=lost-block@3000", "corruption", false),
        ("seed=1 ops=20000 phases=2 fault=overlap@3500", "illegal frame state change", true),
        ("seed=1 ops=20000 phases=2 fault=slab-freelist@3000", "corruption", false),
        ("seed=1 ops=20000 phases=2 fault=use-after-free@3500", "corruption", false),
        // misuse: caught before anything changed
        ("misuse=double-free", "misuse", false),
        ("misuse=wrong-order", "misuse", false),
        ("misuse=interior", "misuse", false),
        ("misuse=outside", "misuse", false),
        ("misuse=free-reserved", "misuse", false),
        // a CPU exception outside any operation
        ("crash=pagefault", "CPU exception", false),
        // the Swift runtime's own allocation failing (10M: the workload's live set does not fit;
        // the image ends at 4 MiB, so 8M no longer holds the allocator's metadata)
        ("-m 10M seed=1 ops=2000 phases=1", "out of memory", false),
    ]

    static func kmemscope(_ arguments: [String]) throws -> (status: Int32, out: String, err: String, seconds: Double) {
        let start = Date()
        let r = try InfoCommandTests.kmemscope(arguments + ["--elf", DebugBoot.kernel])
        return (r.status, r.out, r.err, Date().timeIntervalSince(start))
    }

    /// RIP as QEMU's monitor shows it (`RIP=ffffffff801003a6`).
    static func rip(_ boot: DebugBoot) throws -> UInt64 {
        let text = try boot.monitor("info registers")
        let field = try #require(text.split(whereSeparator: { $0 == " " || $0.isNewline }).first { $0.hasPrefix("RIP=") })
        return try #require(UInt64(field.dropFirst(4), radix: 16))
    }

    @Test(arguments: PostMortemTests.halts)
    func haltedKernelGetsAPostMortem(append: String, kind: String, inProgress: Bool) throws {
        let words = append.split(separator: " ")
        let memory = words.first == "-m" ? String(words[1]) : "128M"
        let boot = try DebugBoot(memory: memory, append: words.first == "-m" ? words.dropFirst(2).joined(separator: " ") : append)
        defer { boot.stop() }
        try boot.runUntil(["kmem: BUG:"], timeout: 60)
        let line = try #require(boot.serial.split(whereSeparator: \.isNewline).first { $0.hasPrefix("kmem: BUG: ") },
                                "the kernel must stop at a BUG:\n\(boot.serial.suffix(800))")
        let text = String(line.dropFirst("kmem: BUG: ".count).prefix(176))
        let target = ["--target", "unix:" + boot.socket]
        let serialBefore = boot.serial

        let verify = try Self.kmemscope(["verify"] + target)
        #expect(verify.status == 1, "\(verify.out)\n\(verify.err)")
        #expect(verify.out.hasPrefix("post-mortem of a halted kernel: it stopped at its own BUG (\(kind)): \(text)"), "\(verify.out.prefix(600))")
        #expect(verify.out.contains("kernel-bug: the kernel's own check stopped it: \(text)"), "\(verify.out)")
        #expect(verify.out.contains("the CPU is halted in kmem_bug_halt"), "\(verify.out.prefix(600))")
        #expect(!verify.err.contains("stuck") && !verify.err.contains("no verdict"), "\(verify.err)")
        #expect(verify.seconds < 4, "a halted guest is read as it is, with no wait for kmem_op_end: \(verify.seconds) s")
        if inProgress {
            #expect(verify.out.contains("which had not finished"), "\(verify.out.prefix(600))")
        }
        if kind == "misuse" {
            // nothing changed: the state is clean, and the kernel's caught misuse alone makes it exit 1
            #expect(verify.out.contains("all passed") && verify.out.contains("logged as misuse: nothing changed"), "\(verify.out)")
        }

        let json = try Self.kmemscope(["verify", "--json"] + target)
        #expect(json.status == 1, "\(json.err)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])
        let postMortem = try #require(document["postMortem"] as? [String: Any], "\(json.out.prefix(400))")
        let bug = try #require(postMortem["bug"] as? [String: Any])
        #expect(bug["kind"] as? String == kind)
        #expect(bug["text"] as? String == text)
        #expect(bug["operationInProgress"] as? Bool == inProgress)
        #expect(document["verdict"] as? String == "violations")
        if let pfn = line.split(separator: " ").drop(while: { $0 != "pfn" }).dropFirst().first {
            #expect(bug["pfn"] as? String == String(pfn), "\(bug)")
        }
        if kind != "CPU exception" { #expect((bug["sequence"] as? Int ?? 0) > 0, "\(bug)") }
        #expect(bug["haltedAtBugHalt"] as? Bool == true, "\(bug)")

        let replay = try Self.kmemscope(["verify", "--replay"] + target)
        #expect(replay.status == 1, "\(replay.err)")
        if kind != "CPU exception" {
            #expect(replay.out.contains("replay up to seq "), "\(replay.out.suffix(1200))")
            #expect(replay.out.contains("what the operation in progress (from seq "), "\(replay.out.suffix(1200))")
        }
        if kind == "misuse" { #expect(replay.out.contains("the state before the operation in progress was clean"), "\(replay.out.suffix(800))") }

        if inProgress {
            let log = try Self.kmemscope(["log", "--last", "3"] + target)
            #expect(log.status == 0 && log.out.contains("(in progress at the halt, no entry: the kernel stopped inside it at its BUG"), "\(log.out)")
        }
        // every command says so, and none waits
        let zones = try Self.kmemscope(["zones"] + target)
        #expect(zones.status == 0 && zones.err.contains("post-mortem of a halted kernel"), "\(zones.err)")
        // the guest stays halted, where it stopped, and ran nothing
        let image = try KernelImage(path: DebugBoot.kernel)
        let halt = try image.symbol("kmem_bug_halt")
        let rip = try Self.rip(boot)
        #expect(rip >= halt.address.rawValue && rip < halt.address.rawValue + max(halt.size, 1), "RIP 0x\(String(rip, radix: 16))")
        #expect(boot.serial == serialBefore, "the guest printed more:\n\(boot.serial.dropFirst(serialBefore.count))")
    }

    /// A kernel that stopped at its BUG before it published kmem_info (boot: 6M is too small for
    /// the allocator's metadata) is recognised by its record at the image's `kmem_bug`: exit 1
    /// with the BUG, not a descriptor error.
    @Test func bootFailureIsNamed() throws {
        let boot = try DebugBoot(memory: "6M", append: "")
        defer { boot.stop() }
        try boot.runUntil(["kmem: BUG:"], timeout: 30)
        #expect(boot.serial.contains("kmem: BUG: no RAM range large enough for the allocator's metadata"), "\(boot.serial.suffix(400))")
        let r = try Self.kmemscope(["verify", "--target", "unix:" + boot.socket])
        #expect(r.status == 1, "\(r.out)\n\(r.err)")
        #expect(r.err.contains("post-mortem of a halted kernel: it stopped at its own BUG (boot): no RAM range large enough for the allocator's metadata"), "\(r.err)")
        #expect(r.out.isEmpty && r.seconds < 4)
    }

    /// `until` on a halted guest answers at once: the kernel cannot run on (exit 1, the
    /// kernel's own violation), never after waiting out its time limit.
    @Test func runControlDoesNotWaitOnAHaltedKernel() throws {
        let boot = try DebugBoot(memory: "128M", append: "seed=1 ops=20000 phases=2 fault=overlap@3000")
        defer { boot.stop() }
        try boot.runUntil(["kmem: BUG:"], timeout: 60)
        let start = Date()
        let r = try InfoCommandTests.kmemscope(["watch", "--every", "500", "--target", "unix:" + boot.socket, "--elf", DebugBoot.kernel])
        #expect(r.status == 1, "\(r.out)\n\(r.err)")
        #expect(r.out.contains("post-mortem of a halted kernel"), "\(r.out)")
        #expect(Date().timeIntervalSince(start) < 4)
    }

    /// A watch that is running when the kernel reaches its BUG stops there at once (a
    /// breakpoint at kmem_bug_halt) and reports it as the failure.
    @Test func watchStopsAtTheBug() throws {
        let boot = try DebugBoot(memory: "128M", append: "seed=1 ops=2000000 phases=2 fault=overlap@3500")
        defer { boot.stop() }
        // stopped before the fault, so watch is running it when the kernel gets there (a guest
        // released at 'kmem: ready' can reach the fault before watch attached on a quiet host);
        // overlap@3500 is the injection that halts at an illegal frame state change (halts above)
        try boot.stopAt(sequence: 1000)
        let r = try InfoCommandTests.kmemscope(["watch", "--every", "20000", "--wait", "60", "--target", "unix:" + boot.socket, "--elf", DebugBoot.kernel])
        #expect(r.status == 1, "\(r.out)\n\(r.err)")
        #expect(r.out.contains("the kernel halted at its own BUG (illegal frame state change)"), "\(r.out)")
        #expect(r.out.contains("kernel-bug: the kernel's own check stopped it"), "\(r.out)")
    }

    /// bisect on a run that halts starts from the BUG's sequence and finds the injected operation
    /// (at 3500: with this image's layout seq 2999 is a nested operation, no stop point).
    @Test(arguments: ["overlap", "double-free"])
    func bisectStartsFromTheBug(kind: String) throws {
        let r = try InfoCommandTests.kmemscope(["bisect", "--memory", "128M", "--append", "seed=1 ops=20000 phases=2 fault=\(kind)@3500",
                                                "--elf", DebugBoot.kernel])
        #expect(r.status == 1, "\(r.out)\n\(r.err)")
        let first = try #require(r.out.split(whereSeparator: \.isNewline).first)
        #expect(first.contains("the kernel halted at its own BUG") && first.contains("bisecting from seq"), "\(r.out)")
        #expect(r.out.contains("bisect: verify fails first at seq 3500, clean at seq 3499"), "\(r.out)")
        #expect(r.out.contains("so the BUG is a consequence of seq 3500"), "\(r.out)")
    }
}

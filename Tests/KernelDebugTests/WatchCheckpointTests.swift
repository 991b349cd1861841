import Foundation
import Glibc
import KernelLayouts
import Testing

/// `kmemscope watch` stopping at the workload's own checkpoints (no --every): a fault the
/// kernel injects, and a stray write into guest RAM made by the test while watch holds the
/// stub, are both caught at the first checkpoint after them, with the previous stop clean.
@Suite("kmemscope watch at checkpoints")
struct WatchCheckpointTests {
    /// The sequences of the kernel's `kmem: checkpoint phase P seq N` lines so far.
    static func checkpoints(_ serial: String) -> [UInt64] {
        serial.split(whereSeparator: \.isNewline).filter { $0.hasPrefix("kmem: checkpoint phase ") }
            .compactMap { UInt64($0.split(separator: " ").last!.trimmingCharacters(in: .whitespaces)) }
    }

    /// The two sequences of watch's `first failure between seq A (last clean) and seq B`.
    static func window(_ out: String) throws -> (clean: UInt64, failing: UInt64) {
        let line = try #require(out.split(separator: "\n").first { $0.hasPrefix("first failure between seq ") }, "\(out)")
        let seqs = line.split(separator: " ").compactMap { UInt64($0) }
        try #require(seqs.count == 2, "\(line)")
        return (seqs[0], seqs[1])
    }

    @Test func aKernelFaultIsCaughtAtTheNextCheckpoint() throws {
        // counter-drift, which the kernel never trips over itself: a lost block halts the kernel
        // ("corrupted free list") whenever its buddy is freed, which on some memory layouts
        // (the SMP bring-up's AP stacks moved it) comes before the next checkpoint
        let boot = try DebugBoot(memory: "128M", append: "seed=3 ops=20000 phases=10 fault=counter-drift@9000")
        defer { boot.stop() }
        try boot.stopAt(sequence: 100)   // stopped at seq ≥ 100, before the fault: no race with watch's attach
        let r = try InfoCommandTests.kmemscope(["watch", "--stops", "12", "--target", "unix:" + boot.socket, "--elf", DebugBoot.kernel])
        #expect(r.status == 1, "\(r.out)\n\(r.err)")
        let (clean, failing) = try Self.window(r.out)
        let serial = boot.serial
        let fault = try #require(serial.split(whereSeparator: \.isNewline).first { $0.hasPrefix("kmem: fault: injected counter-drift") })
        let faultSeq = try #require(UInt64(fault.split(separator: " ").last!.trimmingCharacters(in: .whitespaces)))
        // the last checkpoint the kernel printed (watch resumed it) is the last clean stop
        #expect(Self.checkpoints(serial).last == clean && clean < faultSeq, "\(clean) < \(faultSeq)?\n\(r.out)")
        #expect(failing >= faultSeq, "\(r.out)")
        // watch left the guest stopped at the failing checkpoint's entry, as it found it (stopped):
        // let it run and the kernel prints that checkpoint with the same sequence
        let t = try boot.reconnect()
        try t.detach()
        let deadline = Date().addingTimeInterval(30)
        while Self.checkpoints(boot.serial).last == clean && Date() < deadline { usleep(20_000) }
        #expect(Self.checkpoints(boot.serial).first { $0 > clean } == failing, "\(boot.serial.suffix(600))")
        #expect(r.out.contains("counters"), "\(r.out)")
    }

    /// A write into guest RAM by the test itself — not one of the kernel's fault kinds, not an
    /// allocator operation — while watch holds the stub: the RAM is shared through a file
    /// (QEMU serves one debugger at a time, so the stub is watch's). A reserved frame of the
    /// kernel image is given the `free` flag too; the next checkpoint stop finds it (`frame-fields`).
    @Test func aStrayWriteIsCaughtAtTheNextCheckpoint() throws {
        let ram = "/dev/shm/kmemscope-watch-test-\(getpid()).ram"
        defer { unlink(ram) }
        let boot = try DebugBoot(memory: "128M", append: "seed=3 ops=600000 phases=300", memoryFile: ram)
        defer { boot.stop() }
        let info = try boot.stopAt(sequence: 100)
        let pfn = try info.number("KERNEL_PHYS_START") >> 12
        let flagsAt = try info.number("FRAME_META") - info.number("DIRECT_MAP") + pfn * info.size(of: "FrameMeta")
            + info.offset(of: "FrameMeta", "flags")
        let fd = open(ram, O_RDWR)
        try #require(fd >= 0)
        defer { close(fd) }
        var flags: UInt32 = 0
        #expect(pread(fd, &flags, 4, off_t(flagsAt)) == 4)
        let reserved = UInt32(try info.number("FLAG(reserved)")), free = UInt32(try info.number("FLAG(free)"))
        try #require(flags & reserved != 0 && flags & free == 0, "pfn \(pfn) flags \(flags)")

        let output = ram + ".out"
        defer { unlink(output) }
        let watch = Process()
        watch.executableURL = URL(fileURLWithPath: InfoCommandTests.binary)
        let kept = ram + ".kept"
        try FileManager.default.createDirectory(atPath: kept, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: kept) }
        watch.arguments = ["watch", "--stops", "250", "--keep", kept, "--target", "unix:" + boot.socket, "--elf", DebugBoot.kernel]
        FileManager.default.createFile(atPath: output, contents: nil)
        watch.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        watch.standardError = watch.standardOutput
        try watch.run()
        defer { if watch.isRunning { watch.terminate() } }
        func text() -> String { (try? String(contentsOfFile: output, encoding: .utf8)) ?? "" }
        // once the kernel printed two checkpoints after the one stopAt made (watch verified the
        // start and one checkpoint stop, and let the guest run on), write; watch's own output
        // is buffered in the file, the serial port is not
        let deadline = Date().addingTimeInterval(30)
        while Self.checkpoints(boot.serial).count < 3 && watch.isRunning && Date() < deadline { usleep(5_000) }
        var bad = flags | free
        #expect(pwrite(fd, &bad, 4, off_t(flagsAt)) == 4)
        while watch.isRunning && Date() < deadline.addingTimeInterval(30) { usleep(20_000) }
        #expect(!watch.isRunning)
        let out = text()
        #expect(watch.terminationStatus == 1, "\(out)")
        let lines = out.split(separator: "\n").map(String.init)
        let (clean, failing) = try Self.window(out)
        // every stop before the failing one was clean, and the failing one is one checkpoint on
        let stops = lines.filter { $0.hasPrefix("seq ") }
        #expect(stops.dropLast().allSatisfy { $0.contains("verify ok") }, "\(out)")
        #expect(stops.last?.hasPrefix("seq \(failing):") == true && stops.dropLast().last?.hasPrefix("seq \(clean)") == true, "\(out)")
        #expect(out.contains("\nframe-fields pfn 0x\(String(pfn, radix: 16)): "), "\(out)")
        // --keep saved the two stops; their diff names the written frame as the one change no
        // operation explains
        let (a, b) = ("\(kept)/seq-\(clean)-clean.snap", "\(kept)/seq-\(failing)-failing.snap")
        #expect(out.contains("saved \(a) and \(b)"), "\(out)")
        let diff = try InfoCommandTests.kmemscope(["diff", a, b, "--limit", "1", "--elf", DebugBoot.kernel])
        #expect(diff.status == 1, "\(diff.out)\(diff.err)")
        #expect(diff.out.contains("  pfn 0x\(String(pfn, radix: 16)) +1  ") && diff.out.contains("UNEXPLAINED"), "\(diff.out)")
    }
}

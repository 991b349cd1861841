import Foundation
import KernelLayouts
import Testing

/// The kernel's boot identity (kmem_info's BOOT_ID, CMDLINE_HASH, SEED) in snapshots of real
/// boots: `diff` and `verify --replay --from` refuse two boots of different command lines
/// (exit 2, one line naming both), and compare two boots of one command line (the same
/// deterministic run), saying so.
@Suite("Boot identity", .serialized)
struct BootIdentityTests {
    static func kmemscope(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        try InfoCommandTests.kmemscope(arguments + ["--elf", DebugBoot.kernel])
    }

    /// Boots `append`, stops at the first boundary at or after each of `sequences`, and takes a
    /// snapshot there; returns the files.
    static func snapshots(_ append: String, at sequences: [UInt64], into directory: String, name: String) throws -> [String] {
        let boot = try DebugBoot(memory: "128M", append: append)
        defer { boot.stop() }
        var files: [String] = []
        for (i, sequence) in sequences.enumerated() {
            if i == 0 { try boot.stopAt(sequence: sequence) } else { try boot.continueTo(sequence: sequence) }
            let file = "\(directory)/\(name)-\(sequence).snap"
            let r = try kmemscope(["snapshot", "-o", file, "--target", "unix:" + boot.socket])
            try #require(r.status == 0, "\(r.out)\n\(r.err)")
            files.append(file)
        }
        return files
    }

    static func boot(of file: String) throws -> BootIdentity {
        let header = try SnapshotFile(path: file).header
        return try #require(header.boot, "no boot: line in \(header.text)")
    }

    @Test func twoBootsAreRefusedOrComparedByTheirCommandLine() throws {
        let directory = NSTemporaryDirectory() + "kmemscope-boots-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let line = "seed=4 ops=20000 phases=2"
        let first = try Self.snapshots(line, at: [3000, 6000], into: directory, name: "a")
        let again = try Self.snapshots(line, at: [6000], into: directory, name: "b")
        let other = try Self.snapshots("seed=5 ops=20000 phases=2", at: [6000], into: directory, name: "c")

        // the kernel published a boot id per boot, the same command-line hash and seed for one line
        let (a, b, c) = (try Self.boot(of: first[0]), try Self.boot(of: again[0]), try Self.boot(of: other[0]))
        #expect(try Self.boot(of: first[1]) == a)
        #expect(a.id != b.id && a.id != 0 && b.id != 0 && a.id != c.id, "\(a) \(b) \(c)")
        #expect(a.commandLineHash == b.commandLineHash && a.seed == 4 && b.seed == 4, "\(a) \(b)")
        #expect(c.commandLineHash != a.commandLineHash && c.seed == 5, "\(a) \(c)")

        // one boot: compared, no note
        var r = try Self.kmemscope(["diff", first[0], first[1]])
        #expect(r.status == 0 && !r.err.contains("boot"), "\(r.out)\n\(r.err)")
        // two boots of one command line: the same deterministic run, compared, and said so
        r = try Self.kmemscope(["diff", first[0], again[0]])
        #expect(r.status == 0, "\(r.out)\n\(r.err)")
        #expect(r.err.contains("come from two boots (0x\(String(a.id, radix: 16)) and 0x\(String(b.id, radix: 16))) of the same command line"), "\(r.err)")
        // two command lines: refused with one line naming both boots, no false corruption verdict
        r = try Self.kmemscope(["diff", first[0], other[0]])
        #expect(r.status == 2 && r.out.isEmpty, "\(r.out)\n\(r.err)")
        #expect(r.err.split(separator: "\n").count == 1 && r.err.contains("boot 0x\(String(a.id, radix: 16))")
                && r.err.contains("boot 0x\(String(c.id, radix: 16))") && r.err.contains("not two moments of one run"), "\(r.err)")
        #expect(!r.out.contains("UNEXPLAINED"))
        r = try Self.kmemscope(["verify", "--snapshot", other[0], "--replay", "--from", first[0]])
        #expect(r.status == 2 && r.err.contains("not two moments of one run"), "\(r.out)\n\(r.err)")
        r = try Self.kmemscope(["verify", "--snapshot", again[0], "--replay", "--from", first[0]])
        #expect(r.status == 0 && r.err.contains("of the same command line"), "\(r.out)\n\(r.err)")
    }
}

/// The relation of two boot identities, and the snapshot header's `boot:` line.
@Suite("Boot identity relation")
struct BootIdentityRelationTests {
    @Test func relations() {
        let a = BootIdentity(id: 1, commandLineHash: 7, seed: 3)
        #expect(BootIdentity.relation(a, a) == .sameBoot)
        #expect(BootIdentity.relation(a, BootIdentity(id: 2, commandLineHash: 7, seed: 3)) == .sameRun)
        #expect(BootIdentity.relation(a, BootIdentity(id: 2, commandLineHash: 8, seed: 3)) == .differentRuns)
        #expect(BootIdentity.relation(a, nil) == .unknown && BootIdentity.relation(nil, nil) == .unknown)
    }

    @Test func theHeaderLineRoundTripsAndIsOptional() throws {
        var header = SnapshotHeader()
        header.buildID = "ab"
        header.boot = BootIdentity(id: 0xfeed, commandLineHash: 0xbeef, seed: 9)
        #expect(header.text.contains("boot: 0xfeed 0xbeef 9\n"))
        #expect(try SnapshotHeader(text: header.text, path: "x").boot == header.boot)
        header.boot = nil
        #expect(try SnapshotHeader(text: header.text, path: "x").boot == nil)
    }
}

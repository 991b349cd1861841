import Foundation
import Testing

/// No false positives: the CI sample of scripts/seed-sweep.sh — four clean workloads, one in
/// each of 128M/1G × poisoning off/on, must pass `verify --replay` (the full sweep is 200).
@Suite("Seed sweep sample")
struct SeedSweepTests {
    @Test func fourCleanSeedsVerifyClean() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [DebugBoot.root.appendingPathComponent("scripts/seed-sweep.sh").path, "4", "201", "2"]
        p.currentDirectoryURL = DebugBoot.root
        p.environment = ProcessInfo.processInfo.environment.merging(["SWEEP_TOOL": InfoCommandTests.binary]) { $1 }
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(text)")
        #expect(text.contains("seed-sweep: 4 of 4 runs clean"), "\(text)")
        for combo in ["128M poison=0", "128M poison=1", "1G poison=0", "1G poison=1"] {
            #expect(text.contains("-m \(combo): 1 runs, 1 clean"), "\(text)")
        }
    }
}

import BundledChecks
import BundledState
import ArgumentParser
import Foundation
import KernelLayouts
import KernelSession
import QEMULauncher

/// `kmemscope bisect`: for corruption the operation log cannot explain. Boots the bundled kernel
/// with the same command line as often as it needs (the workload is deterministic: same seed,
/// same state), stops it at a sequence number through `kmem_stop_seq`, runs the verifier
/// `verify` runs, and narrows by binary search to the first operation after which verify
/// fails. Exit status 1 when it found one, 0 when the run verifies clean, 2 on errors.
struct BisectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bisect",
        abstract: "Boot the kernel again and again to find the first operation after which verify fails.",
        discussion: """
            The run must be deterministic (seed=N ops=N …): every boot reaches the same state at the same \
            sequence number. Each stop prints a line (sequence, verdict, boot). A stop is made after a workload \
            operation, so the window found can hold the few log entries of one workload operation. A guest one \
            stop after a clean stop and before a failing one is started again (a boot), one after a clean stop \
            runs on. Exit status: 1 found the operation, 0 the end of the run (or --hi) verifies clean, 2 error.
            """)

    @Option(name: .long, help: "Guest RAM, as QEMU's -m (128M, 1G).")
    var memory: String

    @Option(name: .long, help: ArgumentHelp("The kernel command line of the run to bisect, with its workload (seed=N ops=N phases=N …).", valueName: "words"))
    var append: String

    @OptionGroup var image: ElfOption

    @Option(name: .long, help: ArgumentHelp("A sequence known clean: search after it (default: the boot).", valueName: "seq"))
    var lo: UInt64?

    @Option(name: .long, help: ArgumentHelp("A sequence known to fail verify: search before it (default: the end of the run).", valueName: "seq"))
    var hi: UInt64?

    @Option(name: .long, help: ArgumentHelp("Virtual CPUs (QEMU's -smp), 1 to 16: the workload runs on every CPU in turns, so every boot repeats the same run.", valueName: "n"))
    var smp: Int = 1

    @Option(name: .long, help: "Seconds one boot may run before it is given up.")
    var timeout: Int = 300

    func validate() throws {
        do { _ = try MemorySize(parsing: memory) } catch { throw ValidationError("--memory: \(error)") }
        let words = append.split(separator: " ")
        guard words.contains(where: { $0.hasPrefix("ops=") && (UInt64($0.dropFirst(4)) ?? 0) > 0 }) else {
            throw ValidationError(BisectError.noWorkload.description)
        }
        if FreeRunningGuest.requested(in: append) { throw ValidationError(FreeRunningGuest.refusal("bisect")) }
        if words.contains(where: { $0.hasPrefix("exit=") }) { throw ValidationError("--append must not contain exit=…: bisect reads the guest after the run") }
        if let lo, let hi, lo >= hi { throw ValidationError("--lo must be below --hi") }
        guard (1...16).contains(smp) else { throw ValidationError("--smp must be 1 to 16, not \(smp)") }
        guard (1...86_400).contains(timeout) else { throw ValidationError("--timeout must be 1…86400 seconds, not \(timeout)") }
    }

    func run() throws {
        // The QEMU processes are bisect's own: a signal ends the search and they are stopped.
        InterruptSignals.setHolding(true)
        defer { InterruptSignals.setHolding(false) }
        do {
            try bisect()
        } catch let error where InterruptSignals.isPending && !(error is ExitCode) {
            throw SessionError.interrupted(signal: InterruptSignals.pending)
        }
    }

    private func bisect() throws {
        let kernelPath = try image.options.path()
        let kernel = try ImageOptions.openKmemscopeKernel(kernelPath)
        let size = try MemorySize(parsing: memory)
        let started = ContinuousClock.now
        var search = BisectSearch(lo: lo, hi: hi)
        var guest: BisectGuest?
        defer { guest?.stop() }
        var boots = 0
        var failing: (report: VerifyReport?, snapshot: KernelSnapshot?, log: [OpLogRecord], end: String?)?
        var directMap: UInt64 = 0
        var bugAnnounced = false
        var firstBug: KernelBug?
        while let requested = search.next {
            if InterruptSignals.isPending { throw SessionError.interrupted(signal: InterruptSignals.pending) }
            if let g = guest, try g.endLine != nil || requested.map({ try g.sequence >= $0 }) ?? false {
                g.stop()
                guest = nil
            }
            let g: BisectGuest
            if let guest {
                g = guest
                _ = try g.advance(to: requested)
            } else {
                boots += 1
                g = try BisectGuest(kernel: kernel, kernelPath: kernelPath, memory: size, append: append, cpus: smp,
                                    firstTarget: requested, limit: .seconds(timeout))
                guest = g
                directMap = (try? g.session.info.number("DIRECT_MAP")) ?? 0
            }
            var sequence = try g.sequence
            // a run halted at its own BUG fails at the operation the BUG is about: search below it
            let bug = g.bug
            if let bug, bug.sequence != 0 { sequence = min(sequence, bug.sequence) }
            var verdict: BisectSearch.Verdict?
            var line = "seq \(sequence): "
            if search.needsVerdict(at: sequence) {
                if let (report, snapshot) = try g.verify() {
                    verdict = report.passed ? .clean : .failing
                    line += report.passed ? "verify ok" : "verify: \(report.total) violations in \(report.failedChecks.map(\.rawValue).joined(separator: ", "))"
                    if !report.passed {
                        failing = (report, snapshot, try g.log(Int(min(sequence &- search.lo, 4096)), upTo: sequence), g.endLine)
                    }
                } else {
                    verdict = .failing
                    if let bug {
                        line += "the kernel halted at its own \(bug.headline)"
                            + (bug.operationInProgress ? " inside operation \(bug.sequence) (unfinished)" : " at operation \(bug.sequence)")
                            + (bug.pfn.map { ", frame 0x" + String($0, radix: 16) } ?? "")
                        if !bugAnnounced {
                            line += "; bisecting from seq \(bug.sequence)"
                            bugAnnounced = true
                        }
                    } else {
                        line += "the kernel halted: \(g.endLine ?? "?")"
                    }
                    failing = (nil, nil, try g.log(Int(min(sequence &- search.lo, 4096)), upTo: sequence), g.endLine)
                    if firstBug == nil { firstBug = bug }
                }
            } else {
                line += "the failing stop again (no stop point before it)"
            }
            if g.endLine?.hasPrefix(SerialMarkers.done) == true && requested == nil { line += " (end of the run)" }
            print(line + ", boot \(boots)")
            try search.record(requested: requested, at: sequence, verdict)
        }
        let seconds = Double((ContinuousClock.now - started) / .milliseconds(1)) / 1000
        let timing = "\(boots) boot\(boots == 1 ? "" : "s"), \(String(format: "%.1f", seconds)) s"
        guard let hi = search.hi, let failing else {
            print("bisect: verify passes at seq \(search.lo)\(hi == nil ? " (the end of the run)" : ""): nothing to find (\(timing))")
            return
        }
        if search.loWasNotClean { print("note: verify already failed at --lo; searched from the boot") }
        print("bisect: verify fails first at seq \(hi), clean at seq \(search.lo) (\(timing))")
        let window = failing.log.filter { $0.sequence > search.lo && $0.sequence <= hi }
        print(window.count == 1 ? "the operation:" : "the operations of that step (\(hi &- search.lo) log entries):")
        for record in window.prefix(32) { print("  " + record.text) }
        if UInt64(window.count) < hi &- search.lo { print("  (\(hi &- search.lo &- UInt64(window.count)) more entries not shown)") }
        let frames = window.flatMap { $0.touchedFrames(directMap: directMap) }
        if !frames.isEmpty {
            print("frames it touched: " + frames.map { $0.count == 1 ? "pfn 0x\(String($0.pfn, radix: 16))"
                : "pfn [0x\(String($0.pfn, radix: 16)), 0x\(String($0.pfn &+ $0.count, radix: 16)))" }.joined(separator: ", "))
        }
        if let report = failing.report {
            print("what verify found at seq \(hi):")
            print(report.text)
        } else if let end = failing.end {
            print("the kernel's own check stopped it: \(end)")
        }
        if let firstBug, hi < firstBug.sequence {
            print("the run halts later, at its own \(firstBug.headline) (operation \(firstBug.sequence)): "
                  + "verify already fails \(firstBug.sequence &- hi) operation(s) before it, so the BUG is a consequence of seq \(hi)")
        }
        throw ExitCode(1)
    }
}

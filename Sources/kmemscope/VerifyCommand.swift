import ArgumentParser
import AllocatorModel
import KernelLayouts

/// `kmemscope verify`: checks the guest's allocator state against the contract, from guest
/// memory read at an operation boundary. Exit status 1 when any check fails.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the guest's allocator state: tiling, free lists, buddies, counters, per-CPU lists.",
        discussion: Check.allCases.map { "\($0.rawValue): \($0.summary)" }.joined(separator: "\n"))

    @OptionGroup var image: ImageOptions
    @OptionGroup var stub: TargetOptions
    @OptionGroup var settling: SettleOptions

    func run() throws {
        let session = try stub.attach(image)
        // Read, then let the guest go before the checks run.
        let snapshot = try session.settledRead(settling) { s in try SnapshotDecoder(info: s.info, memory: s.memory).decode() }
        let report = Verifier(snapshot).run()
        print(image.json ? try JSONOutput.string(report) : "sequence \(snapshot.sequence)\n" + report.text)
        if !report.passed { throw ExitCode(1) }
    }
}

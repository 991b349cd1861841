import ArgumentParser
import AllocatorModel
import KernelLayouts

/// `kmemscope verify`: checks the guest's allocator state against the contract, from guest
/// memory. Exit status 1 when any check fails.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the guest's allocator state: tiling, free lists, buddies, counters, per-CPU lists.",
        discussion: Check.allCases.map { "\($0.rawValue): \($0.summary)" }.joined(separator: "\n"))

    @OptionGroup var image: ImageOptions
    @OptionGroup var stub: TargetOptions

    func run() throws {
        let session = try GuestSession.open(image, stub)
        var failed = false
        try session.run(stub) {
            let snapshot = try SnapshotDecoder(info: session.info, memory: session.memory).decode()
            let report = Verifier(snapshot).run()
            print(image.json ? try JSONOutput.string(report) : "sequence \(snapshot.sequence)\n" + report.text)
            failed = !report.passed
        }
        if failed { throw ExitCode.failure }
    }
}

import ArgumentParser
import GDBRemote
import KernelSession

/// Options every command that attaches to a running guest shares.
struct TargetOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "QEMU's gdbstub: HOST:PORT, tcp:HOST:PORT, [V6]:PORT, :PORT or unix:PATH.",
        valueName: "address"))
    var target: String = "127.0.0.1:1234"

    @Option(name: .long, help: "Seconds to wait for the stub to answer a request.")
    var timeout: Int = 10

    @Flag(name: .long, help: "Leave the guest stopped afterwards, even if it was running.")
    var leaveStopped = false

    @Flag(name: .long, help: "Let the guest run afterwards, even if it was stopped (-S, or paused from QEMU's monitor).")
    var resume = false

    func validate() throws {
        do {
            _ = try RemoteAddress.parse(target)
        } catch {
            throw ValidationError("--target \(error)")
        }
        guard timeout > 0 else { throw ValidationError("--timeout must be at least 1 second") }
        guard !(leaveStopped && resume) else { throw ValidationError("--leave-stopped and --resume contradict each other: give one") }
    }

    /// What happens to the guest when the command ends (by default: as it was found).
    var policy: RestorePolicy { leaveStopped ? .leaveStopped : resume ? .resume : .asFound }

    /// Opens the image and attaches; the guest stops while kmemscope looks. Inside the
    /// `attach` console this is the console's session (the guest stopped for the command):
    /// the connection options of the console line are not used.
    func attach(_ image: ImageOptions) throws(SessionError) -> GuestSession {
        if let console = ConsoleSession.active { return try console.stoppedGuest(resumeAfter: true) }
        return try connect(image)
    }

    /// Opens the image and connects to the stub (what ``attach(_:)`` does outside a console).
    func connect(_ image: ImageOptions) throws(SessionError) -> GuestSession {
        let kernel = try image.open()
        let address: RemoteAddress
        do {
            address = try RemoteAddress.parse(target)
        } catch {
            throw .badAddress(error)
        }
        return try GuestSession.attach(kernel: kernel, to: address, timeout: .seconds(timeout), policy: policy)
    }
}

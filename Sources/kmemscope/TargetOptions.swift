import ArgumentParser
import GDBRemote

/// Options every command that attaches to a running guest shares.
struct TargetOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "QEMU's gdbstub: HOST:PORT, [V6]:PORT, :PORT or unix:PATH.",
        valueName: "address"))
    var target: String = "127.0.0.1:1234"

    @Option(name: .long, help: "Seconds to wait for the stub to answer a request.")
    var timeout: Int = 10

    func validate() throws {
        guard RemoteAddress(parsing: target) != nil else {
            throw ValidationError("--target \(target) is not HOST:PORT, [V6]:PORT, :PORT or unix:PATH")
        }
        guard timeout > 0 else { throw ValidationError("--timeout must be at least 1 second") }
    }

    /// Connects; the guest stops while kmemscope looks.
    func connect() throws -> RemoteTarget {
        let t = try RemoteTarget.connect(to: RemoteAddress(parsing: target)!, timeout: .seconds(timeout))
        t.requestTimeout = .seconds(timeout)
        return t
    }
}

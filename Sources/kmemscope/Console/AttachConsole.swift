import ArgumentParser
import Foundation
import Glibc
import KernelSession

/// What the two `attach` consoles (the bundled kernel's ``Console`` and ``LinuxConsole``) share:
/// one loop that reads lines through the one ``LineReader`` (libedit at a terminal: editing,
/// history, Tab; plain reads from a pipe), runs them, and ends at `quit`, the end of input or
/// SIGTERM/SIGHUP; and one way of reporting a failed command (Ctrl-C, a stub that went away,
/// a usage error, anything else). Each console says only what differs: its commands, its
/// banner, and how its session stops, resumes, drops and detaches the guest.
protocol AttachConsole {
    var reader: LineReader { get }
    /// The exit status of the last command (0 passed, 1 violations, 2 no verdict, 130 interrupted).
    var lastStatus: Int32 { get set }
    /// What the console says when it opens and after `reconnect`.
    func banner() -> String
    /// Runs one line (its first word and the rest) and sets ``lastStatus``.
    mutating func execute(_ name: String, _ arguments: [String])
    /// After every command: a guest the command stopped runs again.
    func commandEnded()
    /// Detaches at `quit` (the guest as it was found, or as `--resume`/`--leave-stopped` say);
    /// the sentence that says what happened to it.
    func detach() -> String
    /// Whether ``commandEnded()`` will let the guest run again (said after Ctrl-C).
    var resumesAfterCommand: Bool { get }
    /// The `--target` the console attached to (named when its stub goes away).
    var stubAddress: String { get }
    /// Forgets a session whose stub went away (`reconnect` attaches again).
    func drop()
}

extension AttachConsole {
    /// Runs until `quit` or the end of input; returns the exit status.
    mutating func run() -> Int32 {
        say(banner())
        defer { reader.close() }
        while true {
            let line = reader.next(prompt: "kmemscope> ")
            // Ctrl-C at the prompt drops the line typed so far (libedit returns no line then).
            // A SIGINT that came while libedit was not waiting for a key (drawing the prompt
            // just after a command ended) interrupted nothing: the line typed after it is run.
            if InterruptSignals.pending == SIGINT {
                if line != nil {
                    InterruptSignals.clearPending()
                } else {
                    _ = signalled()
                    continue
                }
            }
            if let status = signalled() { return status }
            guard let line else {
                // Ctrl-D or the end of a piped script: quit
                if reader.interactive { print("") }
                say(detach())
                return lastStatus
            }
            let words = ConsoleLine.words(line)
            guard let first = words.first else { continue }
            if first == "quit" || first == "exit" || first == "q" {
                say(detach())
                return lastStatus
            }
            execute(first, Array(words.dropFirst()))
            commandEnded()
            fflush(nil)
            if let status = signalled() { return status }
        }
    }

    /// SIGINT returns to the prompt; SIGTERM or SIGHUP end the console (status 2) after the
    /// guest is put back.
    func signalled() -> Int32? {
        let signal = InterruptSignals.clearPending()
        guard signal != 0 else { return nil }
        if signal == SIGINT {
            if reader.interactive { print("") }
            return nil
        }
        say(detach())
        StandardError.write("kmemscope: interrupted by \(signal == SIGHUP ? "SIGHUP" : "SIGTERM"); the guest was left as found")
        return InterruptSignals.exitStatus(for: signal)
    }

    /// Prints what `error` says (one line) and returns its status: Ctrl-C says where the guest
    /// is (130); a lost stub drops the session and says how to get it back (2); `--help` prints
    /// the help (0); a usage error is one line (2); the kernel's own caught BUG is a verdict (1).
    func report(_ error: any Error) -> Int32 {
        ProgressLine.finish()
        if case SessionError.interrupted = error {
            say(resumesAfterCommand ? "interrupted; the guest runs on (it was running before the command)"
                : "interrupted; the guest is stopped")
            return 130
        }
        if ConsoleSession.isLost(error) {
            drop()
            StandardError.write("kmemscope: the stub at \(stubAddress) is gone (\(error)): `reconnect` to attach again, or `quit`")
            return 2
        }
        if let code = error as? ExitCode { return code.rawValue }
        let code = Kmemscope.exitCode(for: error)
        if code == .success {
            say(Kmemscope.fullMessage(for: error))   // --help
            return 0
        }
        if code == .validationFailure {
            StandardError.write(Kmemscope.message(for: error))
            return 2
        }
        StandardError.write("kmemscope: \(error)")
        if case SessionError.haltedAtBug = error { return 1 }   // the kernel's own caught violation
        return 2
    }

    func say(_ text: String) {
        ProgressLine.finish()
        print(text)
        fflush(nil)
    }
}

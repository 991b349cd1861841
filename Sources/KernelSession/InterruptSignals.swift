import Glibc
import Synchronization

private let pendingSignal = Atomic<Int32>(0)
private let holding = Atomic<Int>(0)

/// SIGINT, SIGTERM and SIGHUP (a closed terminal or ssh session) while kmemscope holds a guest.
///
/// While a session holds the guest stopped, a signal only sets a flag: the wait in progress
/// (every wait for the stub is sliced and asks ``isPending``) ends with an error, the session
/// puts the guest back as it found it, and the tool exits (130 after SIGINT, 2 after SIGTERM or SIGHUP).
/// When no guest is held the handler exits at once with the same status.
public enum InterruptSignals {
    /// Installs the handlers (once per process; later calls do nothing), and ``GuestGuard``'s
    /// for fatal signals.
    public static func install() {
        guard !installed.exchange(true, ordering: .relaxed) else { return }
        GuestGuard.install()
        for s in [SIGINT, SIGTERM, SIGHUP] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { signal in
                if holding.load(ordering: .relaxed) > 0 {
                    pendingSignal.store(signal, ordering: .relaxed)
                } else {
                    // Only async-signal-safe calls here: write(2) of a static string, _exit.
                    let message: StaticString = signal == SIGINT ? "kmemscope: interrupted by SIGINT\n"
                        : signal == SIGHUP ? "kmemscope: interrupted by SIGHUP\n" : "kmemscope: interrupted by SIGTERM\n"
                    _ = write(2, message.utf8Start, message.utf8CodeUnitCount)
                    _exit(InterruptSignals.exitStatus(for: signal))
                }
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0   // no SA_RESTART: a blocking call returns EINTR
            sigaction(s, &action, nil)
        }
        // A parent may have spawned us with these blocked (Foundation's Process does): then
        // they would wait until exit and the guest would never be given back early.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        sigaddset(&set, SIGHUP)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    private static let installed = Atomic<Bool>(false)

    /// The signal that arrived while a guest was held (0 if none).
    public static var pending: Int32 { pendingSignal.load(ordering: .relaxed) }
    /// Whether a signal arrived while a guest was held.
    public static var isPending: Bool { pending != 0 }

    /// Forgets a pending signal once it has been handled (the `attach` console goes back to
    /// its prompt after Ctrl-C instead of exiting). Returns the signal that was pending (0 if none).
    @discardableResult
    public static func clearPending() -> Int32 { pendingSignal.exchange(0, ordering: .relaxed) }

    /// Counts the guests held (while any is, signals are deferred; with none, they exit at
    /// once): `true` when a session starts holding one, `false` when it lets it go. If a
    /// signal is pending when holding ends, the caller is about to report it. Public for
    /// commands that hold something else that must not be left behind (`boot` and `bisect`
    /// hold the QEMU they started until they stop it or hand it over; the `attach` console
    /// holds for its whole life, so Ctrl-C at its prompt never ends the process).
    public static func setHolding(_ value: Bool) {
        if value { holding.wrappingAdd(1, ordering: .relaxed) } else { holding.wrappingSubtract(1, ordering: .relaxed) }
    }

    /// 130 for SIGINT (the shell's 128 + 2), 2 for anything else: no verdict was reached.
    public static func exitStatus(for signal: Int32) -> Int32 { signal == SIGINT ? 130 : 2 }
}

/// Why QEMU could not be started, or what happened to it; one line a user can act on.
public enum QEMULaunchError: Error, CustomStringConvertible, Sendable {
    case badEndpoint(String, reason: String)
    case badMemorySize(String)
    case noKernel(String)
    case noQEMU(String)
    case spawnFailed(String, errno: Int32)
    case directory(String, errno: Int32)
    /// QEMU ended before what was awaited; `log` is the end of its standard error.
    case exited(status: QEMUExitStatus, log: String)
    /// The awaited serial line or socket did not come in time; `serialTail` is the end of the serial output.
    case timedOut(waitingFor: String, seconds: Double, serialTail: String)
    /// The caller's interrupt check fired during a wait (Ctrl-C, SIGTERM).
    case interrupted

    public var description: String {
        switch self {
        case .badEndpoint(let text, let reason): return "bad gdbstub address '\(text)': \(reason)"
        case .badMemorySize(let text): return "bad memory size '\(text)': give a number with K, M, G or T (e.g. 128M, 1G), at least 2M"
        case .noKernel(let path): return "no kernel image at \(path): run `make kernel` first"
        case .noQEMU(let name): return "\(name) is not on PATH: install qemu-system-x86 (scripts/install-deps.sh does)"
        case .spawnFailed(let what, let e): return "cannot start \(what): \(String(cString: strerror(e)))"
        case .directory(let path, let e): return "cannot create the run directory \(path): \(String(cString: strerror(e)))"
        case .exited(let status, let log):
            let text = log.split(whereSeparator: \.isNewline).suffix(3).joined(separator: " | ")
            return "QEMU \(status)\(text.isEmpty ? " (nothing on its stderr)" : ": \(text)")"
        case .timedOut(let what, let seconds, let tail):
            let last = tail.split(whereSeparator: \.isNewline).last.map { " (last serial line: \($0))" } ?? " (no serial output)"
            return "no \(what) within \(Int(seconds)) s\(last)"
        case .interrupted: return "interrupted while waiting for QEMU"
        }
    }
}

/// How a QEMU process ended.
public enum QEMUExitStatus: Sendable, Equatable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)

    /// The guest's `isa-debug-exit` code, if QEMU left through it (QEMU exits with `(code << 1) | 1`).
    public var debugExitCode: Int32? {
        if case .exited(let s) = self, s & 1 == 1 { return s >> 1 }
        return nil
    }

    public var description: String {
        switch self {
        case .exited(let s): return "exited with status \(s)"
        case .signaled(let s): return "was killed by signal \(s)"
        }
    }
}

import Glibc

import Glibc
import KernelSession

/// The one progress line of this process: reads of guest memory that take more than a
/// second show bytes, rate and time left on standard error, redrawn in place, only when
/// standard error is a terminal (never in a pipe, a file or a script's capture). Standard
/// output is untouched, so `--json` stays a clean document. ``finish()`` erases the line
/// before anything else is printed after a read.
enum ProgressLine {
    /// nil when standard error is not a terminal: then nothing is ever drawn.
    static let reporter: ReadProgress? = isatty(STDERR_FILENO) == 1
        ? ReadProgress { text in
            var bytes = Array(text.utf8)
            var written = 0
            while written < bytes.count {
                let n = bytes.withUnsafeMutableBytes { Glibc.write(STDERR_FILENO, $0.baseAddress! + written, $0.count - written) }
                if n > 0 { written += n } else if n < 0 && errno == EINTR { continue } else { break }
            }
            bytes.removeAll()
        }
        : nil

    /// The next reads add up to about `bytes` (many small reads: the op-log ring, streamed
    /// FrameMeta windows), so the line can say how long is left.
    static func expect(_ bytes: Int) { reporter?.expect(bytes) }

    /// Erases the line if one is shown.
    static func finish() { reporter?.finish() }
}

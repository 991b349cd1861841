import Foundation

/// Debian's Chromium run headless, as the report tests look at a page: a screenshot of a page
/// at a window size, the page's DOM after its scripts ran, and the colours of a PNG's pixels
/// (`scripts/png-pixels.py`). One copy for the three test targets that draw the report.
public enum HeadlessChromium {
    /// The browser, if installed (`chromium`, from scripts/install-deps.sh).
    public static let path: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// The repository's root (this file is Tests/BrowserSupport/HeadlessChromium.swift).
    public static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// What went wrong, with the browser's or the script's output.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    static let headless = ["--headless", "--no-sandbox", "--disable-gpu"]

    /// Draws `url` (a `file://` URL, with a fragment if any) in a `width` × `height` window at
    /// device scale 1 and writes the screenshot to `png`.
    public static func screenshot(_ url: String, width: Int, height: Int, to png: String) throws(Failure) {
        guard let path else { throw Failure(description: "chromium is not installed") }
        try? FileManager.default.removeItem(atPath: png)
        let (status, out) = Program.run(path, headless + ["--hide-scrollbars", "--force-device-scale-factor=1", "--window-size=\(width),\(height)",
                                                          "--screenshot=\(png)", url])
        guard status == 0, FileManager.default.fileExists(atPath: png) else { throw Failure(description: "chromium (status \(status)): \(out)") }
    }

    /// The DOM of `url` after its scripts ran.
    public static func dumpDOM(_ url: String) throws(Failure) -> String {
        guard let path else { throw Failure(description: "chromium is not installed") }
        let (status, out) = Program.run(path, headless + ["--dump-dom", url])
        guard status == 0 else { throw Failure(description: "chromium (status \(status)): \(out)") }
        return out
    }

    /// The colours (`#rrggbb`) of `png`'s pixels at `points`, in order.
    public static func pixels(_ png: String, _ points: [(x: Int, y: Int)]) throws(Failure) -> [String] {
        let (status, out) = Program.run("/usr/bin/python3", [repositoryRoot + "/scripts/png-pixels.py", png] + points.map { "\($0.x),\($0.y)" })
        let colors = out.split(separator: "\n").map(String.init)
        guard status == 0, colors.count == points.count else { throw Failure(description: "png-pixels.py (status \(status)): \(out)") }
        return colors
    }
}

/// A program run to its end.
public enum Program {
    /// Runs `path` with `arguments`; its exit status and its output (stdout and stderr together).
    /// Foundation's Process is fine here: the programs run by the tests do not daemonize.
    public static func run(_ path: String, _ arguments: [String]) -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = arguments
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        do { try p.run() } catch { return (-1, "\(error)") }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

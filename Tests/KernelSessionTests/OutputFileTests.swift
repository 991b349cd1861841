import Foundation
import KernelSession
import Testing

/// Output files are not overwritten without --force (issue 10, Security).
@Suite("Output files")
struct OutputFileTests {
    let directory = NSTemporaryDirectory() + "kmemscope-output-\(getpid())-\(UInt32.random(in: 0 ... .max))"

    @Test func anExistingFileIsKeptWithoutForceAndReplacedWithIt() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/out.txt"
        try OutputFile.write(Array("first".utf8), to: path, force: false)
        #expect(throws: OutputFile.Failure.exists(path: path)) { try OutputFile.write(Array("second".utf8), to: path, force: false) }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "first")
        #expect("\(OutputFile.Failure.exists(path: path))" == "\(path) exists: give --force to overwrite it")
        try OutputFile.write(Array("third".utf8), to: path, force: true)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "third")
    }

    @Test func aMissingDirectoryIsSaid() {
        #expect {
            try OutputFile.write([1], to: directory + "/no/such/dir/f", force: false)
        } throws: { error in
            "\(error)".contains("No such file or directory")
        }
    }

    /// The check commands make before they attach: the same rule as the write, and nothing left behind.
    @Test func theCheckBeforeAttachingFollowsTheWritesRule() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/out.txt"
        try OutputFile.check(path, force: false)
        #expect(!FileManager.default.fileExists(atPath: path), "the check left the file behind")
        try OutputFile.write(Array("kept".utf8), to: path, force: false)
        #expect(throws: OutputFile.Failure.exists(path: path)) { try OutputFile.check(path, force: false) }
        try OutputFile.check(path, force: true)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "kept", "the check changed an existing file")
        #expect(throws: OutputFile.Failure.system(path: directory, errno: EISDIR)) { try OutputFile.check(directory, force: true) }
        #expect(throws: OutputFile.Failure.system(path: directory + "/no/f", errno: ENOENT)) { try OutputFile.check(directory + "/no/f", force: false) }
        // root may write anywhere the permission bits say no, but not into /proc
        #expect(throws: OutputFile.Failure.self) { try OutputFile.check("/proc/kmemscope-check", force: false) }
    }
}

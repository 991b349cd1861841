import Foundation
import Glibc
import Testing

/// What a user is told at the edges of attaching: a watch whose checkpoint never comes.
@Suite("Attach edges", .serialized)
struct AttachEdgeTests {
    /// The workload has ended, so no checkpoint comes: `watch --stops 1 --wait 3` says that
    /// (exit 2, no verdict), not that the stub is hung, and the guest runs on as it was found.
    @Test func watchWithNoCheckpointInTimeSaysSo() throws {
        let boot = try DebugBoot(memory: "128M", append: "seed=1 ops=2000 phases=1")
        defer { boot.stop() }
        try boot.runUntil(["kmem: done"])   // detached: the guest idles, running
        let r = try InfoCommandTests.kmemscope(["watch", "--stops", "1", "--wait", "3", "--target", "unix:" + boot.socket,
                                                "--elf", DebugBoot.kernel])
        #expect(r.status == 2, "\(r.out)\n\(r.err)")
        #expect(r.err.contains("no checkpoint within 3 s: the guest ran on to sequence "), "\(r.err)")
        #expect(!r.err.contains("hung") && !r.err.contains("no reply"), "\(r.err)")
        #expect(try boot.vmStatus() == "running")
    }

    /// A real HTTP server (Python's http.server, loopback) given as --target: kmemscope says
    /// what answered instead of calling it a busy or hung stub.
    @Test func anHTTPServerIsNotTakenForAStub() throws {
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        server.arguments = ["-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", NSTemporaryDirectory()]
        let out = Pipe()
        server.standardOutput = out
        server.standardError = FileHandle.nullDevice
        try server.run()
        // SIGKILL: Foundation starts children with SIGTERM blocked, and python waits on it
        defer { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() }
        // "Serving HTTP on 127.0.0.1 port 43567 (http://127.0.0.1:43567/) ..."
        let line = String(decoding: out.fileHandleForReading.availableData, as: UTF8.self)
        let port = try #require(line.components(separatedBy: " port ").dropFirst().first.flatMap { UInt16($0.prefix { $0.isNumber }) }, "\(line)")
        let r = try InfoCommandTests.kmemscope(["info", "--target", "127.0.0.1:\(port)", "--elf", DebugBoot.kernel])
        #expect(r.status == 2, "\(r.out)\n\(r.err)")
        // http.server takes the packet line for an HTTP/0.9 request and answers the error page alone
        #expect(r.err.contains("127.0.0.1:\(port) is not a GDB stub: it sent '"), "\(r.err)")
        #expect(r.err.contains("sent 'HTTP/1.") || r.err.contains("sent '<!DOCTYPE HTML>"), "\(r.err)")
        #expect(!r.err.contains("another debugger") && !r.err.contains("hung"), "\(r.err)")
    }
}

import Foundation
import TerminalSupport
import Glibc
import KernelLayouts
import Testing

/// Rules of docs/proxy.md that the other proxy tests leave out, with real gdb and real QEMU:
/// `--listen` on TCP, and gdb's Ctrl-C during a borrow that suspended its `continue`.
@Suite("kmemscope proxy rules", .serialized)
struct ProxyRulesTests {
    @Test func gdbThroughATCPListenerHitsItsBreakpointAndSeesTheSameZones() throws {
        let boot = try DebugBoot(append: "seed=1 ops=200000 phases=8")   // -S: stopped at reset
        defer { boot.stop() }
        boot.target.close()
        let proxy = try ProxyProcess(target: "unix:" + boot.socket, directory: boot.directory, listen: "127.0.0.1:\(try Self.freePort())")
        defer { proxy.stop() }
        let target = proxy.gdbTarget
        #expect(target.hasPrefix("127.0.0.1:") && Int(target.dropFirst(10)).map { $0 > 0 } == true, "\(proxy.log)")
        let zonesFile = boot.directory + "/zones-tcp.txt"
        let gdb = try BackgroundProcess.gdb([
            "target remote \(target)",
            "break kmem_checkpoint",
            "continue",
            "echo MARK-KMS\\n", "monitor kms zones", "echo MARK-END\\n",
            "shell \(InfoCommandTests.binary) zones --target \(target) > \(zonesFile) 2>&1",
            "stepi",
            "echo MARK-STEP\\n", "info registers rip", "echo MARK-END\\n",
            "detach",
        ], directory: boot.directory)
        let status = gdb.wait(seconds: 240)
        let out = gdb.output
        #expect(status == 0, "gdb: \(out.suffix(2000))\nproxy: \(proxy.log)")
        #expect(out.contains("Breakpoint 1, "), "\(out.suffix(2000))")
        // monitor kms's child connected back over TCP, and so did a command from a shell.
        let kms = ProxyGDBTests.section(out, "MARK-KMS", "MARK-END").filter { $0.hasPrefix("zone ") }
        let other = ((try? String(contentsOfFile: zonesFile, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init).filter { $0.hasPrefix("zone ") }
        #expect(!kms.isEmpty && kms == other, "monitor: \(kms)\nshell: \(other)\nproxy: \(proxy.log)")
        #expect(ProxyGDBTests.section(out, "MARK-STEP", "MARK-END").first?.contains("<kmem_checkpoint+") == true, "\(out.suffix(1500))")
        #expect(try boot.vmStatus() == "paused")
        #expect(proxy.stop() == 0, "\(proxy.log)")
    }

    /// gdb's breakpoint inside the allocator is in QEMU while gdb's continue runs (a false
    /// condition: gdb resumes at every hit). A kmemscope settle that runs into it ends at once
    /// with a clear error, leaving the guest there for gdb; before, it continued into the same
    /// breakpoint until its 5 s limit and reported the guest "stuck".
    @Test func aSettleThatRunsIntoGdbsBreakpointEndsAtOnceAndLeavesItToGdb() throws {
        let boot = try DebugBoot(append: "seed=4 ops=8000000 phases=400")
        defer { boot.stop() }
        boot.target.close()
        let proxy = try ProxyProcess(target: "unix:" + boot.socket, directory: boot.directory)
        defer { proxy.stop() }
        let kernel = try KernelImage(path: DebugBoot.kernel)
        guard let allocate = try kernel.elf.symbolTable().symbols.first(where: { $0.name.contains("PageAllocatorV16allocateUnlogged") })?.address.rawValue else {
            throw DebugBootError("no PageAllocator.allocateUnlogged in the kernel's symbols")
        }
        let gdb = try BackgroundProcess.gdb([
            "target remote \(proxy.socket)",
            "break kmem_checkpoint", "continue", "delete",
            "break *0x\(String(allocate, radix: 16)) if 0",
            "continue",
        ], directory: boot.directory)
        defer { _ = gdb.wait(seconds: 0) }
        #expect(gdb.waitFor("Breakpoint 1, ", seconds: 120), "\(gdb.output)\n\(proxy.log)")
        usleep(1_000_000)   // gdb's continue runs, its breakpoint hit and passed over and over
        var sequences: [UInt64] = []
        var hit = false
        for _ in 0..<15 where !hit {
            let r = try InfoCommandTests.kmemscope(["zones", "--settle", "--target", proxy.address, "--elf", DebugBoot.kernel])
            #expect(!r.err.contains("stuck"), "the settle ran into gdb's breakpoint until its limit: \(r.err)")
            if r.status == 2 && r.err.contains("a breakpoint kmemscope did not set") {
                hit = true
                #expect(r.err.contains("0x\(String(allocate, radix: 16))"), "\(r.err)")
            } else {
                #expect(r.status == 0, "\(r.err)\n\(proxy.log)")
                if let line = r.out.split(separator: "\n").first(where: { $0.hasPrefix("sequence ") }), let n = UInt64(line.dropFirst(9)) { sequences.append(n) }
            }
        }
        #expect(hit, "no settle of 15 met gdb's breakpoint: \(proxy.log)")
        // gdb's continue went on under the reads: the workload moved, gdb saw no stop of its own.
        #expect(sequences.count < 2 || sequences.last! > sequences.first!, "\(sequences)")
        #expect(gdb.process.isRunning && !gdb.output.contains("received signal"), "\(gdb.output)")
    }

    /// A TCP port nobody listens on now (the kernel's choice for port 0).
    static func freePort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &sin) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 } }
        guard ok else { throw DebugBootError("no free TCP port") }
        return UInt16(bigEndian: sin.sin_port)
    }

    /// gdb's Ctrl-C is a real one: gdb runs in a terminal (tmux), the key goes to it there.
    /// (Its borrower once got the stop reply of the proxy's interrupt for its first packet, 1 of
    /// 3 CI runs: the proxy served QEMU's stop before reading the packet that already waited in
    /// the client's socket. It now peeks first; the test client, like every client of QEMU,
    /// also reads the stop a connect to a running guest may bring before its first reply.)
    @Test(.enabled(if: TerminalSession.tmux != nil, "tmux is not installed (scripts/install-deps.sh installs it)"))
    func gdbsCtrlCDuringABorrowStopsWhereTheBorrowFoundTheGuest() throws {
        let boot = try DebugBoot(append: "seed=4 ops=8000000 phases=400")   // a checkpoint soon, a workload that outlasts the test
        defer { boot.stop() }
        boot.target.close()
        let proxy = try ProxyProcess(target: "unix:" + boot.socket, directory: boot.directory, arguments: ["--trace"])
        defer { proxy.stop() }
        let script = boot.directory + "/ctrl-c.gdb"
        try ["set pagination off", "set confirm off", "set width 0", "target remote \(proxy.socket)",
             "break kmem_checkpoint", "continue", "delete", "continue"].joined(separator: "\n")
            .write(toFile: script, atomically: true, encoding: .utf8)
        // The test process blocks SIGINT and tmux hands its mask on: gdb gets it unblocked,
        // as from a shell.
        let unblocked = "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); os.execv(sys.argv[1], sys.argv[1:])"
        let terminal = try TerminalSession("/usr/bin/python3 -c '\(unblocked)' /usr/bin/gdb -q -nx -x \(script) \(DebugBoot.kernel)")
        defer { terminal.close() }
        try terminal.wait(timeout: 120) { $0.contains("Breakpoint 1, ") }
        usleep(1_000_000)   // gdb's second continue runs
        // A borrower (a client of the protocol's own, so the moment is the test's): its first
        // packet suspends gdb's continue; it reads the PC and holds the guest.
        let borrower = try RawClient(path: proxy.socket)
        defer { borrower.close() }
        let rip = try borrower.request("p10", seconds: 30)
        #expect(rip.count == 16, "p10 → \(rip)\n\(proxy.log)")
        #expect(proxy.log.contains("client 2 borrows"), "\(proxy.log)")
        // Ctrl-C in gdb while the borrow lasts: gdb gets nothing yet.
        try terminal.send("C-c")
        let start = Date()
        while !proxy.log.contains("client 1 → 0x03") && Date().timeIntervalSince(start) < 30 { usleep(50_000) }
        #expect(proxy.log.contains("client 1 → 0x03"), "gdb sent no interrupt: \((try? terminal.screen()) ?? "")")
        usleep(500_000)
        #expect(!(try terminal.screen()).contains("SIGINT"), "\(proxy.log)")
        borrower.close()   // the borrow ends: gdb gets the stop its Ctrl-C asked for
        let stopped: String
        do {
            stopped = try terminal.wait(timeout: 60) { $0.contains("SIGINT") && $0.trimmingCharacters(in: .whitespacesAndNewlines).hasSuffix("(gdb)") }
        } catch {
            Issue.record("\(error)\nproxy: \(proxy.log)")
            return
        }
        #expect(stopped.contains("Program received signal SIGINT"), "\(stopped)")
        try terminal.type("info registers rip")
        let screen = try terminal.wait(timeout: 30) { $0.split(separator: "\n").contains { $0.hasPrefix("rip ") } }
        // Where the borrow found the guest: it was not resumed in between.
        let line = screen.split(separator: "\n").last { $0.hasPrefix("rip ") } ?? ""
        let gdbRIP = line.split(separator: " ").dropFirst().first.flatMap { UInt64($0.dropFirst(2), radix: 16) }
        #expect(gdbRIP != nil && gdbRIP == UInt64(littleEndianHex: rip), "gdb: \(line), borrower: \(rip)\n\(proxy.log)")
        try terminal.type("detach")
        try terminal.wait(timeout: 30) { $0.contains("detached") }
        #expect(try boot.vmStatus() == "paused", "\(proxy.log)")   // found stopped, left stopped
        #expect(!proxy.log.contains("resumed"), "the borrow's end resumed gdb's run: \(proxy.log)")
    }
}

extension UInt64 {
    /// A register as the remote protocol sends it: target byte order (little-endian) in hex.
    init?(littleEndianHex text: String) {
        guard text.count == 16, let big = UInt64(text, radix: 16) else { return nil }
        self = big.byteSwapped
    }
}

/// A bare remote-protocol client on a Unix socket (acks on; every wait bounded).
final class RawClient {
    private var fd: Int32
    /// Whether a reply has been read yet: before it, a stop reply is the one QEMU (and the
    /// proxy, docs/proxy.md) sends a client that connected to a running guest.
    private var answered = false
    /// The stop reply that came before the first reply, if one did.
    private(set) var connectStop: String?

    init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var sun = sockaddr_un()
        sun.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &sun.sun_path) { raw in
            let bytes = Array(path.utf8)
            raw.copyBytes(from: bytes); raw[bytes.count] = 0
        }
        let rc = withUnsafePointer(to: &sun) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        guard rc == 0 else { throw DebugBootError("cannot connect to \(path)") }
    }

    /// Sends `payload` framed and returns the reply's payload (at most `seconds` waited).
    func request(_ payload: String, seconds: Double) throws -> String {
        let sum = payload.utf8.reduce(UInt8(0)) { $0 &+ $1 }
        let digits = Array("0123456789abcdef")
        let frame = "$" + payload + "#" + String(digits[Int(sum >> 4)]) + String(digits[Int(sum & 15)])
        _ = frame.withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        var got: [UInt8] = []
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let dollar = got.firstIndex(of: UInt8(ascii: "$")), let hash = got[dollar...].firstIndex(of: UInt8(ascii: "#")), got.count >= hash + 3 {
                _ = "+".withCString { send(fd, $0, 1, Int32(MSG_NOSIGNAL)) }
                let reply = String(decoding: got[(dollar + 1)..<hash], as: UTF8.self)
                got.removeFirst(hash + 3)
                if !answered, connectStop == nil, reply.hasPrefix("T") || reply.hasPrefix("S"), !"?cs".contains(payload.prefix(1)) {
                    connectStop = reply   // the connect's own stop reply: the request's reply follows
                    continue
                }
                answered = true
                return reply
            }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 100) >= 0 else { break }
            guard p.revents != 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = recv(fd, &buffer, buffer.count, 0)
            guard n > 0 else { break }
            got += buffer[0..<n]
        }
        throw DebugBootError("no reply to \(payload) within \(seconds) s: \(String(decoding: got, as: UTF8.self))")
    }

    func close() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
    }
}

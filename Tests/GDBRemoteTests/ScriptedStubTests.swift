import Foundation
import Glibc
import Testing
@testable import GDBRemote
import StubSupport

/// Faults QEMU cannot be made to produce, from ``ScriptedStub``.
@Suite(.timeLimit(.minutes(2))) struct ScriptedStubTests {
    @Test func unsolicitedStopOnConnectIsNotTakenAsAReply() throws {
        let greeting = ScriptedStub.frameVerbatim(Array("T02thread:01;".utf8))
        let stub = try ScriptedStub(greeting: greeting) { s, r in s.reply(ScriptedStub.patternReply(r)) }
        defer { stub.stop() }
        let target = try RemoteTarget.connect(to: stub.address, timeout: .seconds(3))
        #expect(target.unsolicitedStop?.signal == 2)
        #expect(target.lastStop?.signal == 5)
        #expect(target.features.packetSize == 0x1000)
        #expect(try target.readMemory(at: 0x10, count: 4) == (0x10..<0x14).map { ScriptedStub.patternByte($0) })
    }

    @Test func corruptedReplyIsAskedForAgainWithNak() throws {
        let stub = try ScriptedStub { s, r in
            s.corruptResends = 1          // damaged, and damaged again on the first `-`
            s.replyCorrupt("1234")
        }
        defer { stub.stop() }
        let target = try RemoteTarget.connect(to: stub.address, timeout: .seconds(3))
        #expect(try target.readMemory(at: 0x1000, count: 2) == [0x12, 0x34])
        #expect(stub.controls.filter { $0 == UInt8(ascii: "-") }.count == 2)
    }

    @Test func checksumFailureAfterRetriesIsTyped() throws {
        let stub = try ScriptedStub { s, r in
            s.corruptResends = 100
            s.replyCorrupt("1234")
        }
        defer { stub.stop() }
        let target = try RemoteTarget.connect(to: stub.address, timeout: .seconds(3))
        #expect(throws: GDBRemoteError.checksumFailure(request: "m1000,2", attempts: 4)) {
            try target.readMemory(at: 0x1000, count: 2)
        }
    }

    @Test func requestRejectedWithNakIsRetransmitted() throws {
        var nakLeft = 1
        let stub = try ScriptedStub { s, r in
            if nakLeft > 0 { nakLeft -= 1; s.raw("-") } else { s.reply("OK") }
        }
        defer { stub.stop() }
        let target = try RemoteTarget.connect(to: stub.address, timeout: .seconds(3))
        try target.setBreakpoint(at: 0x1234)
        #expect(stub.requests.filter { $0 == "Z0,1234,1" }.count == 2)
    }

    @Test func runLengthEncodedAndEscapedReplies() throws {
        let stub = try ScriptedStub(features: "PacketSize=1000;qXfer:features:read+") { s, r in
            if r.hasPrefix("qXfer:features:read:target.xml:0,") {
                // "l" + <target><architecture>a}b</architecture></target>, with "}" escaped as "}]".
                s.reply("l<target><architecture>a}]b</architecture><reg name=\"x\" bitsize=\"64\"/></target>")
            } else if r == "m2000,10" {
                s.reply("0*<")                    // 32 zeros: 16 zero bytes
            } else if r == "m3000,3" {
                s.reply("a* 12")                  // 'a' and 3 more: "aaaa12"
            } else {
                s.reply("E01")
            }
        }
        defer { stub.stop() }
        let target = try RemoteTarget.connect(to: stub.address, timeout: .seconds(3))
        #expect(target.targetDescription.architecture == "a}b")
        #expect(target.targetDescription.registers.map(\.name) == ["x"])
        #expect(try target.readMemory(at: 0x2000, count: 16) == [UInt8](repeating: 0, count: 16))
        #expect(try target.readMemory(at: 0x3000, count: 3) == [0xaa, 0xaa, 0x12])
    }

    @Test func replySplitAcrossManySegments() throws {
        let stub = try ScriptedStub { s, r in
            s.replySplit(ScriptedStub.patternReply(r), pieces: 200, delayMicros: 200)
        }
        defer { stub.stop() }
        let target = try RemoteTarget.connect(to: stub.address, timeout: .seconds(3))
        let data = try target.readMemory(at: 0x4000, count: 2048, depth: 1)
        #expect(data == (0x4000..<0x4800).map { ScriptedStub.patternByte($0) })
    }

    @Test func garbageAndNotificationsBetweenPacketsAreSkipped() throws {
        let stub = try ScriptedStub { s, r in
            s.raw("\r\n\u{07}junk")
            s.raw(ScriptedStub.frameVerbatim(Array("Stop:T05".utf8)).map { $0 == UInt8(ascii: "$") ? UInt8(ascii: "%") : $0 })
            s.reply(ScriptedStub.patternReply(r))
            s.raw("more junk")
        }
        defer { stub.stop() }
        let target = try RemoteTarget.connect(to: stub.address, timeout: .seconds(3))
        #expect(try target.readMemory(at: 0x100, count: 8) == (0x100..<0x108).map { ScriptedStub.patternByte($0) })
        #expect(try target.readMemory(at: 0x200, count: 8) == (0x200..<0x208).map { ScriptedStub.patternByte($0) })
    }

    @Test func oversizeReplyIsTypedError() throws {
        let stub = try ScriptedStub { s, r in s.reply(String(repeating: "ab", count: 600_000)) }
        defer { stub.stop() }
        let target = try RemoteTarget.connect(to: stub.address, timeout: .seconds(3))
        #expect {
            try target.readMemory(at: 0, count: 16)
        } throws: { error in
            guard case GDBRemoteError.packetTooLarge(_, let size, let limit) = error else { return false }
            return size > limit && limit == 1 << 20
        }
    }

    @Test func requestLargerThanPacketSizeIsRefusedBeforeSending() throws {
        let stub = try ScriptedStub(features: "PacketSize=100") { s, r in s.reply("OK") }
        defer { stub.stop() }
        let target = try RemoteTarget.connect(to: stub.address, timeout: .seconds(3))
        #expect {
            _ = try target.monitor(String(repeating: "x", count: 200))
        } throws: { error in
            guard case GDBRemoteError.packetTooLarge(_, let size, let limit) = error else { return false }
            return limit == 0x100 && size > limit
        }
        // Writes are chunked to fit instead.
        try target.writeMemory(at: 0x1000, bytes: [UInt8](repeating: 0x5a, count: 1000))
        let writes = stub.requests.filter { $0.hasPrefix("M") }
        #expect(writes.count > 1)
        #expect(writes.allSatisfy { $0.utf8.count + 4 <= 0x100 })
    }

    @Test func silentStubTimesOutNamingTheRequest() throws {
        let stub = try ScriptedStub { _, _ in }
        defer { stub.stop() }
        let target = try RemoteTarget.connect(to: stub.address, timeout: .seconds(3))
        target.requestTimeout = .milliseconds(300)
        let start = ContinuousClock.now
        #expect(throws: GDBRemoteError.timedOut(request: "m1000,4", after: .milliseconds(300))) {
            try target.readMemory(at: 0x1000, count: 4)
        }
        #expect(ContinuousClock.now - start < .seconds(3))
    }

    @Test func stubClosingMidPacketIsTyped() throws {
        let stub = try ScriptedStub { s, r in
            s.raw("+$0011")
            s.close()
        }
        defer { stub.stop() }
        let target = try RemoteTarget.connect(to: stub.address, timeout: .seconds(3))
        #expect(throws: GDBRemoteError.connectionClosed(request: "m1000,4", midPacket: true)) {
            try target.readMemory(at: 0x1000, count: 4)
        }
    }

    @Test func pipelinedReadSurvivesCorruptionAndNaks() throws {
        var count = 0
        let stub = try ScriptedStub { s, r in
            count += 1
            if count == 5 { s.replyCorrupt(ScriptedStub.patternReply(r)); return }
            if count == 9 { s.raw("-"); return }
            s.reply(ScriptedStub.patternReply(r))
        }
        defer { stub.stop() }
        let target = try RemoteTarget.connect(to: stub.address, timeout: .seconds(3))
        let size = 64 * 2048 + 100
        let data = try target.readMemory(at: 0x10_0000, count: size, depth: 16)
        #expect(data == (0x10_0000..<UInt64(0x10_0000 + size)).map { ScriptedStub.patternByte($0) })
        // 65 chunks, one damaged reply re-requested, one rejected request sent again.
        #expect(stub.requests.filter { $0.hasPrefix("m") }.count == 67)
    }

    @Test func shortReadsAreCompleted() throws {
        let stub = try ScriptedStub { s, r in
            guard let (a, n) = ScriptedStub.parseRead(r) else { return s.reply("E01") }
            s.reply(ScriptedStub.patternReply("m\(String(a, radix: 16)),\(String(max(1, n / 2), radix: 16))"))
        }
        defer { stub.stop() }
        let target = try RemoteTarget.connect(to: stub.address, timeout: .seconds(3))
        let data = try target.readMemory(at: 0x500, count: 100)
        #expect(data == (0x500..<0x564).map { ScriptedStub.patternByte($0) })
    }

    @Test func noAckModeIsUsedWhenOffered() throws {
        let stub = try ScriptedStub(features: "PacketSize=1000;QStartNoAckMode+") { s, r in
            s.reply(ScriptedStub.patternReply(r))
        }
        defer { stub.stop() }
        let target = try RemoteTarget.connect(to: stub.address, timeout: .seconds(3))
        #expect(!target.connection.ackMode)
        let acksBefore = stub.controls.count
        #expect(try target.readMemory(at: 0, count: 8192) == (0..<8192).map { ScriptedStub.patternByte($0) })
        #expect(stub.controls.count == acksBefore)
    }

    @Test func emptyReplyMeansUnsupported() throws {
        let stub = try ScriptedStub { s, _ in s.reply("") }
        defer { stub.stop() }
        let target = try RemoteTarget.connect(to: stub.address, timeout: .seconds(3))
        #expect(throws: GDBRemoteError.unsupported(request: "Z2,500,1")) {
            try target.setWatchpoint(at: 0x500, length: 1)
        }
    }

    @Test func connectionRefusedNamesTheAddress() throws {
        let port = try QEMUInstance.freePort(ipv6: false)
        #expect(throws: GDBRemoteError.connectionRefused(address: "127.0.0.1:\(port)")) {
            _ = try RemoteTarget.connect(to: .tcp("127.0.0.1", port), timeout: .seconds(2))
        }
        #expect(throws: GDBRemoteError.socketMissing(path: "/nonexistent/gdb.sock")) {
            _ = try RemoteTarget.connect(to: .unix("/nonexistent/gdb.sock"), timeout: .seconds(2))
        }
    }

    @Test func malformedReplyNamesTheRequest() throws {
        let stub = try ScriptedStub { s, r in s.reply(r.hasPrefix("m") ? "zz" : "bogus") }
        defer { stub.stop() }
        let target = try RemoteTarget.connect(to: stub.address, timeout: .seconds(3))
        #expect(throws: GDBRemoteError.malformedReply(request: "m1000,1", reply: "zz")) {
            try target.readMemory(at: 0x1000, count: 1)
        }
        #expect(throws: GDBRemoteError.malformedReply(request: "Z0,1000,1", reply: "bogus")) {
            try target.setBreakpoint(at: 0x1000)
        }
    }

    @Test func connectTimesOutWhenTheListenerNeverAccepts() throws {
        // A loopback listener with a full accept queue drops further SYNs, so connect hangs.
        let (fd, port) = try LoopbackSocket.listen(backlog: 0)
        defer { close(fd) }
        var fillers: [SocketTransport] = []
        var timedOut = false
        for _ in 0..<8 {
            do {
                fillers.append(try SocketTransport.connect(to: .tcp("127.0.0.1", port), timeout: .milliseconds(300)))
            } catch GDBRemoteError.connectTimedOut(let address, let after) {
                #expect(address == "127.0.0.1:\(port)")
                #expect(after == .milliseconds(300))
                timedOut = true
                break
            }
        }
        #expect(timedOut)
    }

    @Test func refusedWriteNamesTheChunkAddress() throws {
        let stub = try ScriptedStub(features: "PacketSize=200") { s, r in
            // Refuse writes at or above 0x2100.
            let address = Hex.number(r.dropFirst().prefix { $0 != "," }) ?? 0
            s.reply(r.hasPrefix("M") && address >= 0x2100 ? "E0e" : "OK")
        }
        defer { stub.stop() }
        let target = try RemoteTarget.connect(to: stub.address, timeout: .seconds(3))
        #expect {
            try target.writeMemory(at: 0x2000, bytes: [UInt8](repeating: 7, count: 1000))
        } throws: { error in
            guard case GDBRemoteError.memoryAccess(let address, 1000, true, 0x0e) = error else { return false }
            return address >= 0x2100 && address < 0x2200
        }
    }

    @Test func damagedReplyInNoAckModeIsRequestedAgain() throws {
        var damaged = false
        let stub = try ScriptedStub(features: "PacketSize=1000;QStartNoAckMode+") { s, r in
            if !damaged { damaged = true; s.replyCorrupt(ScriptedStub.patternReply(r)); return }
            s.reply(ScriptedStub.patternReply(r))
        }
        defer { stub.stop() }
        let target = try RemoteTarget.connect(to: stub.address, timeout: .seconds(3))
        #expect(!target.connection.ackMode)
        #expect(try target.readMemory(at: 0x40, count: 8) == (0x40..<0x48).map { ScriptedStub.patternByte($0) })
        #expect(stub.requests.filter { $0 == "m40,8" }.count == 2)
        #expect(!stub.controls.contains(UInt8(ascii: "-")))
    }

    @Test func consoleOutputWhileRunningIsCollected() throws {
        let stub = try ScriptedStub { s, r in
            guard r == "c" else { return s.reply("E01") }
            s.reply("O" + Hex.string(Array("hello ".utf8)))
            s.reply("O" + Hex.string(Array("world\n".utf8)))
            s.reply("T05thread:01;swbreak:;")
        }
        defer { stub.stop() }
        let target = try RemoteTarget.connect(to: stub.address, timeout: .seconds(3))
        let stop = try target.continueUntilStop(timeout: .seconds(3))
        #expect(stop.signal == 5)
        #expect(stop.fields.contains { $0.name == "swbreak" })
        #expect(String(decoding: target.consoleOutput, as: UTF8.self) == "hello world\n")
        #expect(!target.isRunning)
    }

    @Test func firstBadAddressIsExactEvenWhileReadSizeIsBeingLearned() throws {
        // This stub serves at most 1024 bytes per read (E22 above, as QEMU would say) and has
        // nothing from 0x1bb8 (= 0x1000 + 3000) on.
        let stub = try ScriptedStub { s, r in
            guard let (a, n) = ScriptedStub.parseRead(r) else { return s.reply("E01") }
            if n > 1024 { return s.reply("E22") }
            if a &+ UInt64(n) > 0x1bb8 { return s.reply("E14") }
            s.reply(ScriptedStub.patternReply(r))
        }
        defer { stub.stop() }
        let target = try RemoteTarget.connect(to: stub.address, timeout: .seconds(3))
        #expect(throws: GDBRemoteError.memoryAccess(address: 0x1bb8, count: 8192, write: false, code: 0x14)) {
            try target.readMemory(at: 0x1000, count: 8192)
        }
        #expect(target.maximumReadSize == 1024)
        #expect(try target.readMemory(at: 0x1000, count: 3000) == (0x1000..<0x1bb8).map { ScriptedStub.patternByte($0) })
    }
}

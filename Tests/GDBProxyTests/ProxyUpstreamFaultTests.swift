import Foundation
import GDBProxy
import GDBRemote
import StubSupport
import Testing

/// What QEMU cannot be made to do, from a scripted stub: a request never answered, a reply
/// larger than the limit. The proxy ends (no hang past its timeout) and says why; the client
/// through it sees its connection closed.
@Suite("Proxy upstream faults (scripted stub)", .serialized)
struct ProxyUpstreamFaultTests {
    /// Runs a proxy in front of `stub` on a thread; returns it, its address, and a way to wait
    /// for its end (the error it ended with).
    static func start(_ stub: ScriptedStub, timeout: Duration, maximumPacket: Int = 1 << 17) throws
        -> (address: RemoteAddress, finished: () -> ProxyError??) {
        var configuration = ProxyConfiguration(listen: .tcp("127.0.0.1", 0), upstream: stub.address)
        configuration.requestTimeout = timeout
        configuration.maximumPacket = maximumPacket
        let proxy = try GDBProxy(configuration)
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var outcome: ProxyError?? = nil
        nonisolated(unsafe) let p = proxy
        Thread.detachNewThread {
            do { try p.run { false }; outcome = .some(nil) } catch let e as ProxyError { outcome = .some(e) } catch { outcome = .some(nil) }
            done.signal()
        }
        return (proxy.address, { _ = done.wait(timeout: .now() + 30); return outcome })
    }

    @Test func aRequestQEMUNeverAnswersEndsTheProxyAfterItsTimeout() throws {
        let stub = try ScriptedStub { s, request in
            if request.hasPrefix("m") { return }   // silence
            s.reply("")
        }
        let (address, finished) = try Self.start(stub, timeout: .seconds(2))
        let client = try RemoteTarget.connect(to: address, timeout: .seconds(10))
        let began = ContinuousClock.now
        #expect(throws: GDBRemoteError.self) { _ = try client.readMemory(at: 0x1000, count: 8) }
        #expect(ContinuousClock.now - began < .seconds(10))
        let outcome = finished()
        guard case .some(.some(.upstreamTimedOut(_, _, let seconds))) = outcome else {
            Issue.record("the proxy ended with \(String(describing: outcome))"); return
        }
        #expect(seconds == 2)
        #expect(ProxyError.upstreamTimedOut(address: "x", request: "a request", seconds: 2).description.contains("is QEMU hung?"))
    }

    @Test func aReplyLargerThanTheLimitEndsTheProxyWithTheSizes() throws {
        let stub = try ScriptedStub { s, request in
            s.reply(request.hasPrefix("m") ? String(repeating: "ab", count: 4096) : "")
        }
        let (address, finished) = try Self.start(stub, timeout: .seconds(5), maximumPacket: 4096)
        let client = try RemoteTarget.connect(to: address, timeout: .seconds(10))
        #expect(throws: GDBRemoteError.self) { _ = try client.readMemory(at: 0x1000, count: 8) }
        guard case .some(.some(.upstreamOversize(_, let size, let limit))) = finished() else {
            Issue.record("no oversize error"); return
        }
        #expect(size > limit && limit == 4096)
    }
}

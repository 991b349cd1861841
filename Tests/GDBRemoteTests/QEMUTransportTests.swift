import Foundation
import Testing
@testable import GDBRemote

/// Transports against QEMU: Unix-domain socket, IPv6 loopback, and the stub vanishing.
@Suite(.timeLimit(.minutes(2))) struct QEMUTransportTests {
    @Test func unixDomainSocket() throws {
        let qemu = try QEMUInstance.launch(.unix)
        defer { qemu.stop() }
        guard case .unix = qemu.address else { Issue.record("not a unix address"); return }
        let target = try qemu.connect()
        #expect(target.features.packetSize == 0x1000)
        #expect(try target.register("rip") == 0xfff0)
        #expect(try target.readMemory(at: 0xffff_fff0, count: 5) == [0xea, 0x5b, 0xe0, 0x00, 0xf0])
    }

    @Test func ipv6Loopback() throws {
        let qemu = try QEMUInstance.launch(.tcp6)
        defer { qemu.stop() }
        #expect(qemu.address.description.hasPrefix("[::1]:"))
        let target = try qemu.connect()
        #expect(try target.register("cs") == 0xf000)
        #expect(try target.readMemory(at: 0xffff_fff0, count: 5) == [0xea, 0x5b, 0xe0, 0x00, 0xf0])
    }

    @Test func qemuKilledMidReadIsATypedErrorNotAHang() throws {
        let qemu = try QEMUInstance.launch(memory: "256M")
        defer { qemu.stop() }
        let target = try qemu.connect()
        target.requestTimeout = .seconds(5)
        let killer = Thread {
            usleep(150_000)
            qemu.killHard()
        }
        killer.start()
        let start = ContinuousClock.now
        #expect {
            _ = try target.readPhysicalMemory(at: 0, count: 256 << 20)
        } throws: { error in
            switch error as? GDBRemoteError {
            case .connectionClosed?: return true
            case .io?: return true          // ECONNRESET on some kernels
            default: return false
            }
        }
        #expect(ContinuousClock.now - start < .seconds(10))
    }
}

import Foundation
import Testing
@testable import GDBRemote

/// Run control against QEMU: a three-instruction real-mode program placed at 0x7c00 with
/// `M`, CS:IP pointed at it with `P`, then stepped, stopped at breakpoints and watchpoints,
/// and interrupted; and a hardware breakpoint in SeaBIOS itself.
@Suite(.timeLimit(.minutes(2))) struct QEMURunControlTests {
    static let entry: UInt64 = 0x7c00
    /// 7c00: mov byte [0x500], 0x42 ; 7c05: nop ; 7c06: jmp $
    static let program: [UInt8] = [0xc6, 0x06, 0x00, 0x05, 0x42, 0x90, 0xeb, 0xfe]

    func loadProgram(_ target: RemoteTarget) throws {
        try target.writeMemory(at: Self.entry, bytes: Self.program)
        try target.writeMemory(at: 0x500, bytes: [0])
        try target.writeRegister("cs", 0)         // real mode: base = selector << 4 = 0
        try target.writeRegister("rip", Self.entry)
        #expect(try target.register("rip") == Self.entry)
    }

    @Test func stepExecutesOneInstruction() throws {
        let qemu = try QEMUInstance.launch()
        defer { qemu.stop() }
        let target = try qemu.connect()
        try loadProgram(target)
        let stop = try target.step()
        #expect(stop.signal == 5)
        #expect(try target.register("rip") == 0x7c05)
        #expect(try target.readMemory(at: 0x500, count: 1) == [0x42])
        try target.step()
        #expect(try target.register("rip") == 0x7c06)
    }

    @Test func softwareAndHardwareBreakpointsHit() throws {
        let qemu = try QEMUInstance.launch()
        defer { qemu.stop() }
        let target = try qemu.connect()
        try loadProgram(target)
        try target.setBreakpoint(at: 0x7c05)
        let first = try target.continueUntilStop(timeout: .seconds(10))
        #expect(first.signal == 5)
        #expect(try target.register("rip") == 0x7c05)
        try target.removeBreakpoint(at: 0x7c05)
        try target.setBreakpoint(at: 0x7c06, kind: .hardware)
        try target.continueUntilStop(timeout: .seconds(10))
        #expect(try target.register("rip") == 0x7c06)
        try target.removeBreakpoint(at: 0x7c06, kind: .hardware)
    }

    @Test func writeWatchpointReportsTheAddress() throws {
        let qemu = try QEMUInstance.launch()
        defer { qemu.stop() }
        let target = try qemu.connect()
        try loadProgram(target)
        try target.setWatchpoint(at: 0x500, length: 1)
        let stop = try target.continueUntilStop(timeout: .seconds(10))
        #expect(stop.watchpointAddress == 0x500, "\(stop)")
        #expect(stop.raw.hasPrefix("T05"), "\(stop)")
        #expect(stop.fields.contains { $0.name == "watch" }, "\(stop)")
        #expect(try target.readMemory(at: 0x500, count: 1) == [0x42])
        try target.removeWatchpoint(at: 0x500, length: 1)
    }

    @Test func interruptStopsARunningGuest() throws {
        let qemu = try QEMUInstance.launch()
        defer { qemu.stop() }
        let target = try qemu.connect()
        try loadProgram(target)
        try target.resume()
        #expect(target.isRunning)
        // It spins on `jmp $`: waiting for a stop times out, and the guest keeps running.
        #expect(throws: GDBRemoteError.timedOut(request: "stop reply", after: .milliseconds(300))) {
            try target.waitForStop(timeout: .milliseconds(300))
        }
        #expect(throws: GDBRemoteError.wrongState(operation: "read memory", expected: "stopped (interrupt it first)")) {
            try target.readMemory(at: 0, count: 4)
        }
        let stop = try target.interrupt()
        #expect(stop.signal == 2)
        #expect(!target.isRunning)
        #expect(try target.register("rip") == 0x7c06)
        #expect(try target.readMemory(at: 0x500, count: 1) == [0x42])
    }

    @Test func hardwareBreakpointInSeaBIOS() throws {
        let qemu = try QEMUInstance.launch()
        defer { qemu.stop() }
        let target = try qemu.connect()
        // The reset vector jumps to F000:E05B, linear 0xFE05B.
        try target.setBreakpoint(at: 0xfe05b, kind: .hardware)
        let stop = try target.continueUntilStop(timeout: .seconds(20))
        #expect(stop.signal == 5)
        let regs = try target.registers()
        #expect(regs["rip"] == 0xe05b)
        #expect(regs["cs"] == 0xf000)
    }

    @Test func detachLetsTheGuestRun() throws {
        let qemu = try QEMUInstance.launch()
        defer { qemu.stop() }
        var target = try qemu.connect()
        try loadProgram(target)
        try target.detach()
        // A new connection to a running guest halts it, and QEMU says so unasked (T02). On a
        // loaded machine the guest may not have reached its loop yet: detach and look again.
        for _ in 0..<20 {
            usleep(100_000)
            target = try qemu.connect()
            #expect(target.unsolicitedStop?.signal == 2)
            if try target.register("rip") == 0x7c06 { break }
            try target.detach()
        }
        #expect(try target.register("rip") == 0x7c06)
        #expect(try target.readMemory(at: 0x500, count: 1) == [0x42])
    }

    @Test func unsolicitedStopWhenConnectingToARunningGuest() throws {
        let qemu = try QEMUInstance.launch(halted: false)
        defer { qemu.stop() }
        let target = try qemu.connect()
        #expect(target.unsolicitedStop?.signal == 2)
        // Replies are not off by one: registers and memory answer correctly.
        #expect(target.features.packetSize == 0x1000)
        #expect(try target.readMemory(at: 0xffff_fff0, count: 5) == [0xea, 0x5b, 0xe0, 0x00, 0xf0])
        #expect(try target.registers()["cr0"] != nil)
    }

    @Test func killEndsQEMU() throws {
        let qemu = try QEMUInstance.launch()
        defer { qemu.stop() }
        let target = try qemu.connect()
        try target.kill()
        #expect(qemu.waitForExit(timeout: 5))
    }

    @Test func accessWatchpointHitsAndReadWatchpointIsAccepted() throws {
        let qemu = try QEMUInstance.launch()
        defer { qemu.stop() }
        let target = try qemu.connect()
        try loadProgram(target)
        try target.setWatchpoint(at: 0x600, length: 4, kind: .readWatchpoint)
        try target.removeWatchpoint(at: 0x600, length: 4, kind: .readWatchpoint)
        try target.setWatchpoint(at: 0x500, length: 1, kind: .accessWatchpoint)
        let stop = try target.continueUntilStop(timeout: .seconds(10))
        #expect(stop.signal == 5)
        #expect(stop.watchpointAddress == 0x500, "\(stop)")
        #expect(stop.fields.contains { $0.name == "awatch" }, "\(stop)")
        try target.removeWatchpoint(at: 0x500, length: 1, kind: .accessWatchpoint)
    }
}

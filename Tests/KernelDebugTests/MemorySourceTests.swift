import Foundation
import Glibc
import BundledChecks
import BundledState
import BundledKernel
import KernelLayouts
import KernelSession
import Testing

/// The same stopped guest read through every memory source: the stub (the reference), the
/// shared guest-RAM file and the QEMU process. A 4 GiB guest, so RAM lies below and above
/// the PCI hole.
@Suite("Guest memory sources")
struct MemorySourceTests {
    @Test func everySourceReadsTheSameBytesAndDecodesTheSameSnapshot() throws {
        let file = "/dev/shm/kmemscope-test-\(getpid())-\(UInt32.random(in: 0 ... .max)).ram"
        defer { try? FileManager.default.removeItem(atPath: file) }   // after QEMU stops
        let boot = try DebugBoot(memory: "4G", append: "seed=3 ops=4000 phases=2", memoryFile: file)
        defer { boot.stop() }
        try boot.runUntil(["kmem: done", "kmem: BUG:"])
        let session = try GuestSession.attach(kernel: try KernelImage(path: DebugBoot.kernel), to: .unix(boot.socket))
        defer { session.restore() }
        let qemu = boot.process.pid
        try session.read { s in
            let frames = try s.info.number("FRAME_META")
            let frameBytes = Int(try s.info.number("FRAME_COUNT") * (try s.info.size(of: "FrameMeta")))
            // Physical ranges: low memory below VGA, the first MiB above it, the last MiB below the PCI hole, the first above 4 GiB.
            let physical: [(UInt64, Int)] = [(0x1000, 0x9e000), (0x10_0000, 1 << 20), (0xbff0_0000, 1 << 20), (0x1_0000_0000, 1 << 20), (0x1_3ff0_0000, 1 << 20)]
            func sample() throws -> (snapshot: KernelSnapshot, frames: [UInt8], physical: [[UInt8]]) {
                (try SnapshotDecoder(info: s.info, memory: s.memory).decode(),
                 try s.memory.read(.kernelVirtual, at: frames, count: frameBytes),
                 try physical.map { try s.memory.read(.guestPhysical, at: $0.0, count: $0.1) })
            }
            let stub = try sample()
            #expect(s.memorySource == .stub)
            #expect(stub.physical[1].contains { $0 != 0 } || stub.physical[3].contains { $0 != 0 }, "RAM was written")

            #expect(try s.use(.file(file)) == .file(file))
            let viaFile = try sample()
            // In place: the FrameMeta array checked in the file's mapping, with no copy.
            let inPlace = try SnapshotDecoder(info: s.info, memory: s.memory).decode(inPlace: true)
            #expect(inPlace.frames.isLive && !viaFile.snapshot.frames.isLive)
            #expect(inPlace.frames.bytes == stub.snapshot.frames.bytes, "FrameMeta lent by the file's mapping")
            #expect(Verifier(inPlace).run().text == Verifier(stub.snapshot).run().text)
            #expect(try s.use(.process(nil)) == .process(qemu), "the QEMU pid is found from the stub's Unix socket")
            let viaProcess = try sample()
            #expect(try s.use(.automatic) == .process(qemu))

            for (name, other) in [("file", viaFile), ("process", viaProcess)] {
                #expect(other.frames == stub.frames, "FrameMeta through \(name)")
                #expect(other.physical == stub.physical, "guest-physical ranges through \(name)")
                #expect(other.snapshot.frames.bytes == stub.snapshot.frames.bytes)
                #expect(other.snapshot.segments.map(\.allocBitmap) == stub.snapshot.segments.map(\.allocBitmap))
                #expect(other.snapshot.segments.map(\.parity) == stub.snapshot.segments.map(\.parity))
                #expect(other.snapshot.segments.map(\.pageblockTags) == stub.snapshot.segments.map(\.pageblockTags))
                #expect(other.snapshot.heap?.pages == stub.snapshot.heap?.pages)
                #expect(other.snapshot.sequence == stub.snapshot.sequence)
                #expect(Verifier(other.snapshot).run().text == Verifier(stub.snapshot).run().text)
            }

            // Past the end of RAM is an error naming the address, not zeros.
            #expect(throws: GuestMemoryError.self) { try s.memory.read(.guestPhysical, at: 0x1_4000_0000, count: 16) }
            // A process that is not this guest's QEMU, and a file that is not its RAM, are refused with a reason.
            do {
                try s.use(.process(getpid()))
                Issue.record("reading the test process as QEMU must fail")
            } catch {
                #expect("\(error)".contains("is this the QEMU that runs the guest?"), "\(error)")
            }
            do {
                try s.use(.file("/etc/hostname"))
                Issue.record("a small file must be refused")
            } catch {
                #expect("\(error)".contains("is it this guest's mem-path?"), "\(error)")
            }
        }
    }
}

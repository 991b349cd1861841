import KernelLayouts
import KernelSession
import Testing

/// The progress line's arithmetic and ``ProgressMemory``'s chunking, on a host buffer (what it
/// looks like in a real terminal is KernelDebugTests' ProgressTerminalTests).
@Suite struct ReadProgressTests {
    /// 2 MiB + 3 bytes of a known pattern at a kernel-virtual base.
    struct Pattern: GuestMemory {
        static let base: UInt64 = 0xffff_8880_0000_0000
        static let size = 2 << 20 + 3
        func read(at address: UInt64, count: Int) throws -> [UInt8] {
            guard address >= Self.base, address - Self.base + UInt64(count) <= UInt64(Self.size) else {
                throw GuestMemoryError.unmapped(.kernelVirtual, address: address, count: count, source: "Pattern")
            }
            // each byte is its page's number: runs of 4 KiB, built a run at a time (fast in debug builds)
            var out: [UInt8] = []
            out.reserveCapacity(count)
            var a = address - Self.base
            let end = a + UInt64(count)
            while a < end {
                let next = min((a | 0xfff) + 1, end)
                out += repeatElement(UInt8(truncatingIfNeeded: a >> 12), count: Int(next - a))
                a = next
            }
            return out
        }
    }

    final class Screen: @unchecked Sendable {
        var writes: [String] = []
    }

    @Test func chunkedReadsReturnTheSameBytesAndReportEachMebibyte() throws {
        let screen = Screen()
        let progress = ReadProgress(delay: .zero) { screen.writes.append($0) }
        let memory = ProgressMemory(base: Pattern(), progress: progress)
        let whole = try Pattern().read(at: Pattern.base, count: Pattern.size)
        let arrayForm = try memory.read(at: Pattern.base, count: Pattern.size) == whole
        let bufferForm = try memory.read(.kernelVirtual, at: Pattern.base, count: Pattern.size) == whole
        #expect(arrayForm && bufferForm)
        #expect(progress.bytes == 2 * UInt64(Pattern.size))
        // one draw per MiB at most (the clock is read every 64 KiB, the 100 ms throttle may drop
        // some), each a \r-redrawn line
        #expect(!screen.writes.isEmpty && screen.writes.count <= 6)
        #expect(screen.writes.allSatisfy { $0.hasPrefix("\rreading guest memory: ") && $0.hasSuffix("\u{1B}[K") })
        #expect(progress.isShown)
        progress.finish()
        #expect(screen.writes.last == "\r\u{1B}[K" && !progress.isShown && progress.bytes == 0)
        // an error past the end is the source's own, naming the chunk's address
        #expect(throws: GuestMemoryError.self) { try memory.read(at: Pattern.base + 1, count: Pattern.size) }
    }

    @Test func nothingIsDrawnBeforeTheDelay() throws {
        let screen = Screen()
        let progress = ReadProgress(delay: .seconds(60)) { screen.writes.append($0) }
        _ = try ProgressMemory(base: Pattern(), progress: progress).read(at: Pattern.base, count: Pattern.size)
        progress.finish()
        #expect(screen.writes.isEmpty)
    }

    @Test func lineSaysBytesRateAndTimeLeft() {
        let mib = Double(1 << 20)
        // time left at the last second's rate, not the average (reads change pace)
        #expect(ReadProgress.line(bytes: 48 << 20, expected: 96 << 20, elapsed: .seconds(2), recentRate: 12 * mib)
                == "reading guest memory: 48.0 of 96.0 MiB, 12.0 MiB/s, 4 s left")
        // no recent rate yet (the first second of a stretch): the average, and no time left
        #expect(ReadProgress.line(bytes: 48 << 20, expected: 96 << 20, elapsed: .seconds(2))
                == "reading guest memory: 48.0 of 96.0 MiB, 24.0 MiB/s")
        #expect(ReadProgress.line(bytes: 3 << 19, expected: 0, elapsed: .milliseconds(1500))
                == "reading guest memory: 1.5 MiB, 1.0 MiB/s")
        #expect(ReadProgress.line(bytes: 95 << 20, expected: 96 << 20, elapsed: .seconds(1), recentRate: 2 * mib).hasSuffix("<1 s left"))
        #expect(ReadProgress.line(bytes: 0, expected: 1, elapsed: .zero) == "reading guest memory: 0.0 of 0.0 MiB, 0.0 MiB/s")
    }
}

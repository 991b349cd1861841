// gdbremote-bench: reads guest memory through GDBRemote one request at a time and pipelined,
// and prints the throughput of each. Driven by scripts/bench-gdbremote.sh.
//
//   gdbremote-bench HOST:PORT SIZE_BYTES [DEPTH] [OUTPUT_FILE]
//
// Reads are physical (Qqemu.PhyMemMode:1) from address 0, so the range is the guest's RAM
// whatever mode the CPU is in; the caller bounds SIZE by the guest's memory size.
// The connection is closed without detaching, so a halted guest stays halted for the next
// reader. Output lines are `serial_mib_s=…`, `pipelined_mib_s=…` (machine-readable).

import Foundation
import GDBRemote

let args = CommandLine.arguments
guard args.count >= 3, let address = RemoteAddress(parsing: args[1]), let size = Int(args[2]) else {
    FileHandle.standardError.write("usage: gdbremote-bench HOST:PORT SIZE_BYTES [DEPTH] [OUTPUT_FILE]\n".data(using: .utf8)!)
    exit(2)
}
let depth = args.count > 3 ? Int(args[3]) ?? 128 : 128
let output = args.count > 4 ? args[4] : nil

func mibPerSecond(_ bytes: Int, _ d: Duration) -> Double {
    let s = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    return Double(bytes) / 1_048_576 / s
}

do {
    let target = try RemoteTarget.connect(to: address, timeout: .seconds(10))
    target.requestTimeout = .seconds(30)
    try target.setPhysicalMemoryMode(true)
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 64)
    defer { buffer.deallocate() }
    let clock = ContinuousClock()

    // Warm-up: one small pipelined read, so both measured reads run with what the
    // connection learns (QEMU does not wait for acks, so acks ride with requests).
    _ = try target.readMemory(at: 0, count: 1 << 20)
    // GDBREMOTE_BENCH_PIPELINED_ONLY=1 skips the serial read (for profiling the pipelined one).
    let skipSerial = ProcessInfo.processInfo.environment["GDBREMOTE_BENCH_PIPELINED_ONLY"] == "1"
    let serialTime = skipSerial ? .zero
        : try clock.measure { try target.readMemory(at: 0, into: buffer, depth: 1) }
    let serialCopy = Array(buffer)
    let pipelinedTime = try clock.measure { try target.readMemory(at: 0, into: buffer, depth: depth) }
    let same = skipSerial || serialCopy.elementsEqual(buffer)
    try target.setPhysicalMemoryMode(false)
    target.close()

    if let output, !FileManager.default.createFile(atPath: output, contents: Data(buffer)) {
        FileHandle.standardError.write("gdbremote-bench: cannot write \(output)\n".data(using: .utf8)!)
        exit(1)
    }
    print("read_size=\(target.maximumReadSize)")
    print("serial_seconds=\(serialTime)")
    print("serial_mib_s=\(String(format: "%.1f", mibPerSecond(size, serialTime)))")
    print("pipelined_depth=\(depth)")
    print("pipelined_seconds=\(pipelinedTime)")
    print("pipelined_mib_s=\(String(format: "%.1f", mibPerSecond(size, pipelinedTime)))")
    print("serial_equals_pipelined=\(same)")
    exit(same ? 0 : 1)
} catch {
    FileHandle.standardError.write("gdbremote-bench: \(error)\n".data(using: .utf8)!)
    exit(1)
}

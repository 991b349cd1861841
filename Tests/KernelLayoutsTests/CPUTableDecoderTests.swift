import BundledKernel
import KernelLayouts
import Testing

/// Decoding the per-CPU areas through the descriptor (kernel/README.md "Several CPUs"), without
/// a guest: hand-built areas, every state value, and descriptors that claim too much.
@Suite("Per-CPU areas")
struct CPUTableDecoderTests {
    static let base: UInt64 = 0xffff_ffff_8016_6300
    static let layout = """
        PERCPU_STRIDE=256
        SIZE(PerCPU)=72
        OFFSET(PerCPU.selfAddress)=0
        OFFSET(PerCPU.cpu)=8
        OFFSET(PerCPU.apicID)=12
        OFFSET(PerCPU.state)=16
        OFFSET(PerCPU.stackTop)=24
        CPU_STATE(offline)=0
        CPU_STATE(running)=1
        CPU_STATE(parked)=2

        """

    static func info(_ text: String) throws -> KernelInfo {
        var header = Array("KMEMINFO".utf8)
        header += [1, 0, 0, 0] + (0..<4).map { UInt8(truncatingIfNeeded: text.utf8.count >> (8 * $0)) }
        return try KernelInfo(address: 0x1000, header: header, text: Array(text.utf8))
    }

    /// `count` areas at `base` as the kernel fills them: CPU 0 running, the rest parked, APIC
    /// ID = 2 × number; `state` overrides one CPU's state word.
    static func areas(_ count: Int, state: (cpu: Int, value: UInt32)? = nil) -> KernelInfoTests.Buffer {
        var bytes = [UInt8](repeating: 0, count: 256 * 16)
        func put(_ v: UInt64, _ at: Int, _ width: Int) { for i in 0..<width { bytes[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) } }
        for n in 0..<count {
            let a = n * 256
            put(base + UInt64(a), a, 8)
            put(UInt64(n), a + 8, 4)
            put(UInt64(2 * n), a + 12, 4)
            put(n == 0 ? 1 : 2, a + 16, 4)
            put(0xffff_ffff_8020_0000 + UInt64(n) * 0x8000, a + 24, 8)
        }
        if let state { put(UInt64(state.value), state.cpu * 256 + 16, 4) }
        return KernelInfoTests.Buffer(base: base, bytes: bytes)
    }

    @Test func fourCPUsTheBootCPURunningTheOthersParked() throws {
        let info = try Self.info("CPU_COUNT=4\nCPU_MAX=16\nPERCPU=0x\(String(Self.base, radix: 16))\n" + Self.layout)
        let cpus = try CPUTableDecoder(info: info, memory: Self.areas(4)).decode()
        #expect(cpus.map(\.number) == [0, 1, 2, 3])
        #expect(cpus.map(\.state) == [.running, .parked, .parked, .parked])
        #expect(cpus.map(\.apicID) == [0, 2, 4, 6])
        #expect(cpus.filter { !$0.consistent }.isEmpty)
        #expect(cpus[3].area == Self.base + 768 && cpus[3].stackTop == 0xffff_ffff_8021_8000)
    }

    @Test func aStateTheKernelDoesNotDefineIsNamedAsSuch() throws {
        let info = try Self.info("CPU_COUNT=2\nCPU_MAX=16\nPERCPU=0x\(String(Self.base, radix: 16))\n" + Self.layout)
        let cpus = try CPUTableDecoder(info: info, memory: Self.areas(2, state: (1, 7))).decode()
        #expect(cpus[1].state == .unknown(7))
        #expect(cpus[1].state.description == "unknown state 7")
        let off = try CPUTableDecoder(info: info, memory: Self.areas(2, state: (1, 0))).decode()
        #expect(off[1].state == .offline)
    }

    @Test func anAreaThatIsNotWhereItSaysIsInconsistent() throws {
        let info = try Self.info("CPU_COUNT=2\nCPU_MAX=16\nPERCPU=0x\(String(Self.base + 256, radix: 16))\n" + Self.layout)
        // PERCPU one area on: CPU 0 reads the area of CPU 1 (its own address and number disagree)
        let cpus = try CPUTableDecoder(info: info, memory: Self.areas(3)).decode()
        #expect(!cpus[0].consistent)
    }

    @Test func aKernelThatPublishesNoCPUsHasNone() throws {
        let info = try Self.info("PAGE_SIZE=4096\n")
        #expect(try CPUTableDecoder(info: info, memory: Self.areas(1)).decode().isEmpty)
    }

    @Test(arguments: [
        "CPU_COUNT=17\nCPU_MAX=16\n",           // more CPUs than there is room for
        "CPU_COUNT=2\nCPU_MAX=100000\n",        // room for absurdly many
    ])
    func countsBeyondWhatTheKernelCanHaveAreRefused(counts: String) throws {
        let info = try Self.info(counts + "PERCPU=0x\(String(Self.base, radix: 16))\n" + Self.layout)
        #expect(throws: SnapshotError.self) { try CPUTableDecoder(info: info, memory: Self.areas(4)).decode() }
    }

    @Test func aLayoutLargerThanTheStrideIsRefused() throws {
        let info = try Self.info("CPU_COUNT=2\nCPU_MAX=16\nPERCPU=0x\(String(Self.base, radix: 16))\n"
                                 + Self.layout.replacingOccurrences(of: "PERCPU_STRIDE=256", with: "PERCPU_STRIDE=64"))
        #expect(throws: SnapshotError.self) { try CPUTableDecoder(info: info, memory: Self.areas(2)).decode() }
    }
}

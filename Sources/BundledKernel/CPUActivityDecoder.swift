import BundledState
import KernelLayouts

/// What the bundled kernel's CPUs are doing in the allocator at the moment of a read: each
/// CPU's in-operation row (`CPU_OPS`, kernel/README.md "Operations in progress per CPU") and the
/// workload's turn word (`TURNS`, `TURNS_MODE`: whose turn it is, or that the CPUs run free).
/// Guest data: the row count is bounded by `PCP_CPUS` (at most 16, as the decoder reads the
/// per-CPU caches), the stride and offsets by sane sizes, the mode offset by the turn word's 64 bytes.
public struct CPUActivityDecoder {
    public let info: KernelInfo
    public let memory: any GuestMemory

    /// The most rows read (the kernel's `CPU_MAX`; `PCP_CPUS` above it is refused elsewhere).
    public static let maximumRows: UInt64 = 16

    public init(info: KernelInfo, memory: any GuestMemory) {
        self.info = info
        self.memory = memory
    }

    /// Every CPU's in-operation row, by CPU (`PCP_CPUS` rows); empty when the kernel does not
    /// publish them or publishes a stride or offsets no `CPUOperation` can have.
    public func operations() throws -> [StateFields.CPUOperationWords] {
        guard info["CPU_OPS"] != nil, info["CPU_OPS_STRIDE"] != nil, info["OFFSET(CPUOperation.busy)"] != nil,
              info["OFFSET(CPUOperation.parentSequence)"] != nil else { return [] }
        let base = try info.number("CPU_OPS")
        let stride = try info.number("CPU_OPS_STRIDE")
        let busy = UInt64(try info.boundedOffset(of: "CPUOperation", "busy", width: 8))
        let parent = UInt64(try info.boundedOffset(of: "CPUOperation", "parentSequence", width: 8))
        guard stride >= 16, stride <= 4096, busy &+ 8 <= stride, parent &+ 8 <= stride else { return [] }
        let cpus = min((try? info.number("PCP_CPUS")) ?? Self.maximumRows, Self.maximumRows)
        var rows: [StateFields.CPUOperationWords] = []
        for c in 0..<cpus {
            let row = base &+ c &* stride
            rows.append(.init(busy: littleEndian(try memory.read(at: row &+ busy, count: 8)[...]),
                              parentSequence: littleEndian(try memory.read(at: row &+ parent, count: 8)[...])))
        }
        return rows
    }

    /// The workload's turn word, nil when the kernel does not publish it (or publishes a mode
    /// offset outside the word's 64 bytes).
    public func turns() throws -> WorkloadTurns? {
        guard let address = try? info.number("TURNS"), let mode = try? info.number("TURNS_MODE"),
              mode < 64 else { return nil }
        let word = try memory.read(at: address, count: 24)
        func load(_ at: Int) -> UInt64 { littleEndian(word[at..<(at + 8)]) }
        return WorkloadTurns(turn: load(0), started: load(16) != 0, free: try memory.readU64(at: address &+ mode) == 1)
    }
}

/// The workload's turn word (`kmem_turns`) as read: whose turn it is, whether the run started,
/// whether the CPUs run free (`smp=free`).
public struct WorkloadTurns: Sendable, Equatable, Encodable {
    /// +0: the CPU whose turn it is; all ones once the run has finished.
    public var turn: UInt64
    /// +16: the run has started.
    public var started: Bool
    /// +`TURNS_MODE`: 1 when the CPUs run free rather than in turns.
    public var free: Bool

    /// What a reader is told: "CPUs run free", "cpu 2's turn", "turns finished", "not started".
    public var summary: String {
        if free { return "CPUs run free (smp=free)" + (turn == .max ? ", run finished" : "") }
        if turn == .max { return "CPUs took turns, run finished" }
        if !started { return "CPUs take turns, run not started" }
        return "CPUs take turns, cpu \(turn)'s turn"
    }
}

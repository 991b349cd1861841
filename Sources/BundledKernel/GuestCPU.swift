import KernelLayouts

/// One CPU of the bundled kernel as its per-CPU area says (kernel/README.md "Several CPUs").
public struct GuestCPU: Sendable, Equatable, Encodable {
    /// What a CPU's state word (`PerCPU.state`) says.
    public enum State: Sendable, Equatable, Encodable, CustomStringConvertible {
        /// Not started, or did not start (`CPU_STATE(offline)`).
        case offline
        /// Running kernel code: the boot CPU, or an AP before it parks (`CPU_STATE(running)`).
        case running
        /// An AP halted in `ap_park`, interrupts off: it touches nothing (`CPU_STATE(parked)`).
        case parked
        /// A value the kernel does not define (a damaged area).
        case unknown(UInt64)

        public var description: String {
            switch self {
            case .offline: return "offline"
            case .running: return "running"
            case .parked: return "parked"
            case .unknown(let v): return "unknown state \(v)"
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            try c.encode(description)
        }
    }

    /// The CPU number (0 the boot CPU), the index of its area.
    public var number: Int
    /// The area's address (`PERCPU + number × PERCPU_STRIDE`).
    public var area: UInt64
    /// The CPU number the area itself holds (`PerCPU.cpu`): equal to `number` in a sound area.
    public var recordedNumber: UInt64
    /// The local APIC ID.
    public var apicID: UInt64
    public var state: State
    /// `PerCPU.selfAddress`, what `%gs:0` gives on that CPU: equal to `area` once it runs.
    public var selfAddress: UInt64
    /// The top of its stack.
    public var stackTop: UInt64

    /// Whether the area agrees with where it is (its own address and number).
    public var consistent: Bool { selfAddress == area && recordedNumber == UInt64(number) }
}

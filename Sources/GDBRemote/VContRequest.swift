/// A `vCont` resume request with an action per thread: `vCont;c:p1.2;c:p1.4` continues the
/// threads `p1.2` and `p1.4` and leaves every other thread as it is.
///
/// What a thread with no action does is the stub's business; the protocol only says that each
/// thread takes the leftmost action whose thread-id matches it. QEMU's gdbstub (system mode,
/// `gdb_handle_vcont` and `gdb_continue_partial` in gdbstub/gdbstub.c and gdbstub/system.c)
/// resumes exactly the vCPUs named and leaves the others paused; the next stop (a breakpoint on
/// one of them, an interrupt) pauses every vCPU again.
///
/// The request is validated when it is made, so a malformed one never reaches the stub:
/// every thread-id is one the protocol can spell (`[p<pid>.]<tid>`, hex, `-1` for all, `0`
/// for any), a thread is named at most once, and the one action without a thread (the default
/// for every thread not named) comes last, where it cannot shadow a named thread's action.
public struct VContRequest: Sendable, Equatable, CustomStringConvertible {
    /// What a thread does.
    public enum Action: Sendable, Equatable {
        /// `c`: continue.
        case `continue`
        /// `s`: execute one instruction.
        case step
        /// `C sig`: continue with a signal.
        case continueWithSignal(UInt8)
        /// `S sig`: step with a signal.
        case stepWithSignal(UInt8)

        /// The action's letter as `vCont?` lists it (`c`, `s`, `C`, `S`).
        public var letter: String {
            switch self {
            case .continue: return "c"
            case .step: return "s"
            case .continueWithSignal: return "C"
            case .stepWithSignal: return "S"
            }
        }

        /// How the packet spells it: the letter, and two hex digits of signal for `C`/`S`.
        var spelling: String {
            switch self {
            case .continue, .step: return letter
            case .continueWithSignal(let s), .stepWithSignal(let s): return letter + Hex.string([s])
            }
        }
    }

    /// One action and the thread it is for (nil: every thread no earlier action named).
    public struct ThreadAction: Sendable, Equatable {
        public var action: Action
        public var thread: String?

        public init(_ action: Action, thread: String?) {
            self.action = action
            self.thread = thread
        }
    }

    /// The actions, in the order they are sent.
    public let actions: [ThreadAction]

    /// A request of `actions`, validated.
    /// - Throws: ``GDBRemoteError/invalidRequest(request:reason:)`` when there is no action, a
    ///   thread-id is malformed or named twice, or an action without a thread is not the last.
    public init(_ actions: [ThreadAction]) throws(GDBRemoteError) {
        let packet = Self.spell(actions)
        func invalid(_ reason: String) -> GDBRemoteError { .invalidRequest(request: packet, reason: reason) }
        guard !actions.isEmpty else { throw invalid("no action") }
        var named = Set<String>()
        for (i, a) in actions.enumerated() {
            guard let thread = a.thread else {
                guard i == actions.count - 1 else {
                    throw invalid("the action for every thread (no thread-id) must come last: the stub applies the leftmost match")
                }
                continue
            }
            guard Self.isThreadID(thread) else { throw invalid("'\(thread)' is not a thread-id ([p<pid>.]<tid>, hex or -1)") }
            guard named.insert(thread).inserted else { throw invalid("thread \(thread) is named twice") }
        }
        self.actions = actions
    }

    /// Continues exactly `threads` (each once, in this order); the stub leaves the others alone.
    public static func `continue`(threads: [String]) throws(GDBRemoteError) -> VContRequest {
        try VContRequest(threads.map { ThreadAction(.continue, thread: $0) })
    }

    /// Steps exactly `thread` one instruction; the stub leaves the others alone.
    public static func step(thread: String) throws(GDBRemoteError) -> VContRequest {
        try VContRequest([ThreadAction(.step, thread: thread)])
    }

    /// Parses a `vCont;…` packet (not `vCont?`), with the same validation as ``init(_:)``.
    /// - Throws: ``GDBRemoteError/invalidRequest(request:reason:)``.
    public init(parsing packet: String) throws(GDBRemoteError) {
        func invalid(_ reason: String) -> GDBRemoteError { .invalidRequest(request: packet, reason: reason) }
        guard packet.hasPrefix("vCont;") else { throw invalid("not a vCont packet with actions") }
        var actions: [ThreadAction] = []
        for part in packet.dropFirst("vCont;".count).split(separator: ";", omittingEmptySubsequences: false) {
            let pieces = part.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            let spelled = pieces[0]
            guard let first = spelled.first else { throw invalid("an empty action") }
            let action: Action
            switch first {
            case "c" where spelled.count == 1: action = .continue
            case "s" where spelled.count == 1: action = .step
            case "C", "S":
                guard spelled.count == 3, spelled.dropFirst().allSatisfy(\.isHexDigit), let signal = Hex.number(spelled.dropFirst()) else {
                    throw invalid("'\(spelled)' needs a signal of two hex digits")
                }
                action = first == "C" ? .continueWithSignal(UInt8(signal)) : .stepWithSignal(UInt8(signal))
            default:
                throw invalid("'\(spelled)' is not an action this client sends (c, s, C sig, S sig)")
            }
            actions.append(ThreadAction(action, thread: pieces.count == 2 ? String(pieces[1]) : nil))
        }
        try self.init(actions)
    }

    /// The packet: `vCont;ACTION[:THREAD]…`.
    public var packet: String { Self.spell(actions) }

    public var description: String { packet }

    /// The action letters the request uses, to check against the stub's `vCont?` list.
    public var letters: Set<String> { Set(actions.map(\.action.letter)) }

    static func spell(_ actions: [ThreadAction]) -> String {
        "vCont" + actions.map { ";" + $0.action.spelling + ($0.thread.map { ":" + $0 } ?? "") }.joined()
    }

    /// Whether `text` is a thread-id as the protocol spells one: `<tid>` or `p<pid>.<tid>`,
    /// each hex (at most 16 digits) or `-1`.
    public static func isThreadID(_ text: String) -> Bool {
        func isNumber(_ s: Substring) -> Bool {
            s == "-1" || (!s.isEmpty && s.count <= 16 && s.allSatisfy(\.isHexDigit))
        }
        if text.hasPrefix("p") {
            let parts = text.dropFirst().split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
            return parts.count == 2 && isNumber(parts[0]) && isNumber(parts[1])
        }
        return isNumber(Substring(text))
    }
}

/// Why the target stopped: a parsed stop reply (`S05`, `T05thread:p01.01;watch:500;`,
/// `W00`, `X09`).
public struct StopReply: Sendable, Equatable, CustomStringConvertible {
    /// What kind of stop this is.
    public enum Kind: Sendable, Equatable {
        /// Stopped with a signal (`S`/`T`): 5 = SIGTRAP (breakpoint, step, watchpoint),
        /// 2 = SIGINT (interrupted), 0 = no signal.
        case signal(UInt8)
        /// The process exited with this status (`W`).
        case exited(UInt8)
        /// The process was terminated by this signal (`X`).
        case terminated(UInt8)
    }

    /// What kind of stop this is.
    public let kind: Kind
    /// The `name:value` pairs of a `T` reply, in order (`thread`, `watch`, `swbreak`, register
    /// numbers in hex…).
    public let fields: [(name: String, value: String)]
    /// The reply as it arrived.
    public let raw: String

    /// The signal number for `S`/`T` replies.
    public var signal: UInt8? {
        if case .signal(let s) = kind { return s }
        return nil
    }

    /// The stopping thread (`thread:` field), e.g. `p01.01`.
    public var thread: String? { fields.first { $0.name == "thread" }?.value }

    /// The data address of a watchpoint hit (`watch:`, `rwatch:` or `awatch:` field).
    public var watchpointAddress: UInt64? {
        fields.first { ["watch", "rwatch", "awatch"].contains($0.name) }.flatMap { Hex.number($0.value) }
    }

    /// Parses a stop reply; `nil` if `payload` is not one.
    public init?(_ payload: [UInt8]) {
        guard Self.looksLikeStop(payload) || payload.first == UInt8(ascii: "W")
                || payload.first == UInt8(ascii: "X"),
              payload.count >= 3, let code = Hex.number(payload[1...2]) else { return nil }
        raw = String(decoding: payload, as: UTF8.self)
        switch payload[0] {
        case UInt8(ascii: "W"): kind = .exited(UInt8(code))
        case UInt8(ascii: "X"): kind = .terminated(UInt8(code))
        default: kind = .signal(UInt8(code))
        }
        var parsed: [(name: String, value: String)] = []
        if payload[0] == UInt8(ascii: "T") {
            for part in raw.dropFirst(3).split(separator: ";") {
                if let colon = part.firstIndex(of: ":") {
                    parsed.append((String(part[..<colon]), String(part[part.index(after: colon)...])))
                } else {
                    parsed.append((String(part), ""))
                }
            }
        }
        fields = parsed
    }

    /// True for `S` + two hex digits, or `T` + two hex digits and optional fields: the shapes
    /// no other reply (such as a `qSupported` feature list) can take.
    public static func looksLikeStop(_ payload: [UInt8]) -> Bool {
        guard payload.count >= 3, payload[0] == UInt8(ascii: "T") || payload[0] == UInt8(ascii: "S"),
              Hex.number(payload[1...2]) != nil else { return false }
        if payload[0] == UInt8(ascii: "S") { return payload.count == 3 }
        return payload.count == 3 || payload[3...].contains(UInt8(ascii: ":"))
    }

    public static func == (a: StopReply, b: StopReply) -> Bool { a.raw == b.raw }

    public var description: String { raw }
}

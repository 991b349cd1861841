/// What a client's packet asks for, as far as the proxy's rules care. Decided from the first
/// bytes of the payload alone (command letters are never escaped), so a packet is classified
/// without being decoded.
enum PacketKind: Equatable {
    /// `?`: answered by the proxy (QEMU 7.2 removes every breakpoint when asked `?`).
    case haltReason
    /// `c`, `C`, `s`, `S`, `vCont;…` with a resume action: the reply is a stop, later.
    case resume(step: Bool)
    /// `D` / `D;pid`: answered OK by the proxy, which then lets the client go.
    case detach
    /// `k`, `vKill`: only that client goes (QEMU is not killed through the proxy).
    case kill
    /// `Hg…`, `Hc…`, `Qqemu.PhyMemMode:…`: per-client state the proxy replays before that
    /// client's next packet when another client changed it.
    case selection(SelectionSlot)
    /// `QStartNoAckMode`: answered by the proxy for that client.
    case startNoAck
    /// `qSupported…`: forwarded; the reply gets `QStartNoAckMode+` if QEMU's lacks it.
    case features
    /// `qRcmd,HEX`: a monitor command (`kms …` is the proxy's, the rest QEMU's).
    case monitor
    /// `m addr,len`: a memory read (cacheable while the guest is stopped).
    case readMemory
    /// `M`, `X`, `P`, `G`: writes (they invalidate the read cache).
    case write
    /// `Z…` / `z…`: breakpoint or watchpoint insert / remove.
    case breakpoint(insert: Bool)
    /// Anything else: forwarded, its one reply routed back.
    case other

    init<C: Collection>(_ p: C) where C.Element == UInt8, C.Index == Int {
        guard let first = p.first else { self = .other; return }
        let s = p.startIndex
        func has(_ text: String) -> Bool {
            let t = text.utf8
            return p.count >= t.count && zip(p[s..<(s + t.count)], t).allSatisfy { $0 == $1 }
        }
        switch first {
        case UInt8(ascii: "?"): self = p.count == 1 ? .haltReason : .other
        case UInt8(ascii: "c"), UInt8(ascii: "C"): self = .resume(step: false)
        case UInt8(ascii: "s"), UInt8(ascii: "S"): self = .resume(step: true)
        case UInt8(ascii: "D"): self = .detach
        case UInt8(ascii: "k"): self = p.count == 1 ? .kill : .other
        case UInt8(ascii: "m"): self = .readMemory
        case UInt8(ascii: "M"), UInt8(ascii: "X"), UInt8(ascii: "P"), UInt8(ascii: "G"): self = .write
        case UInt8(ascii: "Z"): self = .breakpoint(insert: true)
        case UInt8(ascii: "z"): self = .breakpoint(insert: false)
        case UInt8(ascii: "H"):
            if has("Hg") { self = .selection(.generalThread) } else if has("Hc") { self = .selection(.continueThread) } else { self = .other }
        case UInt8(ascii: "v"):
            if has("vCont;") {
                // Each action is `;X[sig][:thread]`: only the letter after each `;` counts.
                var step = false, run = false
                for i in (s + 5)..<(s + p.count - 1) where p[i] == UInt8(ascii: ";") {
                    switch p[i + 1] {
                    case UInt8(ascii: "s"), UInt8(ascii: "S"): step = true; run = true
                    case UInt8(ascii: "c"), UInt8(ascii: "C"): run = true
                    default: break
                    }
                }
                self = run ? .resume(step: step) : .other
            } else if has("vKill") { self = .kill } else { self = .other }
        case UInt8(ascii: "Q"):
            if has("QStartNoAckMode") { self = .startNoAck } else if has("Qqemu.PhyMemMode:") { self = .selection(.physicalMemory) } else { self = .other }
        case UInt8(ascii: "q"):
            if has("qRcmd,") { self = .monitor } else if has("qSupported") { self = .features } else { self = .other }
        default: self = .other
        }
    }
}

/// The stub-global settings one client's packets may depend on.
enum SelectionSlot: Int, CaseIterable {
    case generalThread, continueThread, physicalMemory

    /// The packet that puts the stub back to its state at connect.
    var defaultPayload: [UInt8] { Self.defaults[rawValue] }

    /// Built once: ``GDBProxy/syncSelection(for:)`` compares against them before every packet.
    private static let defaults: [[UInt8]] = [Array("Hg0".utf8), Array("Hc0".utf8), Array("Qqemu.PhyMemMode:0".utf8)]
}

import Glibc

/// Clients coming, going, and their packets: answered by the proxy, forwarded, or held until
/// the guest is theirs to use.
extension GDBProxy {
    func acceptClients() {
        for _ in 0..<16 {
            guard let fd = listener.accept() else { return }
            guard clients.filter({ !$0.gone }).count < configuration.maximumClients else {
                log("refused a connection: already \(configuration.maximumClients) clients (--max-clients)")
                Glibc.close(fd)
                continue
            }
            let c = ProxyClient(id: nextClientID, socket: ProxySocket(fd: fd, maximumPayload: configuration.maximumPacket),
                                greeted: run == nil)
            nextClientID += 1
            c.trace = configuration.trace
            clients.append(c)
            if controller == nil { controller = c }
            log("client \(c.id) connected\(controller === c ? " (it has run control)" : "")")
            // A connect halts a running guest at once, as QEMU's would (a borrow for a client
            // that is not the controller).
            if let run, interrupting == nil, borrower == nil, !run.step,
               c === controller || run.owner === controller { interrupt(for: .take(c)) }
        }
    }

    func handleClientInput(_ c: ProxyClient) {
        while !c.gone, let (frame, _) = c.socket.input.next() {
            switch frame {
            case .ack:
                continue
            case .nak:
                if !c.lastReply.isEmpty { c.socket.send(c.lastReply) }
            case .interrupt:
                if let trace = configuration.trace { trace("client \(c.id) → 0x03 (interrupt)") }
                if c.held.isEmpty && handleInterrupt(c) { continue }
                c.held.append(.interrupt)
            case .oversize(let size):
                log("client \(c.id) sent a \(size)-byte packet (limit \(configuration.maximumPacket), --max-packet): disconnected")
                leave(c, why: "sent an oversize packet")
            case .packet(let range, let payload, let ok, let notification):
                guard ok else { if c.ackMode { c.socket.send(Array("-".utf8)) }; continue }
                if notification { continue }
                // A new request: the last reply arrived intact. (gdb also sends `-` when a
                // reply is slow to come, e.g. a long `monitor` command: nothing to resend then.)
                c.lastReply = []
                c.acksOwed += 1
                if c.held.isEmpty {
                    let done: Bool = c.socket.input.bytes.withUnsafeBytes { raw in
                        process(c, frame: UnsafeRawBufferPointer(rebasing: raw[range]), payload: payload.lowerBound - range.lowerBound)
                    }
                    if done { continue }
                }
                c.held.append(.packet(Array(c.socket.input.bytes[range])))
                c.acknowledge()   // received; its turn comes later
            }
        }
    }

    /// Processes held packets of every client while they can go on.
    func pump() {
        for c in clients where !c.gone && !c.held.isEmpty {
            while !c.gone, let next = c.held.first {
                let done: Bool
                switch next {
                case .interrupt: done = handleInterrupt(c)
                case .packet(let frame):
                    done = frame.withUnsafeBytes { process(c, frame: $0, payload: 1) }
                }
                guard done else { break }
                c.held.removeFirst()
            }
        }
    }

    /// The 0x03 byte from `c`: forwarded when `c` owns the run; remembered when a borrow
    /// suspended the controller's run. Returns false when it must wait.
    func handleInterrupt(_ c: ProxyClient) -> Bool {
        if let run, run.owner === c, interrupting == nil { upstream.send([0x03]); return true }
        if c === controller, suspendedRun != nil { controllerWantsStop = true; return true }
        if run == nil && borrower == nil { return true }   // stopped already: QEMU would ignore it too
        return false
    }

    /// Whether `c` may use the guest now; starts a borrow or an interrupt when it needs one.
    func mayProceed(_ c: ProxyClient, kind: PacketKind) -> Bool {
        if interrupting != nil || c.monitor != nil { return false }
        if c === borrower { return run == nil }
        if c === controller {
            if borrower != nil || suspendedRun != nil { return false }
            if let run {
                if run.owner == nil || run.owner!.gone { interrupt(for: .take(c)); return false }
                return false   // its own run: packets wait for the stop (only 0x03 goes while running)
            }
            if !c.greeted { c.greeted = true }
            return true
        }
        if borrower != nil { return false }
        guard let run else {
            borrower = c
            log("client \(c.id) borrows the stopped guest")
            return true
        }
        if run.step { return false }   // a step ends by itself
        interrupt(for: .take(c))
        return false
    }

    /// Handles one packet of `c` (its `$…#cc` in `frame`, payload from index `payload`).
    /// Returns false when it must wait (held).
    func process(_ c: ProxyClient, frame: UnsafeRawBufferPointer, payload offset: Int) -> Bool {
        let body = UnsafeRawBufferPointer(rebasing: frame[offset..<(frame.count - 3)])
        if let trace = configuration.trace { trace("client \(c.id) → \(String(decoding: frame.prefix(80), as: UTF8.self))") }
        let kind = PacketKind(body)
        // Answered by the proxy whatever the guest is doing.
        switch kind {
        case .haltReason where c.greeted || run == nil:
            c.reply(payload: haltReason); return true
        case .startNoAck:
            // Acks end at the proxy on each side, so each hop's mode is its own: a client may
            // drop them even when QEMU (7.2) cannot. Fewer writes and wake-ups per round trip.
            c.reply(payload: Array("OK".utf8))
            c.ackMode = false
            return true
        case .detach:
            c.reply(payload: Array("OK".utf8))
            c.lingerUntil = .now + .seconds(2)
            leave(c, why: "detached")
            return true
        case .kill:
            if body.first == UInt8(ascii: "v") { c.reply(payload: Array("OK".utf8)) } else { c.acknowledge() }
            leave(c, why: "asked to kill (only its connection is closed; quit QEMU from its monitor)")
            return true
        default: break
        }
        guard mayProceed(c, kind: kind) else { return false }
        if case .haltReason = kind { c.reply(payload: haltReason); return true }
        if case .monitor = kind, let words = kmsWords(body) {
            startMonitor(c, words: words)
            return true
        }
        syncSelection(for: c)
        switch kind {
        case .resume(let step):
            c.acknowledge()
            readCache.invalidate()
            sendUpstream(frame)
            run = Run(owner: c, frame: Array(frame), step: step)
            return true
        case .selection(let slot):
            c.selection[slot.rawValue] = Array(body)
            upstreamSelection[slot.rawValue] = Array(body)
            readCache.invalidate()
        case .write:
            readCache.invalidate()
        case .breakpoint(let insert):
            var undo = Array(body.prefix { $0 != UInt8(ascii: ";") })
            undo[0] = UInt8(ascii: "z")
            if insert { c.breakpoints.insert(undo) } else { c.breakpoints.remove(undo) }
        case .readMemory where configuration.cacheReads:
            if let r = ReadAhead.request(body), !waiters[waiterHead...].contains(where: { $0.0.isFor(c) }) {
                let blockKey = readCache.blockKey(r, selection: c.selection)
                if let block = readCache.lookup(blockKey), let reply = ReadAhead.reply(for: r, fromBlock: block) {
                    reply.withUnsafeBytes { c.reply($0) }
                    return true
                }
                sendUpstream(ProxyClient.frame(ReadAhead.blockRequest(r)))
                waiters.append((.readAhead(c, r, blockKey: blockKey, original: Array(frame)), .now))
                return true
            }
            let key = readCache.key(body, selection: c.selection)
            if let hit = readCache.lookup(key) {
                hit.withUnsafeBytes { c.reply($0) }
                return true
            }
            sendUpstream(frame)
            waiters.append((.client(c, cacheKey: key, monitor: false), .now))
            return true
        default: break
        }
        if case .features = kind {
            sendUpstream(frame)
            waiters.append((.features(c), .now))
            return true
        }
        if case .monitor = kind {
            sendUpstream(frame)
            waiters.append((.client(c, cacheKey: nil, monitor: true), .now))
            return true
        }
        sendUpstream(frame)
        waiters.append((.client(c, cacheKey: nil, monitor: false), .now))
        return true
    }

    /// Replays `c`'s thread and memory-mode selections if another client changed them.
    func syncSelection(for c: ProxyClient) {
        for slot in SelectionSlot.allCases {
            let want = c.selection[slot.rawValue] ?? slot.defaultPayload
            let have = upstreamSelection[slot.rawValue] ?? slot.defaultPayload
            if want != have {
                requestUpstream(want)
                upstreamSelection[slot.rawValue] = want
                readCache.invalidate()
            }
        }
    }

    /// `c` is going: its breakpoints are removed, its borrow ended, run control passed on.
    func leave(_ c: ProxyClient, why: String) {
        guard !c.gone else { return }
        c.gone = true
        log("client \(c.id) \(why)")
        c.monitor?.terminate()
        c.monitor = nil
        if !c.breakpoints.isEmpty {
            if run == nil {
                for z in c.breakpoints.sorted(by: { $0.lexicographicallyPrecedes($1) }) { requestUpstream(z) }
            } else {
                log("client \(c.id) left breakpoints in the running guest; they are removed at the next stop")
                orphanBreakpoints.formUnion(c.breakpoints)
            }
            c.breakpoints = []
        }
        if c === borrower {
            endBorrowIfNeeded()
        } else if c === controller {
            controller = clients.first { !$0.gone }
            suspendedRun = nil; heldStop = nil; interruptStop = nil; controllerWantsStop = false
            if let b = borrower, b === controller { borrower = nil }
            if let r = run, r.owner === c { run?.owner = nil }
            if let next = controller { log("client \(next.id) now has run control") }
        }
        if clients.allSatisfy(\.gone) { idleRestore() }
        pump()
    }

    /// The borrower left: the guest goes back to the controller's run state.
    func endBorrowIfNeeded() {
        borrower = nil
        if run != nil {
            if suspendedRun != nil || !clients.allSatisfy(\.gone) { interrupt(for: .restore) }
            return
        }
        finishRestore()
    }

    /// After a borrow: the controller's suspended run resumes (or its held stop is delivered).
    func finishRestore() {
        guard let suspended = suspendedRun, let controller, !controller.gone else {
            suspendedRun = nil
            if clients.allSatisfy(\.gone) { idleRestore() }
            return
        }
        suspendedRun = nil
        defer { heldStop = nil; interruptStop = nil; controllerWantsStop = false }
        if let held = heldStop {
            held.withUnsafeBytes { controller.reply($0) }
        } else if controllerWantsStop, let stop = interruptStop {
            stop.withUnsafeBytes { controller.reply($0) }
        } else {
            removeOrphanBreakpoints()
            syncSelection(for: controller)
            readCache.invalidate()
            sendUpstream(suspended.frame)
            run = suspended
            log("client \(controller.id)'s run resumed")
        }
    }

    /// No client left: the run state the proxy found.
    func idleRestore() {
        removeOrphanBreakpoints()
        borrower = nil; suspendedRun = nil
        if foundRunning && run == nil && interrupting == nil {
            for slot in SelectionSlot.allCases where upstreamSelection[slot.rawValue] != nil {
                requestUpstream(slot.defaultPayload)
                upstreamSelection[slot.rawValue] = nil
            }
            let frame = ProxyClient.frame(Array("c".utf8))
            sendUpstream(frame)
            run = Run(owner: nil, frame: frame, step: false)
        } else if !foundRunning && run != nil && interrupting == nil {
            interrupt(for: .idle)
        }
    }

    func removeOrphanBreakpoints() {
        guard run == nil else { return }
        for z in orphanBreakpoints.sorted(by: { $0.lexicographicallyPrecedes($1) }) { requestUpstream(z) }
        orphanBreakpoints = []
    }
}

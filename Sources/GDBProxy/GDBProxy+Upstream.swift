/// What QEMU sends: replies routed to the client that asked, stop replies to whoever owns
/// the run (or to the proxy's interrupt).
extension GDBProxy {
    func serviceUpstream() {
        guard upstream.receive() else {
            failure = .upstreamClosed(address: configuration.upstream.description)
            return
        }
        // Bounded: each frame consumes at least one byte of what was received.
        while failure == nil, let (frame, _) = upstream.input.next() {
            switch frame {
            case .ack, .interrupt:
                continue
            case .nak:
                continue   // a local socket does not corrupt; QEMU resends nothing we need
            case .oversize(let size):
                failure = .upstreamOversize(address: configuration.upstream.description, size: size, limit: configuration.maximumPacket)
            case .packet(let range, let payload, let ok, let notification):
                if upstreamAckMode { upstreamAckOwed = true }
                guard ok, !notification else { continue }
                upstream.input.bytes.withUnsafeBytes { raw in
                    handleUpstreamPacket(frame: UnsafeRawBufferPointer(rebasing: raw[range]),
                                         payload: UnsafeRawBufferPointer(rebasing: raw[payload]))
                }
            }
        }
    }

    private func handleUpstreamPacket(frame: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer) {
        let first = payload.first ?? 0
        // Requests sent before a resume (a selection replayed ahead of it) are answered first:
        // QEMU answers in order, and the stop reply comes after them.
        if run != nil && waiterHead == waiters.count {
            let isStop = first == UInt8(ascii: "T") || first == UInt8(ascii: "S") || first == UInt8(ascii: "W") || first == UInt8(ascii: "X")
            guard isStop else {
                if first == UInt8(ascii: "O"), let owner = run?.owner { owner.reply(frame) }   // console output while running
                return
            }
            stopped(frame: Array(frame), payload: Array(payload))
            return
        }
        guard waiterHead < waiters.count else { return }   // nothing asked: a stray packet
        let (waiter, _) = waiters[waiterHead]
        switch waiter {
        case .discard:
            waiters[waiterHead] = (.discard, .now)
            waiterHead += 1
        case .readAhead(let c, let r, let blockKey, let original):
            waiterHead += 1
            let block = Array(payload)
            if !c.gone {
                if let reply = ReadAhead.reply(for: r, fromBlock: block) {
                    readCache.store(blockKey, reply: block)
                    reply.withUnsafeBytes { c.reply($0) }
                } else {
                    // The block cannot be read whole (an unmapped part): ask what the client asked.
                    sendUpstream(original)
                    waiters.append((.client(c, cacheKey: nil, monitor: false), .now))
                }
            }
        case .features(let c):
            waiterHead += 1
            if !c.gone { Features.offeringNoAck(payload).withUnsafeBytes { c.reply($0) } }
        case .client(let c, let key, let monitor):
            // `O…` is console output (hex), except `OK`, which ends the command.
            if monitor && first == UInt8(ascii: "O") && payload.count > 1 && !(payload.count == 2 && payload[1] == UInt8(ascii: "K")) {
                if !c.gone { c.reply(frame) }
                return   // more to come
            }
            waiterHead += 1
            if let key, first != UInt8(ascii: "E") { readCache.store(key, reply: Array(frame)) }
            if !c.gone { c.reply(frame) }
        }
        if waiterHead == waiters.count { waiters.removeAll(keepingCapacity: true); waiterHead = 0 }
        pump()
    }

    /// The guest stopped: tell whoever it stopped for.
    private func stopped(frame: [UInt8], payload: [UInt8]) {
        let previous = run
        run = nil
        readCache.invalidate()
        let signal = payload.count >= 3 ? RawFrameBuffer.hexValue(payload[1]).flatMap { h in RawFrameBuffer.hexValue(payload[2]).map { h << 4 | $0 } } : nil
        guard let purpose = interrupting else {
            if let owner = previous?.owner, !owner.gone { frame.withUnsafeBytes { owner.reply($0) } } else { log("the guest stopped with nobody to tell (\(String(decoding: payload, as: UTF8.self)))") }
            pump()
            return
        }
        interrupting = nil
        let ours = signal == 2 && (payload.first == UInt8(ascii: "T") || payload.first == UInt8(ascii: "S"))
        switch purpose {
        case .take(let c):
            if let previous, let owner = previous.owner, owner === controller, c !== controller {
                suspendedRun = previous
                if ours { interruptStop = frame } else { heldStop = frame }
            } else if let previous, let owner = previous.owner, owner !== c, !ours, !owner.gone {
                frame.withUnsafeBytes { owner.reply($0) }   // its own stop, which it will see
            }
            if c.gone { endBorrowIfNeeded(); pump(); return }
            if c !== controller { borrower = c; log("client \(c.id) borrows the stopped guest") }
            // QEMU's stop reply to a connect that halted the guest, if it can still come first
            // (gdb flushes its input after connecting: anything later would read as a reply).
            if !c.greeted {
                c.greeted = true
                if !c.socket.hasSpoken { frame.withUnsafeBytes { c.reply($0) } }
            }
        case .restore:
            finishRestore()
        case .idle:
            removeOrphanBreakpoints()
        }
        pump()
    }

    /// Interrupts the running guest for `purpose` (one interrupt at a time).
    func interrupt(for purpose: InterruptPurpose) {
        guard interrupting == nil, run != nil else { return }
        interrupting = purpose
        upstream.send([0x03])
    }
}

import GDBRemote

/// `monitor kms …`: the kmemscope command runs as a child process that connects back to the
/// proxy (a borrower of the guest the asking client holds stopped); its text goes to the
/// asking client as `O` packets, then `OK`.
extension GDBProxy {
    /// The words after `kms` when a `qRcmd` is one of the proxy's, else nil (QEMU's).
    func kmsWords(_ body: UnsafeRawBufferPointer) -> [String]? {
        guard configuration.monitor != nil, let text = Hex.decode(Array(body.dropFirst(6))) else { return nil }
        let words = String(decoding: text, as: UTF8.self).split(whereSeparator: \.isWhitespace).map(String.init)
        guard words.first == "kms" else { return nil }
        return Array(words.dropFirst())
    }

    func startMonitor(_ c: ProxyClient, words: [String]) {
        guard let monitor = configuration.monitor else { return }
        if c === borrower {
            sendConsole(c, "kmemscope: monitor kms from a client that borrows the guest is not served (the command would wait for this client); connect gdb first\n")
            c.reply(payload: Array("OK".utf8))
            return
        }
        switch monitor.commandLine(words, listener.connectAddress.description) {
        case .failure(let usage):
            sendConsole(c, usage.text.hasSuffix("\n") ? usage.text : usage.text + "\n")
            c.reply(payload: Array("OK".utf8))
        case .success(let (executable, arguments)):
            do {
                c.monitor = try MonitorProcess(executable: executable, arguments: arguments, timeout: monitor.timeout)
                c.acknowledge()
                log("client \(c.id): monitor kms \(words.joined(separator: " "))")
            } catch {
                sendConsole(c, "kmemscope: cannot run the command: \(error)\n")
                c.reply(payload: Array("OK".utf8))
            }
        }
    }

    /// Streams each child's output to its client; ends the command at end of file or deadline.
    func serviceMonitors() {
        for c in clients where !c.gone {
            guard let m = c.monitor else { continue }
            let open = m.drain()
            if !m.pending.isEmpty {
                // Whole lines only while more may come, so gdb prints tidy output.
                let cut = open ? (m.pending.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0) : m.pending.count
                if cut > 0 {
                    sendConsole(c, bytes: Array(m.pending[..<cut]))
                    m.pending.removeFirst(cut)
                }
            }
            if !open {
                let status = m.reap()
                if status != 0 { sendConsole(c, "(kmemscope exited with status \(status))\n") }
                c.monitor = nil
                c.reply(payload: Array("OK".utf8))
            } else if ContinuousClock.now > m.deadline {
                m.terminate()
                c.monitor = nil
                sendConsole(c, "kmemscope: the command did not finish within \(monitor_timeout_text) and was stopped\n")
                c.reply(payload: Array("OK".utf8))
            }
            c.socket.flush()
        }
    }

    private var monitor_timeout_text: String {
        let s = configuration.monitor?.timeout.components.seconds ?? 0
        return "\(s) s"
    }

    func sendConsole(_ c: ProxyClient, _ text: String) { sendConsole(c, bytes: Array(text.utf8)) }

    /// Text as `O` packets of at most 1 KiB each.
    func sendConsole(_ c: ProxyClient, bytes: [UInt8]) {
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + 1024)
            c.reply(payload: Array("O".utf8) + Hex.encode(bytes[start..<end]))
            start = end
        }
    }
}

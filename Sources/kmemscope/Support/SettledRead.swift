import KernelSession

extension GuestSession {
    /// Settles the guest to an operation boundary, runs `body`, restores the guest, and
    /// prints the warnings and where it stopped (`stopped at sequence N, between operations`)
    /// on standard error.
    func settledRead<T>(_ options: SettleOptions, _ body: (GuestSession) throws -> T) throws(SessionError) -> T {
        try settledRead(options) { s, _ in try body(s) }
    }

    /// ``settledRead(_:_:)`` for a body that needs to know where the guest settled.
    func settledRead<T>(_ options: SettleOptions, _ body: (GuestSession, SettlePoint) throws -> T) throws(SessionError) -> T {
        var point: SettlePoint?
        let value: T
        do {
            value = try read { s in
                // in the console the user stopped the guest: finishing an operation is theirs to allow
                let settled = try s.settle(runStoppedGuest: options.settle || ConsoleSession.active != nil)
                point = settled
                return try body(s, settled)
            }
        } catch {
            ProgressLine.finish()
            warnings.forEach(StandardError.write)
            throw error
        }
        ProgressLine.finish()
        warnings.forEach(StandardError.write)
        if let point { StandardError.write(point.text) }
        return value
    }
}

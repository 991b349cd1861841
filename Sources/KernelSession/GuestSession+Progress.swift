extension GuestSession {
    /// Reports this session's reads of guest memory to `progress` from now on (a megabyte at
    /// a time, see ``ProgressMemory``); nil stops reporting. Call it after ``use(_:)``, which
    /// replaces the memory source.
    public func reportProgress(to progress: ReadProgress?) {
        let base = (memory as? ProgressMemory)?.base ?? memory
        memory = progress.map { ProgressMemory(base: base, progress: $0) } ?? base
    }
}

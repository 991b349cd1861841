import Glibc

/// This process's CPU time and minor page faults so far (`getrusage(RUSAGE_SELF)`): what the
/// `--timing` lines add to wall time, so a phase can be judged on a loaded machine (CPU time
/// does not count the time other processes held the cores) and what faulting buffers and
/// mappings in costs shows.
struct ProcessUsage {
    /// User + system CPU time, in nanoseconds.
    var cpuNanoseconds = 0
    /// Minor page faults (`ru_minflt`).
    var minorFaults = 0

    /// The usage now.
    static func now() -> ProcessUsage {
        var usage = rusage()
        guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return ProcessUsage() }
        let cpu = (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1_000_000_000
            + (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1000
        return ProcessUsage(cpuNanoseconds: cpu, minorFaults: usage.ru_minflt)
    }

    /// What was used between `earlier` and this.
    static func - (later: ProcessUsage, earlier: ProcessUsage) -> ProcessUsage {
        ProcessUsage(cpuNanoseconds: later.cpuNanoseconds - earlier.cpuNanoseconds, minorFaults: later.minorFaults - earlier.minorFaults)
    }

    /// "CPU 12.3 ms, 45 minor faults".
    var text: String {
        let tenths = (cpuNanoseconds + 50_000) / 100_000
        return "CPU \(tenths / 10).\(tenths % 10) ms, \(minorFaults) minor faults"
    }
}

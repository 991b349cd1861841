/// How often the model took each path of the contract: what a test reads to know its random
/// operations reached watermarks, per-CPU drains, stealing and quarantines. Statistics, not
/// state: two states are equal whatever their counts.
public struct ModelEvents: Sendable, Equatable, CustomStringConvertible {
    /// A zone skipped by the watermark test, an allocation that reached pass 2 (after the full
    /// drain), one that failed.
    public var watermarkSkips = 0
    public var secondPassDrains = 0
    public var failedAllocations = 0
    /// Steals: a block of pageblock order or more retagged, a pageblock claimed, a block taken alone.
    public var retagSteals = 0
    public var claimSteals = 0
    public var loneSteals = 0
    /// Per-CPU refills, drains after a free above `high`, and frames drained in all.
    public var refills = 0
    public var highDrains = 0
    public var drainedFrames = 0
    public var quarantines = 0
    public var misuses = 0
    /// Segments added by memory hot-add.
    public var hotAddedSegments = 0

    public init() {}

    public static func == (_: ModelEvents, _: ModelEvents) -> Bool { true }

    public var description: String {
        "watermark skips \(watermarkSkips), pass-2 drains \(secondPassDrains), failed \(failedAllocations), "
            + "steals \(retagSteals) retag / \(claimSteals) claim / \(loneSteals) alone, refills \(refills), "
            + "high drains \(highDrains), drained \(drainedFrames), quarantines \(quarantines), misuse \(misuses), "
            + "hot-added segments \(hotAddedSegments)"
    }

    public mutating func add(_ e: ModelEvents) {
        watermarkSkips += e.watermarkSkips; secondPassDrains += e.secondPassDrains; failedAllocations += e.failedAllocations
        retagSteals += e.retagSteals; claimSteals += e.claimSteals; loneSteals += e.loneSteals
        refills += e.refills; highDrains += e.highDrains; drainedFrames += e.drainedFrames
        quarantines += e.quarantines; misuses += e.misuses; hotAddedSegments += e.hotAddedSegments
    }
}

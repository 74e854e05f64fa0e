/// An endpoint's own normal latency: the p90 of its recent successful first-byte times, learned
/// only while it is healthy, so a slow degradation never becomes the new normal.
public struct LatencyBaseline: Sendable, Equatable {
    private var ring: [Double] = []
    private var next = 0
    private var cachedP90: Double?
    private let capacity: Int

    public init(capacity: Int) { self.capacity = max(1, capacity) }

    public var count: Int { ring.count }

    public mutating func add(_ ttfbMs: Double) {
        if ring.count < capacity { ring.append(ttfbMs) } else { ring[next] = ttfbMs }
        next = (next + 1) % capacity
        cachedP90 = nil
    }

    public mutating func p90() -> Double? {
        guard !ring.isEmpty else { return nil }
        if let cachedP90 { return cachedP90 }
        let sorted = ring.sorted()
        let value = sorted[min(sorted.count - 1, Int((Double(sorted.count) * 0.9).rounded(.up)) - 1)]
        cachedP90 = value
        return value
    }

    /// First byte later than this (ms) is `slow`: `latency_multiple` × p90, at least
    /// `latency_floor`, at most `latency_ceiling`; just the ceiling until enough samples are in.
    public mutating func budgetMs(_ policy: HealthPolicy) -> Double {
        let ceiling = policy.latencyCeiling * 1000
        guard count >= policy.baselineMinSamples, let p90 = p90() else { return ceiling }
        return min(ceiling, max(policy.latencyFloor * 1000, policy.latencyMultiple * p90))
    }
}

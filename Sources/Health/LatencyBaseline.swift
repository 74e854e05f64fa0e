/// An endpoint's own normal latency: the p90 of its recent successful first-byte times, learned
/// only while it is healthy, so a slow degradation never becomes the new normal.
public struct LatencyBaseline: Sendable, Equatable {
    private var ring: [Double] = []
    private var next = 0
    /// The same samples in ascending order, kept as they come and go: the p90 is one lookup.
    private var ordered: [Double] = []
    private let capacity: Int

    public init(capacity: Int) { self.capacity = max(1, capacity) }

    public var count: Int { ring.count }

    public mutating func add(_ ttfbMs: Double) {
        if ring.count < capacity {
            ring.append(ttfbMs)
        } else {
            ordered.remove(at: Self.position(of: ring[next], in: ordered))
            ring[next] = ttfbMs
        }
        ordered.insert(ttfbMs, at: Self.position(of: ttfbMs, in: ordered))
        next = (next + 1) % capacity
    }

    public func p90() -> Double? {
        guard !ordered.isEmpty else { return nil }
        return ordered[min(ordered.count - 1, Int((Double(ordered.count) * 0.9).rounded(.up)) - 1)]
    }

    /// The first index of `sorted` whose value is not below `value`.
    private static func position(of value: Double, in sorted: [Double]) -> Int {
        var (low, high) = (0, sorted.count)
        while low < high {
            let middle = (low + high) / 2
            if sorted[middle] < value { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// First byte later than this (ms) is `slow`: `latency_multiple` × p90, at least
    /// `latency_floor`, at most `latency_ceiling`; just the ceiling until enough samples are in.
    public func budgetMs(_ policy: HealthPolicy) -> Double {
        let ceiling = policy.latencyCeiling * 1000
        guard count >= policy.baselineMinSamples, let p90 = p90() else { return ceiling }
        return min(ceiling, max(policy.latencyFloor * 1000, policy.latencyMultiple * p90))
    }
}

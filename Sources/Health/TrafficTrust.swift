import ProbeResults

/// Whether one reading of the gateway's traffic is evidence (pure). It is not when the source does
/// not answer, shows no new sample for `staleAfter`, counts backwards (a counter reset the query
/// did not absorb), or shows every provider failing at once, which is what a broken gateway or a
/// broken scrape looks like, not an outage of all providers together. Then the agent judges on
/// probes alone and pages once, until a reading is evidence again.
public struct TrafficTrust: Sendable, Equatable {
    /// What one query of the traffic source returned.
    public enum Reading: Sendable, Equatable {
        /// Subject → its window's counts; `latestSample`: the time of the newest sample behind them.
        case answered([String: TrafficCount], latestSample: Double?)
        case failed(String)
    }

    public enum Verdict: Sendable, Equatable {
        /// The counts, and when their window ended (the newest sample behind them).
        case evidence([String: TrafficCount], endingAt: Double)
        /// Not evidence; `changed` when the reading before was.
        case distrusted(why: String, changed: Bool)
    }

    public let staleAfter: Double
    /// A provider counts toward "every provider failing" with this many requests in the window.
    public let minRequests: Double
    public let tripErrorRate: Double
    /// Why the latest reading was not evidence; nil while it is.
    public private(set) var distrust: String?
    /// Whether any reading was ever evidence.
    public private(set) var trusted = false
    /// When the first reading came: for `staleAfter` from then, a source not yet evidence (a
    /// Prometheus before its first scrape) is not paged.
    private var firstReading: Double?

    public init(staleAfter: Double, policy: HealthPolicy, minRequests: Double = 10) {
        self.staleAfter = staleAfter
        self.minRequests = minRequests
        tripErrorRate = policy.tripErrorRate
    }

    /// Judges one reading at `now`; a change of verdict is what to page or resolve.
    public mutating func judge(_ reading: Reading, at now: Double) -> Verdict {
        let why: String?
        switch reading {
        case .failed(let reason): why = "the traffic source does not answer: \(reason)"
        case .answered(let windows, let latest):
            why = problem(windows, latest: latest, at: now)
            if why == nil, let latest {
                firstReading = firstReading ?? now
                distrust = nil
                trusted = true
                return .evidence(windows, endingAt: latest)
            }
        }
        if firstReading == nil { firstReading = now }
        if !trusted, let first = firstReading, now - first < staleAfter { return .distrusted(why: why ?? "", changed: false) }
        let changed = distrust == nil
        distrust = why
        return .distrusted(why: why ?? "", changed: changed)
    }

    private func problem(_ windows: [String: TrafficCount], latest: Double?, at now: Double) -> String? {
        guard let latest else { return "the traffic source has no samples of the gateway's counters" }
        if now - latest > staleAfter { return "no new sample for \(Int((now - latest).rounded())) s (stale)" }
        if windows.values.contains(where: { $0.requests < 0 || $0.failures < 0 }) {
            return "a counter went backwards (reset) in the window"
        }
        var byProvider: [String: TrafficCount] = [:]
        for (subject, count) in windows {
            byProvider[Subject.provider(subject), default: TrafficCount(requests: 0, failures: 0)].requests += count.requests
            byProvider[Subject.provider(subject), default: TrafficCount(requests: 0, failures: 0)].failures += count.failures
        }
        let busy = byProvider.filter { $0.value.requests >= minRequests }
        if busy.count >= 2, busy.values.allSatisfy({ $0.failures >= tripErrorRate * $0.requests }) {
            return "every provider fails at once in the gateway's metrics (\(busy.keys.sorted().joined(separator: ", "))): "
                + "the gateway or its scrape is suspect"
        }
        return nil
    }
}

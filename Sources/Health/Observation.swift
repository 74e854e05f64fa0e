import ProbeResults

/// One probe result as the health machine sees it: times in seconds since the agent started.
public struct Observation: Sendable, Equatable {
    public var provider: String
    public var resultClass: ProbeClass
    /// Time to first byte, for successful answers.
    public var ttfbMs: Double?
    public var startedAt: Double
    public var completedAt: Double

    public init(provider: String, resultClass: ProbeClass, ttfbMs: Double? = nil, startedAt: Double, completedAt: Double) {
        self.provider = provider
        self.resultClass = resultClass
        self.ttfbMs = ttfbMs
        self.startedAt = startedAt
        self.completedAt = completedAt
    }
}

/// Health of one provider.
public enum HealthState: String, Sendable, Equatable, CaseIterable {
    case healthy, suspect, failing, recovering
}

/// What the health machine decided, as a value for the caller to act on.
public enum HealthDecision: Sendable, Equatable {
    case state(provider: String, from: HealthState, to: HealthState, at: Double)
    /// Fail this provider over: its outage has lasted `min_outage` and meets the trip thresholds.
    case failover(provider: String, at: Double)
    /// Undo this provider's failover: healthy for long enough.
    case restore(provider: String, at: Double)
    /// Most providers fail at once without an HTTP answer: the prober's own network is suspect.
    /// No provider changes state until this clears.
    case blind(providers: [String], at: Double)
    case blindCleared(at: Double)
    /// A probe fails with `auth` or `bad_request`: our credentials or probe are wrong. Page; never a failover.
    case probeBroken(provider: String, resultClass: ProbeClass, at: Double)
    case probeFixed(provider: String, at: Double)
    /// Recovering for `max_healthy` and still not shown healthy enough to restore (it keeps failing
    /// a little): a person should look. Once per recovery.
    case restoreOverdue(provider: String, since: Double, at: Double)

    public var at: Double {
        switch self {
        case .state(_, _, _, let at), .failover(_, let at), .restore(_, let at), .blind(_, let at), .blindCleared(let at),
            .probeBroken(_, _, let at), .probeFixed(_, let at), .restoreOverdue(_, _, let at):
            at
        }
    }
}

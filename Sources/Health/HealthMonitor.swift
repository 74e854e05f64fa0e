import ProbeResults

/// Every provider's machine plus the blind guard: when most providers fail at the same moment
/// without an HTTP answer (and the control probe too, when one is configured), the prober's own
/// network is the likelier fault, so no provider changes state until that clears.
public struct HealthMonitor: Sendable {
    public let policy: HealthPolicy
    public private(set) var providers: [String: ProviderHealth]
    public private(set) var isBlind = false
    /// Per provider (and control probe): when its latest result came, and whether it had no HTTP answer.
    private var latest: [String: (at: Double, transportFailure: Bool)] = [:]

    public init(providers: [String], policy: HealthPolicy) {
        self.policy = policy
        self.providers = Dictionary(uniqueKeysWithValues: providers.map { ($0, ProviderHealth(provider: $0, policy: policy)) })
    }

    public func state(of provider: String) -> HealthState? { providers[provider]?.state }

    public mutating func observe(_ observation: Observation) -> [HealthDecision] {
        let now = observation.completedAt
        latest[observation.provider] = (now, HealthPolicy.transportClasses.contains(observation.resultClass))
        var decisions = updateBlindness(now: now)
        guard !isBlind, var machine = providers[observation.provider] else { return decisions }
        decisions += machine.observe(observation, policy: policy)
        providers[observation.provider] = machine
        return decisions
    }

    /// See ``ProviderHealth/resumeFailedOver(at:)``.
    public mutating func resumeFailedOver(_ provider: String, at now: Double) -> [HealthDecision] {
        providers[provider]?.resumeFailedOver(at: now) ?? []
    }

    /// Providers whose latest result, fresh within `blind_window`, had no HTTP answer.
    public func transportFailing(now: Double) -> [String] {
        providers.keys.filter { name in
            guard let last = latest[name] else { return false }
            return last.transportFailure && now - last.at <= policy.blindWindow
        }.sorted()
    }

    private mutating func updateBlindness(now: Double) -> [HealthDecision] {
        let failing = transportFailing(now: now)
        var blind = providers.count >= 2 && Double(failing.count) > policy.blindQuorum * Double(providers.count)
        if let control = policy.controlProvider {
            blind = blind && (latest[control].map { $0.transportFailure && now - $0.at <= policy.blindWindow } ?? false)
        }
        guard blind != isBlind else { return [] }
        isBlind = blind
        if blind { return [.blind(providers: failing, at: now)] }
        // Suspicions raised around the blind spell rest on tainted evidence: start them afresh.
        var decisions: [HealthDecision] = [.blindCleared(at: now)]
        for name in providers.keys.sorted() {
            decisions += providers[name]!.forgetSuspicion(at: now, policy: policy)
        }
        return decisions
    }
}

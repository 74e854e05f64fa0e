/// When to probe each provider next: every `steady_interval`, and every `confirm_interval` after a
/// failure until either `clear_consecutive` successes clear it or the provider is failed over, so a
/// hard outage is confirmed and a blip cleared in seconds, while healthy providers cost little.
/// Pure: the caller tells it what happened.
public struct ProbeScheduler: Sendable {
    public let policy: HealthPolicy

    public init(policy: HealthPolicy) { self.policy = policy }

    /// First probe times, spread over one steady interval so providers are not probed in lockstep.
    public func firstProbes(_ providers: [String]) -> [(provider: String, at: Double)] {
        providers.enumerated().map { index, name in (name, policy.steadyInterval * Double(index) / Double(max(1, providers.count))) }
    }

    /// The interval that applies to a provider in this health.
    public func interval(for health: ProviderHealth?) -> Double {
        guard let health, health.state == .suspect || health.state == .recovering,
            health.consecutiveSuccesses < policy.clearConsecutive
        else { return policy.steadyInterval }
        return policy.confirmInterval
    }

    /// The next probe of a provider whose last probe started at `startedAt` and ended at `completedAt`:
    /// one interval after the start, and never while the last one is still in flight.
    public func next(startedAt: Double, completedAt: Double, health: ProviderHealth?) -> Double {
        max(completedAt, startedAt + interval(for: health))
    }
}

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

    /// When the next probe of a provider whose latest probe started at `lastStart` is due: one
    /// interval later, or at `now` if that has passed. Probes may overlap a hanging one, up to
    /// `max_in_flight`, so a provider that stops answering is still confirmed in seconds.
    public func nextStart(lastStart: Double, now: Double, health: ProviderHealth?) -> Double {
        max(now, lastStart + interval(for: health))
    }
}

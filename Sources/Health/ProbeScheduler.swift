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
    /// `stretch` lengthens only the steady interval (a probe budget), never a confirmation.
    public func interval(for health: ProviderHealth?, at now: Double, stretch: Double = 0) -> Double {
        guard let health else { return policy.steadyInterval + stretch }
        var interval = policy.steadyInterval + stretch
        // Brownout evidence is accumulating: decide it sooner (never while failed over: nothing to decide).
        if health.state != .failing, health.brownout.watching(policy, at: now) { interval = min(interval, policy.brownoutInterval) }
        // A suspicion to confirm or clear; and a recovery must show its health with enough probes.
        if health.state == .suspect && health.consecutiveSuccesses < policy.clearConsecutive {
            interval = min(interval, policy.confirmInterval)
        }
        // A restore must show the failure rate below restore_error_rate (99 %): 80 probes over the healthy time at least.
        if health.state == .recovering {
            interval = min(interval, policy.confirmInterval, health.requiredHealthy(policy) / policy.recoveryProbes)
        }
        return interval
    }

    /// Whether a subject in this health is in question (suspect, failed over, recovering, or
    /// brownout evidence standing): when the probe cap is short, it is probed before quiet ones.
    public func inQuestion(_ health: ProviderHealth?, at now: Double) -> Bool {
        guard let health else { return false }
        return health.state != .healthy || health.brownout.watching(policy, at: now)
    }

    /// When the next probe of a provider whose latest probe started at `lastStart` is due: one
    /// interval later, or at `now` if that has passed. Probes may overlap a hanging one, up to
    /// `max_in_flight`, so a provider that stops answering is still confirmed in seconds.
    public func nextStart(lastStart: Double, now: Double, health: ProviderHealth?, stretch: Double = 0) -> Double {
        max(now, lastStart + interval(for: health, at: now, stretch: stretch))
    }
}

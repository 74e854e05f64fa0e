import ProbeResults

/// Draws the gateway's own request counts from a scenario's behaviour, as its metrics would show
/// them to a query at `t`: the window ending one scrape interval earlier (the scrape's lag), each
/// request failing at the rate of its moment. Our own faults (`auth`, `bad_request`) are the
/// caller's errors there and are left out; slowness is not an error in the counters.
/// Deterministic, on a random stream of its own, so adding traffic never changes the probes' draws.
public struct TrafficSampler: Sendable {
    public let scenario: Scenario
    public let traffic: Scenario.Traffic
    private var rng: SplitMix64

    public init?(scenario: Scenario) {
        guard let traffic = scenario.traffic else { return nil }
        self.scenario = scenario
        self.traffic = traffic
        rng = SplitMix64(seed: scenario.seed ^ fnv1a("gateway traffic"))
    }

    /// Requests and failures of `subject` in the window a query at `t` sees; nil when the agent's
    /// network is down (the query fails). `routed`: whether the gateway still sends it traffic.
    public mutating func window(of subject: String, at t: Double, routed: Bool) -> (requests: Double, failures: Double)? {
        guard scenario.networkUp(at: t) else { return nil }
        let end = t - traffic.scrapeInterval
        let start = end - traffic.window
        let rate = traffic.rps(of: subject)
        guard routed, rate > 0, start >= 0 else { return (0, 0) }
        let requests = Int((rate * traffic.window).rounded())
        var failures = 0
        for index in 0..<requests {
            let at = start + traffic.window * (Double(index) + 0.5) / Double(requests)
            guard let behaviour = scenario.behaviour(of: subject, at: at), !behaviour.failureClass.isOurFault else {
                _ = rng.nextDouble()
                continue
            }
            if rng.nextDouble() < behaviour.failureRate { failures += 1 }
        }
        return (Double(requests), Double(failures))
    }
}

/// The hard limit on probe requests, which run on production's own quota: at most
/// `probe_cap_per_provider` a minute for all of a provider's endpoints together and
/// `probe_cap_per_endpoint` a minute for each endpoint, whatever the cadence asks for (steady,
/// brownout, confirmation, recovery). Starts are paced, one provider's at least
/// 60 / `probe_cap_per_provider` seconds apart and one endpoint's 60 / `probe_cap_per_endpoint`,
/// so no minute ever holds more (counted by starts: what a provider's rate limiter counts). A 429's
/// `retry-after` holds that endpoint's probes until it passes: limits are per model (and per
/// location or Region), so the provider's other endpoints go on being probed.
/// Pure: the caller asks when a start may happen and says when one did.
public struct ProbeCap: Sendable, Equatable {
    /// Seconds between two starts of one provider's endpoints.
    public let providerSpacing: Double
    /// Seconds between two starts of one endpoint.
    public let endpointSpacing: Double
    /// The longest hold a `retry-after` may impose: beyond it the header is taken as wrong (and a
    /// long quiet would leave an outage of that endpoint unseen).
    public static let longestHold = 120.0
    private var providerLast: [String: Double] = [:]
    private var endpointLast: [String: Double] = [:]
    private var heldUntil: [String: Double] = [:]

    public init(policy: HealthPolicy) {
        providerSpacing = 60 / policy.probeCapPerProvider
        endpointSpacing = 60 / policy.probeCapPerEndpoint
    }

    /// The earliest time a probe of `endpoint` (on `provider`) may start.
    public func earliest(endpoint: String, provider: String) -> Double {
        max(
            (providerLast[provider] ?? -.infinity) + providerSpacing, (endpointLast[endpoint] ?? -.infinity) + endpointSpacing,
            heldUntil[endpoint] ?? -.infinity)
    }

    /// A probe of `endpoint` started at `t` (never before ``earliest(endpoint:provider:)``).
    public mutating func started(endpoint: String, provider: String, at t: Double) {
        providerLast[provider] = t
        endpointLast[endpoint] = t
    }

    /// `endpoint` answered 429 and asked for `seconds` of quiet: no probe of it before then (at
    /// most ``longestHold``).
    public mutating func hold(endpoint: String, for seconds: Double, at now: Double) {
        guard seconds > 0 else { return }
        heldUntil[endpoint] = max(heldUntil[endpoint] ?? -.infinity, now + min(seconds, Self.longestHold))
    }

    /// Requests a minute one endpoint costs probed every `interval` seconds, under the cap.
    public func perMinute(interval: Double) -> Double { 60 / max(interval, endpointSpacing) }
}

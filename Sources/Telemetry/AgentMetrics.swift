import CoreMetrics
import Prometheus
import ProbeResults

/// What the agent measures, recorded through swift-metrics into the factory it is given, so the
/// same calls feed Prometheus in production and a private registry in each test.
///
/// Names (all prefixed `failover_agent_`): `probe_duration_seconds{provider,phase}` histograms for
/// `dns`, `connect`, `tls`, `first_byte` and `total`; `probe_results_total{provider,class}`;
/// `provider_state{provider,state}` (1 for the current state, 0 for the others);
/// `actions_total{action,target,outcome}`; `proposals_total{action,target}`;
/// `pages_total{delivered}`; `leader`, `paused` and `blind` (0 or 1).
public struct AgentMetrics: Sendable {
    public static let states = ["healthy", "suspect", "failing", "recovering"]
    private let factory: any MetricsFactory

    public init(factory: any MetricsFactory) {
        self.factory = factory
    }

    /// Records nothing.
    public static let discarded = AgentMetrics(factory: NOOPMetricsHandler.instance)

    /// A probe's phase timings (only phases that took place) and its class.
    public func probed(_ result: ProbeResult) {
        let phases: [(String, Double)] = [
            ("dns", result.dnsMs), ("connect", result.connectMs), ("tls", result.tlsMs),
            ("first_byte", result.status == nil ? 0 : result.ttfbMs), ("total", result.totalMs),
        ]
        for (phase, ms) in phases where ms > 0 || phase == "total" {
            Timer(label: "failover_agent_probe_duration_seconds", dimensions: [("provider", result.provider), ("phase", phase)], factory: factory)
                .recordNanoseconds(Int64(ms * 1_000_000))
        }
        Counter(label: "failover_agent_probe_results_total", dimensions: [("provider", result.provider), ("class", result.resultClass.rawValue)], factory: factory)
            .increment()
    }

    /// The provider's health state, one gauge per state.
    public func state(of provider: String, is current: String) {
        for state in Self.states {
            Gauge(label: "failover_agent_provider_state", dimensions: [("provider", provider), ("state", state)], factory: factory)
                .record(state == current ? 1 : 0)
        }
    }

    /// An action ended with `outcome` (`deployed`, `deploy_failed`, `refused`, `failed`, `nothing_to_do`).
    public func acted(_ action: String, target: String, outcome: String) {
        Counter(label: "failover_agent_actions_total", dimensions: [("action", action), ("target", target), ("outcome", outcome)], factory: factory)
            .increment()
    }

    public func proposed(_ action: String, target: String) {
        Counter(label: "failover_agent_proposals_total", dimensions: [("action", action), ("target", target)], factory: factory).increment()
    }

    public func paged(delivered: Bool) {
        Counter(label: "failover_agent_pages_total", dimensions: [("delivered", delivered ? "true" : "false")], factory: factory).increment()
    }

    public func leader(_ leading: Bool) {
        Gauge(label: "failover_agent_leader", factory: factory).record(leading ? 1 : 0)
    }

    public func flags(paused: Bool, blind: Bool) {
        Gauge(label: "failover_agent_paused", factory: factory).record(paused ? 1 : 0)
        Gauge(label: "failover_agent_blind", factory: factory).record(blind ? 1 : 0)
    }
}

/// A Prometheus registry and the ``AgentMetrics`` that feed it; `text()` is the `/metrics` body.
public struct PrometheusMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    public let metrics: AgentMetrics

    /// Probe phases on loopback take microseconds and real providers seconds: buckets span both.
    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000].map { .milliseconds($0) }
        metrics = AgentMetrics(factory: factory)
    }

    /// The Prometheus text exposition format (version 0.0.4).
    public func text() -> [UInt8] { registry.emitToBuffer() }
}

import CoreMetrics
import ProbeResults

/// What the agent measures, recorded through swift-metrics into the factory it is given, so the
/// same calls feed Prometheus in production and a private registry in each test. The names and
/// their meaning are in ``MetricName``.
public struct AgentMetrics: Sendable {
    public static let states = ["healthy", "suspect", "failing", "recovering"]
    private let factory: any MetricsFactory

    public init(factory: any MetricsFactory) {
        self.factory = factory
    }

    /// Records nothing.
    public static let discarded = AgentMetrics(factory: NOOPMetricsHandler.instance)

    public static let outcomes = ["deployed", "deploy_failed", "refused", "failed", "interrupted", "nothing_to_do"]

    /// Creates at zero every counter series an alert watches, so its first increment shows as an
    /// increase (Prometheus sees none in a series that starts at 1).
    public func declare(targets: [String], providers: [String]) {
        for target in targets {
            for action in ["failover", "restore"] {
                for outcome in Self.outcomes {
                    _ = Counter(
                        label: MetricName.actions.rawValue, dimensions: [("action", action), ("target", target), ("outcome", outcome)],
                        factory: factory)
                }
                _ = Counter(label: MetricName.proposals.rawValue, dimensions: [("action", action), ("target", target)], factory: factory)
            }
        }
        for provider in providers {
            for probeClass in ProbeClass.allCases {
                _ = Counter(
                    label: MetricName.probeResults.rawValue, dimensions: [("provider", provider), ("class", probeClass.rawValue)],
                    factory: factory)
            }
        }
        for delivered in ["true", "false"] {
            _ = Counter(label: MetricName.pages.rawValue, dimensions: [("delivered", delivered)], factory: factory)
        }
    }

    /// A probe's phase timings (only phases that took place), its class, and when it ended.
    public func probed(_ result: ProbeResult, at unixTime: Double) {
        let phases: [(String, Double)] = [
            ("dns", result.dnsMs), ("connect", result.connectMs), ("tls", result.tlsMs),
            ("first_byte", result.status == nil ? 0 : result.ttfbMs), ("total", result.totalMs),
        ]
        for (phase, ms) in phases where ms > 0 || phase == "total" {
            Timer(
                label: MetricName.probeDuration.rawValue, dimensions: [("provider", result.provider), ("phase", phase)], factory: factory
            )
            .recordNanoseconds(Int64(ms * 1_000_000))
        }
        Counter(
            label: MetricName.probeResults.rawValue, dimensions: [("provider", result.provider), ("class", result.resultClass.rawValue)],
            factory: factory
        )
        .increment()
        gauge(.lastProbe, [("provider", result.provider)], unixTime)
    }

    /// The provider's health: one state gauge per state, its error rate, and whether its probe is broken.
    public func health(of provider: String, state current: String, errorRate: Double, probeBroken: Bool) {
        for state in Self.states {
            gauge(.providerState, [("provider", provider), ("state", state)], state == current ? 1 : 0)
        }
        gauge(.providerErrorRate, [("provider", provider)], errorRate)
        gauge(.probeBroken, [("provider", provider)], probeBroken ? 1 : 0)
    }

    /// An action ended with `outcome` (`deployed`, `deploy_failed`, `refused`, `failed`, `interrupted`, `nothing_to_do`).
    public func acted(_ action: String, target: String, outcome: String) {
        Counter(
            label: MetricName.actions.rawValue, dimensions: [("action", action), ("target", target), ("outcome", outcome)], factory: factory
        )
        .increment()
    }

    public func proposed(_ action: String, target: String) {
        Counter(label: MetricName.proposals.rawValue, dimensions: [("action", action), ("target", target)], factory: factory).increment()
    }

    /// When the target's first open proposal expires (Unix time), or nil when none is open.
    public func proposalExpiry(target: String, at unixTime: Double?) {
        gauge(.proposalExpiry, [("target", target)], unixTime ?? 0)
    }

    /// The target's readiness `check` passed or not.
    public func ready(target: String, check: String, _ ready: Bool) {
        gauge(.ready, [("target", target), ("check", check)], ready ? 1 : 0)
    }

    /// When the target's `credential` expires (Unix time); nil when it does not.
    public func credentialExpiry(target: String, credential: String, at unixTime: Double?) {
        gauge(.credentialExpiry, [("target", target), ("credential", credential)], unixTime ?? 0)
    }

    public func paged(delivered: Bool) {
        Counter(label: MetricName.pages.rawValue, dimensions: [("delivered", delivered ? "true" : "false")], factory: factory).increment()
    }

    public func leader(_ leading: Bool) {
        gauge(.leader, [], leading ? 1 : 0)
    }

    public func flags(paused: Bool, blind: Bool) {
        gauge(.paused, [], paused ? 1 : 0)
        gauge(.blind, [], blind ? 1 : 0)
    }

    /// A target with fire drills: how often one should succeed, and when one last did.
    public func drillDeclared(target: String, every seconds: Double, lastSuccess: Double) {
        gauge(.drillInterval, [("target", target)], seconds)
        gauge(.drillLastSuccess, [("target", target)], lastSuccess)
    }

    /// A fire drill of `target` ended at `unixTime`.
    public func drilled(target: String, succeeded: Bool, at unixTime: Double) {
        gauge(.drillLastResult, [("target", target)], succeeded ? 1 : 0)
        if succeeded { gauge(.drillLastSuccess, [("target", target)], unixTime) }
    }

    /// Whether the gateway's traffic is evidence now.
    public func trafficTrusted(_ trusted: Bool) { gauge(.trafficTrusted, [], trusted ? 1 : 0) }

    private func gauge(_ name: MetricName, _ dimensions: [(String, String)], _ value: Double) {
        Gauge(label: name.rawValue, dimensions: dimensions, factory: factory).record(value)
    }
}

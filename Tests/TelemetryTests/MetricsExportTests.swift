import ProbeResults
import Telemetry
import Testing

@Suite struct MetricsExportTests {
    /// Every recording method once, so every family is in the registry.
    func exercised() -> String {
        let prometheus = PrometheusMetrics()
        let metrics = prometheus.metrics
        metrics.declare(targets: ["aigw-production"], providers: ["vertex"])
        metrics.probed(
            ProbeResult(
                provider: "vertex", probe: "vertex-claude", resultClass: .http5xx, status: 503, dnsMs: 1, connectMs: 2, tlsMs: 3,
                ttfbMs: 40, totalMs: 41), at: 1_700_000_000)
        metrics.health(of: "vertex", state: "failing", errorRate: 0.5, probeBroken: false)
        metrics.acted("failover", target: "aigw-production", outcome: "deployed")
        metrics.proposed("failover", target: "aigw-production")
        metrics.proposalExpiry(target: "aigw-production", at: 1_700_000_900)
        metrics.paged(delivered: false)
        metrics.leader(true)
        metrics.flags(paused: false, blind: true)
        metrics.ready(target: "aigw-production", check: "gitlab", false)
        metrics.credentialExpiry(target: "aigw-production", credential: "gitlab", at: 1_700_259_200)
        metrics.trafficTrusted(false)
        metrics.drillDeclared(target: "aigw-staging", every: 604_800, lastSuccess: 1_699_000_000)
        metrics.drilled(target: "aigw-staging", succeeded: true, at: 1_700_000_500)
        return String(decoding: prometheus.text(), as: UTF8.self)
    }

    @Test func everyMetricHasItsHelpAndType() {
        let text = exercised()
        for name in MetricName.allCases {
            #expect(text.contains("# HELP \(name.rawValue) \(name.help)\n"), "no HELP for \(name.rawValue)")
            #expect(text.contains("# TYPE \(name.rawValue) "), "no TYPE for \(name.rawValue)")
        }
        let families = Set(text.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ")[2] })
        let helped = Set(text.split(separator: "\n").filter { $0.hasPrefix("# HELP ") }.map { $0.split(separator: " ")[2] })
        #expect(families == helped, "families without HELP: \(families.subtracting(helped))")
        #expect(families.count == MetricName.allCases.count)
    }

    @Test func declaredCountersStartAtZeroAndRecordedValuesShow() {
        let text = exercised()
        #expect(text.contains(#"failover_agent_actions_total{action="restore",target="aigw-production",outcome="refused"} 0"#))
        #expect(text.contains(#"failover_agent_actions_total{action="failover",target="aigw-production",outcome="deployed"} 1"#))
        #expect(text.contains(#"failover_agent_probe_results_total{provider="vertex",class="auth"} 0"#))
        #expect(text.contains(#"failover_agent_pages_total{delivered="false"} 1"#))
        #expect(text.contains(#"failover_agent_provider_state{provider="vertex",state="failing"} 1.0"#))
        #expect(text.contains(#"failover_agent_provider_error_rate{provider="vertex"} 0.5"#))
        #expect(text.contains(#"failover_agent_last_probe_timestamp_seconds{provider="vertex"} 1700000000.0"#))
        #expect(text.contains(#"failover_agent_proposal_next_expiry_timestamp_seconds{target="aigw-production"} 1700000900.0"#))
        #expect(text.contains("failover_agent_blind 1.0"))
        #expect(text.contains(#"failover_agent_drill_last_success_timestamp_seconds{target="aigw-staging"} 1700000500.0"#))
        #expect(text.contains(#"failover_agent_drill_last_result{target="aigw-staging"} 1.0"#))
        #expect(text.contains(#"failover_agent_drill_interval_seconds{target="aigw-staging"} 604800.0"#))
    }
}

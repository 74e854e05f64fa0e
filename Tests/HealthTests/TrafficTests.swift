import Health
import ProbeResults
import Testing

/// The gateway's traffic as evidence: it judges brownouts in a couple of minutes, never alone,
/// and is distrusted when it cannot be believed.
@Suite struct TrafficTests {
    let policy = HealthPolicy()

    /// 25 % of 150 requests a window fail from t = 600 until `over`; probes once every 5 s, a
    /// quarter failing then. Read every 30 s, each window the 30 s that ended 15 s before (the scrape's lag).
    func brownout(probeFailures: Bool, until end: Double = 900, over: Double = .infinity) -> (HealthMonitor, [HealthDecision]) {
        var monitor = HealthMonitor(subjects: ["vertex", "bedrock"], policy: policy)
        var decisions: [HealthDecision] = []
        var t = 0.0
        var probe = 0
        while t < end {
            t += 5
            probe += 1
            let failing = t > 600 && t < over && probeFailures && probe % 4 == 0
            decisions += monitor.observe(
                Observation(provider: "vertex", resultClass: failing ? .http5xx : .ok, ttfbMs: 300, startedAt: t - 0.3, completedAt: t))
            if Int(t) % 30 == 0 {
                let windowEnd = t - 15
                let failures = windowEnd > 600 && windowEnd - 30 < over ? 38.0 : 1
                decisions += monitor.observeTraffic(
                    ["vertex": TrafficCount(requests: 150, failures: failures), "bedrock": TrafficCount(requests: 150, failures: 1)],
                    window: 30, endingAt: windowEnd, at: t)
            }
        }
        return (monitor, decisions)
    }

    @Test func aBrownoutInTheTrafficConfirmedByAProbeFailsOverWithinTwoMinutes() throws {
        let (monitor, decisions) = brownout(probeFailures: true)
        let failover = try #require(decisions.first { if case .failover = $0 { true } else { false } })
        #expect(failover == .failover(provider: "vertex", at: failover.at))
        #expect(failover.at > 600 && failover.at <= 720, "at \(failover.at)")
        #expect(monitor.state(of: "bedrock") == .healthy)
    }

    /// A burst of 55 s, seen through windows that lag: the windows that show it arrive after it
    /// ended, and it never lasted `traffic_min_duration` from its onset to its newest failing
    /// evidence: no failover, however long the reading takes to come.
    @Test func aBurstShorterThanTheMinimumNeverTripsWhateverTheLag() {
        for over in [630.0, 645, 655] {
            let (monitor, decisions) = brownout(probeFailures: true, until: 1200, over: over)
            #expect(!decisions.contains { if case .failover = $0 { true } else { false } }, "a burst until \(over)")
            #expect(monitor.state(of: "vertex") != .failing)
        }
    }

    @Test func trafficAloneNeverFailsAnythingOver() {
        let (monitor, decisions) = brownout(probeFailures: false, until: 3600)
        #expect(!decisions.contains { if case .failover = $0 { true } else { false } }, "no probe failed: a metrics bug is not an outage")
        #expect(monitor.state(of: "vertex") == .healthy)
    }

    @Test func distrustedTrafficCountsForNothing() {
        var monitor = HealthMonitor(subjects: ["vertex"], policy: policy)
        for step in 1...6 {
            _ = monitor.observeTraffic(
                ["vertex": TrafficCount(requests: 150, failures: 40)], window: 30, endingAt: Double(step) * 30, at: Double(step) * 30)
        }
        #expect((monitor.machines["vertex"]?.trafficBrownout.score ?? 0) > 0)
        monitor.distrustTraffic()
        #expect(monitor.machines["vertex"]?.trafficBrownout.score == 0 && monitor.machines["vertex"]?.lastTraffic == nil)
    }

    @Test func oneBusyWindowCarriesAThirdOfTheThresholdAtMost() {
        var evidence = BrownoutEvidence()
        evidence.add(failures: 5000, of: 10000, window: 30, endingAt: 30, policy: policy)
        #expect(abs(evidence.score - policy.brownoutThreshold / 3) < 1e-9)
    }

    @Test func theSourceIsDistrustedWhenDownStaleResetOrAllFailing() {
        var trust = TrafficTrust(staleAfter: 120, policy: policy)
        let fine: [String: TrafficCount] = ["vertex": .init(requests: 100, failures: 2), "bedrock": .init(requests: 50, failures: 0)]
        #expect(
            trust.judge(.answered([:], latestSample: nil), at: 900)
                == .distrusted(why: "the traffic source has no samples of the gateway's counters", changed: false),
            "not yet scraped at start: no page")
        #expect(trust.judge(.answered(fine, latestSample: 995), at: 1000) == .evidence(fine, endingAt: 995))
        #expect(
            trust.judge(.failed("connection refused"), at: 1030)
                == .distrusted(why: "the traffic source does not answer: connection refused", changed: true))
        #expect(
            trust.judge(.failed("connection refused"), at: 1060)
                == .distrusted(why: "the traffic source does not answer: connection refused", changed: false), "paged once")
        #expect(trust.judge(.answered(fine, latestSample: 1085), at: 1090) == .evidence(fine, endingAt: 1085))
        #expect(
            trust.judge(.answered(fine, latestSample: 1000), at: 1200) == .distrusted(why: "no new sample for 200 s (stale)", changed: true)
        )
        _ = trust.judge(.answered(fine, latestSample: 1205), at: 1210)
        let reset: [String: TrafficCount] = ["vertex": .init(requests: -40, failures: 0)]
        #expect(
            trust.judge(.answered(reset, latestSample: 1235), at: 1240)
                == .distrusted(why: "a counter went backwards (reset) in the window", changed: true))
        let allFailing: [String: TrafficCount] = [
            "vertex": .init(requests: 100, failures: 90), "bedrock/claude": .init(requests: 40, failures: 40),
        ]
        guard case .distrusted(let why, _) = trust.judge(.answered(allFailing, latestSample: 1265), at: 1270) else {
            Issue.record("every provider failing at once is not evidence")
            return
        }
        #expect(why.hasPrefix("every provider fails at once in the gateway's metrics (bedrock, vertex)"))
    }
}

import Health
import ProbeResults
import Testing

/// Drives the monitor with hand-made observations on a virtual clock.
struct Feed {
    var monitor: HealthMonitor
    var decisions: [HealthDecision] = []
    var now = 0.0

    init(_ providers: [String] = ["vertex", "bedrock", "anthropic"], policy: HealthPolicy = HealthPolicy()) {
        monitor = HealthMonitor(subjects: providers, policy: policy)
    }

    /// `count` probes of `provider`, `every` seconds apart, each taking 0.1 s; other providers stay quiet.
    mutating func probe(_ provider: String, _ resultClass: ProbeClass, count: Int = 1, every: Double = 2, ttfbMs: Double? = 300) {
        for _ in 0..<count {
            decisions += monitor.observe(
                Observation(provider: provider, resultClass: resultClass, ttfbMs: ttfbMs, startedAt: now, completedAt: now + 0.1))
            now += every
        }
    }

    func actions(_ kind: String) -> [(String, Double)] {
        decisions.compactMap {
            switch ($0, kind) {
            case (.failover(let p, let t), "failover"), (.restore(let p, let t), "restore"): (p, t)
            default: nil
            }
        }
    }
}

@Suite struct ProviderHealthTests {
    @Test func aProviderFailedOverBeforeARestartIsRestoredOnceHealthyAndNeverFailedOverAgain() {
        var feed = Feed()
        feed.decisions += feed.monitor.resumeFailedOver("vertex", at: 0)
        #expect(feed.monitor.state(of: "vertex") == .failing)
        #expect(feed.monitor.resumeFailedOver("vertex", at: 1).isEmpty, "resuming twice changes nothing")
        feed.probe("vertex", .http5xx, count: 60, every: 2)
        #expect(feed.actions("failover").isEmpty, "still failing: it is already failed over")
        feed.probe("vertex", .ok, count: 80, every: 2)  // 160 s: less than min_healthy
        #expect(feed.actions("restore").isEmpty)
        feed.probe("vertex", .ok, count: 20, every: 2)
        #expect(feed.actions("restore").map(\.0) == ["vertex"])
        #expect(feed.monitor.state(of: "vertex") == .healthy)
        #expect(feed.monitor.resumeFailedOver("nobody", at: 400).isEmpty)
    }

    /// A recovery that keeps failing a little (1 probe in 12: under clear_error_rate, never shown
    /// below restore_error_rate) is paged once when it has lasted max_healthy, and stays failed over.
    @Test func aRestoreThatNeverComesIsPagedOnceAtMaxHealthy() {
        var feed = Feed()
        feed.decisions += feed.monitor.resumeFailedOver("vertex", at: 0)
        feed.probe("vertex", .ok, count: 3, every: 1)
        #expect(feed.monitor.state(of: "vertex") == .recovering)
        let recovering = feed.now
        while feed.now - recovering < 2000 {
            feed.probe("vertex", .ok, count: 11, every: 1)
            feed.probe("vertex", .http5xx, count: 1, every: 1)
            feed.probe("vertex", .ok, count: 3, every: 1)
        }
        let overdue = feed.decisions.compactMap { if case .restoreOverdue(let p, _, let at) = $0 { (p, at) } else { nil } }
        #expect(overdue.count == 1 && overdue.first?.0 == "vertex", "\(overdue)")
        #expect((overdue.first?.1 ?? 0) - recovering >= HealthPolicy().maxHealthy - 1, "at max_healthy, not before")
        #expect(feed.actions("restore").isEmpty && feed.monitor.state(of: "vertex") == .recovering)
    }

    @Test func aHardOutageFailsOverOnceMinOutageHasPassed() {
        var feed = Feed()
        feed.probe("vertex", .ok, count: 10, every: 10)
        let onset = feed.now
        feed.probe("vertex", .http5xx, count: 15, every: 2)  // 28 s of failures
        #expect(feed.actions("failover").isEmpty)
        feed.probe("vertex", .http5xx, count: 2, every: 2)
        let failovers = feed.actions("failover")
        #expect(failovers.count == 1)
        #expect(failovers.first!.1 - onset >= 30 && failovers.first!.1 - onset < 32.5)
        #expect(feed.monitor.state(of: "vertex") == .failing)
        feed.probe("vertex", .http5xx, count: 50, every: 10)
        #expect(feed.actions("failover").count == 1, "a continuing outage is one failover")
    }

    @Test func aMinOutageLongerThanTheWindowStillTrips() {
        var policy = HealthPolicy()
        policy.minOutage = 150
        var feed = Feed(policy: policy)
        feed.probe("vertex", .ok, count: 6, every: 10)
        let onset = feed.now
        feed.probe("vertex", .http5xx, count: 80, every: 2)
        let failovers = feed.actions("failover")
        #expect(failovers.count == 1)
        #expect(failovers.first.map { $0.1 - onset } ?? 0 >= 150)
        #expect(failovers.first.map { $0.1 - onset } ?? 999 < 153)
    }

    @Test func anOutageShorterThanMinOutageIsNotActedOn() {
        var feed = Feed()
        feed.probe("vertex", .ok, count: 10, every: 10)
        feed.probe("vertex", .overloaded, count: 12, every: 2)  // 24 s
        feed.probe("vertex", .ok, count: 30, every: 10)
        #expect(feed.actions("failover").isEmpty)
        #expect(feed.monitor.state(of: "vertex") == .healthy)
    }

    @Test func restoreNeedsMinHealthyAndARelapseIsNotASecondFailover() {
        var policy = HealthPolicy()
        policy.minHealthy = 120
        var feed = Feed(policy: policy)
        feed.probe("vertex", .ok, count: 6, every: 10)
        feed.probe("vertex", .http5xx, count: 20, every: 2)
        #expect(feed.actions("failover").count == 1)
        feed.probe("vertex", .ok, count: 3, every: 10)
        #expect(feed.monitor.state(of: "vertex") == .recovering)
        feed.probe("vertex", .http5xx, count: 6, every: 2)  // relapse while recovering
        #expect(feed.monitor.state(of: "vertex") == .failing)
        #expect(feed.actions("failover").count == 1)
        feed.probe("vertex", .ok, count: 3, every: 2)  // recovering is probed every confirm_interval
        let recoveredAt = feed.now - 2
        feed.probe("vertex", .ok, count: 55, every: 2)
        #expect(feed.actions("restore").count == 0, "not before 120 s healthy")
        feed.probe("vertex", .ok, count: 5, every: 2)
        let restores = feed.actions("restore")
        #expect(restores.count == 1)
        #expect(restores.first!.1 - recoveredAt >= 120)
        #expect(feed.monitor.state(of: "vertex") == .healthy)
    }

    @Test func tripsSoonAfterARestoreNeedLongerRecoveries() {
        var policy = HealthPolicy()
        policy.minHealthy = 60
        policy.maxHealthy = 200
        var feed = Feed(policy: policy)
        var required: [Double] = []
        for _ in 0..<4 {
            feed.probe("vertex", .http5xx, count: 20, every: 2)
            required.append(feed.monitor.machines["vertex"]!.requiredHealthy(policy))
            feed.probe("vertex", .ok, count: 400, every: 1)  // recovering is probed closely: health must be shown
        }
        #expect(feed.actions("failover").count == 4)
        #expect(feed.actions("restore").count == 4)
        #expect(required == [60, 120, 200, 200])
    }

    @Test func ourOwnFaultsAlertAndNeverCountAgainstTheProvider() {
        var feed = Feed()
        feed.probe("bedrock", .auth, count: 100, every: 2)
        feed.probe("bedrock", .badRequest, count: 100, every: 2)
        #expect(feed.actions("failover").isEmpty)
        #expect(feed.monitor.state(of: "bedrock") == .healthy)
        let broken = feed.decisions.filter { if case .probeBroken = $0 { true } else { false } }
        #expect(broken.count == 2, "one alert when auth starts, one when bad_request starts")
        feed.probe("bedrock", .ok)
        #expect(feed.decisions.last == .probeFixed(provider: "bedrock", at: feed.now - 2 + 0.1))
    }

    @Test func rateLimitsCountAtHalfWeight() {
        var feed = Feed()
        feed.probe("anthropic", .ok, count: 6, every: 10)
        for _ in 0..<100 {  // three of four rate limited: 37.5% at half weight, under the trip
            feed.probe("anthropic", .rateLimited, count: 3)
            feed.probe("anthropic", .ok)
        }
        #expect(feed.actions("failover").isEmpty)
        var fullWeight = Feed()
        for _ in 0..<100 {  // the same pattern of 5xx: 75%, over it
            fullWeight.probe("anthropic", .http5xx, count: 3)
            fullWeight.probe("anthropic", .ok)
        }
        #expect(fullWeight.actions("failover").count == 1)
        feed.probe("anthropic", .rateLimited, count: 17)  // every request rate limited for 34 s
        #expect(feed.actions("failover").count == 1)
        var policy = HealthPolicy()
        policy.weights[.rateLimited] = 0
        var ignoring = Feed(policy: policy)
        ignoring.probe("anthropic", .rateLimited, count: 200, every: 2)
        #expect(ignoring.actions("failover").isEmpty)
        #expect(ignoring.monitor.state(of: "anthropic") == .healthy)
    }

    @Test func latencyIsJudgedAgainstTheEndpointsOwnBaseline() {
        var feed = Feed()
        feed.probe("vertex", .ok, count: 30, every: 10, ttfbMs: 200)
        var health = feed.monitor.machines["vertex"]!
        #expect(
            health.effectiveClass(
                Observation(provider: "vertex", resultClass: .ok, ttfbMs: 900, startedAt: 0, completedAt: 1), feed.monitor.policy) == .ok)
        #expect(
            health.effectiveClass(
                Observation(provider: "vertex", resultClass: .ok, ttfbMs: 1200, startedAt: 0, completedAt: 1), feed.monitor.policy) == .slow
        )
        feed.probe("vertex", .ok, count: 25, every: 2, ttfbMs: 2500)  // 2.5 s: slow against a 200 ms baseline
        #expect(feed.actions("failover").count == 1)
        health = feed.monitor.machines["vertex"]!
        #expect(health.baseline.count == 30, "degraded answers never enter the baseline")
    }
}

@Suite struct BlindGuardTests {
    @Test func mostProvidersFailingWithoutAnswerMakesTheAgentBlind() {
        var feed = Feed()
        for _ in 0..<6 { for p in ["vertex", "bedrock", "anthropic"] { feed.probe(p, .ok, every: 3.3) } }
        for _ in 0..<60 { for p in ["vertex", "bedrock", "anthropic"] { feed.probe(p, .connect, every: 1) } }
        #expect(feed.decisions.contains { if case .blind = $0 { true } else { false } })
        #expect(feed.actions("failover").isEmpty)
        #expect(feed.monitor.isBlind)
        for _ in 0..<10 { for p in ["vertex", "bedrock", "anthropic"] { feed.probe(p, .ok, every: 3.3) } }
        #expect(!feed.monitor.isBlind)
        #expect(feed.decisions.contains { if case .blindCleared = $0 { true } else { false } })
        #expect(["vertex", "bedrock", "anthropic"].allSatisfy { feed.monitor.state(of: $0) == .healthy })
    }

    @Test func providersThatAnswerOverHTTPAreNotAProberProblem() {
        var feed = Feed()
        for _ in 0..<6 { for p in ["vertex", "bedrock", "anthropic"] { feed.probe(p, .ok, every: 3.3) } }
        for _ in 0..<20 {
            feed.probe("vertex", .http5xx, every: 1)
            feed.probe("anthropic", .overloaded, every: 1)
        }
        #expect(!feed.monitor.isBlind)
        #expect(Set(feed.actions("failover").map(\.0)) == ["vertex", "anthropic"])
    }

    @Test func aConfiguredControlProbeMustFailTooForBlindness() {
        var policy = HealthPolicy()
        policy.controlProvider = "control"
        var feed = Feed(policy: policy)
        for _ in 0..<40 {
            feed.probe("vertex", .connect, every: 1)
            feed.probe("bedrock", .connect, every: 1)
            feed.probe("control", .ok, every: 0)
        }
        #expect(!feed.monitor.isBlind, "the control target answers: the network is fine")
        #expect(Set(feed.actions("failover").map(\.0)) == ["vertex", "bedrock"])
        feed.probe("control", .connect, every: 0)
        feed.probe("vertex", .connect, every: 1)
        #expect(feed.monitor.isBlind)
    }
}

@Suite struct ProbeSchedulerTests {
    /// Steady when all is well; every `brownout_interval` while brownout evidence stands or recent
    /// failures reach half the noise rate; every `confirm_interval` while recovering; steady again
    /// once failed over.
    @Test func steadyUntilAFailureThenQuickWhileItIsInQuestion() {
        var feed = Feed(["vertex"])
        let scheduler = ProbeScheduler(policy: feed.monitor.policy)
        func interval() -> Double { scheduler.interval(for: feed.monitor.machines["vertex"], at: feed.now) }
        #expect(interval() == feed.monitor.policy.steadyInterval)
        feed.probe("vertex", .http5xx)
        #expect(interval() == feed.monitor.policy.brownoutInterval, "a failure: look closer")
        feed.probe("vertex", .ok, count: 5, every: 0.1)
        #expect(feed.monitor.machines["vertex"]?.brownout.score == 0)
        #expect(interval() == feed.monitor.policy.steadyInterval, "one failure in 30 s is noise: steady again")
        feed.brownout("vertex", failingOneIn: 8, for: 20, every: 0.1)
        #expect(interval() == feed.monitor.policy.brownoutInterval, "12 % failing: watched, whatever the score")
        feed.probe("vertex", .ok, count: 400, every: 0.1)
        #expect(interval() == feed.monitor.policy.steadyInterval, "cleared")
        feed.probe("vertex", .http5xx, count: 20)
        #expect(feed.monitor.state(of: "vertex") == .failing)
        #expect(interval() == feed.monitor.policy.steadyInterval, "failed over: nothing to decide quickly")
        feed.probe("vertex", .ok, count: 3)
        #expect(feed.monitor.state(of: "vertex") == .recovering)
        feed.probe("vertex", .ok, count: 30)
        #expect(interval() == 2, "a recovery shows its health with enough probes")
    }

    @Test func nextStartsOneIntervalOnAndProvidersAreStaggered() {
        let scheduler = ProbeScheduler(policy: HealthPolicy())
        #expect(scheduler.nextStart(lastStart: 0, now: 0.3, health: nil) == 5)
        #expect(scheduler.nextStart(lastStart: 0, now: 12, health: nil) == 12, "overdue: now")
        #expect(scheduler.firstProbes(["a", "b"]).map(\.at) == [0, 2.5])
    }

    @Test func weightsOfOurOwnFaultsAreAlwaysZero() {
        var policy = HealthPolicy()
        policy.weights[.auth] = 1
        #expect(policy.weight(.auth) == 0)
        #expect(policy.weight(.badRequest) == 0)
        #expect(policy.weight(.ok) == 0)
        #expect(policy.weight(.rateLimited) == 0.5)
    }
}

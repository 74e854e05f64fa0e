import AgentCore
import Health
import ProbeResults
import Testing

/// Drives the core with observations on a virtual clock.
struct Driver {
    var core: AgentCore
    var now = 0.0
    var commands: [AgentCommand] = []

    init(
        targets: [(String, ActionMode)] = [("aigw-production", .perform)], restoreMode: ActionMode = .perform, cap: Int = 3,
        groups: [String: [String]] = [:], emptyFailovers: [String: String] = [:]
    ) {
        core = AgentCore(
            settings: .init(
                targets: targets.map { (name: $0.0, mode: $0.1) }, restoreMode: restoreMode, maxFailoversPerHour: cap, groups: groups,
                emptyFailovers: emptyFailovers),
            providers: ["vertex", "bedrock", "anthropic"], policy: HealthPolicy())
    }

    mutating func probe(_ provider: String, _ resultClass: ProbeClass, count: Int, every: Double) {
        for _ in 0..<count {
            commands += core.observe(
                Observation(provider: provider, resultClass: resultClass, ttfbMs: 300, startedAt: now, completedAt: now + 0.1))
            now += every
        }
    }
    mutating func outage(_ provider: String = "vertex") {
        probe(provider, .ok, count: 6, every: 10)
        probe(provider, .http5xx, count: 20, every: 2)
    }
    /// Health as the live scheduler probes a recovery: every confirm_interval (2 s), for over min_healthy.
    mutating func recovery(_ provider: String = "vertex", probes: Int = 100) { probe(provider, .ok, count: probes, every: 2) }

    var executes: [AgentCommand] { commands.filter { if case .execute = $0 { true } else { false } } }
    var proposes: [AgentCommand] { commands.filter { if case .propose = $0 { true } else { false } } }
    var alerts: [Alert] { commands.compactMap { if case .alert(let a) = $0 { a } else { nil } } }
}

@Suite struct AgentCoreTests {
    @Test func performTargetsActAtOnceAndRestoresFollow() {
        var d = Driver()
        d.outage()
        #expect(d.executes == [.execute(.failover, provider: "vertex", target: "aigw-production", proposal: nil)])
        #expect(d.alerts.first { $0.dedupKey == "failover-agent/vertex" }?.severity == .critical)
        d.recovery()
        #expect(d.executes.last == .execute(.restore, provider: "vertex", target: "aigw-production", proposal: nil))
        #expect(
            d.alerts.last
                == Alert(dedupKey: "failover-agent/vertex", summary: "vertex is healthy again: restoring", severity: .info, resolve: true))
    }

    @Test func aFailoverThatWritesNothingIsPagedOnceAndNeverActedOn() {
        var d = Driver(targets: [("aigw-production", .propose)], emptyFailovers: ["vertex": "embeddings_code: its only selectable model"])
        d.outage()
        d.probe("vertex", .http5xx, count: 50, every: 2)
        #expect(d.proposes.isEmpty && d.executes.isEmpty)
        #expect(
            d.alerts == [
                Alert(
                    dedupKey: "failover-agent/vertex",
                    summary: "vertex is failing, but cannot fail over: embeddings_code: its only selectable model; nothing is written",
                    severity: .critical)
            ])
        #expect(d.core.cannotFailOver == ["vertex"])
        #expect(d.core.failoverTimes.isEmpty, "not counted against the hourly cap")
        d.recovery()
        #expect(d.proposes.isEmpty && d.executes.isEmpty, "no restore of what was never written")
        #expect(
            d.alerts.last == Alert(dedupKey: "failover-agent/vertex", summary: "vertex is healthy again", severity: .info, resolve: true))
        #expect(d.core.cannotFailOver.isEmpty)
    }

    @Test func proposeTargetsWaitForOneApproval() throws {
        var d = Driver(targets: [("aigw-production", .propose), ("aigw-staging", .perform)])
        d.outage()
        #expect(d.proposes == [.propose(.failover, provider: "vertex", target: "aigw-production")])
        #expect(d.executes == [.execute(.failover, provider: "vertex", target: "aigw-staging", proposal: nil)])
        d.core.opened(id: "ab12cd", kind: .failover, provider: "vertex", target: "aigw-production", at: d.now)
        #expect(
            try d.core.approve("ab12cd", at: d.now + 60)
                == .execute(.failover, provider: "vertex", target: "aigw-production", proposal: "ab12cd"))
        #expect(throws: ProposalRefusal.alreadyDecided("ab12cd", status: "approved")) { try d.core.approve("ab12cd", at: d.now + 61) }
        #expect(throws: ProposalRefusal.unknown("zz99")) { try d.core.approve("zz99", at: d.now) }
    }

    @Test func aGroupIsOneCommandAndOneProposal() throws {
        var d = Driver(
            targets: [("aigw-production", .propose), ("dws-production", .propose), ("aigw-staging", .perform)],
            groups: ["production": ["aigw-production", "dws-production"]])
        d.outage()
        #expect(d.proposes == [.propose(.failover, provider: "vertex", target: "production")], "one proposal for both services")
        #expect(d.executes == [.execute(.failover, provider: "vertex", target: "aigw-staging", proposal: nil)])
        d.core.opened(id: "ab12cd", kind: .failover, provider: "vertex", target: "production", at: d.now)
        #expect(
            try d.core.approve("ab12cd", at: d.now + 1) == .execute(.failover, provider: "vertex", target: "production", proposal: "ab12cd")
        )
        d.recovery()
        #expect(
            d.executes.suffix(2) == [
                .execute(.restore, provider: "vertex", target: "production", proposal: nil),
                .execute(.restore, provider: "vertex", target: "aigw-staging", proposal: nil),
            ], "one restore undoes the group")
    }

    @Test func proposalsExpireAndThenCannotBeApproved() {
        var d = Driver(targets: [("aigw-production", .propose)])
        d.outage()
        d.core.opened(id: "e1", kind: .failover, provider: "vertex", target: "aigw-production", at: d.now)
        #expect(d.core.tick(at: d.now + 899).isEmpty)
        #expect(throws: ProposalRefusal.expired("e1")) { try d.core.approve("e1", at: d.now + 900) }
        d.core.opened(id: "e2", kind: .failover, provider: "vertex", target: "aigw-production", at: d.now)
        let expired = d.core.tick(at: d.now + 901)
        #expect(expired.count == 1)
        #expect(throws: ProposalRefusal.alreadyDecided("e2", status: "expired")) { try d.core.approve("e2", at: d.now + 902) }
    }

    @Test func aStaleOrRejectedProposalDoesNothing() throws {
        var d = Driver(targets: [("aigw-production", .propose)])
        d.outage()
        d.core.opened(id: "s1", kind: .failover, provider: "vertex", target: "aigw-production", at: d.now)
        d.core.opened(id: "r1", kind: .failover, provider: "vertex", target: "aigw-production", at: d.now)
        try d.core.reject("r1", at: d.now)
        #expect(throws: ProposalRefusal.alreadyDecided("r1", status: "rejected")) { try d.core.approve("r1", at: d.now) }
        // Recovering before anyone approved: still failed over (a brownout flips failing ↔ recovering), so approvable.
        d.probe("vertex", .ok, count: 3, every: 10)
        #expect(d.core.monitor.state(of: "vertex") == .recovering)
        #expect(try d.core.approve("s1", at: d.now) == .execute(.failover, provider: "vertex", target: "aigw-production", proposal: "s1"))
        // Restored before anyone approved: the failover proposal is moot.
        d.core.opened(id: "s2", kind: .failover, provider: "vertex", target: "aigw-production", at: d.now)
        d.probe("vertex", .ok, count: 600, every: 2)
        #expect(d.core.monitor.state(of: "vertex") == .healthy)
        #expect(throws: ProposalRefusal.alreadyDecided("s2", status: "expired")) { try d.core.approve("s2", at: d.now) }
        d.core.opened(id: "s3", kind: .failover, provider: "vertex", target: "aigw-production", at: d.now)
        #expect(throws: ProposalRefusal.stale("s3", why: "vertex is healthy, not failing")) { try d.core.approve("s3", at: d.now) }
    }

    @Test func pausedMeansPagesButNoAction() throws {
        var d = Driver(targets: [("aigw-production", .propose)])
        d.core.setPaused(true)
        d.outage()
        #expect(d.executes.isEmpty && d.proposes.isEmpty)
        #expect(d.alerts.contains { $0.summary == "vertex would be failed over now, but the agent is paused" })
        d.core.opened(id: "p1", kind: .failover, provider: "vertex", target: "aigw-production", at: d.now)
        #expect(throws: ProposalRefusal.paused) { try d.core.approve("p1", at: d.now) }
        d.core.setPaused(false)
        #expect(try d.core.approve("p1", at: d.now) == .execute(.failover, provider: "vertex", target: "aigw-production", proposal: "p1"))
    }

    /// Blind (most providers' probes fail without an answer), the agent refuses an approval and
    /// keeps the proposal open, as its page said it acts on nothing; once probes answer, the same
    /// approval goes through. Found by `simulate` (seed 519).
    @Test func blindMeansAnApprovalWaits() throws {
        var d = Driver(targets: [("aigw-production", .propose)])
        d.outage()
        d.core.opened(id: "p1", kind: .failover, provider: "vertex", target: "aigw-production", at: d.now)
        for _ in 0..<6 {
            d.probe("bedrock", .connect, count: 1, every: 1)
            d.probe("anthropic", .connect, count: 1, every: 1)
        }
        #expect(d.core.monitor.isBlind)
        #expect(throws: ProposalRefusal.blind) { try d.core.approve("p1", at: d.now) }
        #expect(d.core.proposals["p1"]?.status == .open)
        d.probe("bedrock", .ok, count: 1, every: 1)
        d.probe("anthropic", .ok, count: 1, every: 1)
        #expect(!d.core.monitor.isBlind)
        #expect(try d.core.approve("p1", at: d.now) == .execute(.failover, provider: "vertex", target: "aigw-production", proposal: "p1"))
    }

    @Test func failoversPerHourAreCapped() {
        var d = Driver(cap: 2)
        for _ in 0..<3 {
            d.outage()
            d.recovery(probes: 400)  // a re-trip doubles the healthy time a restore needs (180, 360, 720 s)
        }
        #expect(d.now < 3600)
        #expect(d.executes.filter { if case .execute(.failover, _, _, _) = $0 { true } else { false } }.count == 2)
        #expect(d.alerts.contains { $0.summary.contains("reached the cap (2)") })
    }

    @Test func restoresCanBeProposedToo() {
        var d = Driver(targets: [("aigw-production", .perform)], restoreMode: .propose)
        d.outage()
        d.recovery()
        #expect(d.proposes == [.propose(.restore, provider: "vertex", target: "aigw-production")])
    }

    @Test func blindnessAndBrokenProbesPage() {
        var d = Driver()
        for _ in 0..<20 {
            d.probe("vertex", .connect, count: 1, every: 1)
            d.probe("bedrock", .connect, count: 1, every: 1)
        }
        #expect(d.alerts.first?.dedupKey == "failover-agent/blind")
        #expect(d.alerts.first?.severity == .critical)
        #expect(d.executes.isEmpty)
        var broken = Driver()
        broken.probe("anthropic", .auth, count: 3, every: 10)
        #expect(broken.alerts.map(\.dedupKey) == ["failover-agent/probe-broken/anthropic"])
        #expect(broken.alerts.first?.summary.contains("never fails anthropic over") == true)
        broken.probe("anthropic", .ok, count: 1, every: 10)
        #expect(broken.alerts.last?.resolve == true)
    }
}

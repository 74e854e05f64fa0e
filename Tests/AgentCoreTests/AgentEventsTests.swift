import AgentCore
import Health
import Lifecycle
import ProbeResults
import Testing

/// The run loop's decisions, event by event on a virtual clock: what the loop is told to do.
struct EventDriver {
    var core: AgentCore
    var now = 0.0

    init(mode: ActionMode = .perform, targets: [String] = ["aigw-production"], groups: [String: [String]] = [:]) {
        core = AgentCore(
            settings: .init(targets: targets.map { (name: $0, mode: mode) }, groups: groups),
            providers: ["vertex", "bedrock", "anthropic"],
            policy: HealthPolicy())
    }

    mutating func send(_ event: AgentCore.Event, after seconds: Double = 0) -> [AgentCommand] {
        now += seconds
        return core.handle(event, at: now)
    }

    /// A probe result of `provider`, answered 100 ms after it started.
    mutating func probe(_ provider: String, _ resultClass: ProbeClass, after seconds: Double) -> [AgentCommand] {
        send(
            .probed(
                endpoint: provider,
                result: ProbeResult(provider: provider, probe: provider, resultClass: resultClass, status: 200, ttfbMs: 300),
                startedAt: now + seconds - 0.1), after: seconds)
    }

    /// Vertex fails hard, probed every 2 s, until it is failed over.
    mutating func outage() -> [AgentCommand] {
        var commands: [AgentCommand] = []
        for _ in 0..<6 { commands += probe("vertex", .ok, after: 5) }
        for _ in 0..<20 { commands += probe("vertex", .http5xx, after: 2) }
        return commands
    }

    static func logs(_ commands: [AgentCommand]) -> [String] {
        commands.compactMap { if case .log(let line) = $0 { line.message } else { nil } }
    }
    static func alerts(_ commands: [AgentCommand]) -> [Alert] {
        commands.compactMap { if case .alert(let alert) = $0 { alert } else { nil } }
    }
}

/// A restore written without a redeploy: what its next deployment must serve.
let awaited = AwaitedDeployment(expect: ["duo_chat": ["claude-sonnet"]], since: 41, changeRequest: 3, deadline: .seconds(3600))

@Suite struct AgentEventsTests {
    @Test func takingTheLeadRecoversThenReadsEveryTargetAndSharesThePause() {
        var driver = EventDriver()
        #expect(driver.send(.leadership(true, leaderPaused: nil)) == [.recoverJournal, .sharePause(false)])
        #expect(driver.send(.leadership(true, leaderPaused: nil)).isEmpty, "nothing new while it keeps leading")
        #expect(driver.send(.tick, after: 1).contains(.readOwnership(["aigw-production"])))
        #expect(!driver.send(.tick, after: 1).contains { if case .readOwnership = $0 { true } else { false } }, "one read at a time")
        #expect(
            driver.send(.leadership(false, leaderPaused: true)) == [
                .sharePause(nil), .log(LogLine(.notice, "paused by the leader: acting on nothing, here or after taking the lead")),
            ])
        #expect(driver.core.paused)
    }

    @Test func aFollowerDecidesButLeavesActingAndPagingToTheLeader() {
        var driver = EventDriver()
        let commands = driver.outage()
        #expect(EventDriver.logs(commands).contains("not the leader: the failover of vertex on aigw-production is the leader's to do"))
        #expect(!commands.contains { if case .execute = $0 { true } else { false } })
        #expect(EventDriver.alerts(commands).isEmpty)
        #expect(EventDriver.logs(commands).contains { $0.hasPrefix("vertex: suspect → failing") })
    }

    @Test func theLeaderActsAndProbesOnTheSchedulersCadence() {
        var driver = EventDriver()
        _ = driver.send(.leadership(true, leaderPaused: nil))
        let first = driver.send(.tick, after: 6)
        guard case .probe(let providers)? = first.first else {
            Issue.record("\(first)")
            return
        }
        #expect(providers == ["anthropic", "bedrock", "vertex"])
        #expect(!driver.send(.tick, after: 0.05).contains { if case .probe = $0 { true } else { false } }, "not due again yet")
        let commands = driver.outage()
        #expect(commands.contains(.execute(.failover, provider: "vertex", target: "aigw-production", proposal: nil)))
    }

    @Test func unreadableRecordsAreReadAgainWithBackoffAndReadRecordsResumeTheFailover() {
        var driver = EventDriver()
        _ = driver.send(.leadership(true, leaderPaused: nil))
        _ = driver.send(.tick, after: 1)
        let failure = Custody.ReadFailure("Vault unavailable")
        #expect(
            EventDriver.logs(driver.send(.ownershipRead(["aigw-production": .failure(failure)]))) == [
                "aigw-production: cannot read what the agent owns in its secret, retrying in 1 s: Vault unavailable"
            ])
        #expect(!driver.send(.tick, after: 0.5).contains(.readOwnership(["aigw-production"])))
        #expect(driver.send(.tick, after: 0.6).contains(.readOwnership(["aigw-production"])), "after 1 s")
        #expect(
            EventDriver.logs(driver.send(.ownershipRead(["aigw-production": .failure(failure)]))).first?.contains("retrying in 2 s") == true
        )
        #expect(!driver.send(.tick, after: 1.5).contains(.readOwnership(["aigw-production"])))
        #expect(driver.send(.tick, after: 1).contains(.readOwnership(["aigw-production"])), "after 2 s")
        let read = driver.send(.ownershipRead(["aigw-production": .success(["vertex"])]))
        #expect(
            EventDriver.logs(read).contains(
                "aigw-production: its secret records vertex as failed over by this agent; restoring once healthy"))
        #expect(driver.core.monitor.state(of: "vertex") == .failing && driver.core.custody.owned == ["vertex"])
    }

    @Test func aSubjectFailedOverThatNoProbeWatchesIsPagedNotForgotten() {
        var driver = EventDriver()
        _ = driver.send(.leadership(true, leaderPaused: nil))
        let read = driver.send(.ownershipRead(["aigw-production": .success(["vertex", "openai/gpt_5_mini"])]))
        let unwatched = EventDriver.alerts(read).filter { $0.dedupKey.hasSuffix("/unwatched") }
        #expect(unwatched.map(\.dedupKey) == ["failover-agent/aigw-production/openai/gpt_5_mini/unwatched"])
        #expect(unwatched.first?.summary.contains("failover-agent restore --provider openai/gpt_5_mini") == true)
        #expect(driver.core.monitor.state(of: "vertex") == .failing, "a watched provider resumes as before")
    }

    @Test func aGroupFailedOverOnlyPartlyBeforeACrashIsCaughtUp() {
        var driver = EventDriver(
            targets: ["aigw-production", "dws-production"], groups: ["production": ["aigw-production", "dws-production"]])
        _ = driver.send(.leadership(true, leaderPaused: nil))
        _ = driver.send(.tick, after: 1)
        // The group's action died after the gateway's failover, before DWS's.
        _ = driver.send(.ownershipRead(["aigw-production": .success(["vertex"])]))
        let commands = driver.send(.ownershipRead(["dws-production": .success([])]))
        #expect(commands.contains(.execute(.failover, provider: "vertex", target: "production", proposal: nil)), "\(commands)")
        var whole = EventDriver(
            targets: ["aigw-production", "dws-production"], groups: ["production": ["aigw-production", "dws-production"]])
        _ = whole.send(.leadership(true, leaderPaused: nil))
        _ = whole.send(.tick, after: 1)
        let both = whole.send(.ownershipRead(["aigw-production": .success(["vertex"]), "dws-production": .success(["vertex"])]))
        #expect(!both.contains { if case .execute = $0 { true } else { false } }, "a group failed over whole is left alone")
    }

    @Test func onceEveryRecordIsReadAFailingProviderNoTargetFailedOverIsCaughtUp() {
        var driver = EventDriver()
        _ = driver.outage()  // decided while following
        _ = driver.send(.leadership(true, leaderPaused: nil))
        _ = driver.send(.tick, after: 1)
        let commands = driver.send(.ownershipRead(["aigw-production": .success([])]))
        #expect(commands.contains(.execute(.failover, provider: "vertex", target: "aigw-production", proposal: nil)))
    }

    @Test func aPartWayFailureIsSettledAgainWithBackoff() {
        var driver = EventDriver()
        _ = driver.send(.leadership(true, leaderPaused: nil))
        let failed = ActionFinished(kind: .failover, provider: "vertex", target: "aigw-production", outcome: .failed("Vault 503"))
        let commands = driver.send(.finished(failed))
        #expect(EventDriver.alerts(commands).map(\.summary) == ["failover of vertex on aigw-production did not happen: Vault 503"])
        #expect(!driver.send(.tick, after: 0.9).contains(.settle("aigw-production")))
        #expect(driver.send(.tick, after: 0.2).contains(.settle("aigw-production")), "after 1 s")
        _ = driver.send(.settleUnreadable(target: "aigw-production", why: "Vault 503"))
        #expect(!driver.send(.tick, after: 1.5).contains(.settle("aigw-production")))
        #expect(driver.send(.tick, after: 1).contains(.settle("aigw-production")), "after 2 s")
        _ = driver.send(.settleUnreadable(target: "aigw-production", why: nil))
        #expect(!driver.send(.tick, after: 100).contains(.settle("aigw-production")), "settled: no more retries")
    }

    @Test(arguments: [
        (ActionOutcome.refused("not retryable"), "did not happen: not retryable", Alert.Severity.critical),
        (.interrupted("shutdown"), "the secret was written and its deploy job retried; shutdown", .warning),
        (.deployFailed(status: "failed"), "the deploy failed: failed", .critical),
        (.notVerified("still serves the old defaults"), "deployed but not verified: still serves the old defaults", .critical),
    ])
    func eachOutcomeIsPagedAsItDeserves(outcome: ActionOutcome, summary: String, severity: Alert.Severity) {
        var driver = EventDriver()
        _ = driver.send(.leadership(true, leaderPaused: nil))
        let alerts = EventDriver.alerts(
            driver.send(.finished(ActionFinished(kind: .failover, provider: "vertex", target: "aigw-production", outcome: outcome))))
        #expect(alerts.count == 1 && alerts[0].summary.hasSuffix(summary) && alerts[0].severity == severity, "\(alerts)")
    }

    /// A deleted latest version is paged once; a page about an action's outcome says how its deploy was chosen.
    @Test func warningsAndTheDeployDecisionReachThePages() {
        var driver = EventDriver()
        _ = driver.send(.leadership(true, leaderPaused: nil))
        let deployed = EventDriver.alerts(
            driver.send(
                .finished(
                    ActionFinished(
                        kind: .failover, provider: "vertex", target: "aigw-production", outcome: .deployed,
                        warnings: ["the latest version (4) of runway/x had been deleted: read as no override"]))))
        #expect(deployed.map(\.dedupKey) == ["failover-agent/aigw-production/vertex/warnings"])
        #expect(deployed.first?.summary.contains("the latest version (4) of runway/x had been deleted") == true)
        let failed = EventDriver.alerts(
            driver.send(
                .finished(
                    ActionFinished(
                        kind: .failover, provider: "vertex", target: "aigw-production", outcome: .deployFailed(status: "failed"),
                        deployDecision: "the newer pipeline #8 deploys to production when it reaches its trigger job"))))
        #expect(
            failed.first?.summary.hasSuffix("(deploy: the newer pipeline #8 deploys to production when it reaches its trigger job)") == true
        )
    }

    @Test func anActionEndsItsProposalAndSaysWhatWasLeftToPeople() {
        var driver = EventDriver()
        _ = driver.send(.leadership(true, leaderPaused: nil))
        let done = ActionFinished(
            kind: .restore, provider: "vertex", target: "aigw-production", proposal: "5f2161", outcome: .written,
            leftToPeople: ["duo_chat"],
            changeRequestProblem: "GitLab 500", awaiting: awaited)
        let commands = driver.send(.finished(done))
        #expect(commands.contains(.markProposal("5f2161", .executed)))
        #expect(
            driver.send(.tick).contains(.checkNextDeployment(target: "aigw-production", provider: "vertex", watch: 1, awaited)),
            "the next deployment is checked at the next tick")
        #expect(
            EventDriver.alerts(commands).map(\.dedupKey) == [
                "failover-agent/proposal/5f2161", "failover-agent/aigw-production/vertex/edited",
                "failover-agent/aigw-production/vertex/change-request",
            ])
        #expect(EventDriver.alerts(commands).first?.resolve == true, "the person's part is done: the proposal's page closes")
        let refused = driver.send(
            .finished(
                ActionFinished(kind: .failover, provider: "vertex", target: "aigw-production", proposal: "a1b2c3", outcome: .refused("x"))))
        #expect(refused.contains(.markProposal("a1b2c3", .failed)))
    }

    @Test func proposalsArePagedAndAnApprovalWhosePlanChangedIsSuperseded() {
        var driver = EventDriver(mode: .propose)
        _ = driver.send(.leadership(true, leaderPaused: nil))
        #expect(driver.outage().contains(.propose(.failover, provider: "vertex", target: "aigw-production")))
        let paged = driver.core.proposed(
            id: "5f2161", kind: .failover, provider: "vertex", target: "aigw-production", sha: "f00dbabe1234567", diff: "the diff",
            approveCommand: "failover-agent approve", at: driver.now)
        #expect(
            EventDriver.logs(paged) == [
                "proposal 5f2161: failover of vertex on aigw-production; approve with: failover-agent approve 5f2161"
            ])
        #expect(
            EventDriver.alerts(paged).first?.summary
                == "vertex on aigw-production: approve the failover with `failover-agent approve 5f2161` (or reject it); it deploys "
                + "f00dbabe1234 and expires in 15 min.\nthe diff"
        )
        #expect(
            (try? driver.core.approve("5f2161", at: driver.now + 10))
                == .execute(.failover, provider: "vertex", target: "aigw-production", proposal: "5f2161"))
        let changed = driver.core.revalidated("5f2161", kind: .failover, provider: "vertex", target: "aigw-production", unchanged: false)
        #expect(
            changed.commands.first == .markProposal("5f2161", .superseded)
                && changed.commands.last == .propose(.failover, provider: "vertex", target: "aigw-production") && !changed.accepted)
        #expect(
            EventDriver.alerts(changed.commands).map { "\($0.dedupKey) \($0.resolve)" } == ["failover-agent/proposal/5f2161 true"],
            "the superseded proposal's page closes; the new one pages anew")
        let same = driver.core.revalidated("5f2161", kind: .failover, provider: "vertex", target: "aigw-production", unchanged: true)
        #expect(same.commands == [.execute(.failover, provider: "vertex", target: "aigw-production", proposal: "5f2161")] && same.accepted)
    }

    @Test func probesOfOneProviderAreCappedInFlight() {
        var policy = HealthPolicy()
        policy.maxInFlight = 2
        var streams = ProbeStreams(endpoints: [("vertex", "vertex")], policy: policy)
        var started = 0
        var now = 0.0
        for _ in 0..<200 {
            now += 0.5
            started += streams.due(at: now, health: [:]).count
        }
        #expect(started == 2, "two hang, nothing more starts")
        streams.completed("vertex", result: ProbeResult(provider: "vertex", probe: "v", resultClass: .timeout), at: now, health: [:])
        #expect(streams.due(at: now + 10, health: [:]) == ["vertex"])
    }

    @Test func aDeployedActionSaysWhetherTheGatewayServesIt() {
        var driver = EventDriver()
        _ = driver.send(.leadership(true, leaderPaused: nil))
        func said(_ verified: Bool?) -> [String] {
            EventDriver.logs(
                driver.send(
                    .finished(
                        ActionFinished(
                            kind: .failover, provider: "vertex", target: "aigw-production", outcome: .deployed, verified: verified))))
        }
        #expect(said(true) == ["failover of vertex on aigw-production: deployed: job success; verified live on the gateway"])
        #expect(
            said(nil) == ["failover of vertex on aigw-production: deployed: job success; unverified: no gateway section for this target"])
    }

    @Test func aRestoreTheNextDeploymentDoesNotServeIsPaged() {
        var driver = EventDriver()
        _ = driver.send(.leadership(true, leaderPaused: nil))
        let done = ActionFinished(kind: .restore, provider: "vertex", target: "aigw-production", outcome: .written, awaiting: awaited)
        _ = driver.send(.finished(done))
        func checks(_ commands: [AgentCommand]) -> [Int] {
            commands.compactMap { if case .checkNextDeployment(_, _, let watch, awaited) = $0 { watch } else { nil } }
        }
        #expect(checks(driver.send(.tick)) == [1])
        #expect(checks(driver.send(.tick)).isEmpty, "one check at a time")
        #expect(driver.send(.deploymentChecked(target: "aigw-production", watch: 1, .notYet(checkAgainIn: 10))).isEmpty)
        driver.now += 9
        #expect(checks(driver.send(.tick)).isEmpty, "not before the executor's poll interval")
        driver.now += 1
        #expect(checks(driver.send(.tick)) == [1])
        let fine = driver.send(.deploymentChecked(target: "aigw-production", watch: 1, .verified))
        #expect(EventDriver.logs(fine) == ["restore of vertex on aigw-production: verified live after the next deployment"])
        #expect(EventDriver.alerts(fine).isEmpty)
        driver.now += 60
        #expect(checks(driver.send(.tick)).isEmpty, "a verified restore is watched no more")

        _ = driver.send(.finished(done))
        #expect(checks(driver.send(.tick)) == [2])
        _ = driver.send(.finished(done))  // a newer restore of the target replaces the watch
        #expect(
            driver.send(.deploymentChecked(target: "aigw-production", watch: 2, .verified)).isEmpty, "a replaced watch's answer is ignored")
        #expect(checks(driver.send(.tick)) == [3])
        let stale = driver.send(.deploymentChecked(target: "aigw-production", watch: 3, .notVerified("duo_chat serves the failover")))
        #expect(EventDriver.alerts(stale).map(\.severity) == [.critical])
        #expect(EventDriver.logs(stale) == ["restore of vertex on aigw-production: not verified: duo_chat serves the failover"])

        _ = driver.send(.finished(done))
        #expect(checks(driver.send(.tick)) == [4])
        let overtaken = ActionFinished(kind: .failover, provider: "bedrock", target: "aigw-production", outcome: .deployed)
        _ = driver.send(.finished(overtaken))
        #expect(driver.send(.deploymentChecked(target: "aigw-production", watch: 4, .notYet(checkAgainIn: 10))).isEmpty)
        driver.now += 60
        #expect(checks(driver.send(.tick)).isEmpty, "a later write to the target ends the watch: its own deploy is verified on its own")
    }
}

@Suite struct ProbeCapStreamTests {
    @Test func whenTheCapIsShortTheSubjectInQuestionGoesFirst() {
        var policy = HealthPolicy()
        policy.probeCapPerProvider = 6  // one start every 10 s for the whole provider
        let endpoints = (0..<4).map { ("vertex/m\($0)", "vertex/m\($0)") }
        var streams = ProbeStreams(endpoints: endpoints, policy: policy)
        var health = Dictionary(uniqueKeysWithValues: endpoints.map { ($0.1, ProviderHealth(provider: $0.1, policy: policy)) })
        // m3 fails once: suspect.
        _ = health["vertex/m3"]!.observe(
            Observation(provider: "vertex/m3", resultClass: .http5xx, startedAt: 0, completedAt: 0.1), policy: policy)
        var started: [String] = []
        var now = 0.0
        while now < 120 {
            for name in streams.due(at: now, health: health) {
                started.append(name)
                streams.completed(name, result: ProbeResult(provider: "vertex", probe: name, resultClass: .ok), at: now, health: health)
            }
            now += 0.25
        }
        #expect(started.count <= 12, "6 a minute for the provider: \(started.count)")
        #expect(started.filter { $0 == "vertex/m3" }.count >= 6, "the suspect model gets the budget first: \(started)")
    }

    @Test func a429HoldsOnlyTheEndpointThatWasLimited() {
        var streams = ProbeStreams(endpoints: [("a", "anthropic/a"), ("b", "anthropic/b"), ("v", "vertex")], policy: HealthPolicy())
        streams.hold("a", for: 60, at: 10)
        var started: [String] = []
        var now = 10.0
        while now < 69 {
            let due = streams.due(at: now, health: [:])
            started += due
            for name in due {
                streams.completed(name, result: ProbeResult(provider: "", probe: name, resultClass: .ok), at: now, health: [:])
            }
            now += 0.5
        }
        #expect(!started.contains("a"))
        #expect(started.contains("b") && started.contains("v"), "another model of the provider, and another provider, go on")
    }
}

@Suite struct PreflightCapTests {
    @Test func aPreFlightProbeTakesItsStartFromTheCap() {
        var streams = ProbeStreams(endpoints: [("sonnet", "bedrock/sonnet"), ("haiku", "bedrock/haiku")], policy: HealthPolicy())
        #expect(streams.due(at: 0, health: [:]) == ["sonnet"], "the provider's spacing holds the second one back")
        #expect(streams.reserve("haiku", at: 0.1) == 0.5, "a pre-flight waits for the provider's next slot")
        #expect(streams.reserve("sonnet", at: 0.2) == 1.0, "and for its endpoint's, and the one reserved before it")
        #expect(streams.due(at: 1.2, health: [:]).isEmpty, "the streams wait behind the reservations")
    }
}

import AgentConfig
import AgentCore
import Health
import ProbeResults
import Scenarios
import Testing
import YAMLConfig

/// The agent's whole story, decision by decision, on a virtual clock: a scenario answers the
/// probes the core asks for, a person approves each proposal a minute after its page, and each
/// action takes a deploy's time before it reports back. Nothing real-time, nothing random.
struct Story {
    var core: AgentCore
    var sampler: OutcomeSampler
    var now = 0.0
    var transcript: [String] = []
    private var probes: [(done: Double, provider: String, started: Double, outcome: OutcomeSampler.Outcome)] = []
    private var approvals: [(at: Double, id: String)] = []
    private var endings: [(at: Double, finished: ActionFinished)] = []
    private var proposals = 0

    init(_ scenario: Scenario) {
        core = AgentCore(
            settings: .init(targets: [(name: "aigw-production", mode: .propose)]), providers: scenario.providerNames, policy: HealthPolicy()
        )
        sampler = OutcomeSampler(scenario: scenario)
    }

    mutating func run(until end: Double) {
        execute(core.handle(.leadership(true, leaderPaused: nil), at: now))
        while now < end {
            now += 0.05
            for probe in probes.filter({ $0.done <= now }).sorted(by: { $0.done < $1.done }) {
                let result = ProbeResult(
                    provider: probe.provider, probe: probe.provider, resultClass: probe.outcome.resultClass,
                    status: probe.outcome.ttfbMs == nil ? nil : 200, ttfbMs: probe.outcome.ttfbMs ?? 0)
                execute(core.handle(.probed(endpoint: probe.provider, result: result, startedAt: probe.started), at: now))
            }
            probes.removeAll { $0.done <= now }
            for approval in approvals where approval.at <= now {
                transcript.append("\(Int(now)) approve \(approval.id)")
                guard let command = try? core.approve(approval.id, at: now), case .execute(let kind, let provider, let target, _) = command
                else { continue }
                execute(core.revalidated(approval.id, kind: kind, provider: provider, target: target, unchanged: true).commands)
            }
            approvals.removeAll { $0.at <= now }
            for ending in endings where ending.at <= now { execute(core.handle(.finished(ending.finished), at: now)) }
            endings.removeAll { $0.at <= now }
            execute(core.handle(.tick, at: now))
        }
    }

    private mutating func execute(_ commands: [AgentCommand]) {
        for command in commands {
            switch command {
            case .probe(let providers):
                for provider in providers {
                    let outcome = sampler.outcome(of: provider, at: now)
                    probes.append((now + outcome.duration, provider, now, outcome))
                }
            case .readOwnership(let targets):
                execute(core.handle(.ownershipRead(Dictionary(uniqueKeysWithValues: targets.map { ($0, .success([])) })), at: now))
            case .propose(let kind, let provider, let target):
                proposals += 1
                let id = "p\(proposals)"
                transcript.append("\(Int(now)) propose \(kind.rawValue) \(provider) as \(id)")
                execute(
                    core.proposed(
                        id: id, kind: kind, provider: provider, target: target, sha: "f00dbabe", diff: "", approveCommand: "approve",
                        at: now))
                approvals.append((now + 60, id))
            case .execute(let kind, let provider, let target, let proposal):
                transcript.append("\(Int(now)) \(kind.rawValue) \(provider)")
                let outcome: ActionOutcome = kind == .failover ? .deployed : .written
                endings.append(
                    (now + 90, ActionFinished(kind: kind, provider: provider, target: target, proposal: proposal, outcome: outcome)))
            case .alert(let alert):
                transcript.append("\(Int(now)) page \(alert.resolve ? "resolve" : alert.severity.rawValue) \(alert.dedupKey)")
            case .markProposal(let id, let end): transcript.append("\(Int(now)) \(id) \(end.rawValue)")
            case .log, .recoverJournal, .settle, .sharePause, .checkNextDeployment, .drill: break
            }
        }
    }
}

@Suite struct AgentStoryTests {
    static let scenario = """
        name: story
        seed: 11
        duration: 40m
        providers:
          vertex:
            - {at: 0s, latency: {p50: 450ms, p99: 1500ms}, failure: {rate: 0.002, class: http_5xx}}
            - {at: 5m, failure: {rate: 1.0}}
            - {at: 20m, failure: {rate: 0.002}}
          bedrock:
            - {at: 0s, latency: {p50: 600ms, p99: 2s}, failure: {rate: 0.002, class: http_5xx}}
          anthropic:
            - {at: 0s, latency: {p50: 500ms, p99: 1800ms}, failure: {rate: 0.002, class: overloaded}}
        """

    @Test func anOutageIsProposedApprovedCarriedOutAndRestoredOnce() throws {
        var story = Story(try ScenarioLoader.parse(YAMLFields.parse(Self.scenario, file: "story.yml")))
        story.run(until: 2400)
        let actions = story.transcript.filter { $0.hasSuffix(" failover vertex") || $0.hasSuffix(" restore vertex") }
        #expect(actions.count == 2, "\(story.transcript)")
        let failover = try #require(actions.first.flatMap { Double($0.split(separator: " ")[0]) })
        let restore = try #require(actions.last.flatMap { Double($0.split(separator: " ")[0]) })
        #expect(actions.first?.hasSuffix("failover vertex") == true && actions.last?.hasSuffix("restore vertex") == true)
        #expect(
            failover > 300 + 60 && failover < 300 + 60 + 45, "decided within 45 s of the onset, carried out when approved a minute later")
        #expect(restore > 1200 + 180, "restored after min_healthy of health")
        #expect(story.transcript.contains { $0.hasSuffix("p1 executed") })
        #expect(story.transcript.contains { $0.contains("page critical failover-agent/proposal/p1") })
        #expect(story.transcript.contains { $0.contains("page info failover-agent/vertex") } == false, "the restore page resolves")
        #expect(story.transcript.contains { $0.contains("page resolve failover-agent/vertex") })
    }

    @Test func theStoryIsTheSameEveryTime() throws {
        let scenario = try ScenarioLoader.parse(YAMLFields.parse(Self.scenario, file: "story.yml"))
        var first = Story(scenario)
        var second = Story(scenario)
        first.run(until: 1800)
        second.run(until: 1800)
        #expect(first.transcript == second.transcript && !first.transcript.isEmpty)
    }
}

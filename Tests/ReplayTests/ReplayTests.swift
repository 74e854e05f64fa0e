import AgentConfig
import Foundation
import Health
import ProbeResults
import Replay
import Scenarios
import TestSupport
import Testing
import YAMLConfig

enum Files {
    static let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let own = here.appendingPathComponent("../../scenarios").standardized.path

    static func yaml(in directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".yml") }.sorted().map {
            "\(directory)/\($0)"
        }
    }
    static var all: [String] { yaml(in: own) }
}

/// One replay, run on a thread of its own: replays are CPU-bound and must not hold the cooperative
/// threads the I/O tests wait on.
func replay(_ scenario: Scenario, policy: HealthPolicy = HealthPolicy()) async throws -> (Replay.Report, [String]) {
    try await onOwnThread {
        var lines: [String] = []
        var options = Replay.Options(planner: ExampleTarget.planner(), targets: [ExampleTarget.name])
        options.policy = policy
        let report = Replay.run(scenario, options: options) { lines.append($0) }
        return (report, lines)
    }
}

@Suite struct ReplayTests {
    @Test func thereAreAtLeastTenScenariosOfOurOwn() {
        #expect(Files.yaml(in: Files.own).count >= 10)
    }

    @Test(arguments: Files.all)
    func everyScenarioPassesWithTheDefaultPolicy(file: String) async throws {
        let scenario = try ScenarioLoader.load(file: file)
        let (report, lines) = try await replay(scenario)
        #expect(report.violations == [], "\(file): \(report.violations ?? [])")
        #expect(lines.last?.contains(#""expect":"pass""#) == true)
    }

    /// The probe caps are hard: no 60 s of any scenario holds more probe starts (what a provider's
    /// rate limiter counts) than `probe_cap_per_endpoint` to one endpoint or `probe_cap_per_provider`
    /// to one provider — confirmation, brownout, recovery and hung probes included.
    /// Run with the default cadences and with cadences that ask four times what the cap allows.
    @Test(arguments: Files.all)
    func noMinuteHoldsMoreProbesThanTheCaps(file: String) async throws {
        var scenario = try ScenarioLoader.load(file: file)
        var eager = HealthPolicy()
        (eager.brownoutInterval, eager.confirmInterval, eager.steadyInterval) = (0.25, 0.25, 1)
        for (seed, policy) in [(1, HealthPolicy()), (2, HealthPolicy()), (3, eager), (4, eager)] {
            scenario.seed = UInt64(seed)
            let (report, _) = try await replay(scenario, policy: policy)
            for provider in Set(scenario.subjects.map(Subject.provider)) {
                #expect(report.starts.maxPerEndpoint(of: provider) <= Int(policy.probeCapPerEndpoint), "\(file) seed \(seed) \(provider)")
                #expect(report.starts.maxPerProvider(provider) <= Int(policy.probeCapPerProvider), "\(file) seed \(seed) \(provider)")
            }
        }
    }

    /// The same expectations hold whatever the random draws: 25 seeds per scenario.
    @Test(arguments: Files.all)
    func expectationsHoldAcrossSeeds(file: String) async throws {
        var scenario = try ScenarioLoader.load(file: file)
        for seed in UInt64(1000)..<1025 {
            scenario.seed = seed
            let (report, _) = try await replay(scenario)
            #expect(report.violations == [], "\(file) seed \(seed): \(report.violations ?? [])")
        }
    }

    /// Hard outages (every request fails from `not_before` on) are decided within 45 s of onset
    /// at the median and never later than 60 s.
    @Test func hardOutagesAreDecidedWithinAMinute() async throws {
        var delays: [Double] = []
        for file in Files.all {
            var scenario = try ScenarioLoader.load(file: file)
            let hard = (scenario.expectedActions ?? []).filter { expected in
                expected.action == .failover && scenario.behaviour(of: expected.provider, at: expected.notBefore)?.failureRate == 1
            }
            guard !hard.isEmpty else { continue }
            for seed in UInt64(1)...20 {
                scenario.seed = seed
                let (report, _) = try await replay(scenario)
                for expected in hard {
                    let decided = report.actions.first {
                        $0.action == .failover && $0.provider == expected.provider && $0.t >= expected.notBefore
                    }
                    delays.append((decided?.t ?? .infinity) - expected.notBefore)
                }
            }
        }
        let sorted = delays.sorted()
        #expect(sorted.count >= 100)
        #expect(sorted[sorted.count / 2] <= 45, "median \(sorted[sorted.count / 2]) s")
        #expect(sorted.last! <= 60, "slowest \(sorted.last!) s")
    }

    @Test func theSameSeedGivesTheSameStory() async throws {
        let scenario = try ScenarioLoader.load(file: Files.own + "/vertex-outage.yml")
        let first = try await replay(scenario).1
        let again = try await replay(scenario).1
        #expect(first == again)
        var other = scenario
        other.seed += 1
        let changed = try await replay(other).1
        #expect(first != changed)
    }

    @Test func outputLinesHaveTheDocumentedShape() async throws {
        let scenario = try ScenarioLoader.load(file: Files.own + "/vertex-outage.yml")
        let (_, lines) = try await replay(scenario)
        let events = try lines.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        let failover = try #require(events.first { $0["event"] as? String == "failover" })
        #expect(failover["provider"] as? String == "vertex")
        #expect(failover["mode"] as? String == "propose")
        #expect(failover["targets"] as? [String] == [ExampleTarget.name])
        let override = try #require(failover["override"] as? [String: [String]])
        #expect(override["duo_chat"] == ["claude_sonnet_4_6_bedrock"], "the example target's plan, without Vertex AI")
        let state = try #require(events.first { $0["event"] as? String == "state" && $0["to"] as? String == "failing" })
        #expect(state["from"] as? String == "suspect")
        let summary = try #require(events.last)
        #expect(summary["event"] as? String == "summary")
        #expect(summary["failovers"] as? Int == 1)
        #expect(summary["restores"] as? Int == 1)
        #expect((summary["probes"] as? Int ?? 0) > 600)
    }

    /// Property: noise below the trip threshold (random rates up to 12%, any failure class the
    /// network can produce, long latency tails) never fails anything over in two hours.
    @Test func randomNoiseBelowTheTripThresholdNeverTrips() async throws {
        var rng = SplitMix64(seed: 42)
        let classes: [ProbeClass] = [.http5xx, .overloaded, .timeout, .connect, .rateLimited, .badBody, .tls]
        for run in 0..<30 {
            var providers: [(name: String, phases: [Scenario.Phase])] = []
            for name in ["vertex", "bedrock", "anthropic"] {
                let p50 = 0.1 + rng.nextDouble() * 0.9
                providers.append(
                    (
                        name,
                        [
                            Scenario.Phase(
                                at: 0, latencyP50: p50, latencyP99: p50 * (1.5 + rng.nextDouble() * 5),
                                failureRate: rng.nextDouble() * 0.12, failureClass: classes[Int(rng.next() % UInt64(classes.count))])
                        ]
                    ))
            }
            let scenario = Scenario(
                name: "noise-\(run)", seed: rng.next(), duration: 7200, providers: providers, agentNetwork: [], expectedActions: [])
            let (report, _) = try await replay(scenario)
            #expect(
                report.actions.isEmpty,
                "run \(run): \(report.actions) with \(providers.map { ($0.name, $0.phases[0].failureRate!, $0.phases[0].failureClass!) })")
        }
    }
}

@Suite struct ExpectationCheckTests {
    let expected = [
        Scenario.ExpectedAction(action: .failover, provider: "vertex", notBefore: 600, by: 660),
        Scenario.ExpectedAction(action: .restore, provider: "vertex", notBefore: 1080, by: 2400),
    ]

    @Test func matchingActionsPass() {
        let actions = [
            Replay.Action(action: .failover, provider: "vertex", t: 630), Replay.Action(action: .restore, provider: "vertex", t: 1300),
        ]
        #expect(ExpectationCheck.violations(expected: expected, actions: actions) == [])
    }

    @Test func lateExtraAndMissingActionsAreViolations() {
        let actions = [
            Replay.Action(action: .failover, provider: "vertex", t: 700),
            Replay.Action(action: .failover, provider: "bedrock", t: 800),
        ]
        #expect(
            ExpectationCheck.violations(expected: expected, actions: actions) == [
                "false failover of vertex at 700s", "false failover of bedrock at 800s",
                "missing failover of vertex between 600s and 660s", "missing restore of vertex between 1080s and 2400s",
            ])
        let twice = [
            Replay.Action(action: .failover, provider: "vertex", t: 610), Replay.Action(action: .failover, provider: "vertex", t: 620),
        ]
        #expect(ExpectationCheck.violations(expected: [expected[0]], actions: twice) == ["false failover of vertex at 620s"])
    }
}

/// Replay runs the agent's real core: its cap on failovers per hour and its modes apply.
@Suite struct ReplayCoreTests {
    func outages(_ names: [String]) -> Scenario {
        let providers = names.enumerated().map { index, name -> (name: String, phases: [Scenario.Phase]) in
            (
                name,
                [
                    Scenario.Phase(at: 0, latencyP50: 0.4, latencyP99: 1, failureRate: 0, failureClass: .http5xx),
                    Scenario.Phase(at: 300 + 600 * Double(index), failureRate: 1),
                    Scenario.Phase(at: 420 + 600 * Double(index), failureRate: 0),
                ]
            )
        }
        return Scenario(name: "outages", seed: 3, duration: 3000, providers: providers, agentNetwork: [], expectedActions: nil)
    }

    @Test func theCapOnFailoversPerHourHolds() {
        let scenario = outages(["a", "b", "c", "d"])
        let capped = Replay.run(scenario, options: .init(maxFailoversPerHour: 2)) { _ in }
        #expect(capped.actions.filter { $0.action == .failover }.map(\.provider) == ["a", "b"])
        let free = Replay.run(scenario, options: .init(maxFailoversPerHour: 10)) { _ in }
        #expect(free.actions.filter { $0.action == .failover }.map(\.provider) == ["a", "b", "c", "d"])
    }

    @Test func performAndProposeDecideTheSameMoments() {
        let scenario = outages(["a", "b"])
        let propose = Replay.run(scenario, options: .init(mode: "propose")) { _ in }
        let perform = Replay.run(scenario, options: .init(mode: "perform")) { _ in }
        #expect(propose.actions == perform.actions)
        #expect(propose.actions.count == 4)
    }
}

/// Incidents of one model: only the features using it move, and never onto a failing replacement.
@Suite struct ModelIncidentTests {
    static func failoverLines(_ name: String) async throws -> [String] {
        let (report, lines) = try await replay(ScenarioLoader.load(file: "\(Files.own)/\(name).yml"))
        #expect(report.passed, "\(report.violations ?? [])")
        return lines.filter { $0.contains(#""event":"failover""#) }
    }

    @Test func aModelIncidentMovesOnlyTheFeaturesUsingThatModel() async throws {
        let lines = try await Self.failoverLines("model-outage")
        #expect(lines.count == 1)
        #expect(lines.first?.contains(#""model":"claude_sonnet_4_6_vertex""#) == true)
        #expect(
            lines.first?.contains(
                #""override":{"duo_chat":["claude_sonnet_4_6_bedrock"],"code_generations":["claude_sonnet_4_6"]}"#) == true,
            "generate_commit_message (Haiku on the same provider) is left alone: \(lines)")
    }

    @Test func aModelThatIsTheOnlySelectableOneIsPagedNotActedOn() async throws {
        let (report, lines) = try await replay(ScenarioLoader.load(file: "\(Files.own)/embedding-model-outage.yml"))
        #expect(report.passed, "\(report.violations ?? [])")
        #expect(report.actions.isEmpty)
        let pages = lines.filter { $0.contains(#""event":"cannot_fail_over""#) }
        #expect(pages.count == 1, "\(pages)")
        #expect(pages.first?.contains("embeddings_code: its only selectable model is text_embedding_005_vertex") == true)
    }

    @Test func aFailingReplacementIsNeverChosen() async throws {
        let lines = try await Self.failoverLines("model-outage-replacement-failing")
        #expect(lines.count == 1, "the failing Bedrock Sonnet is a default of no feature: its own failover changes nothing")
        #expect(lines.first?.contains(#""duo_chat":["claude_sonnet_4_6"]"#) == true, "\(lines)")
        #expect(lines.first?.contains("claude_sonnet_4_6_bedrock") == false)
    }

    @Test func aProviderWideOutageThroughItsModelsIsOneProviderFailover() async throws {
        var loaded = try ScenarioLoader.load(file: "\(Files.own)/vertex-outage.yml")
        loaded.models = ["claude_sonnet_4_6_vertex", "claude_haiku_4_5_20251001_vertex"].map { ("vertex", $0, []) }
        let scenario = loaded
        let endpoints =
            scenario.models.map { ("vertex/\($0.model)", "vertex/\($0.model)") } + [("bedrock", "bedrock"), ("anthropic", "anthropic")]
        let report = try await onOwnThread {
            Replay.run(scenario, options: .init(planner: ExampleTarget.planner(), targets: ["t"], endpoints: endpoints)) { _ in }
        }
        #expect(report.passed, "\(report.violations ?? [])")
        #expect(report.actions.map(\.provider) == ["vertex", "vertex"], "one failover and one restore, of the provider")
    }
}

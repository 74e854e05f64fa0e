import AgentConfig
import Health
import Scenarios
import Testing
import YAMLConfig

@Suite struct ScenarioLoaderTests {
    static let valid = """
        name: x
        duration: 10m
        providers:
          vertex:
            - at: 0s
              latency: {p50: 450ms, p99: 1500ms}
              failure: {rate: 0.01, class: http_5xx}
            - at: 5m
              failure: {rate: 1.0}
        """

    func error(_ text: String) -> String? {
        do {
            _ = try ScenarioLoader.parse(YAMLFields.parse(text, file: "s.yml"))
            return nil
        } catch { return error.description }
    }

    @Test func laterPhasesChangeOnlyTheFieldsTheyName() throws {
        let scenario = try ScenarioLoader.parse(YAMLFields.parse(Self.valid, file: "s.yml"))
        #expect(scenario.seed == 1)
        #expect(scenario.duration == 600)
        #expect(
            scenario.behaviour(of: "vertex", at: 299)
                == Scenario.Behaviour(latencyP50: 0.45, latencyP99: 1.5, failureRate: 0.01, failureClass: .http5xx))
        #expect(
            scenario.behaviour(of: "vertex", at: 300)
                == Scenario.Behaviour(latencyP50: 0.45, latencyP99: 1.5, failureRate: 1.0, failureClass: .http5xx))
        #expect(scenario.expectedActions == nil)
        #expect(scenario.networkUp(at: 0))
    }

    @Test(arguments: [
        ("duration: 1m\nproviders: {a: [{at: 0s}]}\n", "s.yml:1: missing required field name"),
        ("name: x\nproviders: {a: [{at: 0s}]}\n", "missing required field duration"),
        ("name: x\nduration: 1m\n", "missing required field providers"),
        ("name: x\nduration: 1m\nproviders: {a: [{at: 5s}]}\n", "providers.a[0].at: the first phase must start at 0s"),
        ("name: x\nduration: 1m\nproviders: {a: [{at: 0s}, {at: 0s}]}\n", "providers.a[1].at: phases must be in increasing time order"),
        ("name: x\nduration: 1m\nproviders: {a: [{at: 0s, failure: {rate: 2}}]}\n", "providers.a[0].failure.rate: must be between 0 and 1"),
        ("name: x\nduration: 1m\nproviders: {a: [{at: 0s, failure: {class: ok}}]}\n", "providers.a[0].failure.class: 'ok' is not one of"),
        ("name: x\nduration: 1m\nproviders: {a: [{at: 0s, latency: {p50: 2s, p99: 1s}}]}\n", "latency.p99: must not be below p50"),
        ("name: x\nduration: 1m\nproviders: {a: [{at: 0s, latencey: {}}]}\n", "providers.a[0].latencey: unknown field"),
        (
            "name: x\nduration: 1m\nproviders: {a: [{at: 0s}]}\nexpect: {actions: [{action: failover, provider: b}]}\n",
            "expect.actions[0].provider: 'b' is not among"
        ),
        (
            "name: x\nduration: 1m\nproviders: {a: [{at: 0s}]}\nexpect: {actions: [{action: panic, provider: a}]}\n",
            "'panic' is not failover or restore"
        ),
        (
            "name: x\nduration: 1m\nproviders: {a: [{at: 0s}]}\nagent_network: [{at: 1s, up: false}]\n",
            "agent_network[0].at: the first entry must be at 0s"
        ),
        ("name: x\nduration: soon\nproviders: {a: [{at: 0s}]}\n", "duration: 'soon' is not a duration"),
    ])
    func malformedScenariosNameTheField(text: String, message: String) {
        let got = error(text)
        #expect(got?.contains(message) == true, "got \(got ?? "no error")")
    }

    @Test func aModelsPhasesOverlayItsProvidersFromTheirTimeOn() throws {
        let scenario = try ScenarioLoader.parse(
            YAMLFields.parse(
                """
                name: m
                duration: 30m
                providers:
                  vertex:
                    phases:
                      - {at: 0s, latency: {p50: 400ms, p99: 1s}, failure: {rate: 0.01, class: http_5xx}}
                      - {at: 20m, latency: {p50: 2s}}
                    models:
                      claude_sonnet_4_6_vertex:
                        - {at: 10m, failure: {rate: 0.5, class: overloaded}}
                  anthropic:
                    models:
                      claude_sonnet_4_6:
                        - {at: 5m, failure: {rate: 1.0}}
                expect:
                  actions:
                    - {action: failover, provider: vertex, model: claude_sonnet_4_6_vertex, not_before: 10m, by: 12m}
                """, file: "s.yml"))
        let sonnet = "vertex/claude_sonnet_4_6_vertex"
        #expect(scenario.subjects == ["vertex", "anthropic", sonnet, "anthropic/claude_sonnet_4_6"])
        #expect(scenario.behaviour(of: sonnet, at: 599)?.failureRate == 0.01, "as its provider before its first phase")
        #expect(scenario.behaviour(of: sonnet, at: 600)?.failureRate == 0.5)
        #expect(scenario.behaviour(of: sonnet, at: 600)?.failureClass == .overloaded)
        #expect(scenario.behaviour(of: sonnet, at: 1200)?.latencyP50 == 2, "a later provider phase still applies")
        #expect(scenario.behaviour(of: "vertex", at: 600)?.failureRate == 0.01, "the provider itself is fine")
        #expect(scenario.behaviour(of: "anthropic/claude_sonnet_4_6", at: 300)?.failureRate == 1.0)
        #expect(scenario.behaviour(of: "anthropic", at: 300)?.failureRate == 0, "without phases: the defaults")
        let expected = try #require(scenario.expectedActions?.first)
        #expect(expected.isMet(by: .failover, on: sonnet, at: 650))
        #expect(!expected.isMet(by: .failover, on: "vertex", at: 650), "a named model is not met by its provider")
    }

    @Test(arguments: [
        ("providers:\n  vertex: {models: {m: []}}", "s.yml:4: providers.vertex.models.m: needs a list of phases"),
        ("providers:\n  vertex: {phases: [], models: {m: [{at: 0s}]}}", "providers.vertex.phases: needs a list of phases"),
        ("providers:\n  vertex: {phases: [{at: 0s}]}", "missing required field providers.vertex.models"),
        ("providers:\n  vertex: {models: {}}", "needs `models:` with at least one model and its phases"),
        ("providers:\n  vertex: {phases: [{at: 0s}], modles: {}}", "modles"),
    ])
    func badModelEntriesAreRefusedWithTheirField(text: String, message: String) {
        let problem = error("name: x\nduration: 10m\n" + text)
        #expect(problem?.contains(message) == true, "\(problem ?? "accepted")")
    }

    @Test func compoundDurations() {
        #expect(DurationText.parse("10m30s") == .seconds(630))
        #expect(DurationText.parse("1h30m") == .seconds(5400))
        #expect(DurationText.parse("1.5s") == .milliseconds(1500))
        #expect(DurationText.parse("250ms") == .milliseconds(250))
        #expect(DurationText.parse("10") == nil)
        #expect(DurationText.parse("5 minutes") == nil)
        #expect(DurationText.parse("") == nil)
    }
}

@Suite struct PolicyConfigTests {
    func load(_ text: String) throws(ConfigError) -> HealthPolicy {
        try AgentConfiguration.parse(YAMLFields.parse(text, file: "agent.yml")).policy
    }

    @Test func everyFieldCanBeSet() throws {
        let policy = try load(
            """
            policy:
              steady_interval: 15s
              confirm_interval: 3s
              window: 2m
              min_samples: 6
              trip_error_rate: 0.6
              trip_consecutive: 4
              clear_error_rate: 0.05
              clear_consecutive: 4
              min_outage: 45s
              min_healthy: 5m
              max_healthy: 1h
              reflap_window: 1h
              latency_multiple: 3
              latency_floor: 500ms
              latency_ceiling: 8s
              baseline_samples: 50
              baseline_min_samples: 10
              blind_quorum: 0.6
              blind_window: 20s
              control_provider: control
              weights: {rate_limited: 0, slow: 0.5}
            """)
        #expect(policy.steadyInterval == 15 && policy.confirmInterval == 3 && policy.window == 120)
        #expect(policy.minSamples == 6 && policy.tripErrorRate == 0.6 && policy.tripConsecutive == 4)
        #expect(policy.clearErrorRate == 0.05 && policy.clearConsecutive == 4 && policy.minOutage == 45)
        #expect(policy.minHealthy == 300 && policy.maxHealthy == 3600 && policy.reflapWindow == 3600)
        #expect(policy.latencyMultiple == 3 && policy.latencyFloor == 0.5 && policy.latencyCeiling == 8)
        #expect(policy.baselineSamples == 50 && policy.baselineMinSamples == 10)
        #expect(policy.blindQuorum == 0.6 && policy.blindWindow == 20 && policy.controlProvider == "control")
        #expect(policy.weight(.rateLimited) == 0 && policy.weight(.slow) == 0.5)
    }

    @Test(arguments: [
        (
            "policy:\n  trip_error_rate: 0.1\n  clear_error_rate: 0.2\n",
            "agent.yml:3: policy.clear_error_rate: must be below trip_error_rate"
        ),
        ("policy:\n  weights: {auth: 1}\n", "policy.weights.auth: auth is our own fault"),
        ("policy:\n  weights: {bogus: 1}\n", "policy.weights.bogus: is not a failure class"),
        ("policy:\n  min_outage: 0s\n", "policy.min_outage: must be more than 0"),
        ("policy:\n  min_outage: thirty\n", "'thirty' is not a duration"),
        ("policy:\n  trip_rate: 0.5\n", "policy.trip_rate: unknown field"),
        ("polcy: {}\n", "polcy: unknown field"),
        ("policy:\n  confirm_interval: 20s\n", "confirm_interval: must not exceed steady_interval"),
    ])
    func badPoliciesAreRefused(text: String, message: String) {
        do {
            _ = try load(text)
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.description.contains(message), "got \(error.description)")
        }
    }
}

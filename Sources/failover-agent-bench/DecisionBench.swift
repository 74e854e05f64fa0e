import AgentConfig
import ArgumentParser
import BenchSupport
import Foundation
import Health
import ProbeResults
import Replay
import Scenarios
import Selection

/// Decision quality over scenario files: how late each incident is failed over (hard outages of
/// every request, major ones of half or more, brownouts of 25 % to half, slight ones below 25 %, and latency
/// incidents apart), false actions, actions per incident, failovers whose plan is empty, and restores made
/// while the provider still failed 10 % or more; beside each row, the probes a provider took a
/// minute (the most any minute held, and the mean). Scenarios with traffic run twice: as written,
/// and on probes alone.
struct DecisionBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decisions",
        abstract: "Replay every scenario under the given folders on its seed and --seeds more; print decision delays and false actions.")

    @Argument(help: "Folders of scenario files (searched recursively) or scenario files.") var paths: [String]
    @Option(help: "Extra seeds per scenario (at most 200).") var seeds = 40
    @Option(help: "Agent config file whose policy to use; without it, the default policy.") var config: String?

    func validate() throws {
        guard (0...200).contains(seeds) else { throw ValidationError("--seeds must be 0…200") }
    }

    struct Tally {
        var delays: [String: [Double]] = [:]
        var runs = 0, incidents = 0, falseActions = 0, failed = 0, worstPerIncident = 0, dirtyRestores = 0, emptyPlans = 0
        var failedRuns: [String] = []
        /// Kind → the most probes any minute held for one provider, and per provider-run means.
        var probeMax: [String: Int] = [:]
        var probeMeans: [String: [Double]] = [:]
        var endpointMax = 0
    }

    func run() throws {
        var asWritten = Tally()
        var probesAlone = Tally()
        let policy = try config.map { try AgentConfiguration.load(file: $0).policy } ?? HealthPolicy()
        for file in files() {
            let scenario = try ScenarioLoader.load(file: file)
            for offset in 0...seeds {
                var seeded = scenario
                seeded.seed += UInt64(offset)
                replay(seeded, file: file, policy: policy, into: &asWritten)
                if seeded.traffic != nil {
                    seeded.traffic = nil
                    replay(seeded, file: file, policy: policy, into: &probesAlone, countFailures: false)
                }
            }
        }
        print(asWritten, source: nil)
        if probesAlone.runs > 0 { print(probesAlone, source: "probes alone (the scenarios with traffic, without it)") }
    }

    private func replay(_ scenario: Scenario, file: String, policy: HealthPolicy, into tally: inout Tally, countFailures: Bool = true) {
        // As `replay` without --config: the built-in example target plans each failover.
        let options = Replay.Options(policy: policy, planner: ExampleTarget.planner(), targets: [ExampleTarget.name])
        let report = Replay.run(scenario, options: options) { _ in }
        tally.runs += 1
        if !report.passed {
            tally.failed += 1
            tally.failedRuns.append(
                "\(URL(fileURLWithPath: file).lastPathComponent)\(scenario.traffic == nil ? "" : " (traffic)") seed \(scenario.seed): "
                    + "\((report.violations ?? []).joined(separator: "; "))")
        }
        // A provider the example catalog does not know (`openai`) has no plan here to judge.
        let planner = ExampleTarget.planner()
        for action in report.actions
        where action.action == .failover && planner.catalog.providers.contains(Subject.provider(action.provider)) {
            if planner.plan(current: ModelOverride(), failing: [action.provider]).isEmpty { tally.emptyPlans += 1 }
        }
        measure(scenario, report, into: &tally)
    }

    private func print(_ tally: Tally, source: String?) {
        if let source { writeLine("-- \(source)") }
        writeLine(
            "runs=\(tally.runs) incidents=\(tally.incidents) failed_runs=\(tally.failed) false_actions=\(tally.falseActions) "
                + "empty_plan_actions=\(tally.emptyPlans) most_actions_per_incident=\(tally.worstPerIncident) "
                + "restores_at_10pct_or_more=\(tally.dirtyRestores) max_probes_per_provider_minute=\(tally.probeMax.values.max() ?? 0) "
                + "max_probes_per_endpoint_minute=\(tally.endpointMax) (caps: \(Int(HealthPolicy().probeCapPerProvider)), "
                + "\(Int(HealthPolicy().probeCapPerEndpoint)))"
        )
        for kind in ["hard", "major", "brownout", "slight", "latency", "none"].flatMap({ [$0, $0 + "+traffic"] }) {
            let delays = (tally.delays[kind] ?? []).sorted()
            let means = tally.probeMeans[kind] ?? []
            guard !delays.isEmpty || !means.isEmpty else { continue }
            let probes =
                "probes_per_provider_minute: max=\(tally.probeMax[kind] ?? 0) mean=\(fixed(means.reduce(0, +) / Double(max(1, means.count)), 1))"
            guard !delays.isEmpty else {
                writeLine("\(kind): no incident \(probes)")
                continue
            }
            writeLine(
                "\(kind): incidents=\(delays.count) median_delay_s=\(fixed(delays[delays.count / 2], 1)) "
                    + "worst_delay_s=\(fixed(delays.last!, 1)) \(probes)"
            )
        }
        for line in tally.failedRuns.prefix(20) { writeLine("failed: \(line)") }
    }

    private static func kind(_ scenario: Scenario, _ incident: Scenario.ExpectedAction) -> String {
        let behaviour = scenario.behaviour(of: incident.subject, at: incident.notBefore + 1)
        let rate = behaviour?.failureRate ?? 0
        let kind =
            (behaviour?.latencyP50 ?? 0) >= 5
            ? "latency" : rate >= 1 ? "hard" : rate >= 0.5 ? "major" : rate >= 0.25 ? "brownout" : "slight"
        return kind + (scenario.traffic == nil ? "" : "+traffic")
    }

    private func measure(_ scenario: Scenario, _ report: Replay.Report, into tally: inout Tally) {
        let expected = scenario.expectedActions ?? []
        var matched = 0
        // The scenario's kind is its first incident's (none: a scenario of noise alone).
        let scenarioKind =
            expected.first { $0.action == .failover }.map { Self.kind(scenario, $0) } ?? "none"
            + (scenario.traffic == nil ? "" : "+traffic")
        for provider in scenario.providerNames {
            tally.probeMax[scenarioKind] = max(tally.probeMax[scenarioKind] ?? 0, report.starts.maxPerProvider(provider))
            tally.probeMeans[scenarioKind, default: []].append(report.starts.meanPerMinute(provider, duration: scenario.duration))
            tally.endpointMax = max(tally.endpointMax, report.starts.maxPerEndpoint(of: provider))
        }
        for incident in expected where incident.action == .failover {
            tally.incidents += 1
            let kind = Self.kind(scenario, incident)
            let restoreBy =
                expected.first { $0.action == .restore && $0.subject == incident.subject && $0.notBefore >= incident.notBefore }?.by
                ?? scenario.duration
            let inside = report.actions.filter {
                incident.names($0.provider) && $0.t >= incident.notBefore && $0.t <= restoreBy
            }
            tally.worstPerIncident = max(
                tally.worstPerIncident, inside.filter { $0.action == .failover }.count, inside.filter { $0.action == .restore }.count)
            if let first = inside.first(where: { $0.action == .failover }), first.t <= incident.by {
                tally.delays[kind, default: []].append(first.t - incident.notBefore)
            }
        }
        for action in report.actions {
            if expected.contains(where: { $0.isMet(by: action.action, on: action.provider, at: action.t) }) {
                matched += 1
            }
            if action.action == .restore, (scenario.behaviour(of: action.provider, at: action.t)?.failureRate ?? 0) >= 0.1 {
                tally.dirtyRestores += 1
            }
        }
        tally.falseActions += max(0, report.actions.count - matched)
    }

    private func files() -> [String] {
        paths.flatMap { path -> [String] in
            guard FileManager.default.isDirectory(path) else { return [path] }
            let found = FileManager.default.enumerator(atPath: path)?.allObjects as? [String] ?? []
            return found.filter { $0.hasSuffix(".yml") }.sorted().map { path + "/" + $0 }
        }
    }
}

extension FileManager {
    func isDirectory(_ path: String) -> Bool {
        var directory: ObjCBool = false
        return fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
    }
}

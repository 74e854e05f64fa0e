import AgentConfig
import ArgumentParser
import BenchSupport
import Foundation
import Health
import Replay
import Scenarios

/// Decision quality over scenario files: how late each incident is failed over (hard outages of
/// every request, major ones of half or more, brownouts of 25 % to half, slight ones below 25 %, and latency
/// incidents apart), false actions, actions per incident, and restores made
/// while the provider still failed 10 % or more.
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
        var runs = 0, incidents = 0, falseActions = 0, failed = 0, worstPerIncident = 0, dirtyRestores = 0
        var failedRuns: [String] = []
    }

    func run() throws {
        var tally = Tally()
        let policy = try config.map { try AgentConfiguration.load(file: $0).policy } ?? HealthPolicy()
        for file in files() {
            let scenario = try ScenarioLoader.load(file: file)
            for offset in 0...seeds {
                var seeded = scenario
                seeded.seed += UInt64(offset)
                // As `replay` without --config: the built-in example target plans each failover.
                let options = Replay.Options(policy: policy, planner: ExampleTarget.planner(), targets: [ExampleTarget.name])
                let report = Replay.run(seeded, options: options) { _ in }
                tally.runs += 1
                if !report.passed {
                    tally.failed += 1
                    tally.failedRuns.append(
                        "\(URL(fileURLWithPath: file).lastPathComponent) seed \(seeded.seed): "
                            + "\((report.violations ?? []).joined(separator: "; "))"
                    )
                }
                measure(seeded, report, into: &tally)
            }
        }
        writeLine(
            "runs=\(tally.runs) incidents=\(tally.incidents) failed_runs=\(tally.failed) false_actions=\(tally.falseActions) "
                + "most_actions_per_incident=\(tally.worstPerIncident) restores_at_10pct_or_more=\(tally.dirtyRestores)"
        )
        for kind in ["hard", "major", "brownout", "slight", "latency"] {
            let delays = (tally.delays[kind] ?? []).sorted()
            guard !delays.isEmpty else { continue }
            writeLine(
                "\(kind): incidents=\(delays.count) median_delay_s=\(fixed(delays[delays.count / 2], 1)) "
                    + "worst_delay_s=\(fixed(delays.last!, 1))"
            )
        }
        for line in tally.failedRuns.prefix(20) { writeLine("failed: \(line)") }
    }

    private func measure(_ scenario: Scenario, _ report: Replay.Report, into tally: inout Tally) {
        let expected = scenario.expectedActions ?? []
        var matched = 0
        for incident in expected where incident.action == .failover {
            tally.incidents += 1
            let behaviour = scenario.behaviour(of: incident.subject, at: incident.notBefore + 1)
            let rate = behaviour?.failureRate ?? 0
            let kind =
                (behaviour?.latencyP50 ?? 0) >= 5
                ? "latency" : rate >= 1 ? "hard" : rate >= 0.5 ? "major" : rate >= 0.25 ? "brownout" : "slight"
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

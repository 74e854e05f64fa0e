import AgentConfig
import ArgumentParser
import ProbeResults
import Replay
import Scenarios
import Selection
import YAMLConfig

struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Run a scenario in virtual time through the real scheduler and health machine; print JSON lines.",
        discussion: """
            Exit status: 0 when the scenario's expectations hold (or it has none), 1 when they do not, \
            2 when the scenario or config file is malformed.
            """)

    @Argument(help: "Scenario file (format: scenarios/README.md in the repository).") var file: String
    @Option(help: "Agent config file; without it, the default policy.") var config: String?
    @Flag(help: "Also print one line per probe.") var verbose = false
    @Option(help: "Replay on the scenario's seed and this many more (one summary line each, then a count).") var seeds: Int?

    func run() throws {
        let scenario: Scenario
        let configuration: AgentConfiguration
        do {
            scenario = try ScenarioLoader.load(file: file)
            configuration = try config.map { path throws(ConfigError) in try AgentConfiguration.load(file: path) } ?? AgentConfiguration()
        } catch {
            printError("error: \(error)")
            throw ExitCode(2)
        }
        let planner: Planner
        let targets: [String]
        let mode: String
        var endpoints: [(name: String, subject: String)]?
        var stretch: [String: Double] = [:]
        if config != nil, configuration.catalog != nil, !configuration.targets.isEmpty {
            do {
                planner = try configuration.planner()
                // With model_probes, the derived endpoints, and one per provider of the scenario none of them is on.
                if configuration.modelProbes != nil {
                    let probes = try ProbeSet.build(configuration, planner: planner, handWritten: [], environment: nil)
                    let covered = Set(probes.entries.map { Subject.provider($0.subject) })
                    endpoints = probes.endpoints + scenario.providerNames.filter { !covered.contains($0) }.map { ($0, $0) }
                    stretch = probes.stretch(steady: configuration.policy.steadyInterval)
                }
            } catch {
                printError("error: \(error)")
                throw ExitCode(2)
            }
            targets = configuration.targets.map(\.name)
            mode = configuration.targets[0].mode.rawValue
        } else {
            (planner, targets, mode) = (ExampleTarget.planner(), [ExampleTarget.name], "propose")
        }
        guard let seeds else {
            let report = Replay.run(
                scenario,
                options: .init(
                    policy: configuration.policy, mode: mode, maxFailoversPerHour: configuration.agent.maxFailoversPerHour,
                    verbose: verbose, planner: planner, targets: targets, endpoints: endpoints, stretch: stretch)
            ) { print($0) }
            if !report.passed { throw ExitCode(1) }
            return
        }
        var failed = 0
        for offset in 0...max(0, seeds) {
            var seeded = scenario
            seeded.seed += UInt64(offset)
            let report = Replay.run(
                seeded,
                options: .init(
                    policy: configuration.policy, mode: mode, maxFailoversPerHour: configuration.agent.maxFailoversPerHour,
                    planner: planner,
                    targets: targets)
            ) { _ in }
            print(#"{"seed":\#(seeded.seed),"# + report.summaryLine.dropFirst())
            if !report.passed { failed += 1 }
        }
        print("\(seeds + 1 - failed) passed, \(failed) failed")
        if failed > 0 { throw ExitCode(1) }
    }
}

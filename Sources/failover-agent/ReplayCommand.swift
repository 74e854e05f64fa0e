import ConfigFiles
import ArgumentParser
import Config
import Replay
import Scenarios

struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Run a scenario in virtual time through the real scheduler and health machine; print JSON lines.",
        discussion: """
            Exit status: 0 when the scenario's expectations hold (or it has none), 1 when they do not, \
            2 when the scenario or config file is malformed.
            """)

    @Argument(help: "Scenario file (format: ../shared/scenarios/README.md).") var file: String
    @Option(help: "Agent config file; without it, the default policy.") var config: String?
    @Flag(help: "Also print one line per probe.") var verbose = false

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
        let report = Replay.run(scenario, options: .init(policy: configuration.policy, verbose: verbose)) { print($0) }
        if !report.passed { throw ExitCode(1) }
    }
}

import AgentConfig
import ArgumentParser
import Foundation
import HTTP
import ProbeResults
import Probing
import Secrets

struct ProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Run every probe spec in a directory (or every endpoint of a config) once, concurrently, and print the results.",
        discussion: """
            Exit status: 0 when every probe is ok, 1 when any is not, 2 when a spec is malformed or \
            names an unset variable (the valid specs still run).
            """)

    @Option(help: "Directory of probe specs (*.yml), one probe per file.")
    var probes = "probes"

    @Option(help: "Agent config: probe every endpoint `run` would (its agent.probes and the probes model_probes derives).")
    var config: String?

    @Flag(help: "One JSON line per probe instead of a table.")
    var json = false

    @Option(help: "PEM bundle of CA certificates to trust instead of the system's.")
    var caBundle: String?

    func run() async throws {
        if let caBundle, !FileManager.default.isReadableFile(atPath: caBundle) {
            printError("error: --ca-bundle \(caBundle): no readable file there")
            throw ExitCode(2)
        }
        let environment = ProcessInfo.processInfo.environment
        var (specs, errors) = ProbeSpecLoader.loadDirectory(probes, environment: environment)
        if let config {
            let (configuration, planner) = try loadConfiguration(config)
            let handWritten: [ProbeSpec]
            (handWritten, errors) = configuration.handWrittenProbes(environment: environment)
            do {
                specs = try ProbeSet.build(configuration, planner: planner, handWritten: handWritten, environment: environment).specs
            } catch {
                printError("error: \(error)")
                throw ExitCode(2)
            }
        }
        for error in errors { printError("error: \(error)") }
        let client = HTTPClient(configuration: .init(caBundle: caBundle))
        let results = await Prober(client: client, clock: processClock).probeAll(specs)
        client.shutdown()
        if json {
            for result in results { print(result.jsonLine) }
        } else if !results.isEmpty {
            print(ResultTable.render(results))
        }
        if !errors.isEmpty { throw ExitCode(2) }
        if results.contains(where: { $0.resultClass != .ok }) { throw ExitCode(1) }
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data((Terminal.safe(Secrets.scrub(message)) + "\n").utf8))
}

import ArgumentParser
import Foundation
import HTTP
import ProbeResults
import Probing
import Sandbox

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Probe simulated providers on 127.0.0.1 through the real probe engine, healthy and then failing.",
        discussion: "Starts the Sandbox providers, writes probe specs for them, and probes them round by round as each degrades.")

    func run() async throws {
        let flavors: [ProviderFlavor] = [.anthropic, .vertex, .bedrock, .openai]
        var simulators: [ProviderFlavor: ProviderSimulator] = [:]
        for flavor in flavors { simulators[flavor] = try await ProviderSimulator.start(flavor) }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("failover-agent-demo-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for flavor in flavors {
            let spec = """
                provider: \(flavor.rawValue)
                url: \(simulators[flavor]!.baseURL)/probe
                method: POST
                headers:
                  content-type: application/json
                  x-api-key: ${DEMO_KEY}
                body: '{"max_tokens":1}'
                timeout: 1s
                latency_budget: 300ms
                """
            try spec.write(toFile: "\(directory)/\(flavor.rawValue).yml", atomically: true, encoding: .utf8)
        }
        let (specs, errors) = ProbeSpecLoader.loadDirectory(directory, environment: ["DEMO_KEY": "demo-secret-key"])
        guard errors.isEmpty else { throw ValidationError(errors.map(\.description).joined(separator: "\n")) }

        let rounds: [(String, [ProviderFlavor: ProviderSimulator.Outcome])] = [
            ("every provider healthy", [:]),
            ("Vertex AI answers 503, Anthropic is overloaded", [.vertex: .answer(.http5xx), .anthropic: .answer(.overloaded)]),
            ("Bedrock throttles us, OpenAI slows past its budget", [.bedrock: .answer(.rateLimited), .openai: .answer(.ok, latency: .milliseconds(450))]),
            ("Vertex AI hangs, Bedrock drops connections, OpenAI rejects our key", [.vertex: .answer(.timeout), .bedrock: .answer(.connect), .openai: .answer(.auth)]),
        ]
        let client = HTTPClient()
        let prober = Prober(client: client)
        for (title, outcomes) in rounds {
            for flavor in flavors { simulators[flavor]!.set(outcomes[flavor] ?? .answer(.ok)) }
            print("\n== \(title)")
            print(ResultTable.render(await prober.probeAll(specs)))
        }
        client.shutdown()
        for simulator in simulators.values { await simulator.stop() }
        print("\nEach probe above went through libcurl to a real HTTP server on 127.0.0.1 and was classified from its status, headers and body.")
    }
}

import Foundation
import ProviderSimulators
import Testing

/// `failover-agent probe` as a user runs it: the built binary, specs on disk, simulators on 127.0.0.1.
@Suite struct ProbeCommandTests {
    static var binary: String {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("failover-agent")
            .path
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../.build/debug/failover-agent")
            .standardized.path
    }

    func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = arguments
        process.environment = environment
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self), String(decoding: errors, as: UTF8.self))
    }

    @Test func jsonLinesClassifyEveryCaseAndABadSpecExits2() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cases: [(String, ProviderFlavor, ProviderSimulator.Outcome)] = [
            ("ok", .anthropic, .answer(.ok)), ("slow", .openai, .answer(.ok, latency: .milliseconds(1500))),
            ("http_5xx", .vertex, .answer(.http5xx)), ("overloaded", .anthropic, .answer(.overloaded)),
            ("rate_limited", .bedrock, .answer(.rateLimited)), ("timeout", .vertex, .answer(.timeout)),
            ("connect", .bedrock, .answer(.connect)), ("auth", .openai, .answer(.auth)),
            ("bad_request", .vertex, .answer(.badRequest)), ("bad_body", .fireworks, .answer(.badBody)),
        ]
        var simulators: [ProviderSimulator] = []
        for (name, flavor, outcome) in cases {
            let simulator = try await ProviderSimulator.start(flavor, outcome: outcome)
            simulators.append(simulator)
            try spec(flavor.rawValue, url: simulator.baseURL + "/v1").write(
                toFile: "\(directory)/\(name).yml", atomically: true, encoding: .utf8)
        }
        try spec("vertex", url: "https://127.0.0.1:\(simulators[0].port)/").write(
            toFile: "\(directory)/tls.yml", atomically: true, encoding: .utf8)
        try "provider: vertex\nurl: http://127.0.0.1:\(simulators[0].port)/\ntimeout: soon\n".write(
            toFile: "\(directory)/zz-malformed.yml", atomically: true, encoding: .utf8)

        let (status, out, err) = try run(["probe", "--probes", directory, "--json"], environment: ["PROBE_KEY": "cli-secret-key"])
        for simulator in simulators { await simulator.stop() }

        #expect(status == 2)
        #expect(err.contains("\(directory)/zz-malformed.yml:3: timeout: 'soon' is not a duration"))
        let lines = out.split(separator: "\n").map(String.init)
        #expect(lines.count == cases.count + 1)
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let probe = try #require(object["probe"] as? String)
            #expect(object["class"] as? String == probe, "\(line)")
            for key in ["provider", "status", "dns_ms", "connect_ms", "tls_ms", "ttfb_ms", "total_ms"] {
                #expect(object[key] != nil, "\(key) in \(line)")
            }
        }
        #expect(!out.contains("cli-secret-key") && !err.contains("cli-secret-key"))
    }

    /// Streamed answers: an `overloaded_error` event inside a 200, an OpenAI `error` chunk, a stream
    /// cut before its end, and a first token after the budget.
    @Test func streamProbesReadTheStreamToItsEnd() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cases: [(String, ProviderFlavor, ProviderSimulator.Outcome)] = [
            ("overloaded", .anthropic, .stream(.overloaded)), ("http_5xx", .openai, .stream(.http5xx)),
            ("bad_body", .anthropic, .stream(.badBody)), ("slow", .openai, .stream(.slow, latency: .milliseconds(1500))),
            ("ok", .vertex, .stream(.ok)),
        ]
        var simulators: [ProviderSimulator] = []
        for (name, flavor, outcome) in cases {
            let simulator = try await ProviderSimulator.start(flavor, outcome: outcome)
            simulators.append(simulator)
            try (spec(flavor.rawValue, url: simulator.baseURL + "/v1") + "\nstream: true\n").write(
                toFile: "\(directory)/\(name).yml", atomically: true, encoding: .utf8)
        }
        let (_, out, err) = try run(["probe", "--probes", directory, "--json"], environment: ["PROBE_KEY": "cli-secret-key"])
        for simulator in simulators { await simulator.stop() }
        let lines = out.split(separator: "\n").map(String.init)
        #expect(lines.count == cases.count, "\(out)\(err)")
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(object["class"] as? String == object["probe"] as? String, "\(line)")
        }
    }

    @Test func allOkExits0WithATable() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let simulator = try await ProviderSimulator.start(.bedrock)
        try spec("bedrock", url: simulator.baseURL).write(toFile: "\(directory)/bedrock.yml", atomically: true, encoding: .utf8)
        let (status, out, _) = try run(["probe", "--probes", directory], environment: ["PROBE_KEY": "k"])
        await simulator.stop()
        #expect(status == 0)
        #expect(out.hasPrefix("PROVIDER"))
        #expect(out.contains("bedrock   bedrock  ok     200"))
    }

    /// With `--config`, every endpoint `run` would probe: here the Anthropic models the catalog's
    /// features use or may fail over to, derived by `model_probes`, sent to a simulated Anthropic.
    @Test func aConfigProbesEveryDerivedEndpointOnce() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let simulator = try await ProviderSimulator.start(.anthropic)
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../fixtures/aigw")
            .standardized.path
        try """
        catalog: {models: \(fixtures)/models.yml, unit_primitives: \(fixtures)/unit_primitives.yml}
        model_probes:
          anthropic: {api_key_env: ANTHROPIC_KEY, base_url: "\(simulator.baseURL)"}
        """.write(toFile: directory + "/agent.yml", atomically: true, encoding: .utf8)
        let (status, out, err) = try run(
            ["probe", "--config", directory + "/agent.yml", "--json"], environment: ["ANTHROPIC_KEY": "cli-derived-key-4e1a"])
        let requests = simulator.requests
        await simulator.stop()
        #expect(status == 0, "\(err)")
        let lines = out.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let probed = Set(lines.compactMap { $0["probe"] as? String })
        #expect(probed.contains("claude_sonnet_4_6") && probed.contains("claude_haiku_4_5_20251001"), "\(out)")
        #expect(lines.allSatisfy { $0["provider"] as? String == "anthropic" && $0["class"] as? String == "ok" })
        #expect(requests.count == lines.count)
        #expect(requests.allSatisfy { $0.uri == "/v1/messages" && $0.header("x-api-key") == "cli-derived-key-4e1a" })
        #expect(!out.contains("cli-derived-key-4e1a"))
    }

    private func spec(_ provider: String, url: String) -> String {
        """
        provider: \(provider)
        url: \(url)
        method: POST
        headers:
          x-api-key: ${PROBE_KEY}
          content-type: application/json
        body: '{"max_tokens":1}'
        timeout: 2500ms
        latency_budget: 1s
        """
    }
}

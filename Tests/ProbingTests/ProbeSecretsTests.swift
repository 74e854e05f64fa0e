import Foundation
import HTTP
import HTTPServer
import ProbeResults
import Probing
import Secrets
import Testing
import Timekeeping
import YAMLConfig

/// Row 9 of the hardening review: what a probe reports never carries a credential it sent, even
/// when the provider echoes every header and the query back in its error.
@Suite struct ProbeSecretsTests {
    @Test func echoedCredentialsAreScrubbedFromWhatAProbeReports() async throws {
        let server = try await HTTPServer.start { request in
            let echo = request.headers.map { "\($0.name)=\($0.value)" }.joined(separator: ";") + ";uri=" + request.uri
            return .json(401, #"{"error":{"type":"\#(echo.replacingOccurrences(of: "\"", with: ""))"}}"#)
        }
        defer { Task { await server.stop() } }
        let tokenFile = FileManager.default.temporaryDirectory.appendingPathComponent("token-\(UUID())").path
        let googleToken = "ya29.echoed-google-token-\(UUID().uuidString)"
        try googleToken.write(toFile: tokenFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: tokenFile) }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("probes-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try """
        provider: azure
        url: \(server.baseURL)/openai/deployments/x/chat?api-version=2024-10-21&key=${AZ_KEY}
        method: POST
        headers:
          Ocp-Apim-Subscription-Key: ${SUB_KEY}
          X-Custom-Secret: ${CUSTOM}
          content-type: application/json
        body: '{}'
        auth:
          google_token:
            file: \(tokenFile)
        """.write(toFile: directory + "/echo.yml", atomically: true, encoding: .utf8)
        let env = [
            "AZ_KEY": "query-key-\(UUID().uuidString)", "SUB_KEY": "subscription-\(UUID().uuidString)",
            "CUSTOM": "custom-\(UUID().uuidString)",
        ]
        let (specs, errors) = ProbeSpecLoader.loadDirectory(directory, environment: env)
        #expect(errors.isEmpty)
        let client = HTTPClient()
        defer { client.shutdown() }
        let result = await Prober(client: client, clock: WallClock()).probe(try #require(specs.first))
        #expect(result.resultClass == .auth)
        let shown = [result.jsonLine, result.detail ?? "", Secrets.scrub(try #require(specs.first).url)]
        #expect(
            result.detail?.contains("ocp-apim-subscription-key=") == true || result.detail?.contains("Ocp-Apim-Subscription-Key=") == true,
            "the echo came back: \(result.detail ?? "")")
        for text in shown {
            for secret in [googleToken, env["AZ_KEY"]!, env["SUB_KEY"]!, env["CUSTOM"]!] {
                #expect(!text.contains(secret), "\(secret) in \(text)")
            }
        }
        #expect(Redaction.isSensitive(header: "Ocp-Apim-Subscription-Key") && Redaction.isSensitive(header: "api-key"))
        #expect(!Redaction.isSensitive(header: "anthropic-version") && !Redaction.isSensitive(header: "content-type"))
    }

    /// Row 4 and 13: durations past any field's bound, and oversized specs, are errors naming the
    /// field; nothing traps.
    @Test(arguments: [
        ("timeout: 99999999999999999h", "timeout: 99999999999999999h is too long: at most 5m"),
        ("timeout: 10m", "timeout: 10m is too long: at most 5m"),
        ("timeout: 1e308s", "timeout:"),
        ("auth: {google_token: {file: /t, lifetime: 2h}}", "auth.google_token.lifetime: 2h is too long: at most 1h"),
    ])
    func durationsAreBounded(line: String, message: String) throws {
        let text = "provider: vertex\nurl: https://x/\n\(line)\n"
        #expect {
            _ = try ProbeSpecLoader.parse(YAMLFields.parse(text, file: "probes/x.yml"), environment: [:])
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test func anOversizedBodyOrFileIsRefused() throws {
        let body = String(repeating: "a", count: 70_000)
        #expect {
            _ = try ProbeSpecLoader.parse(
                YAMLFields.parse("provider: vertex\nurl: https://x/\nexpect_body: any\nbody: '\(body)'\n", file: "probes/x.yml"),
                environment: [:])
        } throws: { error in
            "\(error)".contains("body: is 70000 bytes; a probe sends at most 65536")
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("big-\(UUID()).yml").path
        try ("provider: vertex\nurl: https://x/\n# " + String(repeating: "x", count: 5 << 20) + "\n").write(
            toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        #expect {
            _ = try ProbeSpecLoader.load(file: file, environment: [:])
        } throws: { error in
            "\(error)".contains("the file is 5 MiB; at most 4 MiB is read")
        }
    }
}

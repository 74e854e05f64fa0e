import AWSSigning
import Foundation
import HTTP
import ProbeResults
import Probing
import Testing
import Timekeeping

/// Every Bedrock request the agent sends verifies with botocore's signer (AWS's own SDK) on a
/// loopback endpoint: the shipped `probes/bedrock.yml`, a model id with `:`, a session token and
/// a query string. `python3` with botocore is required (`deploy/install-deps.sh` installs it).
@Suite(.serialized) struct SigV4OracleTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized.path
    static let key = "AKIDORACLE", secret = "oracle/Secret+Key=", token = "IQoJb3JpZ2luX2VjEXAMPLE//token=="

    /// The oracle process, the port it listens on, and a pipe whose closing ends it.
    final class Oracle: @unchecked Sendable {
        let process = Process()
        let stdin = Pipe()
        var baseURL = ""

        init(region: String, service: String, token: String?) async throws {
            let portFile = FileManager.default.temporaryDirectory.appendingPathComponent("sigv4-oracle-\(UUID())").path
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments =
                [
                    "python3", SigV4OracleTests.root + "/Tests/Oracles/sigv4_oracle.py", portFile, SigV4OracleTests.key,
                    SigV4OracleTests.secret, region, service,
                ] + (token.map { [$0] } ?? [])
            process.standardInput = stdin
            try process.run()
            for _ in 0..<200 {
                if let port = try? String(contentsOfFile: portFile, encoding: .utf8) {
                    baseURL = "http://127.0.0.1:\(port)"
                    try? FileManager.default.removeItem(atPath: portFile)
                    return
                }
                if !process.isRunning { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            stop()
            throw OracleMissing()
        }

        func stop() {
            try? stdin.fileHandleForWriting.close()
            if process.isRunning { process.terminate() }
        }
    }

    struct OracleMissing: Error, CustomStringConvertible {
        var description: String { "the SigV4 oracle did not start: python3 with botocore is required (deploy/install-deps.sh installs it)" }
    }

    func probe(_ spec: ProbeSpec, against oracle: Oracle) async -> ProbeResult {
        var spec = spec
        let path = spec.url.split(separator: "/", maxSplits: 3, omittingEmptySubsequences: false).dropFirst(3).first.map { "/" + $0 } ?? "/"
        spec.url = oracle.baseURL + path
        let client = HTTPClient()
        defer { client.shutdown() }
        return await Prober(client: client, clock: WallClock()).probe(spec)
    }

    @Test func theShippedBedrockSpecVerifiesAsShipped() async throws {
        let oracle = try await Oracle(region: "eu-central-1", service: "bedrock", token: Self.token)
        defer { oracle.stop() }
        let env = [
            "AWS_REGION": "eu-central-1", "AWS_ACCESS_KEY_ID": Self.key, "AWS_SECRET_ACCESS_KEY": Self.secret,
            "AWS_SESSION_TOKEN": Self.token,
        ]
        let spec = try ProbeSpecLoader.load(file: Self.root + "/probes/bedrock.yml", environment: env)
        #expect(spec.url.contains(":0/converse") || spec.url.contains("%3A0/converse"))
        let result = await probe(spec, against: oracle)
        #expect(result.resultClass == .ok, "\(result.detail ?? "")")
        #expect(!(result.detail ?? "").contains(Self.secret))
    }

    @Test(arguments: [
        "/model/anthropic.claude-sonnet-4-5-20250929-v1:0/converse",
        "/model/global.anthropic.claude-haiku-4-5-20251001-v1%3A0/converse-stream",
        "/model/us.anthropic.claude-opus-4-1-20250805-v1:0/invoke?trace=ENABLED&a=b c&a=%2F",
        "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123%3Ainference-profile%2Fx/converse",
    ]) func pathsQueriesAndTokensVerify(path: String) async throws {
        for token in [nil, Self.token] {
            let oracle = try await Oracle(region: "us-east-1", service: "bedrock", token: token)
            defer { oracle.stop() }
            let signer = SigV4Signer(
                region: "us-east-1", service: "bedrock",
                credentials: AWSCredentials(accessKeyID: Self.key, secretAccessKey: Self.secret, sessionToken: token))
            let spec = ProbeSpec(
                provider: "bedrock", name: "oracle", method: "POST", url: "https://bedrock" + path,
                headers: [HTTPHeader("content-type", "application/json"), HTTPHeader("accept", "application/json")],
                body: #"{"messages":[{"role":"user","content":[{"text":"ping"}]}],"inferenceConfig":{"maxTokens":1}}"#,
                auth: .awsSigV4(signer))
            let result = await probe(spec, against: oracle)
            #expect(result.resultClass == .ok, "\(path) token=\(token != nil): \(result.detail ?? "")")
        }
    }

    /// The oracle can fail: a wrong secret is refused as AWS refuses it, and the probe is class `auth`.
    @Test func aWrongSecretIsRefused() async throws {
        let oracle = try await Oracle(region: "us-east-1", service: "bedrock", token: nil)
        defer { oracle.stop() }
        let signer = SigV4Signer(
            region: "us-east-1", service: "bedrock", credentials: AWSCredentials(accessKeyID: Self.key, secretAccessKey: "not-the-secret"))
        let spec = ProbeSpec(
            provider: "bedrock", name: "oracle", method: "POST", url: "https://bedrock/model/m:0/converse", body: "{}",
            auth: .awsSigV4(signer))
        let result = await probe(spec, against: oracle)
        #expect(result.resultClass == .auth)
        #expect(result.status == 403)
    }
}

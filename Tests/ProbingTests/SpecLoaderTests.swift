import AWSSigning
import Foundation
import HTTP
import Probing
import Testing
import YAMLConfig

@Suite struct SpecLoaderTests {
    static let env = ["KEY": "sk-1234", "REGION": "eu-west-1"]

    func parse(_ yaml: String, file: String = "probes/x.yml", env: [String: String] = env) throws(ConfigError) -> ProbeSpec {
        try ProbeSpecLoader.parse(YAMLFields.parse(yaml, file: file), environment: env)
    }

    func error(_ yaml: String, env: [String: String] = env) -> ConfigError? {
        do {
            _ = try parse(yaml, env: env)
            return nil
        } catch { return error }
    }

    @Test func aFullSpecLoadsWithVariablesFilled() throws {
        let spec = try parse(
            """
            provider: anthropic
            url: https://api.example/${REGION}/v1
            method: post
            headers:
              x-api-key: ${KEY}
              content-type: application/json
            body: '{"max_tokens":1}'
            timeout: 8s
            latency_budget: 1500ms
            """)
        #expect(spec.provider == "anthropic")
        #expect(spec.name == "x")
        #expect(spec.url == "https://api.example/eu-west-1/v1")
        #expect(spec.method == "POST")
        #expect(spec.headers == [HTTPHeader("x-api-key", "sk-1234"), HTTPHeader("content-type", "application/json")])
        #expect(spec.timeout == .seconds(8))
        #expect(spec.latencyBudget == .milliseconds(1500))
        #expect(spec.secrets.contains("sk-1234"))
    }

    @Test func defaultsApply() throws {
        let spec = try parse("provider: openai\nurl: http://127.0.0.1/")
        #expect(spec.method == "GET")
        #expect(spec.timeout == .seconds(10))
        #expect(spec.latencyBudget == .seconds(5))
        #expect(spec.freshConnection)
        #expect(spec.expectBody == .json)
    }

    @Test func aMissingVariableNamesFileLineFieldAndVariable() {
        let e = error("provider: anthropic\nurl: https://a/\nheaders:\n  x-api-key: ${NOPE}\n")
        #expect(e?.description == "probes/x.yml:4: headers.x-api-key: environment variable NOPE is not set")
    }

    @Test(arguments: [
        ("url: https://a/\n", "missing required field provider"),
        ("provider: Anthropic\nurl: https://a/\n", "provider: 'Anthropic' must be lower-case"),
        ("provider: a\nurl: ftp://a/\n", "url: 'ftp://a/' must start with https:// or http://"),
        ("provider: a\nurl: https://a/\ntimeout: ten\n", "timeout: 'ten' is not a duration"),
        ("provider: a\nurl: https://a/\ntimeout: 1s\nlatency_budget: 2s\n", "latency_budget: must not exceed timeout (1s)"),
        ("provider: a\nurl: https://a/\nheaderz: {}\n", "headerz: unknown field"),
        ("provider: a\nurl: https://a/\nmethod: DELETE\n", "method: 'DELETE' is not one of"),
        ("provider: a\nurl: https://a/\nheaders:\n  content-type: application/json\nbody: '{nope'\n", "body: is not valid JSON"),
        ("provider: a\nurl: https://a/\nauth:\n  google_token: {}\n", "auth.google_token: needs exactly one of file, command or metadata"),
        ("provider: a\nurl: https://a/\nauth:\n  aws_sigv4:\n    region: x\n", "missing required field auth.aws_sigv4.access_key_id"),
        ("provider: a\nurl: https://a/\nauth: {}\n", "auth: needs exactly one of aws_sigv4 or google_token"),
        (
            "provider: a\nurl: https://a/\nauth:\n  aws_sigv4: {region: r, access_key_id: k, secret_access_key: s}\n  google_token: {file: f}\n",
            "auth: needs exactly one of aws_sigv4 or google_token"
        ),
        ("provider: a\nurl: https://a/\ntimeout: 2s\nlatency_budget: 3s\n", "latency_budget: must not exceed timeout (2s)"),
        ("- a\n- b\n", "expected a mapping at the top level"),
        ("provider: [a\n", "not valid YAML"),
    ])
    func malformedSpecsAreNamed(yaml: String, message: String) {
        let e = error(yaml)
        #expect(e?.description.contains(message) == true, "got \(String(describing: e))")
        #expect(e?.file == "probes/x.yml")
    }

    @Test func sigV4AndGoogleTokenBlocks() throws {
        let aws = try parse(
            """
            provider: bedrock
            url: https://bedrock/
            auth:
              aws_sigv4:
                region: ${REGION}
                access_key_id: AKID
                secret_access_key: ${KEY}
                session_token: ${TOKEN:-}
            """)
        guard case .awsSigV4(let sig) = aws.auth else {
            Issue.record("no sigv4")
            return
        }
        #expect(
            sig
                == SigV4Signer(
                    region: "eu-west-1", service: "bedrock", credentials: AWSCredentials(accessKeyID: "AKID", secretAccessKey: "sk-1234")))
        #expect(aws.secrets.contains("sk-1234"))
        let google = try parse("provider: vertex\nurl: https://v/\nauth:\n  google_token:\n    file: /run/token\n    lifetime: 2m\n")
        guard case .googleToken(let source) = google.auth else {
            Issue.record("no google token")
            return
        }
        #expect(source == GoogleTokenSource(origin: .file("/run/token"), lifetime: .seconds(120)))
    }

    @Test func interpolationDefaultsAndEscapes() throws {
        #expect(try Interpolation.expand("a${X:-dflt}b", environment: [:]) == "adfltb")
        #expect(try Interpolation.expand("${X:-dflt}", environment: ["X": "set"]) == "set")
        #expect(try Interpolation.expand("cost $$5 ${X}", environment: ["X": "y"]) == "cost $5 y")
        #expect(throws: Interpolation.Missing.self) { try Interpolation.expand("${1BAD}", environment: [:]) }
    }

    @Test func aBadFileDoesNotStopTheOthers() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("specs-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "provider: a\nurl: http://127.0.0.1/\n".write(toFile: directory + "/good.yml", atomically: true, encoding: .utf8)
        try "provider: b\nurl: http://127.0.0.1/${MISSING}\n".write(toFile: directory + "/bad.yml", atomically: true, encoding: .utf8)
        try "not a spec".write(toFile: directory + "/README.txt", atomically: true, encoding: .utf8)
        let (specs, errors) = ProbeSpecLoader.loadDirectory(directory, environment: [:])
        #expect(specs.map(\.name) == ["good"])
        #expect(errors.count == 1)
        #expect(errors.first?.description == "\(directory)/bad.yml:2: url: environment variable MISSING is not set")
    }

    /// The specs shipped in probes/ load once their variables are set, and need nothing else.
    @Test func shippedSpecsAreValid() throws {
        let probes = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../probes").standardized.path
        let env = [
            "ANTHROPIC_API_KEY", "VERTEX_PROJECT", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "OPENAI_API_KEY",
            "AZURE_OPENAI_RESOURCE", "AZURE_OPENAI_DEPLOYMENT", "AZURE_OPENAI_API_KEY", "FIREWORKS_API_KEY",
        ].reduce(into: [String: String]()) { $0[$1] = "test-\($1.lowercased())" }
        let (specs, errors) = ProbeSpecLoader.loadDirectory(probes, environment: env)
        #expect(errors.isEmpty, "\(errors)")
        #expect(Set(specs.map(\.provider)) == ["anthropic", "vertex", "bedrock", "openai", "azure", "fireworks"])
        for spec in specs { #expect(spec.url.hasPrefix("https://"), "\(spec.file)") }
        let (_, missing) = ProbeSpecLoader.loadDirectory(probes, environment: [:])
        #expect(missing.count == specs.count)
    }
}

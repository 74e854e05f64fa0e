import HTTP
import ProbeResults
import Probing
import ProviderSimulators
import Testing
import Timekeeping

/// Every result class, for every provider's answer shapes, through libcurl against the simulators.
@Suite struct ClassificationTests {
    static let providerClasses: [ProbeClass] = [
        .ok, .slow, .http5xx, .overloaded, .rateLimited, .timeout, .connect, .auth, .badRequest, .badBody,
    ]

    static func spec(_ flavor: ProviderFlavor, _ url: String) -> ProbeSpec {
        ProbeSpec(
            provider: flavor.rawValue, name: flavor.rawValue, method: "POST", url: url + "/probe",
            headers: [HTTPHeader("content-type", "application/json"), HTTPHeader("x-api-key", "sk-test-SECRET-123")],
            body: #"{"max_tokens":1}"#, timeout: .milliseconds(600), latencyBudget: .milliseconds(150))
    }

    @Test(arguments: ProviderFlavor.allCases)
    func everyClassIsRecognised(flavor: ProviderFlavor) async throws {
        let simulator = try await ProviderSimulator.start(flavor)
        let client = HTTPClient()
        let prober = Prober(client: client, clock: WallClock())
        for expected in Self.providerClasses {
            simulator.set(.answer(expected, latency: expected == .slow ? .milliseconds(300) : .zero))
            let result = await prober.probe(Self.spec(flavor, simulator.baseURL))
            #expect(
                result.resultClass == expected,
                "\(flavor) answering as \(expected) was classified \(result.resultClass) (\(result.jsonLine))")
            #expect(result.provider == flavor.rawValue)
            switch expected {
            case .timeout, .connect:
                #expect(result.status == nil)
                #expect(result.curlError != nil)
            default:
                #expect(result.status != nil)
                #expect(result.curlError == nil)
            }
        }
        client.shutdown()
        await simulator.stop()
    }

    @Test func refusedConnectionIsConnect() async throws {
        let simulator = try await ProviderSimulator.start(.anthropic)
        let url = simulator.baseURL
        await simulator.stop()
        let client = HTTPClient()
        let result = await Prober(client: client, clock: WallClock()).probe(Self.spec(.anthropic, url))
        client.shutdown()
        #expect(result.resultClass == .connect)
        #expect(result.curlError == "CURLE_COULDNT_CONNECT")
        #expect(result.jsonLine.contains(#""status":null"#))
    }

    @Test func httpsToAPlainPortIsTLS() async throws {
        let simulator = try await ProviderSimulator.start(.vertex)
        let client = HTTPClient()
        var spec = Self.spec(.vertex, "https://127.0.0.1:\(simulator.port)")
        spec.timeout = .seconds(10)  // a handshake answered late on a loaded machine is still a TLS failure, not a timeout
        let result = await Prober(client: client, clock: WallClock()).probe(spec)
        client.shutdown()
        await simulator.stop()
        #expect(result.resultClass == .tls)
        #expect(result.curlError == "CURLE_SSL_CONNECT_ERROR")
    }

    @Test func providerErrorTypesAreReported() async throws {
        let cases: [(ProviderFlavor, ProbeClass, String)] = [
            (.anthropic, .overloaded, "overloaded_error"), (.bedrock, .rateLimited, "ThrottlingException"),
            (.bedrock, .overloaded, "ModelNotReadyException"), (.bedrock, .http5xx, "ServiceUnavailableException"),
            (.vertex, .rateLimited, "RESOURCE_EXHAUSTED"), (.vertex, .http5xx, "UNAVAILABLE"),
            (.openai, .rateLimited, "insufficient_quota"),
        ]
        let client = HTTPClient()
        for (flavor, resultClass, detail) in cases {
            let simulator = try await ProviderSimulator.start(flavor, outcome: .answer(resultClass))
            let result = await Prober(client: client, clock: WallClock()).probe(Self.spec(flavor, simulator.baseURL))
            #expect(result.detail == detail, "\(flavor) \(resultClass)")
            await simulator.stop()
        }
        client.shutdown()
    }

    @Test func an200CarryingAnOverloadedErrorIsOverloaded() async throws {
        let simulator = try await ProviderSimulator.start(
            .anthropic, outcome: .custom(.json(200, #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#)))
        let client = HTTPClient()
        let result = await Prober(client: client, clock: WallClock()).probe(Self.spec(.anthropic, simulator.baseURL))
        client.shutdown()
        await simulator.stop()
        #expect(result.resultClass == .overloaded)
    }

    @Test func secretsEchoedByAProviderNeverReachTheResult() async throws {
        let simulator = try await ProviderSimulator.start(
            .anthropic, outcome: .custom(.json(400, #"{"type":"error","error":{"type":"bad key sk-test-SECRET-123","message":"x"}}"#)))
        let client = HTTPClient()
        let result = await Prober(client: client, clock: WallClock()).probe(Self.spec(.anthropic, simulator.baseURL))
        client.shutdown()
        await simulator.stop()
        #expect(result.resultClass == .badRequest)
        #expect(!result.jsonLine.contains("sk-test-SECRET-123"))
        #expect(result.detail == "bad key [redacted]")
    }

    @Test func jsonLineHasTheDocumentedShape() {
        let result = ProbeResult(
            provider: "anthropic", probe: "anthropic", resultClass: .ok, status: 200, dnsMs: 1.24, connectMs: 3.4, tlsMs: 20.1, ttfbMs: 410,
            totalMs: 412.5)
        #expect(
            result.jsonLine
                == #"{"provider":"anthropic","probe":"anthropic","class":"ok","status":200,"dns_ms":1.2,"connect_ms":3.4,"tls_ms":20.1,"#
                + #""ttfb_ms":410.0,"total_ms":412.5}"#
        )
        let failed = ProbeResult(provider: "vertex", probe: "v", resultClass: .connect, curlError: "CURLE_COULDNT_CONNECT")
        #expect(
            failed.jsonLine.hasSuffix(
                #""status":null,"dns_ms":0.0,"connect_ms":0.0,"tls_ms":0.0,"ttfb_ms":0.0,"total_ms":0.0,"#
                    + #""curl_error":"CURLE_COULDNT_CONNECT"}"#
            ))
    }
}

import HTTP
import ProbeResults
import Probing
import ProviderSimulators
import Testing
import Timekeeping

/// `stream: true` probes read the event stream to its end: errors inside a 200, streams cut short
/// and a late first token are classed as what they are.
@Suite struct StreamTests {
    static func spec(_ flavor: ProviderFlavor, _ url: String, latencyBudget: Duration = .milliseconds(150)) -> ProbeSpec {
        ProbeSpec(
            provider: flavor.rawValue, name: flavor.rawValue, method: "POST", url: url + "/probe",
            headers: [HTTPHeader("content-type", "application/json")], body: #"{"max_tokens":1,"stream":true}"#,
            timeout: .seconds(2), latencyBudget: latencyBudget, stream: true)
    }

    @Test(arguments: [ProviderFlavor.anthropic, .vertex, .openai, .bedrock])
    func everyStreamOutcomeIsClassed(flavor: ProviderFlavor) async throws {
        let simulator = try await ProviderSimulator.start(flavor)
        let client = HTTPClient()
        defer { client.shutdown() }
        let prober = Prober(client: client, clock: WallClock())
        let cases: [(ProbeClass, ProbeClass)] = [
            (.ok, .ok), (.slow, .slow), (.overloaded, .overloaded), (.http5xx, .http5xx), (.rateLimited, .rateLimited),
            (.badBody, .badBody),
        ]
        for (answer, expected) in cases {
            // A slow first token comes after 400 ms; the budget leaves a healthy one room on a loaded machine.
            simulator.set(.stream(answer, latency: .milliseconds(400)))
            let result = await prober.probe(Self.spec(flavor, simulator.baseURL, latencyBudget: .milliseconds(350)))
            #expect(result.resultClass == expected, "\(flavor) streaming \(answer): \(result.jsonLine)")
            #expect(result.status == (answer == .badBody ? nil : 200), "\(flavor) \(answer)")
        }
        await simulator.stop()
    }

    /// Without `stream: true` the same answers pass as healthy: the probe stops at the status line.
    @Test func aProbeThatDoesNotReadTheStreamMissesTheError() async throws {
        let simulator = try await ProviderSimulator.start(.anthropic)
        let client = HTTPClient()
        defer { client.shutdown() }
        simulator.set(.stream(.overloaded))
        var spec = Self.spec(.anthropic, simulator.baseURL)
        spec.stream = false
        spec.expectBody = .any
        #expect(await Prober(client: client, clock: WallClock()).probe(spec).resultClass == .ok)
        spec.stream = true
        #expect(await Prober(client: client, clock: WallClock()).probe(spec).resultClass == .overloaded)
        await simulator.stop()
    }

    @Test func theFirstTokenIsTimedFromItsArrivalNotTheHeaders() async throws {
        let simulator = try await ProviderSimulator.start(.anthropic)
        let client = HTTPClient()
        defer { client.shutdown() }
        simulator.set(.stream(.slow, latency: .milliseconds(300)))
        let result = await Prober(client: client, clock: WallClock()).probe(Self.spec(.anthropic, simulator.baseURL))
        #expect(result.resultClass == .slow)
        #expect(result.ttfbMs < 150, "the headers came at once: \(result.ttfbMs) ms")
        #expect(result.detail?.hasPrefix("first token after ") == true, "\(result.detail ?? "")")
        let ms = result.detail?.split(separator: " ").dropFirst(3).first.flatMap { Int($0) } ?? 0
        // The lower bound is the point (not the headers' time); the upper one only has to survive a loaded CI machine.
        #expect(ms >= 290 && ms < 1500, "timed at the token's arrival (300 ms after the headers): \(ms) ms")
        await simulator.stop()
    }

    @Test func eventsAreParsedAcrossLinesAndCarriageReturns() {
        let body = Array(
            "event: message_start\r\ndata: {\"a\":1}\r\n\r\ndata: first\ndata: second\n\n: comment\n\nevent: message_stop\ndata: {}\n".utf8)
        let events = StreamClassifier.parse(body)
        #expect(events.map(\.name) == ["message_start", nil, "message_stop"])
        #expect(events.map(\.data) == [#"{"a":1}"#, "first\nsecond", "{}"])
        #expect(events.map(\.offset) == [0, 39, 76])
    }
}

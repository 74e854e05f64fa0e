import AgentConfig
import Replay
import Scenarios
import Testing
import YAMLConfig

/// Judging what is happening now: a burst that ended before the gateway's lagging counters showed
/// it is never failed over, while brownouts of 25 % and more under heavy traffic still are within
/// 3 minutes. Many seeds, real scrape lag (15 s) and windows (30 s), on virtual time.
@Suite struct EvidenceNowTests {
    /// Vertex AI fails `rate` of its requests from 5 minutes on for `seconds`, while the gateway
    /// sends it 50 requests a second.
    static func scenario(rate: Double, seconds: Int, seed: UInt64) throws -> Scenario {
        var scenario = try ScenarioLoader.parse(
            YAMLFields.parse(
                """
                name: burst
                description: a burst under heavy traffic
                duration: \(300 + seconds + 600)s
                providers:
                  vertex:
                    - {at: 0s, latency: {p50: 450ms, p99: 1500ms}, failure: {rate: 0.003, class: http_5xx}}
                    - {at: 300s, failure: {rate: \(rate)}}
                    - {at: \(300 + seconds)s, failure: {rate: 0.003}}
                  bedrock:
                    - {at: 0s, latency: {p50: 600ms, p99: 2s}, failure: {rate: 0.003, class: http_5xx}}
                  anthropic:
                    - {at: 0s, latency: {p50: 500ms, p99: 1800ms}, failure: {rate: 0.003, class: overloaded}}
                traffic:
                  rps: {vertex: 50, bedrock: 5, anthropic: 20}
                  scrape_interval: 15s
                  window: 30s
                """, file: "burst.yml"))
        scenario.seed = seed
        return scenario
    }

    @Test(arguments: [(0.3, 30), (0.3, 55), (0.4, 45), (0.4, 55)])
    func aBurstShorterThanTrafficMinDurationNeverFailsOver(rate: Double, seconds: Int) async throws {
        for seed in UInt64(1)...30 {
            let (report, _) = try await replay(try Self.scenario(rate: rate, seconds: seconds, seed: seed))
            #expect(report.actions.isEmpty, "a \(seconds) s burst at \(rate), seed \(seed): \(report.actions.map(\.t))")
        }
    }

    @Test(arguments: [0.25, 0.3, 0.4])
    func aBrownoutUnderHeavyTrafficFailsOverWithinThreeMinutes(rate: Double) async throws {
        var delays: [Double] = []
        for seed in UInt64(1)...20 {
            let (report, _) = try await replay(try Self.scenario(rate: rate, seconds: 1800, seed: seed))
            let failover = report.actions.first { $0.action == .failover && $0.provider == "vertex" && $0.t >= 300 }
            delays.append((failover?.t ?? .infinity) - 300)
        }
        delays.sort()
        print("brownout \(Int(rate * 100)) % at 50 rps: failed over after \(delays[delays.count / 2]) s median, \(delays.last!) s at worst")
        #expect(delays.last! <= 180, "\(delays)")
    }

    /// A subject the catalog does not know (a provider no model is on) is `cannot_fail_over`, never
    /// a failover with an empty override.
    @Test func anUnknownProviderCannotFailOver() async throws {
        var scenario = try ScenarioLoader.parse(
            YAMLFields.parse(
                """
                name: unknown
                description: a provider the built-in catalog does not know fails hard
                duration: 20m
                providers:
                  cohere:
                    - {at: 0s, latency: {p50: 300ms, p99: 900ms}}
                    - {at: 5m, failure: {rate: 1, class: http_5xx}}
                  vertex:
                    - {at: 0s, latency: {p50: 450ms, p99: 1500ms}}
                """, file: "unknown.yml"))
        scenario.seed = 7
        let (report, lines) = try await replay(scenario)
        #expect(report.actions.isEmpty, "\(report.actions)")
        #expect(lines.contains { $0.contains(#""event":"cannot_fail_over""#) && $0.contains("no model of the catalog is on cohere") })
        #expect(!lines.contains { $0.contains(#""event":"failover""#) })
    }
}

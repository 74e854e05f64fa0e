import Foundation
import HTTP
import HTTPServer
import ProbeResults
import Probing
import Testing
import Timekeeping

/// A 429 says how long to wait; the probe result carries it so the scheduler backs off.
@Suite struct RateLimitTests {
    static func response(_ headers: [(String, String)]) -> HTTPResponse {
        HTTPResponse(status: 429, headers: headers.map { HTTPHeader($0.0, $0.1) }, body: [], truncated: false, arrivals: [])
    }

    @Test func everyProvidersWaitHeaderIsRead() {
        let now = Date(timeIntervalSince1970: 1_780_000_000)
        #expect(RateLimitHeaders.wait(Self.response([("retry-after", "17")]), now: now) == 17)
        #expect(RateLimitHeaders.wait(Self.response([("Retry-After", "Wed, 28 May 2026 20:27:00 GMT")]), now: now) == 20)
        #expect(
            RateLimitHeaders.wait(Self.response([("anthropic-ratelimit-requests-reset", "2026-05-28T20:28:00Z")]), now: now) == 80)
        #expect(RateLimitHeaders.wait(Self.response([("x-ratelimit-reset-requests", "6m0s")]), now: now) == 360)
        #expect(RateLimitHeaders.wait(Self.response([("x-ratelimit-reset-requests", "250ms")]), now: now) == 0.25)
        #expect(
            RateLimitHeaders.wait(Self.response([("retry-after", "2"), ("x-ratelimit-reset-requests", "1m")]), now: now) == 2,
            "what the provider asks, not the full replenish time")
        #expect(
            RateLimitHeaders.wait(
                Self.response([("anthropic-ratelimit-requests-reset", "2026-05-28T20:28:00Z"), ("x-ratelimit-reset-requests", "5s")]),
                now: now) == 5, "without retry-after, the shortest reset")
        #expect(RateLimitHeaders.wait(Self.response([("retry-after", "soon")]), now: now) == nil)
        #expect(RateLimitHeaders.wait(Self.response([("retry-after", "-5")]), now: now) == nil)
        #expect(RateLimitHeaders.wait(Self.response([]), now: now) == nil)
    }

    @Test func aProbeAnswered429CarriesTheWait() async throws {
        let server = try await HTTPServer.start { _ in
            .respond(
                status: 429, headers: [("retry-after", "23"), ("content-type", "application/json")],
                body: Array(#"{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}"#.utf8))
        }
        defer { Task { await server.stop() } }
        let client = HTTPClient()
        defer { client.shutdown() }
        let spec = ProbeSpec(provider: "anthropic", name: "anthropic", method: "POST", url: server.baseURL + "/v1/messages", body: "{}")
        let result = await Prober(client: client, clock: WallClock()).probe(spec)
        #expect(result.resultClass == .rateLimited)
        #expect(result.retryAfter == 23)
        #expect(result.jsonLine.hasSuffix(#","retry_after_s":\#(JSONText.number(23))}"#), "\(result.jsonLine)")
    }
}

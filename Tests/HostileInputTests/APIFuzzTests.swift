import AgentConfig
import Demo
import Foundation
import HTTP
import Testing
import YAMLConfig

/// A seeded property test of the agent's API as it runs (the demo world's agent, its real
/// handler and limits): random methods, paths, headers and bodies, and raw garbage bytes. Every
/// answer is HTTP; nothing traps; unauthenticated requests never change anything; the API still
/// answers afterwards. Bounded: 400 requests.
@Suite struct APIFuzzTests {
    @Test func randomRequestsNeverBreakTheAPI() async throws {
        let scenario = try ScenarioLoader.parse(
            YAMLFields.parse(
                "name: quiet\nduration: 5m\nproviders:\n  vertex:\n    - {at: 0s, latency: {p50: 100ms, p99: 200ms}, failure: {rate: 0, "
                    + "class: http_5xx}}\n",
                file: "quiet.yml"))
        let world = try await DemoWorld.start(scenario: scenario, timing: .compressed(speed: 1), mode: .propose) { _ in }
        let client = HTTPClient()
        var random = LoaderFuzzTests.Random(state: 42)
        let methods = ["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"]
        let paths = [
            "/status", "/metrics", "/healthz", "/pause", "/resume", "/proposals/x/approve", "/proposals/../reject", "/", "//", "/proposals",
            "/proposals/%00/approve", "/status?x=" + String(repeating: "a", count: 3000), "/\u{1B}[31m",
            "/proposals/" + String(repeating: "9", count: 500) + "/approve",
        ]
        var statuses: [Int: Int] = [:]
        for _ in 0..<300 {
            var headers: [HTTPHeader] = []
            if random.below(3) == 0 {
                headers.append(HTTPHeader("Authorization", random.below(2) == 0 ? "Bearer wrong" : "Bearer \(DemoWorld.apiToken)"))
            }
            if random.below(4) == 0 { headers.append(HTTPHeader("X-Junk", String(repeating: "x", count: random.below(8000)))) }
            let body: [UInt8]? =
                random.below(2) == 0 ? nil : (0..<random.below(100_000)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            let method = methods[random.below(methods.count)]
            let request = HTTPRequest(
                method: method, url: world.api.baseURL + paths[random.below(paths.count)], headers: headers,
                body: method == "GET" || method == "HEAD" ? nil : body, timeout: .seconds(10))
            switch await client.execute(request).result {
            case .success(let response): statuses[response.status, default: 0] += 1
            case .failure: statuses[0, default: 0] += 1  // the server may close on an oversized body: fine, as long as it lives
            }
        }
        var unanswered = 0
        for _ in 0..<100 {
            let raw = try APILimitsTests.Raw(port: world.api.port, timeout: 5)
            raw.send((0..<random.below(2000)).map { _ in UInt8(truncatingIfNeeded: random.next()) } + Array("\r\n\r\n".utf8))
            raw.finishSending()
            if await raw.readUntilClosed() == nil { unanswered += 1 }
        }
        #expect(unanswered == 0, "every garbage connection is answered or closed")
        let status = await client.execute(HTTPRequest(url: world.api.baseURL + "/status")).result
        #expect((try? status.get().status) == 200, "the API still answers")
        #expect(statuses[500] == nil, "\(statuses)")
        #expect((statuses[401] ?? 0) > 0 && (statuses[200] ?? 0) > 0, "\(statuses)")
        client.shutdown()
        await world.stop()
    }
}
